#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: builds everything, runs the native benchmarks
# (selftests/out/native/bench_*, built from selftests/bench_*.c), then boots
# the test VM in bench mode (selftests/vm/bench.sh; log:
# $BUILD/vm-bench-6.1.log) on the 6.1 kernel, or on each of $KERNELS.
# Exit status 1 if a benchmark or the VM failed.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

setup_vm

rc=0
shopt -s nullglob
benches=("$REPO"/selftests/out/native/bench_*)
shopt -u nullglob
if ((${#benches[@]} == 0)); then
	echo "# no native benchmarks (selftests/bench_*.c)"
fi
for b in "${benches[@]}"; do
	[[ -x $b && $b != *.d ]] || continue
	echo "== ${b##*/} =="
	"$b" || {
		warn "${b##*/} failed (exit status $?)"
		rc=1
	}
done

for k in $KERNELS; do
	echo "== VM benchmarks, $k =="
	"$REPO/scripts/vm-run.sh" --kernel "$k" bench || rc=1
done
exit "$rc"
