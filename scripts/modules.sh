#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the modules against one test kernel's headers (scripts/fetch.sh),
# with W=1: kernel/ and, when it exists, the VMBus stand-in selftests/vmbus/
# (`make -C selftests/vmbus KERNELDIR=...`).
#
# Usage: scripts/modules.sh [--kernel 6.1|6.12] [MAKE-ARGS...]
#
# MAKE-ARGS go to both makes: KVP_DEBUG=y for the test build the VM loads,
# C=2 for sparse, V=1, ...  The kernel is 6.1 by default.
#
# Where (use_kernel's MODTREE): against 6.1 in the tree itself, as `make`
# does; against 6.12 in $BUILD/mod-6.12/, a copy of Kbuild, kernel/ and
# selftests/vmbus/ kept in step with the tree (only changed files are copied,
# so the build is incremental), so that the 6.1 objects in the tree stay as
# they are.  Kbuild cannot put an external module's objects elsewhere (no
# MO=).  Compiler messages name the files in the tree (kernel/x.c), not the
# copies.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

use_kernel_option "$@"
shift "$KERNEL_SHIFT"

# The sources: the top Kbuild and everything under kernel/ and the stand-in
# that Kbuild reads, none of what it writes (*.mod.c is generated).
SOURCE_DIRS=(Kbuild kernel selftests/vmbus)
find_sources() {
	find "$@" -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' -o \
		-name '*.sh' -o -name Kbuild -o -name Makefile \) \
		! -name '*.mod.c' -printf '%P\n'
}
sources() {
	local d
	for d in "${SOURCE_DIRS[@]}"; do
		[[ -e $REPO/$d ]] || continue
		if [[ -d $REPO/$d ]]; then
			find_sources "$REPO/$d" | sed "s#^#$d/#"
		else
			echo "$d"
		fi
	done
}

# sync_sources: makes $MODTREE's sources those of the tree.
sync_sources() {
	local f
	declare -A keep=()
	mkdir -p "$MODTREE"
	while IFS= read -r f; do
		keep[$f]=1
		if ! cmp -s "$REPO/$f" "$MODTREE/$f"; then
			mkdir -p "$MODTREE/$(dirname "$f")"
			cp "$REPO/$f" "$MODTREE/$f"
		fi
	done < <(sources)
	# Sources removed from the tree go from the copy too.
	while IFS= read -r f; do
		[[ -n ${keep[$f]:-} ]] || rm -f "$MODTREE/$f"
	done < <(find_sources "$MODTREE")
}

[[ $MODTREE == "$REPO" ]] || sync_sources
jobs=$(nproc 2>/dev/null || echo 2)

# build DIR CMD...: runs the make, with the copy's paths turned back into the
# tree's in its messages (not in the "  CC  file" progress lines).
build() {
	local what=$1 rc=0
	shift
	"$@" 2>&1 | sed -u -E "/^ +[A-Z]+ /!s#$MODTREE/#$REPO/#g" || rc=$?
	((rc == 0)) || die "$what does not build against $KVERSION"
}

build kernel/ make -C "$KERNELDIR" M="$MODTREE" W=1 -j"$jobs" "$@" modules
if [[ -f $MODTREE/selftests/vmbus/Makefile ]]; then
	build selftests/vmbus/ make -C "$MODTREE/selftests/vmbus" \
		KERNELDIR="$KERNELDIR" W=1 -j"$jobs" "$@"
fi
built=()
while IFS= read -r ko; do
	[[ -f $ko ]] || die "Kbuild built no $ko"
	built+=("${ko#"$MODTREE"/}")
done < <(built_modules)
((${#built[@]} > 0)) || die "no modules built in $MODTREE"
msg "built against $KVERSION: ${built[*]}"
