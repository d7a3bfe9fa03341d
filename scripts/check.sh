#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: everything, from a bare machine to a verdict, on each test
# kernel of KERNELS (default "6.1 6.12"; `make check KERNELS=6.1` picks):
#
#   deps      scripts/deps.sh (apt-get what is missing)
#   fetch     scripts/fetch.sh (Debian's 6.1 and 6.12 kernels, kselftest
#             headers; cached)
#   then for each kernel K of KERNELS:
#   sparse-K  scripts/modules.sh --kernel K C=2 (sparse, W=1, no warnings):
#             the release build; the sha256 of its kvp_vmbus.ko (if there
#             is one yet) goes to $BUILD/kvp_vmbus-release-K.sha256
#   modules-K scripts/modules.sh --kernel K KVP_DEBUG=y (W=1, no warnings):
#             the test build the VM loads, with the VMBus stand-in when
#             selftests/vmbus/ exists; its kvp_vmbus.ko must be the release
#             build's byte for byte (KVP_DEBUG reaches only kvp.ko)
#   then once:
#   style     scripts/style.sh (checkpatch --strict)
#   tools     make tools
#   selftests make -C selftests (native and VM test programs)
#   native    make -C selftests run-native VALGRIND=1
#   fuzz      make -C selftests/fuzz check: each libFuzzer harness for a
#             fixed number of inputs from its seed corpus (execs printed)
#   and for each kernel K again:
#   initramfs-K  scripts/initramfs.sh --kernel K
#   vm-K      scripts/vm-run.sh --kernel K check (the suite in Debian's
#             kernel K under QEMU; log $BUILD/vm-check-K.log)
#
# A step that fails counts as one failure and the later steps still run where
# they can (a failed module build still boots the VM, which then tests what
# there is).  Test counts come from the runners' summary lines,
# "# native: ..." and "# vm-K: ...".  The last line printed is always
#
#   N passed, N failed
#
# (totals: test cases, plus one per step that is not a test runner: builds,
# the initramfs, the VM boot itself).  Exit status 1 if anything failed.
#
# Environment: KERNELS             the kernels to build for and boot
#              KVP_CHECK_VALGRIND=0  runs the native tests without valgrind
#              KVP_VM_APPEND       goes to every VM run (vm-run.sh), e.g.
#                                  KVP_VM_APPEND=kvp_vm.tests=channel_test
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$REPO"

KERNELS=${KERNELS:-$ALL_KERNELS}
JOBS=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 skipped=0
summary=()
done_summary=0

# Prints the table and the final line; also on an unexpected exit.
finish() {
	((done_summary)) && return
	done_summary=1
	echo
	echo "== summary =="
	local line
	for line in "${summary[@]}"; do
		echo "  $line"
	done
	((skipped == 0)) || echo "# skipped: $skipped"
	echo "$passed passed, $failed failed"
}
trap finish EXIT

record() { # record NAME ok|FAIL SECONDS [NOTE]
	summary+=("$(printf '%-15s %-4s %6s s  %s' "$1" "$2" "$3" "${4:-}")")
}

# step NAME CMD...: runs CMD, counts one pass or one failure.
step() {
	local name=$1 t0 rc=0
	shift
	echo
	echo "== $name: $* =="
	t0=$(now)
	"$@" || rc=$?
	if ((rc == 0)); then
		passed=$((passed + 1))
		record "$name" ok "$(elapsed "$t0")"
	else
		failed=$((failed + 1))
		record "$name" FAIL "$(elapsed "$t0")" "exit status $rc"
	fi
	return "$rc"
}

# counts LABEL LOG RC SECONDS: adds the "# LABEL: P passed, F failed[, S
# skipped]" line of LOG to the totals.  The run counts as one failure more if
# RC says failure but no case failed, or if the line is missing (then counts
# returns 1).
counts() {
	local label=$1 log=$2 rc=$3 secs=$4 line p f s note
	line=$(grep -aE "^# ${label//./\\.}: [0-9]+ passed, [0-9]+ failed" "$log" 2>/dev/null | tail -n 1 || true)
	if [[ -z $line ]]; then
		failed=$((failed + 1))
		record "$label" FAIL "$secs" "no summary line: the runner did not finish"
		return 1
	fi
	read -r p f s < <(sed -E 's/^# [^:]+: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$line")
	s=${s:-0}
	note="$p passed, $f failed, $s skipped"
	if ((rc != 0 && f == 0)); then
		f=1
		note+=", but exit status $rc"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	record "$label" "$( ((f == 0)) && echo ok || echo FAIL)" "$secs" "$note"
}

# quiet NAME CMD...: runs CMD and fails if it printed a compiler or sparse
# warning: W=1 and sparse only warn, the project wants them clean.
quiet() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$out"
	if grep -E '(warning|error):' <<<"$out" | grep -v 'Skipping BTF'; then
		echo "$1: the lines above are findings"
		return 1
	fi
	return "$rc"
}

