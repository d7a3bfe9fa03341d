#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `kvpctl vmbus` here, where there is no VMBus: the command line, the "no
# VMBus" error, and then, in a private mount namespace with a tmpfs over
# /sys/bus, the decisions kvpctl takes from what a VMBus tree holds.  The
# tmpfs tree has the names and contents the kernel's has (class_id,
# driver_override, the driver link, drivers/NAME/bind and unbind), but
# its files do not act: a write to bind binds nothing.  So this test
# checks what kvpctl reads and writes, and that it notices when sysfs
# took a write that did not happen; selftests/vm/vmbus_claim_test.c
# checks the hand-over itself on a real vmbus bus (the stand-in).
#
#   1. usage errors exit 2; on a machine without /sys/bus/vmbus, claim,
#      release and status exit 10 and say "no VMBus"
#   2. a bus without a KVP device (only a heartbeat device): exit 11
#   3. claim with kvp_vmbus neither registered nor installed: exit 12,
#      nothing written (driver_override untouched, no unbind)
#   4. claim from hv_utils: driver_override, unbind and bind are written in
#      that order; the driver link still says hv_utils, so exit 13, a
#      message naming it, and driver_override cleared again
#      (a device without driver whose bind fails goes to hv_utils/bind)
#   5. claim of a device already on kvp_vmbus: exit 0, "already claimed",
#      and driver_override set to kvp_vmbus if it was not
#   6. status, text and JSON: device, driver, driver_override, drivers
#   7. release of a device on hv_utils without override: exit 0, "not
#      claimed", nothing written; release of one on kvp_vmbus whose unbind
#      does not happen: exit 13
#   8. as user nobody (when run as root): claim exits 6 (permission)
#   9. the udev rule names the class and driver, and `make install-udev`
#      writes the installed kvpctl's path into its RUN keys
#
# Needs: userspace/kvpctl/kvpctl built; unshare (root, or unprivileged user
# namespaces) for 2-8, else those are skipped.  Exit 0 pass, 1 fail, 4 skip
# (only when this machine has a VMBus: then 1 cannot be checked here and
# the rest is left to the VM test).
#
# Environment: KVPCTL (default ../userspace/kvpctl/kvpctl from this folder).

set -u

