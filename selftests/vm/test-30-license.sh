#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kvp-timeout: 300
#
# The guest end of activation, every piece real: kvpctl license and kvpd ->
# netlink -> kvp.ko -> kvp_vsock -> vsock loopback -> kvp-hostd's
# activation service, and back; the licence items of pool 2 read by the
# host.  A lease of 20 s shows renewal, and expiry once the host is gone;
# then a new host re-validates the guest, and a vendor's product goes
# through the whole signed chain.

SOCK=/run/kvp-hostd-lic.sock
PORT=5471
T=$TEST_TMPDIR
VMID=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
KEY22=W3GNR-8DDXR-2TFRP-H8P33-DV9BG	# windows-server 2022 datacenter
KEY25=YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67	# windows-server 2025 datacenter
RETAIL=FGHJK-MPQRT-VWXY2-34678-9BCDF	# in no catalog

. "$(dirname "$0")/checks.sh"

lic() { kvpctl --state-dir "$T/state" license "$@"; }
field() { # field NAME: from license status -j
	kvpctl -j --state-dir "$T/state" license status |
		sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"
}
host() { kvpctl --socket "$SOCK" host "$@"; }
# The VM id in the grant pool 2 shows (bytes 24 to 39), as hex.
grant_vm() {
	host get guest1 auto KvpLicenseGrant | base64 -d |
		dd bs=1 skip=24 count=16 2>/dev/null | od -An -tx1 | tr -d ' \n'
}

