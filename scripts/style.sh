#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make style`: checkpatch --strict over the module's sources, with the
# checkpatch.pl of Debian's linux-source-6.1 (fetched into $BUILD/ksft by
# fetch.sh, not kept in the tree).  Exit status 1 on any error, warning or
# check.
#
# Usage: scripts/style.sh [FILE...]   (default: kernel/*.[ch] kernel/uapi/*.h
#        and the VMBus stand-in's selftests/vmbus/**/*.[ch])
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$REPO"

"$REPO/scripts/fetch.sh" >/dev/null
load_env
CHECKPATCH=$KSFT_DIR/checkpatch.pl
[[ -x $CHECKPATCH ]] || die "$CHECKPATCH missing"

if (($# == 0)); then
	shopt -s nullglob
	files=()
	for f in kernel/*.c kernel/*.h kernel/uapi/*.h selftests/vmbus/*.[ch] \
		selftests/vmbus/*/*.[ch]; do
		[[ $f == *.mod.c ]] || files+=("$f") # Kbuild's generated files
	done
	shopt -u nullglob
	set -- "${files[@]}"
fi
(($# > 0)) || die "no files to check"

bad=0
for f in "$@"; do
	# --no-tree: no kernel tree around; -f: a file, not a patch.  Any
	# output is a finding (ERROR, WARNING or CHECK).
	out=$("$CHECKPATCH" --strict --no-tree --no-summary --terse --show-types \
		--color=never -f "$f" 2>&1) || bad=1
	if [[ -n $out ]]; then
		printf '%s\n' "$out"
		bad=1
	fi
done

if ((bad)); then
	echo "style: findings in the files above ($# checked)"
	exit 1
fi
echo "style: $# files clean (checkpatch --strict)"
