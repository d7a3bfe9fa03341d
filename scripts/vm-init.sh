#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM (packed by scripts/initramfs.sh, booted by
# scripts/vm-run.sh).  Runs under busybox ash as PID 1.
#
# Sets up a minimal system, reads kvp_vm.mode= from the kernel command line
# and runs what it names:
#
#   check   /selftests/vm/run.sh     the test suite (TAP on the console,
#           summary line "# vm-6.1: ..." with the kernel's series from
#           /etc/kvp-kseries); kvp_vm.tests=NAME[,NAME...] runs only those
#           (test-NN-x.sh or x_test), e.g. KVP_VM_APPEND=kvp_vm.tests=channel_test
#   demo    /selftests/vm/demo.sh
#   bench   /selftests/vm/bench.sh
#   shell   an interactive shell (scripts/vm-run.sh shell)
#
# then prints the end marker that vm-run.sh looks for,
#
#   === kvp-vm: end mode=MODE status=N ===
#
# and powers off.  The serial console is the only channel to the host.
#
# The parameter is kvp_vm.mode and not kvp.mode: modprobe applies
# "MODULE.PARAM=VALUE" words of the kernel command line to the module of that
# name, so kvp.mode= would reach kvp.ko as a module parameter.
#
# No "set -e": if PID 1 exits the kernel panics, and the host would learn
# nothing about why.  Every step goes on, and the end marker is always printed.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
TERM=linux
export PATH HOME TERM

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The initramfs has a /dev/console node, but reopen it anyway: it is also
# what makes a packer that could not create the node work.
exec </dev/console >/dev/console 2>&1

mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=0755 tmpfs /var
mkdir -p /var/lib/hyperv /var/tmp /var/log
chmod 1777 /var/tmp
ln -s /run /var/run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

# Kernel warnings (level 4) on the console as they happen, not only errors:
# "quiet" leaves the console at level 4, which hides WARN() splats.  The host
# (vm-run.sh) greps the console for them.
echo 5 >/proc/sys/kernel/printk
# What the kernel said before that, for the check at the end.
dmesg >/var/log/boot-dmesg

hostname kvp-vm
ip link set lo up

cat >/etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >/etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo 'hosts: files' >/etc/nsswitch.conf
printf '127.0.0.1\tlocalhost kvp-vm\n' >/etc/hosts

mode='' tests=''
# shellcheck disable=SC2013 # words, not lines
for word in $(cat /proc/cmdline); do
	case $word in
	kvp_vm.mode=*) mode=${word#kvp_vm.mode=} ;;
	kvp_vm.tests=*) tests=${word#kvp_vm.tests=} ;;
	esac
done

KVERSION=$(uname -r)
KVP_VM=1
export KVERSION KVP_VM
# On a line of its own: with "quiet", 6.12 prints nothing after SeaBIOS's
# "Booting from ROM..", which has no newline.
echo
echo "=== kvp-vm: start mode=${mode:-none} kernel=$KVERSION cpus=$(nproc) ==="

run() {
	if [ -x "$1" ]; then
		"$@" </dev/null
		status=$?
	else
		echo "kvp-vm: $1 is missing from the initramfs"
		status=127
	fi
}

status=0
case $mode in
check)
	# kvp_vm.tests=NAME[,NAME...]: only these (test-*.sh or *_test).
	set --
	for t in $(echo "$tests" | tr , ' '); do
		for f in /selftests/vm/"$t" /selftests/out/vm/"$t"; do
			[ -e "$f" ] && set -- "$@" "$f"
		done
	done
	run /selftests/vm/run.sh -l "vm-$(cat /etc/kvp-kseries)" "$@"
	;;
demo) run /selftests/vm/demo.sh ;;
bench) run /selftests/vm/bench.sh ;;
shell)
	echo "kvp-vm: shell; exit it to power off"
	setsid cttyhack sh -l
	;;
*)
	echo "kvp-vm: unknown mode '$mode' (kvp_vm.mode=check|demo|bench|shell)"
	status=2
	;;
esac

# Taint flags D (died: oops, 128) and W (warning, 512) mean the kernel got
# into trouble.  Since the console level was raised it all went to the
# console already; only trouble during boot, before that, was hidden: show it.
tainted=$(cat /proc/sys/kernel/tainted)
if [ $((tainted & 640)) -ne 0 ]; then
	echo "kvp-vm: kernel tainted ($tainted)"
	if grep -qE 'BUG:|Oops|WARNING:|general protection|kernel BUG at|UBSAN:' /var/log/boot-dmesg; then
		echo "kvp-vm: kernel trouble during boot; the boot log follows"
		sed 's/^/# dmesg: /' /var/log/boot-dmesg
	fi
fi

sync
echo "=== kvp-vm: end mode=${mode:-none} status=$status ==="
poweroff -f