here=$(cd "$(dirname "$0")" && pwd)
KSFT_SKIP=4
AS=
KVPCTL=${KVPCTL:-$here/../userspace/kvpctl/kvpctl}
case $KVPCTL in
/*) ;;
*) KVPCTL=$(pwd)/$KVPCTL ;;
esac
KVP_CLASS='{a9a0f4e7-5a45-4d96-b827-8a841e8c03e6}'
HEARTBEAT_CLASS='{57164f39-9115-4e78-ab55-382f3bd5422d}'
DEV=242ff919-07db-4180-9c2e-b86cb68c8c55

fail() {
	echo "FAIL - $*"
	exit 1
}

# expect CODE PATTERN ARGS...: kvpctl ARGS exits CODE and its output
# (stdout and stderr) matches the grep -E PATTERN.
expect() {
	want=$1 pattern=$2
	shift 2
	# shellcheck disable=SC2086 # $AS is a command line
	out=$($AS "$KVPCTL" "$@" 2>&1)
	rc=$?
	[ "$rc" = "$want" ] || fail "kvpctl $*: exit $rc, not $want: $out"
	echo "$out" | grep -Eq -- "$pattern" ||
		fail "kvpctl $*: output does not match '$pattern': $out"
	echo "ok - ${AS:+as nobody: }kvpctl $* -> $rc: $(echo "$out" | head -n 1)"
}

# ---- in the private mount namespace -----------------------------------------
if [ "${1:-}" = --in-ns ]; then
	mount -t tmpfs -o mode=0755 kvp-test /sys/bus || fail "mount tmpfs on /sys/bus"
	bus=/sys/bus/vmbus
	mkdir -p $bus/devices $bus/drivers
	expect 11 "no KVP device on VMBus \(class $KVP_CLASS\)" vmbus claim

	# A heartbeat device first, then the KVP device on hv_utils.
	hb=$bus/devices/57164f39-0000-0000-0000-000000000000
	mkdir -p "$hb" $bus/devices/$DEV $bus/drivers/hv_utils
	echo "$HEARTBEAT_CLASS" >"$hb/class_id"
	d=$bus/devices/$DEV
	echo "$KVP_CLASS" >$d/class_id
	echo "(null)" >$d/driver_override
	: >$bus/drivers/hv_utils/bind
	: >$bus/drivers/hv_utils/unbind
	ln -s ../../../bus/vmbus/drivers/hv_utils $d/driver

	if modinfo kvp_vmbus >/dev/null 2>&1; then
		echo "note - kvp_vmbus is installed here: the not-available case is left to the VM test"
	else
		expect 12 "driver kvp_vmbus is not loaded, and modprobe kvp_vmbus failed: " vmbus claim
		[ "$(cat $d/driver_override)" = "(null)" ] ||
			fail "driver_override written although kvp_vmbus is not available"
		[ -s $bus/drivers/hv_utils/unbind ] &&
			fail "unbound from hv_utils although kvp_vmbus is not available"
	fi

	mkdir $bus/drivers/kvp_vmbus
	: >$bus/drivers/kvp_vmbus/bind
	: >$bus/drivers/kvp_vmbus/unbind
	expect 13 "unbind: sysfs took the write, but device $DEV has hv_utils" vmbus claim
	[ "$(cat $bus/drivers/hv_utils/unbind)" = "$DEV" ] ||
		fail "claim did not write $DEV to hv_utils/unbind"
	[ -s $bus/drivers/kvp_vmbus/bind ] &&
		fail "claim went on to bind although the unbind did not happen"
	[ "$(cat $d/driver_override)" = "" ] ||
		fail "a failed claim left driver_override '$(cat $d/driver_override)'"
	echo "ok - failed claim: $DEV written to hv_utils/unbind, driver_override cleared again"

	expect 0 "^$DEV: not claimed, on hv_utils" vmbus release

	# No driver, and the bind does not happen: handed back to hv_utils
	# (whose bind does not happen either), driver_override cleared.
	rm $d/driver
	: >$bus/drivers/hv_utils/unbind
	expect 13 "kvp_vmbus/bind: sysfs took the write, but device $DEV has no driver" \
		vmbus claim
	[ "$(cat $bus/drivers/kvp_vmbus/bind)" = "$DEV" ] ||
		fail "claim did not write $DEV to kvp_vmbus/bind"
	[ "$(cat $bus/drivers/hv_utils/bind)" = "$DEV" ] ||
		fail "a failed claim of a device without driver did not hand it to hv_utils"
	[ -s $bus/drivers/hv_utils/unbind ] && fail "unbind written for a device without driver"
	[ "$(cat $d/driver_override)" = "" ] ||
		fail "a failed claim left driver_override '$(cat $d/driver_override)'"
	echo "ok - failed bind: handed back to hv_utils/bind, driver_override cleared"
	ln -s ../../../bus/vmbus/drivers/hv_utils $d/driver
	[ "$(cat $d/driver_override)" = "" ] || fail "release wrote driver_override"

	if [ -z "$KVP_USERNS" ]; then
		AS="setpriv --reuid=65534 --regid=65534 --clear-groups --"
		expect 6 "driver_override: .*Permission denied \(needs root\)" \
			vmbus claim
		AS=
		[ "$(cat $d/driver_override)" = "" ] ||
			fail "driver_override changed by nobody"
	fi

	rm $d/driver
	ln -s ../../../bus/vmbus/drivers/kvp_vmbus $d/driver
	echo "(null)" >$d/driver_override
	expect 0 "^$DEV: already claimed, on kvp_vmbus" vmbus claim
	[ "$(cat $d/driver_override)" = kvp_vmbus ] ||
		fail "claim left driver_override '$(cat $d/driver_override)', not kvp_vmbus"
	expect 0 "^$DEV: already claimed" vmbus claim

	expect 0 "^driver: +kvp_vmbus" vmbus status
	expect 0 "^driver_override: +kvp_vmbus" vmbus status
	expect 0 "^hv_utils: +registered" vmbus status
	expect 0 "^hv_kvp: +absent" vmbus status
	expect 0 "^\{\"device\":\"$DEV\",\"driver\":\"kvp_vmbus\",\"driver_override\":\"kvp_vmbus\",\"kvp_vmbus\":true,\"hv_utils\":true,\"hv_kvp\":\"absent\"\}$" \
		-j vmbus status

	expect 13 "unbind: sysfs took the write, but device $DEV has kvp_vmbus" vmbus release
	[ "$(cat $bus/drivers/kvp_vmbus/unbind)" = "$DEV" ] ||
		fail "release did not write $DEV to kvp_vmbus/unbind"
	exit 0
fi

# ---- main --------------------------------------------------------------------
[ -x "$KVPCTL" ] || fail "$KVPCTL is not built: make tools (or set KVPCTL)"

expect 2 "usage: kvpctl vmbus claim\|release\|status" vmbus
expect 2 "usage: kvpctl vmbus" vmbus bogus
expect 2 "usage: kvpctl vmbus" vmbus claim now
expect 0 "kvpctl vmbus claim \| release \| status" --help

# The udev rule (no udevd here): the class kvpctl finds the device by
# (the tmpfs cases below), the driver it claims for, and kvpctl where
# `make install-udev` puts it.
rules=$here/../userspace/udev/90-kvp-vmbus-claim.rules
grep -q "^ATTR{class_id}!=\"$KVP_CLASS\", GOTO=" "$rules" ||
	fail "$rules does not match class $KVP_CLASS"
grep -q '^ACTION=="add", ATTR{driver_override}="kvp_vmbus"$' "$rules" ||
	fail "$rules does not set driver_override to kvp_vmbus on add"
dest=${TEST_TMPDIR:-/tmp}/kvpctl_vmbus_test.$$
make -s -C "$here/.." install-udev DESTDIR="$dest" PREFIX=/opt/kvp >/dev/null ||
	fail "make install-udev"
n=$(grep -c 'RUN+="/opt/kvp/bin/kvpctl vmbus claim"' \
	"$dest/usr/lib/udev/rules.d/90-kvp-vmbus-claim.rules")
rm -rf "$dest"
[ "$n" = 2 ] || fail "install-udev PREFIX=/opt/kvp: $n RUN lines run /opt/kvp/bin/kvpctl, not 2"
echo "ok - udev rule: class, driver_override, make install-udev PREFIX= puts kvpctl's path in RUN"

if [ -e /sys/bus/vmbus ]; then
	echo "SKIP: this machine has a VMBus: the tests here need one without (the VM test covers the rest)"
	exit $KSFT_SKIP
fi
for cmd in claim release status; do
	expect 10 "no VMBus \(/sys/bus/vmbus/devices: No such file or directory\): not a Hyper-V guest" \
		vmbus $cmd
done

if [ "$(id -u)" = 0 ]; then
	userns=
else
	userns=-r
fi
if ! unshare $userns -m true 2>/dev/null; then
	echo "note - unshare $userns -m does not work here: the tmpfs VMBus cases are not run"
	exit 0
fi
KVP_USERNS=$userns unshare $userns -m -- "$0" --in-ns || exit 1
echo "kvpctl_vmbus_test: all passed"
exit 0
