#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the VM's module set-up: our modules were built for the
# kernel that runs (the initramfs is per kernel), hv_vmbus.ko and hv_utils.ko
# are not in the module tree (the VMBus stand-in takes their place), the
# Debian vsock loopback chain loads through modprobe, and, when built, kvp.ko
# and kvp_vsock.ko load, bind to vsock loopback (host_cid=1, where nobody
# listens: kvp_vsock keeps retrying) and unload again, leaving no BUG or
# WARNING in the kernel log.

fail() {
	echo "FAIL: $*"
	exit 1
}

# Only the kernel log written from here on counts.
before=$(dmesg | wc -l)

modules=/lib/modules/$(uname -r)
for ko in "$modules"/extra/*.ko; do
	[ -f "$ko" ] || continue
	vermagic=$(modinfo -F vermagic "$ko")
	case $vermagic in
	"$(uname -r) "*) ;;
	*) fail "${ko##*/} was built for '$vermagic', not $(uname -r)" ;;
	esac
done
# kvp_vmbus.ko is tested as `make` builds it for release: check.sh records
# that file's sha256 (a by-hand initramfs has no record).
if [ -f /selftests/kvp_vmbus.sha256 ]; then
	(cd "$modules/extra" && sha256sum -c /selftests/kvp_vmbus.sha256) ||
		fail "the VM's kvp_vmbus.ko is not the release build"
else
	echo "no release sha256 of kvp_vmbus.ko recorded: not compared"
fi
replaced=$(find "$modules" -name 'hv_vmbus.ko*' -o -name 'hv_utils.ko*')
[ -z "$replaced" ] || fail "in the module tree, where the stand-in belongs: $replaced"

modprobe vsock_loopback || fail "modprobe vsock_loopback"
grep -q '^vsock_loopback ' /proc/modules || fail "vsock_loopback not in /proc/modules"
echo "vsock loopback chain loaded"

extra=$modules/extra
if [ -f "$extra/kvp.ko" ]; then
	modprobe kvp || fail "modprobe kvp"
	echo "kvp loaded"
	if [ -f "$extra/kvp_vsock.ko" ]; then
		modprobe kvp_vsock host_cid=1 || fail "modprobe kvp_vsock host_cid=1"
		echo "kvp_vsock loaded (host_cid=1)"
		# Let it try to connect at least once.
		sleep 1
		rmmod kvp_vsock || fail "rmmod kvp_vsock"
		echo "kvp_vsock unloaded"
	else
		echo "kvp_vsock.ko not built: not tried"
	fi
	rmmod kvp || fail "rmmod kvp"
	echo "kvp unloaded"
	grep -q '^kvp' /proc/modules && fail "a kvp module is still loaded"
else
	echo "kvp.ko not built: only the vsock chain was checked"
fi

modprobe -r vsock_loopback || fail "modprobe -r vsock_loopback"

trouble=$(dmesg | tail -n "+$((before + 1))" |
	grep -E 'BUG|WARNING|Oops|general protection|Call Trace')
if [ -n "$trouble" ]; then
	echo "kernel log since the test started:"
	dmesg | tail -n "+$((before + 1))"
	fail "kernel trouble while loading or unloading"
fi
exit 0
