#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches what the tests need from Debian's packages, into $BUILD (default
# <repo>/build), and caches it there: a second run only asks apt-cache which
# kernel ABI is current and finds everything done.
#
#   $BUILD/linux-6.1/   the bookworm 6.1 kernel, extracted with dpkg -x:
#                       boot/vmlinuz-$KVERSION, lib/modules/$KVERSION
#                       (depmod'ed), and the headers + kbuild, fixed up so
#                       that usr/src/linux-headers-$KVERSION works as KERNELDIR
#                       from here, without installing anything
#   $BUILD/ksft/        kselftest.h, kselftest_harness.h, checkpatch.pl and its
#                       data files, from linux-source-6.1
#   $BUILD/env.sh       exports KERNELDIR KVERSION KIMAGE KMODDIR KSFT_DIR
#
# Prints the same variables on stdout as shell assignments, so that
# `eval "$(scripts/fetch.sh)"` works too.  Messages go to stderr.
# env.sh has no quotes, so a Makefile can include it as well.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

KROOT=$BUILD/linux-6.1
DEBS=$BUILD/debs
KSFT=$BUILD/ksft
mkdir -p "$DEBS"

# Two runs in the same tree (two engineers, or make -j) must not extract
# over each other.
exec 9>"$BUILD/.fetch.lock"
flock 9

APT_GET=(apt-get -q -o APT::Sandbox::User=root -o DPkg::Lock::Timeout=300)

