#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test runner: in the test VM (kvp_vm.mode=check; busybox ash, as root),
# and natively for `make -C selftests run-native`.
#
# Usage: run.sh [-l LABEL] [TEST...]
#   With no TEST, runs (in the VM), in this order:
#     1. every executable $SELFTESTS/vm/test-*.sh, sorted by name
#        (name them test-NN-what.sh; NN orders them, test-00-modules.sh first)
#     2. every executable $SELFTESTS/out/vm/*_test, sorted by name (the static
#        kselftest-harness programs selftests/Makefile builds from
#        selftests/vm/*_test.c)
#   LABEL (default vm) names the summary line.
#
# Output is TAP, kselftest style: one "ok N name", "ok N name # SKIP" or
# "not ok N name # why" per test, its own output indented as "# ..." comments,
# and last "# LABEL: N passed, N failed, N skipped".  The counts are per test
# case: a test whose output has the harness's "# Totals: pass:P fail:F ..."
# line counts P and F (plus one failure if it still exited non-zero, e.g.
# valgrind's error status); any other test counts as one.  Exits 1 if
# anything failed.
#
# How a test reports: its exit status.
#   0      pass
#   4      skip (KSFT_SKIP): something it needs is missing; say why on stdout
#   other  fail; so is being killed, and running out of time
#
# What a test gets (in the VM):
#   - root, in a fresh empty working directory that is also $TEST_TMPDIR
#     (on tmpfs, removed afterwards); stdin is /dev/null
#   - PATH=/usr/sbin:/usr/bin:/sbin:/bin: busybox applets, bash, kvpd,
#     kvp-hostd, kvpctl, hv_kvp_daemon (those built), modprobe with a
#     depmod'ed tree: our modules are in /lib/modules/$KVERSION/extra
#   - KVP_VM=1  KVERSION=<uname -r>  TEST_NAME=<its name>  KSFT_SKIP=4
#     SELFTESTS=/selftests  (scripts: /selftests/vm, binaries: /selftests/out/vm)
#   - /var/lib/hyperv (pool files) and /run on tmpfs, shared by all tests;
#     loopback up; user nobody (65534) for unprivileged checks, e.g.
#     `su -s /bin/sh nobody -c CMD` or setuid(65534) in C
#   - a time limit: $KVP_TEST_TIMEOUT seconds (default 120), or the N of a
#     line "# kvp-timeout: N" near the top of a script.  SIGTERM at the limit,
#     SIGKILL 5 s later.
#   - programs (not scripts) run under $KVP_TEST_WRAPPER if set (run-native
#     sets it to valgrind for VALGRIND=1)
# Natively (make run-native) the same, except: not root necessarily, no VM
# set-up, and the working directory is selftests/ ($KVP_TEST_CWD), so that
# ../userspace/... reaches the built tools; $TEST_TMPDIR is still fresh.
# A test must stop what it starts and unload the modules it loaded: it runs
# as a process-group leader, and whatever is left in its group when it ends is
# killed, but a daemon that left the group is not.

PATH=${PATH:-/usr/sbin:/usr/bin:/sbin:/bin}
export PATH

label=vm
if [ "$1" = -l ]; then
	label=$2
	shift 2
fi

# What counts as kernel trouble in the log (vm-run.sh greps the console
# for the same).
KTROUBLE='BUG:|Oops|WARNING:|general protection|Kernel panic|kernel BUG at|UBSAN:|INFO: task .* blocked for more than|detected stalls'

SELFTESTS=${SELFTESTS:-/selftests}
TIMEOUT=${KVP_TEST_TIMEOUT:-120}
KSFT_SKIP=4
KVERSION=${KVERSION:-$(uname -r)}
export SELFTESTS KSFT_SKIP KVERSION

