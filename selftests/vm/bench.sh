#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-VM benchmarks (kvp_vm.mode=bench, `make bench`): runs every
# /selftests/out/vm/bench_* program (built from selftests/vm/bench_*.c), one
# after the other, each in a fresh working directory.  Exits 1 if one failed.

SELFTESTS=${SELFTESTS:-/selftests}
status=0 ran=0
for b in "$SELFTESTS"/out/vm/bench_*; do
	if [ ! -f "$b" ] || [ ! -x "$b" ]; then
		continue
	fi
	ran=$((ran + 1))
	echo "== ${b##*/} =="
	dir=$(mktemp -d /tmp/kvpbench.XXXXXX)
	(cd "$dir" && exec "$b") </dev/null
	rc=$?
	rm -rf "$dir"
	if [ "$rc" -ne 0 ]; then
		echo "bench: ${b##*/} failed (exit status $rc)"
		status=1
	fi
done
[ "$ran" -gt 0 ] || echo "no VM benchmarks yet"
exit "$status"
