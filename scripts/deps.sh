#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs what building and testing kvp needs, with apt-get, when it is
# missing.  Fast and silent when everything is there already (one dpkg-query).
# Needs root (or sudo) only when something has to be installed.
#
# Usage: scripts/deps.sh [EXTRA-PACKAGE...]
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

PACKAGES=(
	# compilers and the things Kbuild's prebuilt tools link against
	gcc gcc-12 make libc6-dev pkg-config libelf1 libssl3 perl
	# userspace tools: libnl (generic netlink), libkmod, libcrypto
	# (activation signatures), SQLite (kvp-hostd's activation history)
	libnl-3-dev libnl-genl-3-dev libkmod-dev libssl-dev libsqlite3-dev
	# checks; the fuzzers (selftests/fuzz) need clang and its libFuzzer
	# and sanitizer runtimes
	sparse valgrind clang libclang-rt-14-dev
	# kernel packages and the test VM
	dpkg apt xz-utils gzip kmod cpio busybox-static qemu-system-x86
	# Debian 6.12 headers carry a vmlinux: Kbuild runs pahole on modules
	pahole
	# the stock hv_kvp_daemon, run against kvp.ko's compatibility device
	hyperv-daemons
	# selftests/clients_test.sh runs the real cloud-init and WALinuxAgent
	# (unpacked by scripts/fetch-clients.sh, not installed) with Debian's
	# python3; cloud-init's reporting imports requests (url_helper) and
	# yaml (util), the agent's rdma code distro; its IPoIB set-up runs ip
	python3 python3-requests python3-yaml python3-distro iproute2
)
PACKAGES+=("$@")

# One dpkg-query for all: names it does not know at all are missing too.
declare -A have=()
while read -r name status; do
	[[ $status == installed ]] && have[${name%%:*}]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
	[[ -n ${have[$p]:-} ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

msg "installing: ${missing[*]}"
SUDO=()
if ((EUID != 0)); then
	command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
	SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" apt-get -q -y -o DPkg::Lock::Timeout=300 --no-install-recommends)

# A fresh machine has no package lists; an old one may have stale ones that
# point at files the mirror no longer has.  Try first, update and retry after.
if ! "${APT[@]}" install "${missing[@]}" >"$BUILD/deps.log" 2>&1; then
	msg "updating the package lists"
	"${APT[@]}" update >>"$BUILD/deps.log" 2>&1 || {
		cat "$BUILD/deps.log" >&2
		die "apt-get update failed"
	}
	"${APT[@]}" install "${missing[@]}" >>"$BUILD/deps.log" 2>&1 || {
		tail -n 30 "$BUILD/deps.log" >&2
		die "apt-get install failed (full log: $BUILD/deps.log)"
	}
fi
msg "installed ${#missing[@]} package(s)"