# The current bookworm 6.1 ABI: "6.1.0-NN" and the package version.
# linux-headers-amd64 may be listed in several versions (bookworm and
# bookworm-security): take the candidate.
current_abi() {
	local ver
	ver=$(apt-cache policy linux-headers-amd64 2>/dev/null |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
	[[ -n $ver ]] || return 1
	abi=$(apt-cache show "linux-headers-amd64=$ver" 2>/dev/null |
		sed -n 's/^Depends:.*linux-headers-\(6\.1\.0-[0-9]*\)-amd64.*/\1/p' | head -n 1)
	[[ -n $abi ]] || return 1
	pkgver=$ver
}

abi='' pkgver=''
if ! current_abi; then
	msg "no linux-headers-amd64 in the package lists: running apt-get update"
	"${APT_GET[@]}" update >&2 || warn "apt-get update failed"
	if ! current_abi; then
		# Offline, but fetched before: keep using what we have.
		if [[ -r $KROOT/.kvp-fetched ]]; then
			read -r abi pkgver <"$KROOT/.kvp-fetched"
			warn "apt-cache knows no 6.1 kernel; using the cached $abi"
		else
			die "cannot find linux-headers-amd64 with apt-cache"
		fi
	fi
fi
KVERSION=$abi-amd64
KERNELDIR=$KROOT/usr/src/linux-headers-$KVERSION
KIMAGE=$KROOT/boot/vmlinuz-$KVERSION
KMODDIR=$KROOT/lib/modules/$KVERSION

# Downloads PACKAGE=VERSION into $DEBS unless there already; prints the path.
download() {
	local pkg=$1 ver=$2 f
	f=$(compgen -G "$DEBS/${pkg}_${ver//:/%3a}_*.deb" | head -n 1 || true)
	if [[ -z $f ]]; then
		msg "downloading $pkg $ver"
		(cd "$DEBS" && "${APT_GET[@]}" download "$pkg=$ver" >&2) ||
			die "apt-get download $pkg=$ver failed"
		f=$(compgen -G "$DEBS/${pkg}_${ver//:/%3a}_*.deb" | head -n 1 || true)
		[[ -n $f ]] || die "apt-get download $pkg=$ver left no .deb in $DEBS"
	fi
	printf '%s\n' "$f"
}

# Makes every absolute symlink under $KROOT point inside $KROOT instead
# (lib/modules/V/build -> /usr/src/..., and the like), as a relative link.
relink_inside() {
	local link target
	while IFS= read -r -d '' link; do
		target=$(readlink "$link")
		ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$KROOT$target")" "$link"
	done < <(find "$KROOT" -type l -lname '/*' -print0)
}

# The per-arch headers' Makefile is one line, "include /usr/src/linux-headers-
# V-common/Makefile": point it at the extracted common headers.  Redone on
# every run, so that a moved $BUILD still works.
fix_makefile() {
	local mk=$KERNELDIR/Makefile
	if grep -q '^include /usr/src/' "$mk"; then
		sed -i "s#^include /usr/src/#include $KROOT/usr/src/#" "$mk"
	elif ! grep -qF "include $KROOT/usr/src/" "$mk"; then
		sed -i "s#^include .*/usr/src/linux-headers-#include $KROOT/usr/src/linux-headers-#" "$mk"
	fi
	grep -qF "include $KROOT/usr/src/linux-headers-$abi-common/Makefile" "$mk" ||
		die "could not fix up $mk"
}

# Builds a throwaway module against KERNELDIR: proves the headers work.
verify_headers() {
	local d=$BUILD/.hello-module
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/hello.c" <<-'EOF'
		// SPDX-License-Identifier: GPL-2.0
		#include <linux/module.h>
		static int __init hello_init(void) { return 0; }
		static void __exit hello_exit(void) { }
		module_init(hello_init);
		module_exit(hello_exit);
		MODULE_LICENSE("GPL");
	EOF
	echo 'obj-m := hello.o' >"$d/Kbuild"
	if ! make -C "$KERNELDIR" M="$d" modules >"$d/build.log" 2>&1; then
		cat "$d/build.log" >&2
		die "a trivial module does not build against $KERNELDIR"
	fi
	local vermagic
	vermagic=$(modinfo -F vermagic "$d/hello.ko")
	[[ $vermagic == "$KVERSION "* ]] ||
		die "test module has vermagic '$vermagic', expected $KVERSION"
	rm -rf "$d"
}

fetch_kernel() {
	local stamp=$KROOT/.kvp-fetched
	if [[ -r $stamp && "$(cat "$stamp")" == "$abi $pkgver" && -d $KERNELDIR && -f $KIMAGE ]]; then
		fix_makefile
		return
	fi
	local t0 debs=() p
	t0=$(now)
	msg "fetching Debian kernel $KVERSION ($pkgver)"
	# Drop packages of other versions left from an older ABI.
	find "$DEBS" -name 'linux-*.deb' ! -name "*_${pkgver//:/%3a}_*" -delete
	for p in "linux-image-$KVERSION" "linux-headers-$KVERSION" \
		"linux-headers-$abi-common" linux-kbuild-6.1; do
		debs+=("$(download "$p" "$pkgver")")
	done
	rm -rf "$KROOT"
	mkdir -p "$KROOT"
	for p in "${debs[@]}"; do
		dpkg -x "$p" "$KROOT"
	done
	relink_inside
	fix_makefile
	[[ -f $KIMAGE ]] || die "no kernel image at $KIMAGE"
	# The image ships plain .ko files and no modules.dep.
	depmod -b "$KROOT" "$KVERSION"
	# The headers were built with gcc-12 (linux-compiler-gcc-12-x86 only
	# depends on gcc-12, which deps.sh installs).
	command -v gcc-12 >/dev/null || die "gcc-12 is missing: run scripts/deps.sh"
	verify_headers
	echo "$abi $pkgver" >"$stamp"
	msg "kernel $KVERSION ready in $(elapsed "$t0") s"
}

KSFT_FILES=(
	tools/testing/selftests/kselftest.h
	tools/testing/selftests/kselftest_harness.h
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
)

fetch_ksft() {
	local stamp=$KSFT/.kvp-fetched f ok=1
	if [[ -r $stamp ]]; then
		for f in "${KSFT_FILES[@]}"; do
			[[ -f $KSFT/${f##*/} ]] || ok=0
		done
		((ok)) && return
	fi
	local t0 ver deb tmp
	t0=$(now)
	# The source matching the headers if the mirror has it, else the newest.
	ver=$pkgver
	if ! apt-cache show "linux-source-6.1=$ver" >/dev/null 2>&1; then
		ver=$(apt-cache policy linux-source-6.1 | awk '$1 == "Candidate:" { print $2 }')
		[[ -n $ver && $ver != "(none)" ]] || die "no linux-source-6.1 in the package lists"
	fi
	msg "extracting kselftest headers and checkpatch from linux-source-6.1 $ver"
	deb=$(download linux-source-6.1 "$ver")
	tmp=$BUILD/.ksft.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# tar stops reading once it has every member (--occurrence), which kills
	# the commands upstream in the pipe with SIGPIPE: judge by the files.
	(
		set +o pipefail
		dpkg-deb --fsys-tarfile "$deb" 2>/dev/null |
			tar -xO -f - ./usr/src/linux-source-6.1.tar.xz |
			tar -xJ -f - -C "$tmp" --occurrence=1 --strip-components=1 \
				"${KSFT_FILES[@]/#/linux-source-6.1/}" 2>/dev/null
	) || true
	mkdir -p "$KSFT"
	for f in "${KSFT_FILES[@]}"; do
		[[ -f $tmp/$f ]] || die "linux-source-6.1 $ver has no $f"
		cp "$tmp/$f" "$KSFT/"
	done
	chmod +x "$KSFT/checkpatch.pl"
	rm -rf "$tmp"
	# 139 MB that nothing else needs: the extracted files are the cache.
	rm -f "$deb"
	echo "$ver" >"$stamp"
	msg "kselftest headers and checkpatch ready in $(elapsed "$t0") s"
}

fetch_kernel
fetch_ksft

# Unquoted on purpose: env.sh is then valid shell and valid make syntax
# (`-include $(BUILD)/env.sh` in a Makefile).  Kbuild cannot work in a path
# with blanks anyway.
case $BUILD in
*[!A-Za-z0-9_./+-]*) die "BUILD=$BUILD: use a path of letters, digits and _./+- only" ;;
esac
# Written through a temporary file so that a reader never sees half of it.
cat >"$BUILD/env.sh.tmp" <<EOF
# Written by scripts/fetch.sh: source it (sh) or include it (make).
export KERNELDIR=$KERNELDIR
export KVERSION=$KVERSION
export KIMAGE=$KIMAGE
export KMODDIR=$KMODDIR
export KSFT_DIR=$KSFT
EOF
mv "$BUILD/env.sh.tmp" "$BUILD/env.sh"

cat <<EOF
KERNELDIR='$KERNELDIR'
KVERSION='$KVERSION'
KIMAGE='$KIMAGE'
KMODDIR='$KMODDIR'
KSFT_DIR='$KSFT'
EOF
