#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kvp-timeout: 240
#
# The host end of activation with a real guest (kvpd, kvp.ko, kvp_vsock over
# vsock loopback): kvp-hostd's history, report and audit of what the guest
# shows in pool 2, a licence item edited by hand in the guest caught by the
# audit, a flooding guest rate-limited, the host key out of an unprivileged
# user's reach, and a corrupt history database that loses nothing.

SOCK=/run/kvp-hostd-avma.sock
PORT=5472
T=$TEST_TMPDIR
KEY22=W3GNR-8DDXR-2TFRP-H8P33-DV9BG	# windows-server 2022 datacenter

. "$(dirname "$0")/checks.sh"

lic() { kvpctl --state-dir "$T/state" license "$@"; }
field() { # field NAME: from license status -j
	kvpctl -j --state-dir "$T/state" license status |
		sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"
}
host() { kvpctl --socket "$SOCK" host "$@"; }
hostj() { kvpctl -j --socket "$SOCK" host "$@"; }

guest_state() {
	kvpctl -j --socket $SOCK host list |
		sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'
}

# start_host CONFIG: kvp-hostd in the background, and the guest (once it is
# there) connected to it again.
start_host() {
	rm -f "$SOCK"
	kvp-hostd -f --config "$1" --socket "$SOCK" --port $PORT \
		--vm 1=guest1 2>>"$T/hostd.log" &
	HOSTD=$!
	[ -z "$KVPD" ] || wait_for 20 ready guest_state
}

stop_host() {
	kill "$HOSTD" 2>/dev/null
	wait "$HOSTD" 2>/dev/null
}

# config HISTORY-REQUIRED RATE-BURST: the host's configuration file.
config() {
	cat <<EOF
[host]
name = audit-host
state-dir = $T/hostd

[activation]
lease = 1h
rate-burst = $2
rate-interval = 1d
history = $T/hostd/history.db
history-required = $1

[license]
product = windows-server
version = 2022
edition = datacenter
activated = yes
EOF
}

cleanup() {
	stop_host
	kill "$KVPD" 2>/dev/null
	wait 2>/dev/null
	rmmod kvp_vsock 2>/dev/null
	rmmod kvp 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$T/state" "$T/pools"
config no 100 >"$T/hostd.conf"
modprobe kvp || exit 1
KVPD=
start_host "$T/hostd.conf"
kvpd -n --pool-dir "$T/pools" --state-dir "$T/state" &
KVPD=$!
modprobe kvp_vsock host_cid=1 port=$PORT || exit 1
wait_for 20 ready guest_state ||
	{ echo "FAIL: the guest never became ready"; exit 1; }

# The host key: the host's own, out of an unprivileged user's reach.
check "host.key mode" 600 "$(stat -c %a "$T/hostd/host.key")"
check "state dir mode" 700 "$(stat -c %a "$T/hostd")"
su -s /bin/sh nobody -c "cat $T/hostd/host.key" >/dev/null 2>&1
check "nobody reads host.key" 1 $?
su -s /bin/sh nobody -c "kvpctl --socket $SOCK host history" >/dev/null 2>&1
check "nobody reads the history" 6 $?

# The guest activates; the host's history, report and audit agree.
lic install-key $KEY22 >/dev/null
wait_for 30 Licensed field state || echo "FAIL: kvpd did not activate"
grant=$(field activation_id)
host_id=$(hostj identity | sed -n 's/.*"host_id":"\([^"]*\)".*/\1/p')
check "the grant's host is this host" "$host_id" "$(field host_id)"
host history guest1
check "history: one Success for the grant" 1 \
	"$(hostj history guest1 | grep -o "\"grant_id\":\"$grant\"" | wc -l)"
check "history --since the future is empty" 0 \
	"$(host history --since 2100-01-01 | grep -c Success)"
host report
check "report: licensed" Licensed \
	"$(hostj report | sed -n 's/.*"name":"guest1"[^}]*"state":"\([A-Za-z]*\)".*/\1/p')"
check "report --csv has the guest" 1 "$(host report --csv | grep -c '^guest1,')"
host audit
check "audit of an honest guest" 0 $?

# Someone edits the guest's licence by hand: a lease ten years longer.  The
# grant still decodes, so kvpd shows it, but its signature no longer holds.
sed -n 's/^grant=//p' "$T/state/license" | base64 -d >"$T/grant"
printf '\377' | dd of="$T/grant" bs=1 seek=71 conv=notrunc 2>/dev/null
forged=$(base64 -w0 <"$T/grant")
sed -i "s#^grant=.*#grant=$forged#" "$T/state/license"
wait_for 10 "$forged" host get guest1 auto KvpLicenseGrant ||
	echo "FAIL: kvpd does not show the edited grant"
host audit
check "audit of the edited grant" 14 $?
check "verdict" tampered \
	"$(hostj audit | sed -n 's/.*"verdict":"\([a-z-]*\)".*/\1/p')"

# The guest activates again: honest again.
lic activate >/dev/null
check "activate after the edit" 0 $?
host audit >/dev/null
check "audit after a new grant" 0 $?

# A corrupt history: kept granting (history-required = no), the database
# not touched, an error in the log.  With history-required = yes: refused.
rows=$(hostj history | grep -o '"grant_id"' | wc -l)
stop_host
cp "$T/hostd/history.db" "$T/history.good"
head -c 4096 /dev/urandom >"$T/hostd/history.db"
cp "$T/hostd/history.db" "$T/history.bad"
start_host "$T/hostd.conf"
lic activate >/dev/null
check "activate with a corrupt history" 0 $?
cmp -s "$T/hostd/history.db" "$T/history.bad"
check "the corrupt history untouched" 0 $?
grep -q "history" "$T/hostd.log"
check "the log says so" 0 $?
stop_host
config yes 100 >"$T/hostd-req.conf"
start_host "$T/hostd-req.conf"
lic activate >/dev/null
check "activate when history is required and broken" 22 $?
check "last reason" host-busy "$(field last_reason)"
check "still licensed: the lease holds" Licensed "$(field state)"
stop_host

# The good history back: everything recorded is still there.
cp "$T/history.good" "$T/hostd/history.db"
rm -f "$T/hostd/history.db-wal" "$T/hostd/history.db-shm"
config no 3 >"$T/hostd-flood.conf"
start_host "$T/hostd-flood.conf"
# (kvpd may have activated again on connecting: one row more.)
[ "$(hostj history | grep -o '"grant_id"' | wc -l)" -ge "$rows" ]
check "history rows kept ($rows)" 0 $?

# A flood from the guest: a burst of three is served (kvpd may have used
# one on connecting), the rest are refused at once, host-busy.
busy=0
for i in 1 2 3 4 5 6; do
	lic activate >/dev/null
	[ $? -eq 22 ] && busy=$((busy + 1))
done
[ $busy -ge 3 ]
check "a flood is refused beyond the burst ($busy of 6)" 0 $?
check "flood reason" host-busy "$(field last_reason)"
host list >/dev/null
check "the host still serves the guest" 0 $?

checks_done