# release_build K: the release modules for kernel K under sparse, and the
# sha256 of their kvp_vmbus.ko, which the test build must match and a VM
# test compares with the file it loads (initramfs.sh packs it).
release_build() (
	use_kernel "$1"
	local sha=$BUILD/kvp_vmbus-release-$1.sha256
	rm -f "$sha"
	quiet scripts/modules.sh --kernel "$1" C=2 || return
	if [[ -f $MODTREE/kernel/kvp_vmbus.ko ]]; then
		(cd "$MODTREE/kernel" && sha256sum kvp_vmbus.ko) >"$sha"
	fi
)

# test_build K: the modules the VM loads for kernel K (KVP_DEBUG=y).
test_build() (
	use_kernel "$1"
	local sha=$BUILD/kvp_vmbus-release-$1.sha256
	quiet scripts/modules.sh --kernel "$1" KVP_DEBUG=y || return
	[[ -f $sha ]] || return 0
	if ! (cd "$MODTREE/kernel" && sha256sum --check --quiet "$sha"); then
		echo "kvp_vmbus.ko of the test build differs from the release build's ($sha)"
		return 1
	fi
)

# vm_check K: boots kernel K's initramfs in check mode and counts its cases.
vm_check() {
	local k=$1 log=$BUILD/vm-check-$1.log t0 rc=0 secs
	echo
	echo "== vm-$k: scripts/vm-run.sh --kernel $k check =="
	t0=$(now)
	scripts/vm-run.sh --kernel "$k" check || rc=$?
	secs=$(elapsed "$t0")
	if ((rc == 2)); then
		# Kernel trouble, timeout, or no end marker: one failure on top
		# of the cases (or in place of them if the runner never finished).
		if counts "vm-$k" "$log" 0 "$secs"; then
			failed=$((failed + 1))
			record "vm-boot-$k" FAIL "$secs" "see the '# vm-run:' lines in $log"
		fi
	else
		counts "vm-$k" "$log" "$rc" "$secs" || true
	fi
}

T0=$(now)

if ! (check_kernels); then
	failed=$((failed + 1))
	record KERNELS FAIL 0 "KERNELS=$KERNELS"
	exit 1
fi

# Without dependencies and the kernel nothing else can run.
step deps scripts/deps.sh || exit 1
step fetch scripts/fetch.sh || exit 1
load_env

# After a failed build the old .ko files and programs may still be there:
# keep them out of the VM rather than test stale code.  The release build
# comes first; the test build then adds the hooks the VM tests use to force
# rare paths, such as failed allocations, by rebuilding request.o and kvp.ko.
declare -A no_modules=()
for k in $KERNELS; do
	step "sparse-$k" release_build "$k" || true
	step "modules-$k" test_build "$k" || no_modules[$k]=1
done
step style scripts/style.sh || true
step tools make -j"$JOBS" tools || export KVP_VM_NO_TOOLS=1
step selftests make -j"$JOBS" -k -C selftests KSFT_DIR="$KSFT_DIR" || true

echo
echo "== native: make -C selftests run-native =="
t0=$(now)
rc=0
make -C selftests --no-print-directory run-native KSFT_DIR="$KSFT_DIR" \
	VALGRIND="${KVP_CHECK_VALGRIND:-1}" 2>&1 | tee "$BUILD/native.log" || rc=$?
counts native "$BUILD/native.log" "$rc" "$(elapsed "$t0")" || true

step fuzz make -C selftests/fuzz --no-print-directory check || true

for k in $KERNELS; do
	if step "initramfs-$k" env KVP_VM_NO_MODULES="${no_modules[$k]:-0}" \
		scripts/initramfs.sh --kernel "$k"; then
		vm_check "$k"
	else
		failed=$((failed + 1))
		record "vm-$k" FAIL 0 "not run: no initramfs"
	fi
done

record total "" "$(elapsed "$T0")"
((failed == 0))