if [ $# -eq 0 ]; then
	# The globs expand sorted, scripts first.
	for t in "$SELFTESTS"/vm/test-*.sh "$SELFTESTS"/out/vm/*_test; do
		[ -f "$t" ] && [ -x "$t" ] && set -- "$@" "$t"
	done
fi

echo "TAP version 13"
echo "1..$#"

n=0 passed=0 failed=0 skipped=0
for t in "$@"; do
	n=$((n + 1))
	name=${t##*/}
	limit=$TIMEOUT
	wrapper=$KVP_TEST_WRAPPER
	case $t in
	*.sh)
		l=$(head -n 20 "$t" | sed -n 's/^# *kvp-timeout: *\([0-9][0-9]*\).*/\1/p' | head -n 1)
		[ -n "$l" ] && limit=$l
		wrapper=
		;;
	esac

	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		echo "not ok $n $name # missing: not built?"
		failed=$((failed + 1))
		continue
	fi

	dir=$(mktemp -d /tmp/kvptest.XXXXXX)
	start=$(date +%s)
	[ "$KVP_VM" = 1 ] && klines=$(dmesg | wc -l)
	# The test leads its own process group (setsid in a non-interactive
	# shell keeps the pid), so that what it leaves behind can be killed.
	# Its output is indented live and kept for the counts; the status goes
	# through a file because the pipe hides it.
	{
		cd "${KVP_TEST_CWD:-$dir}" || exit
		# shellcheck disable=SC2086 # the wrapper is a command line
		TEST_NAME=$name TEST_TMPDIR=$dir \
			setsid timeout -k 5 "$limit" $wrapper "$t" </dev/null 2>&1 &
		pid=$!
		wait $pid
		echo $? >"$dir.rc"
		kill -KILL -- "-$pid" 2>/dev/null
	} 2>&1 | tee "$dir.out" | sed 's/^/# /'
	rc=$(cat "$dir.rc" 2>/dev/null || echo 255)
	secs=$(($(date +%s) - start))

	# Case counts from a kselftest "Totals" line, if the test printed one.
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:\([0-9]*\) skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' \
		"$dir.out" | tail -n 1)
	tp=0 tf=0 ts=0
	if [ -n "$totals" ]; then
		read -r c_pass c_fail c_xfail c_xpass c_skip c_error <<-EOF
			$totals
		EOF
		tp=$((c_pass + c_xfail + c_xpass)) tf=$((c_fail + c_error)) ts=$c_skip
	fi
	rm -rf "$dir" "$dir.rc" "$dir.out"

	# In the VM: a kernel BUG, oops or warning while the test ran fails it,
	# whatever its status.
	ktrouble=
	if [ "$KVP_VM" = 1 ]; then
		ktrouble=$(dmesg | tail -n "+$((klines + 1))" | grep -E "$KTROUBLE")
		if [ -n "$ktrouble" ]; then
			echo "$ktrouble" | sed 's/^/# kernel: /'
			if [ "$rc" -eq 0 ] || [ "$rc" -eq "$KSFT_SKIP" ]; then
				rc=1
			fi
		fi
	fi

	if [ "$rc" -eq 0 ]; then
		echo "ok $n $name"
		[ $((tp + tf + ts)) -eq 0 ] && tp=1
	elif [ "$rc" -eq "$KSFT_SKIP" ]; then
		echo "ok $n $name # SKIP"
		[ $((tp + tf + ts)) -eq 0 ] && ts=1
	else
		if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || [ "$rc" -eq 143 ]; } &&
			[ "$secs" -ge "$limit" ]; then
			echo "not ok $n $name # TIMEOUT after ${limit} s"
		elif [ "$rc" -eq 99 ] && [ -n "$wrapper" ]; then
			echo "not ok $n $name # exit=99 ($wrapper found errors)"
		elif [ -n "$ktrouble" ]; then
			echo "not ok $n $name # kernel BUG/oops/warning (exit=$rc)"
		else
			echo "not ok $n $name # exit=$rc"
		fi
		# Failed as a whole although no case did: one more failure.
		[ "$tf" -eq 0 ] && tf=1
	fi
	passed=$((passed + tp)) failed=$((failed + tf)) skipped=$((skipped + ts))
done

echo "# $label: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
