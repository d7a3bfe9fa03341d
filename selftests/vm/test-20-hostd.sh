#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kvp-timeout: 180
#
# End to end, every piece real: kvpctl host -> kvp-hostd -> vsock ->
# kvp_vsock.ko -> kvp.ko -> netlink -> kvpd -> pool files, and back.  Host
# and guest share the VM: the guest reaches the host over vsock loopback.

SOCK=/run/kvp-hostd-test.sock
POOLS=$TEST_TMPDIR/pools
PORT=5470

. "$(dirname "$0")/checks.sh"

host() { kvpctl --socket "$SOCK" host "$@"; }
hostj() { kvpctl -j --socket "$SOCK" host "$@"; }
guest() { kvpctl --pool-dir "$POOLS" "$@"; }

cleanup() {
	kill "$HOSTD" "$KVPD" 2>/dev/null
	wait 2>/dev/null
	rmmod kvp_vsock 2>/dev/null
	rmmod kvp 2>/dev/null
}
trap cleanup EXIT

# Before the module is loaded, kvpctl says so, and the pools still work.
kvpctl status >/dev/null 2>&1
check "status without the module" 7 $?
guest set auto-internal Early bird
check "set without the module" 0 $?

modprobe kvp || exit 1
kvp-hostd -f --socket "$SOCK" --port $PORT --vm 1=guest1 \
	--item Datacenter=lab-1 &
HOSTD=$!
kvpd -n --pool-dir "$POOLS" &
KVPD=$!
modprobe kvp_vsock host_cid=1 port=$PORT || exit 1

state() { hostj list | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
wait_for 10 ready state || { echo "FAIL: the guest never became ready"; host list; exit 1; }
host list

# The host items arrived in the guest's pool 3.
wait_for 10 guest1 guest get auto-external VirtualMachineName
check "VirtualMachineName in pool 3" guest1 \
	"$(guest get auto-external VirtualMachineName)"
check "extra host item in pool 3" lab-1 "$(guest get auto-external Datacenter)"
check "HostName in pool 3" "$(hostname)" "$(guest get auto-external HostName)"

# Host -> guest: SET, and the guest's own tools see it.
host set guest1 external Greeting "hello, guest"
check "host set exit" 0 $?
check "guest reads host item" "hello, guest" "$(guest get external Greeting)"
host set 1 external Greeting "hello again"
check "set by CID replaces" "hello again" "$(guest get external Greeting)"
check "no duplicate record" 1 "$(guest list external | grep -c '^external	Greeting	')"

# Guest -> host: items the guest writes, read from the host.
guest set guest Status "provisioned ✓"
check "host get guest item" "provisioned ✓" "$(host get guest1 guest Status)"
hostj enum guest1 guest > "$TEST_TMPDIR/enum.json"
check "host enum json" '{"pool":"guest","number":1,"items":[{"key":"Status","value":"provisioned ✓"}]}' \
	"$(cat "$TEST_TMPDIR/enum.json")"

# The intrinsic items, in Hyper-V's order.
check "intrinsic keys" "FullyQualifiedDomainName IntegrationServicesVersion NetworkAddressIPv4 NetworkAddressIPv6 OSBuildNumber OSName OSMajorVersion OSMinorVersion OSVersion ProcessorArchitecture" \
	"$(host enum guest1 auto | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
check "ProcessorArchitecture" "$(uname -m)" \
	"$(host enum guest1 auto | grep '^ProcessorArchitecture' | cut -f2)"
check "OSBuildNumber" "$(uname -r)" \
	"$(host enum guest1 auto | grep '^OSBuildNumber' | cut -f2)"

# DELETE from the host.
host delete guest1 external Greeting
check "host delete exit" 0 $?
guest get external Greeting >/dev/null 2>&1
check "deleted in the guest" 5 $?
host delete guest1 external Greeting 2>/dev/null
check "delete of a missing key" 5 $?
host get guest1 guest NoSuchKey 2>/dev/null
check "get of a missing key" 5 $?

# Errors: unknown VM, bad pool, too long, no permission, no daemon.
host set nosuchvm external k v 2>/dev/null
check "unknown VM" 5 $?
host set guest1 pool9 k v 2>/dev/null
check "unknown pool" 4 $?
host set guest1 external "$(printf '%0600d' 0)" v 2>/dev/null
check "key too long" 3 $?
su -s /bin/sh nobody -c "kvpctl --socket $SOCK host list" >/dev/null 2>&1
check "unprivileged control client" 6 $?
kvpctl --socket /run/nothing.sock host list 2>/dev/null
check "no host daemon" 9 $?

# The guest's status shows the negotiated channel.
check "guest state" negotiated \
	"$(kvpctl -j status | sed -n 's/.*"state":"\([a-z-]*\)".*/\1/p')"

# Without kvpd the guest answers E_FAIL after kvp.daemon_wait_ms.
echo 500 > /sys/module/kvp/parameters/daemon_wait_ms
kill "$KVPD"
wait "$KVPD" 2>/dev/null
host set guest1 external k v 2>"$TEST_TMPDIR/err"
check "no guest daemon" 1 $?
grep -q 0x80004005 "$TEST_TMPDIR/err" ||
	{ echo "FAIL: no E_FAIL status in: $(cat "$TEST_TMPDIR/err")"; fails=$((fails + 1)); }

# A restarted kvpd serves again, and the pool kept everything.
kvpd -n --pool-dir "$POOLS" &
KVPD=$!
wait_for 10 "provisioned ✓" host get guest1 guest Status
check "after kvpd restart" "provisioned ✓" "$(host get guest1 guest Status)"

# The guest reconnects after kvp_vsock is reloaded.
rmmod kvp_vsock
modprobe kvp_vsock host_cid=1 port=$PORT
wait_for 10 ready state
check "reconnected" "provisioned ✓" "$(host get guest1 guest Status)"

checks_done
