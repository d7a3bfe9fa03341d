#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: everything, from a bare machine to a verdict.
#
#   deps      scripts/deps.sh (apt-get what is missing)
#   fetch     scripts/fetch.sh (Debian 6.1 kernel, 6.12 headers, kselftest
#             headers; cached)
#   sparse    make sparse (C=2, W=1, no warnings): the release modules
#   modules   make modules KERNELDIR=<fetched headers> KVP_DEBUG=y (W=1, no
#             warnings): the test build the VM loads
#   modules-6.12  scripts/modules-6.12.sh: the same against Debian's 6.12
#             headers, built in a copy ($BUILD/mod-6.12; W=1, no warnings)
#   style     scripts/style.sh (checkpatch --strict)
#   tools     make tools
#   selftests make -C selftests (native and VM test programs)
#   native    make -C selftests run-native VALGRIND=1
#   fuzz      make -C selftests/fuzz check: each libFuzzer harness for a
#             fixed number of inputs from its seed corpus (execs printed)
#   initramfs scripts/initramfs.sh
#   vm        scripts/vm-run.sh check (the suite in Debian's 6.1 under QEMU)
#
# A step that fails counts as one failure and the later steps still run where
# they can (a failed module build still boots the VM, which then tests what
# there is).  Test counts come from the runners' summary lines,
# "# native: ..." and "# vm: ...".  The last line printed is always
#
#   N passed, N failed
#
# (totals: test cases, plus one per step that is not a test runner: builds,
# the initramfs, the VM boot itself).  Exit status 1 if anything failed.
#
# Environment: KVP_CHECK_VALGRIND=0 runs the native tests without valgrind.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$REPO"

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
	summary+=("$(printf '%-12s %-4s %6s s  %s' "$1" "$2" "$3" "${4:-}")")
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
	line=$(grep -aE "^# $label: [0-9]+ passed, [0-9]+ failed" "$log" 2>/dev/null | tail -n 1 || true)
	if [[ -z $line ]]; then
		failed=$((failed + 1))
		record "$label" FAIL "$secs" "no summary line: the runner did not finish"
		return 1
	fi
	read -r p f s < <(sed -E 's/^# [a-z]+: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$line")
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

T0=$(now)

# Without dependencies and the kernel nothing else can run.
step deps scripts/deps.sh || exit 1
step fetch scripts/fetch.sh || exit 1
load_env

# After a failed build the old .ko files and programs may still be there:
# keep them out of the VM rather than test stale code.
# sparse builds the release modules (W=1, no warnings); the modules step
# then builds the test build the VM loads (KVP_DEBUG=y: the same code plus
# the hooks the VM tests use to force rare paths, such as failed
# allocations).
step sparse quiet make sparse KERNELDIR="$KERNELDIR" || true
step modules quiet make -j"$JOBS" modules KERNELDIR="$KERNELDIR" KVP_DEBUG=y || export KVP_VM_NO_MODULES=1
# Only built, never loaded: the VM runs 6.1.
step modules-6.12 quiet scripts/modules-6.12.sh || true
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

if step initramfs scripts/initramfs.sh; then
	echo
	echo "== vm: scripts/vm-run.sh check =="
	t0=$(now)
	rc=0
	scripts/vm-run.sh check || rc=$?
	secs=$(elapsed "$t0")
	if ((rc == 2)); then
		# Kernel trouble, timeout, or no end marker: one failure on top
		# of the cases (or in place of them if the runner never finished).
		if counts vm "$BUILD/vm-check.log" 0 "$secs"; then
			failed=$((failed + 1))
			record vm-boot FAIL "$secs" "see the '# vm-run:' lines in $BUILD/vm-check.log"
		fi
	else
		counts vm "$BUILD/vm-check.log" "$rc" "$secs" || true
	fi
else
	failed=$((failed + 1))
	record vm FAIL 0 "not run: no initramfs"
fi

record total "" "$(elapsed "$T0")"
((failed == 0))
