# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the other scripts in scripts/: the repository root, the build
# folder and a few helpers.  Not executable on its own.
#
#   REPO   the repository root (the folder above scripts/)
#   BUILD  everything fetched or built for tests; default $REPO/build,
#          overridable from the environment (the top Makefile exports it)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
export REPO BUILD

# Messages go to stderr so that stdout stays clean for what a script prints
# on purpose (fetch.sh's shell-sourceable paths, for instance).
msg() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "${0##*/}" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# Loads $BUILD/env.sh (written by fetch.sh) or fails with a hint.
load_env() {
	[[ -r $BUILD/env.sh ]] || die "$BUILD/env.sh is missing: run scripts/fetch.sh first"
	# shellcheck source=/dev/null
	. "$BUILD/env.sh"
}

# The test kernels: Debian 12's 6.1 and bookworm-security's 6.12, both
# fetched by fetch.sh.  KERNELS (a subset, in this form) picks those that
# check.sh (default: both), demo.sh and bench.sh (default: 6.1) boot.
ALL_KERNELS="6.1 6.12"

# use_kernel 6.1|6.12: makes that kernel the one the variables name (after
# load_env they name 6.1):
#   KSERIES    6.1 or 6.12, for file names: initramfs-$KSERIES.cpio.gz, ...
#   KERNELDIR  its headers (Kbuild's KERNELDIR)
#   KVERSION   its version, uname -r inside the VM
#   KIMAGE     its vmlinuz
#   KMODDIR    its extracted, depmod'ed lib/modules/$KVERSION
#   MODTREE    where scripts/modules.sh builds the modules for it: the tree
#              itself for 6.1 (what `make` builds), $BUILD/mod-6.12 for 6.12
use_kernel() {
	load_env
	case $1 in
	6.1) MODTREE=$REPO ;;
	6.12)
		[[ -n ${KVERSION_612:-} ]] ||
			die "no 6.12 kernel in $BUILD/env.sh: scripts/fetch.sh could not fetch it (see its warnings and $BUILD/fetch-6.12.log)"
		KERNELDIR=$KERNELDIR_612 KVERSION=$KVERSION_612
		KIMAGE=$KIMAGE_612 KMODDIR=$KMODDIR_612
		MODTREE=$BUILD/mod-6.12
		;;
	*) die "unknown kernel '$1': one of $ALL_KERNELS" ;;
	esac
	KSERIES=$1
	export KSERIES KERNELDIR KVERSION KIMAGE KMODDIR MODTREE
}

# use_kernel_option "$@": use_kernel for a script whose arguments may start
# with "--kernel 6.1|6.12" (6.1 without); sets KERNEL_SHIFT to the number of
# arguments that took, for the script to shift them.
use_kernel_option() {
	local kernel=6.1 taken=0
	if [[ ${1:-} == --kernel ]]; then
		(($# >= 2)) || die "--kernel needs one of $ALL_KERNELS"
		kernel=$2 taken=2
	fi
	use_kernel "$kernel"
	# shellcheck disable=SC2034 # the caller shifts by it
	KERNEL_SHIFT=$taken
}

# built_modules: the .ko files the last scripts/modules.sh for the current
# kernel built (Kbuild's modules.order; 6.12's lists them as .o), under
# kernel/ and, if the tree has it, the stand-in's selftests/vmbus/: paths
# under $MODTREE, one a line.
built_modules() {
	local orders=("$MODTREE/modules.order") order
	# The stand-in builds its drivers from folders of their own.
	if [[ -d $MODTREE/selftests/vmbus ]]; then
		mapfile -t -O 1 orders < <(find "$MODTREE/selftests/vmbus" \
			-name modules.order | sort)
	fi
	for order in "${orders[@]}"; do
		if [[ -r $order ]]; then
			sed 's/\.o$/.ko/' "$order"
		fi
	done
}

# check_kernels: dies unless every word of $KERNELS is a test kernel.
check_kernels() {
	local k
	[[ -n ${KERNELS// /} ]] || die "KERNELS is empty: name one or more of $ALL_KERNELS"
	for k in $KERNELS; do
		[[ " $ALL_KERNELS " == *" $k "* ]] ||
			die "KERNELS=$KERNELS: unknown kernel '$k' (one of $ALL_KERNELS)"
	done
}

# Seconds since the epoch with a fraction, for the timings the scripts print.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# For demo.sh and bench.sh: dependencies, kernels, every build and an
# initramfs for each kernel of $KERNELS (default 6.1).  A failed build is a
# warning here (check.sh is the judge): the VM still boots with whatever did
# build.
setup_vm() {
	KERNELS=${KERNELS:-6.1}
	check_kernels
	"$REPO/scripts/deps.sh"
	"$REPO/scripts/fetch.sh" >/dev/null
	load_env
	local jobs k
	jobs=$(nproc 2>/dev/null || echo 2)
	make -C "$REPO" -j"$jobs" tools || warn "the tools did not all build"
	make -C "$REPO/selftests" -j"$jobs" -k KSFT_DIR="$KSFT_DIR" ||
		warn "some test programs did not build"
	for k in $KERNELS; do
		"$REPO/scripts/modules.sh" --kernel "$k" ||
			warn "the modules did not build for $k: the VM runs without them"
		"$REPO/scripts/initramfs.sh" --kernel "$k"
	done
}