cleanup() {
	rm -f /etc/kvp/catalog.d/acme-os.conf
	kill "$HOSTD" "$KVPD" 2>/dev/null
	wait 2>/dev/null
	rmmod kvp_vsock 2>/dev/null
	rmmod kvp 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$T/hostd" "$T/state" "$T/pools"
chmod 0755 "$T/pools"
cat >"$T/hostd.conf" <<EOF
[host]
name = lab-host
state-dir = $T/hostd

[activation]
lease = 20s
rate-burst = 100
history = off

[license]
product = windows-server
version = 2022
edition = datacenter
activated = yes
EOF

modprobe kvp || exit 1
kvp-hostd -f --config "$T/hostd.conf" --socket "$SOCK" --port $PORT \
	--vm 1=guest1 &
HOSTD=$!
# kvpd's VM id: the VM's SMBIOS UUID (vm-run.sh sets one).
kvpd -n --pool-dir "$T/pools" --state-dir "$T/state" &
KVPD=$!
modprobe kvp_vsock host_cid=1 port=$PORT || exit 1
# (HostName reaching pool 3 shows no host request was lost at start.)
wait_for 20 ready sh -c "kvpctl -j --socket $SOCK host list | sed -n 's/.*\"state\":\"\([a-z]*\)\".*/\1/p'" ||
	{ echo "FAIL: the guest never became ready"; exit 1; }

wait_for 10 "$(hostname)" kvpctl --pool-dir "$T/pools" get auto-external HostName
check "HostName in pool 3" "$(hostname)" \
	"$(kvpctl --pool-dir "$T/pools" get auto-external HostName)"

# No key: no licence items, pool 2 ends at index 9.
check "status without a key" Unlicensed "$(field state)"
check "pool 2 without a key" 10 "$(host enum guest1 auto | wc -l)"

# An unprivileged user may look but not install.
su -s /bin/sh nobody -c "kvpctl --state-dir $T/state license install-key $KEY22" 2>/dev/null
check "install-key as nobody" 6 $?
lic install-key NOT-A-KEY 2>/dev/null
check "malformed key" 20 $?

# The 2022 key: kvpd sees it and activates; the host sees the items.
lic install-key "$(echo $KEY22 | tr -d - | tr A-Z a-z)" >/dev/null
check "install-key" 0 $?
wait_for 30 Licensed field state || echo "FAIL: kvpd did not activate"
check "state" Licensed "$(field state)"
check "host name" lab-host "$(field host_name)"
check "pool 2 with the key" 21 "$(host enum guest1 auto | wc -l)"
check "KvpLicenseState" Licensed "$(host get guest1 auto KvpLicenseState)"
check "KvpLicenseProduct" windows-server "$(host get guest1 auto KvpLicenseProduct)"
check "KvpLicenseActivationId" "$(field activation_id)" \
	"$(host get guest1 auto KvpLicenseActivationId)"
check "KvpLicenseHostId" "$(field host_id)" "$(host get guest1 auto KvpLicenseHostId)"
check "kvpd's VM id is the DMI UUID" \
	"$(tr -d '-' </sys/class/dmi/id/product_uuid | tr A-F a-f)" "$(grant_vm)"

# By hand, as slmgr /ato, with a VM id of our choice.
lic activate --vm-id $VMID
check "activate" 0 $?
check "--vm-id in the grant" "$(echo $VMID | tr -d -)" "$(grant_vm)"
first=$(field activation_id)

# Renewal: 20 s lease, renewed with 10 s left.
wait_for 25 no sh -c "[ \"\$(kvpctl -j --state-dir $T/state license status | sed -n 's/.*\"activation_id\":\"\([^\"]*\)\".*/\1/p')\" = $first ] && echo yes || echo no" ||
	echo "FAIL: no renewal"
check "still licensed after renewal" Licensed "$(field state)"

# A 2025 guest on a 2022 host: denied; pool 2 follows the new key.
lic install-key $KEY25 >/dev/null
lic activate --vm-id $VMID >/dev/null
check "activate a newer version" 24 $?
check "state after denial" Unlicensed "$(field state)"
check "reason after denial" version "$(field reason)"
check "KvpLicenseVersion" 2025 "$(host get guest1 auto KvpLicenseVersion)"
check "KvpLicenseActivationId empty" "" "$(host get guest1 auto KvpLicenseActivationId)"

# A key that is no AVMA key: the items go.
lic install-key $RETAIL >/dev/null
check "pool 2 with a retail key" 10 "$(host enum guest1 auto | wc -l)"
lic activate --vm-id $VMID 2>/dev/null
check "activate a retail key" 21 $?

# Back to 2022, then the host goes: Licensed until the lease ends, then
# Notification.
lic install-key $KEY22 >/dev/null
wait_for 30 Licensed field state || echo "FAIL: kvpd did not activate again"
kill "$HOSTD"
wait "$HOSTD" 2>/dev/null
lic activate --vm-id $VMID >/dev/null
check "activate without a host" 22 $?
check "licensed without a host" Licensed "$(field state)"
wait_for 30 Notification field state || echo "FAIL: no Notification"
check "state at the lease's end" Notification "$(field state)"
check "reason at the lease's end" expired "$(field reason)"
lic events | tail -3
[ "$(lic events | grep -c 'Success')" -ge 3 ]
check "events recorded" 0 $?

# Another host (another identity) comes: it re-validates the guest at
# once, on the activation service's NEGOTIATED event, not on a retry.
old_id=$(field host_id)
mkdir -p "$T/hostd2"
sed "s#= $T/hostd\$#= $T/hostd2#; s/lab-host/lab-host-2/; s/lease = 20s/lease = 1h/" \
	"$T/hostd.conf" >"$T/hostd2.conf"
kvp-hostd -f --config "$T/hostd2.conf" --socket "$SOCK" --port $PORT \
	--vm 1=guest1 &
HOSTD=$!
wait_for 15 Licensed field state || echo "FAIL: the new host did not re-validate"
check "the new host" lab-host-2 "$(field host_name)"
[ "$(field host_id)" != "$old_id" ]
check "another host id" 0 $?

# A vendor's product, the whole chain: vendor key (in a catalog drop-in,
# read by kvpd without a restart) -> host licence -> host key -> grant.
kvpctl vendor keygen "$T/acme.key" >"$T/acme.out"
mkdir -p /etc/kvp/catalog.d "$T/hostd3"
chmod 0700 "$T/hostd3"
cat >/etc/kvp/catalog.d/acme-os.conf <<EOF
[product acme-os]
name = Acme OS
vendor-key = $(sed -n 's/^public key: //p' "$T/acme.out")
version = 1 One
version = 2 Two
edition = datacenter lends=yes Datacenter
key = 2 datacenter DFGHJ-KMPQR-TVWXY-23467-89BCD
EOF
host_key=$(kvpctl -j vendor keygen "$T/hostd3/host.key" |
	sed -n 's/.*"public_key":"\([^"]*\)".*/\1/p')
kvpctl vendor sign-license --key "$T/acme.key" --product acme-os \
	--version 2 --edition datacenter --host-key "$host_key" -o "$T/acme.lic"
check "sign-license" 0 $?
cat >"$T/hostd3.conf" <<EOF
[host]
name = acme-host
state-dir = $T/hostd3

[activation]
lease = 1h
rate-burst = 100
history = off

[license]
file = $T/acme.lic
EOF
kill "$HOSTD"
wait "$HOSTD" 2>/dev/null
kvp-hostd -f --config "$T/hostd3.conf" --socket "$SOCK" --port $PORT \
	--vm 1=guest1 &
HOSTD=$!
# It holds no Windows Server licence: refused, and the lease stays.
wait_for 20 "Invalid Host" field last_outcome ||
	echo "FAIL: no attempt with the vendor's host"
check "refused by a host without the licence" no-licence "$(field last_reason)"
check "the lease stays" Licensed "$(field state)"
lic install-key DFGHJ-KMPQR-TVWXY-23467-89BCD >/dev/null
wait_for 30 acme-host field host_name || echo "FAIL: no vendor activation"
check "vendor product licensed" Licensed "$(field state)"
check "vendor product" acme-os "$(field product)"
check "the grant carries the licence" 548 \
	"$(host get guest1 auto KvpLicenseGrant | base64 -d | wc -c)"

lic uninstall-key >/dev/null
check "uninstall-key" 0 $?
check "pool 2 after uninstall" 10 "$(host enum guest1 auto | wc -l)"
lic uninstall-key 2>/dev/null
check "uninstall-key twice" 5 $?
check "state without a key" Unlicensed "$(field state)"

checks_done
