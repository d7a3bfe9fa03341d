#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the test VM: one of Debian's test kernels (6.1 by default, or 6.12;
# $KIMAGE from fetch.sh) with its $BUILD/initramfs-KERNEL.cpio.gz
# (initramfs.sh --kernel KERNEL) under QEMU with software emulation (TCG:
# this machine's KVM cannot run it), kernel command line kvp_vm.mode=MODE,
# which scripts/vm-init.sh turns into what the VM runs.
#
# Usage: scripts/vm-run.sh [--kernel 6.1|6.12] check|demo|bench|shell
#
# The serial console goes to stdout and, without CRs and terminal escapes, to
# $BUILD/vm-MODE-KERNEL.log (vm-check-6.1.log, ...).  Exit status:
#   0  the VM ran MODE to the end and it succeeded
#   1  the VM ran MODE to the end and it failed (status != 0 in the marker)
#   2  the VM itself went wrong: QEMU failed, timeout, no end marker (panic,
#      hang, crash of init), or the kernel logged BUG/Oops/WARNING/...
#
# Environment: KVP_VM_TIMEOUT  seconds before QEMU is killed (default 600;
#                              none in shell mode unless set)
#              KVP_VM_MEM      guest memory in MiB (default 1024)
#              KVP_VM_APPEND   more kernel command-line words
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

use_kernel_option "$@"
shift "$KERNEL_SHIFT"
MODE=${1:-}
case $MODE in
check | demo | bench | shell) ;;
*) die "usage: $0 [--kernel 6.1|6.12] check|demo|bench|shell" ;;
esac

INITRD=$BUILD/initramfs-$KSERIES.cpio.gz
LOG=$BUILD/vm-$MODE-$KSERIES.log
[[ -f $KIMAGE ]] || die "no kernel image $KIMAGE: run scripts/fetch.sh"
[[ -f $INITRD ]] || die "no $INITRD: run scripts/initramfs.sh --kernel $KSERIES"
QEMU=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 missing: run scripts/deps.sh"

qemu=(
	"$QEMU" -m "${KVP_VM_MEM:-1024}" -smp 2 -cpu max
	-nographic -no-reboot -nic none
	# A fixed SMBIOS system UUID: the guest's VM id, as a hypervisor sets it.
	-uuid "${KVP_VM_UUID:-5d2f8c41-7a3e-4b9d-8e16-0c4a9b7f2e53}"
	-kernel "$KIMAGE" -initrd "$INITRD"
	-append "console=ttyS0 panic=-1 quiet kvp_vm.mode=$MODE ${KVP_VM_APPEND:-}"
)

if [[ $MODE == shell ]]; then
	# Interactive: the terminal is the console.  Ctrl-A X quits QEMU.
	if [[ -n ${KVP_VM_TIMEOUT:-} ]]; then
		exec timeout --foreground "$KVP_VM_TIMEOUT" "${qemu[@]}"
	fi
	exec "${qemu[@]}"
fi

TIMEOUT=${KVP_VM_TIMEOUT:-600}
rm -f "$LOG" # never judge by an old run's log
msg "booting $KVERSION, mode $MODE, timeout $TIMEOUT s (log: $LOG)"
t0=$(now)
set +e
# sed -u: line by line, so that the console shows up as it happens.
timeout -k 10 "$TIMEOUT" "${qemu[@]}" </dev/null 2>&1 |
	sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c78]//g' |
	tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
secs=$(elapsed "$t0")

verdict=0
if ((rc == 124 || rc == 137)); then
	echo "# vm-run: TIMEOUT: QEMU killed after $TIMEOUT s"
	verdict=2
elif ((rc != 0)); then
	echo "# vm-run: QEMU exited with status $rc"
	verdict=2
fi

# Kernel trouble: console lines carry a "[ seconds]" stamp, test output
# does not, so test chatter that mentions these words does not count.
stamp='\[ *[0-9]+\.[0-9]+\] '
trouble='BUG:|Oops|WARNING:|general protection|Kernel panic|kernel BUG at|UBSAN:|INFO: task .* blocked for more than|detected stalls'
if grep -qE "$stamp.*($trouble)" "$LOG"; then
	echo "# vm-run: the kernel got into trouble:"
	grep -E "$stamp.*($trouble)" "$LOG" | head -n 20 | sed 's/^/#   /'
	verdict=2
fi

end=$(grep -aoE "=== kvp-vm: end mode=$MODE status=[0-9]+ ===" "$LOG" | tail -n 1 || true)
if [[ -z $end ]]; then
	echo "# vm-run: no end marker: the VM did not finish mode $MODE (panic, hang or init crash)"
	verdict=2
else
	status=${end##*status=}
	status=${status%% *}
	if ((status != 0 && verdict == 0)); then
		verdict=1
	fi
fi

echo "# vm-run: $KSERIES, mode $MODE, $secs s, verdict $verdict ($(case $verdict in 0) echo ok ;; 1) echo "failed" ;; *) echo "VM trouble" ;; esac))"
exit "$verdict"
