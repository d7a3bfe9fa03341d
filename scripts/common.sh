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

# Seconds since the epoch with a fraction, for the timings the scripts print.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# For demo.sh and bench.sh: dependencies, kernel, every build and the
# initramfs.  A failed build is a warning here (check.sh is the judge): the VM
# still boots with whatever did build.
setup_vm() {
	"$REPO/scripts/deps.sh"
	"$REPO/scripts/fetch.sh" >/dev/null
	load_env
	local jobs
	jobs=$(nproc 2>/dev/null || echo 2)
	make -C "$REPO" -j"$jobs" modules KERNELDIR="$KERNELDIR" ||
		warn "the modules did not build: the VM runs without them"
	make -C "$REPO" -j"$jobs" tools || warn "the tools did not all build"
	make -C "$REPO/selftests" -j"$jobs" -k KSFT_DIR="$KSFT_DIR" ||
		warn "some test programs did not build"
	"$REPO/scripts/initramfs.sh"
}
