#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the modules against Debian's 6.12 kernel headers (KERNELDIR_612 from
# scripts/fetch.sh), with W=1, to keep them building on the newer kernel too.
# The build happens in $BUILD/mod-6.12/, a copy of Kbuild and kernel/'s
# sources kept in step with the tree (only changed files are copied, so the
# build is incremental), so that the 6.1 objects in kernel/, which the test VM
# loads, stay as they are.  Kbuild 6.12 cannot put an external module's
# objects elsewhere (no MO=).
#
# Compiler messages name the files in the tree (kernel/x.c), not the copies.
# Extra arguments go to make (V=1, C=2 for sparse, ...).
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
load_env

if [[ -z ${KERNELDIR_612:-} || ! -f $KERNELDIR_612/Makefile ]]; then
	[[ -r $BUILD/fetch-6.12.log ]] && cat "$BUILD/fetch-6.12.log" >&2
	die "no Debian 6.12 kernel headers (KERNELDIR_612 is empty in $BUILD/env.sh): scripts/fetch.sh could not fetch them; see its warnings"
fi

OUT=$BUILD/mod-6.12

# The sources: the top Kbuild and everything under kernel/ that Kbuild reads,
# none of what it writes (*.mod.c is generated).
sources() {
	(cd "$REPO" && find Kbuild kernel -type f \
		\( -name '*.c' -o -name '*.h' -o -name Kbuild -o -name Makefile \) \
		! -name '*.mod.c' -print)
}

sync_sources() {
	local f want=()
	mkdir -p "$OUT"
	while IFS= read -r f; do
		want+=("$f")
		if ! cmp -s "$REPO/$f" "$OUT/$f"; then
			mkdir -p "$OUT/$(dirname "$f")"
			cp "$REPO/$f" "$OUT/$f"
		fi
	done < <(sources)
	# Sources removed from the tree go from the copy too.
	declare -A keep=()
	for f in "${want[@]}"; do
		keep[$f]=1
	done
	while IFS= read -r f; do
		[[ -n ${keep[$f]:-} ]] || rm -f "$OUT/$f"
	done < <(sources_in_copy)
}

sources_in_copy() {
	(cd "$OUT" && find . -type f \
		\( -name '*.c' -o -name '*.h' -o -name Kbuild -o -name Makefile \) \
		! -name '*.mod.c' -printf '%P\n')
}

sync_sources
jobs=$(nproc 2>/dev/null || echo 2)
rc=0
make -C "$KERNELDIR_612" M="$OUT" W=1 -j"$jobs" "$@" modules 2>&1 |
	sed -u -E "/^ +[A-Z]+ /!s#$OUT/#$REPO/#g" || rc=$?
((rc == 0)) || die "the modules do not build against $KVERSION_612"
ls "$OUT"/kernel/*.ko >/dev/null 2>&1 || die "no .ko files in $OUT/kernel"
msg "built against $KVERSION_612: $(cd "$OUT" && echo kernel/*.ko)"
