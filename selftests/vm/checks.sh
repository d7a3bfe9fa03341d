# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# What the shell tests share (sourced, never run): checks that count
# failures, a wait for a command's output, and the verdict.  The VM tests
# source it as $(dirname "$0")/checks.sh, the native ones from vm/.

fails=0

check() { # check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		echo "ok: $1"
	else
		echo "FAIL: $1: expected '$2', got '$3'"
		fails=$((fails + 1))
	fi
}

# Waits until CMD prints WANT, for up to SECONDS; 1 if it never did.
wait_for() { # wait_for SECONDS WANT CMD...
	_n=$(($1 * 10))
	_want=$2
	shift 2
	while [ "$_n" -gt 0 ]; do
		[ "$("$@" 2>/dev/null)" = "$_want" ] && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# The verdict: the number of failures, and the exit status.
checks_done() {
	echo "$fails failures"
	[ "$fails" -eq 0 ]
}
