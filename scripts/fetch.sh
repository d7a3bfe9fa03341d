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
#   $BUILD/linux-6.12/  the same for bookworm-security's 6.12 kernel: image,
#                       depmod'ed modules, headers + kbuild fixed up so that
#                       usr/src/linux-headers-$KVERSION_612 is KERNELDIR_612.
#                       If it cannot be had, that is a warning here (the 6.1
#                       kernel and the rest of the tests still work), the
#                       *_612 variables are empty and $BUILD/fetch-6.12.log
#                       says why
#   $BUILD/ksft/        kselftest.h, kselftest_harness.h, checkpatch.pl and its
#                       data files, from linux-source-6.1
#   $BUILD/env.sh       exports KERNELDIR KVERSION KIMAGE KMODDIR (6.1),
#                       the same four with _612 appended (6.12), KSFT_DIR;
#                       use_kernel in scripts/common.sh picks one kernel's
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

# A mirror that stops answering fails the download instead of hanging it.
APT_GET=(apt-get -q -o APT::Sandbox::User=root -o DPkg::Lock::Timeout=300
	-o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=2)
updated=0
apt_update() {
	((updated)) && return 0
	updated=1
	"${APT_GET[@]}" update >&2 || warn "apt-get update failed"
}

# apt-cache takes about 0.8 s a call here (no pkgcache.bin), and a run asks
# it four times.  Its answers only change with the package lists (or the
# sources and pinning): they are kept in $APT_MEMO under a key made of those
# files' names, sizes and times, and asked again only when that key changes.
APT_MEMO=$BUILD/.apt-memo
apt_key() {
	# stat fails on the patterns that match nothing: that is fine.
	{
		stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* /etc/apt/sources.list \
			/etc/apt/sources.list.d/* /etc/apt/preferences \
			/etc/apt/preferences.d/* 2>/dev/null || true
	} | md5sum | cut -c1-32
}
APT_KEY=$(apt_key)
# memo_get NAME: prints what memo_put NAME stored under the current key.
memo_get() {
	[[ -r $APT_MEMO ]] || return 1
	awk -v key="$APT_KEY" -v name="$1" '
		NR == 1 && $0 != key { exit 1 }
		NR > 1 && $1 == name { $1 = ""; sub(/^ /, ""); print; found = 1; exit }
		END { exit !found }' "$APT_MEMO"
}
# memo_put NAME VALUE...
memo_put() {
	local key
	key=$(apt_key)
	{
		echo "$key"
		[[ -r $APT_MEMO && "$(head -n 1 "$APT_MEMO")" == "$key" ]] &&
			tail -n +2 "$APT_MEMO" | awk -v name="$1" '$1 != name'
		echo "$*"
	} >"$APT_MEMO.tmp"
	mv "$APT_MEMO.tmp" "$APT_MEMO"
	APT_KEY=$key
}

# The candidate version of package $1, or nothing.
candidate() {
	apt-cache policy "$1" 2>/dev/null |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}

# The current bookworm 6.1 ABI: "6.1.0-NN" and the package version.
# linux-headers-amd64 may be listed in several versions (bookworm and
# bookworm-security): take the candidate.
current_abi() {
	local ver
	read -r abi pkgver < <(memo_get 6.1) && [[ -n $pkgver ]] && return
	ver=$(candidate linux-headers-amd64)
	[[ -n $ver ]] || return 1
	abi=$(apt-cache show "linux-headers-amd64=$ver" 2>/dev/null |
		sed -n 's/^Depends:.*linux-headers-\(6\.1\.0-[0-9]*\)-amd64.*/\1/p' | head -n 1)
	[[ -n $abi ]] || return 1
	pkgver=$ver
	memo_put 6.1 "$abi" "$pkgver"
}

abi='' pkgver=''
if ! current_abi; then
	msg "no linux-headers-amd64 in the package lists: running apt-get update"
	apt_update
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

# relink_inside ROOT: makes every absolute symlink under ROOT point inside ROOT
# instead (lib/modules/V/build -> /usr/src/..., and the like), as a relative
# link.
relink_inside() {
	local root=$1 link target
	while IFS= read -r -d '' link; do
		target=$(readlink "$link")
		ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$root$target")" "$link"
	done < <(find "$root" -type l -lname '/*' -print0)
}

# fix_makefile ROOT KERNELDIR ABI: the per-arch headers' Makefile is one line,
# "include /usr/src/linux-headers-ABI-common/Makefile": point it at the
# extracted common headers under ROOT.  Redone on every run, so that a moved
# $BUILD still works.
fix_makefile() {
	local root=$1 mk=$2/Makefile abi=$3
	if grep -q '^include /usr/src/' "$mk"; then
		sed -i "s#^include /usr/src/#include $root/usr/src/#" "$mk"
	elif ! grep -qF "include $root/usr/src/" "$mk"; then
		sed -i "s#^include .*/usr/src/linux-headers-#include $root/usr/src/linux-headers-#" "$mk"
	fi
	grep -qF "include $root/usr/src/linux-headers-$abi-common/Makefile" "$mk" ||
		die "could not fix up $mk"
}

# verify_headers KERNELDIR KVERSION: builds a throwaway module against
# KERNELDIR, which proves that the headers work.
verify_headers() {
	local KERNELDIR=$1 KVERSION=$2
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
		fix_makefile "$KROOT" "$KERNELDIR" "$abi"
		return
	fi
	local t0 debs=() p
	t0=$(now)
	msg "fetching Debian kernel $KVERSION ($pkgver)"
	# Drop packages of other versions left from an older ABI (but not
	# the 6.12 ones: fetch_kernel_612 looks after those).
	find "$DEBS" -name 'linux-*.deb' ! -name 'linux-*-6.12.*' \
		! -name "*_${pkgver//:/%3a}_*" -delete
	for p in "linux-image-$KVERSION" "linux-headers-$KVERSION" \
		"linux-headers-$abi-common" linux-kbuild-6.1; do
		debs+=("$(download "$p" "$pkgver")")
	done
	rm -rf "$KROOT"
	mkdir -p "$KROOT"
	for p in "${debs[@]}"; do
		dpkg -x "$p" "$KROOT"
	done
	relink_inside "$KROOT"
	fix_makefile "$KROOT" "$KERNELDIR" "$abi"
	[[ -f $KIMAGE ]] || die "no kernel image at $KIMAGE"
	# The image ships plain .ko files and no modules.dep.
	depmod -b "$KROOT" "$KVERSION"
	# The headers were built with gcc-12 (linux-compiler-gcc-12-x86 only
	# depends on gcc-12, which deps.sh installs).
	command -v gcc-12 >/dev/null || die "gcc-12 is missing: run scripts/deps.sh"
	verify_headers "$KERNELDIR" "$KVERSION"
	echo "$abi $pkgver" >"$stamp"
	msg "kernel $KVERSION ready in $(elapsed "$t0") s"
}

# --- Debian's 6.12 kernel (bookworm-security), the second test kernel ---
#
# The image, the headers, their -common package and linux-kbuild-ABI, only
# extracted: the headers package depends on the image, so installing it would
# install the image on this machine.  Everything here is a warning, not an
# error: a machine that cannot have 6.12 still gets the 6.1 kernel and the
# rest of the tests (check.sh then fails the 6.12 steps).

KROOT_612=$BUILD/linux-6.12
LOG_612=$BUILD/fetch-6.12.log
abi612='' pkgver612='' kbuild612=''
KERNELDIR_612='' KVERSION_612='' KIMAGE_612='' KMODDIR_612=''

# The current 6.12 ABI ("6.12.NNN+debNN"), its package version and the name of
# its linux-kbuild package, from the linux-headers-6.12-amd64 meta-package;
# without that, from the newest linux-headers-6.12.*-amd64 apt-cache knows.
current_abi_612() {
	local ver name
	read -r abi612 pkgver612 kbuild612 < <(memo_get 6.12) && [[ -n $kbuild612 ]] && return
	abi612=''
	ver=$(candidate linux-headers-6.12-amd64)
	if [[ -n $ver ]]; then
		abi612=$(apt-cache show "linux-headers-6.12-amd64=$ver" 2>/dev/null |
			sed -n 's/^Depends:.*linux-headers-\(6\.12\.[^ ,]*\)-amd64 .*/\1/p' | head -n 1)
	fi
	if [[ -z $abi612 ]]; then
		name=$(apt-cache pkgnames linux-headers-6.12. 2>/dev/null |
			grep -E '^linux-headers-6\.12\.[0-9]+[^-]*-amd64$' | sort -V | tail -n 1 || true)
		abi612=${name#linux-headers-}
		abi612=${abi612%-amd64}
	fi
	[[ -n $abi612 ]] || return 1
	pkgver612=$(candidate "linux-headers-$abi612-amd64")
	[[ -n $pkgver612 ]] || return 1
	kbuild612=$(apt-cache show "linux-headers-$abi612-amd64=$pkgver612" 2>/dev/null |
		sed -n 's/^Depends:.*\(linux-kbuild-[^ ,]*\).*/\1/p' | head -n 1)
	[[ -n $kbuild612 ]] || kbuild612=linux-kbuild-$abi612
	memo_put 6.12 "$abi612" "$pkgver612" "$kbuild612"
}

# Runs in a subshell: a `die` in here only fails the 6.12 part.
fetch_kernel_612() {
	local stamp=$KROOT_612/.kvp-fetched
	if [[ -r $stamp && "$(cat "$stamp")" == "$abi612 $pkgver612" &&
		-f $KERNELDIR_612/Makefile && -f $KIMAGE_612 ]]; then
		fix_makefile "$KROOT_612" "$KERNELDIR_612" "$abi612"
		return
	fi
	local t0 debs=() p
	t0=$(now)
	msg "fetching Debian kernel $KVERSION_612 ($pkgver612)"
	# Debian's 6.12 headers ship a vmlinux (for module BTF), so Kbuild runs
	# pahole on every module: linux-kbuild-6.12 depends on it.
	command -v pahole >/dev/null || "$REPO/scripts/deps.sh" pahole ||
		die "pahole (needed by Kbuild for 6.12) could not be installed"
	command -v pahole >/dev/null || die "pahole is missing"
	command -v gcc-12 >/dev/null || die "gcc-12 is missing: run scripts/deps.sh"
	find "$DEBS" -name 'linux-*-6.12.*.deb' ! -name "*_${pkgver612//:/%3a}_*" -delete
	for p in "linux-image-$KVERSION_612" "linux-headers-$KVERSION_612" \
		"linux-headers-$abi612-common" "$kbuild612"; do
		debs+=("$(download "$p" "$pkgver612")")
	done
	rm -rf "$KROOT_612"
	mkdir -p "$KROOT_612"
	for p in "${debs[@]}"; do
		dpkg -x "$p" "$KROOT_612"
	done
	relink_inside "$KROOT_612"
	fix_makefile "$KROOT_612" "$KERNELDIR_612" "$abi612"
	[[ -f $KIMAGE_612 ]] || die "no kernel image at $KIMAGE_612"
	depmod -b "$KROOT_612" "$KVERSION_612"
	verify_headers "$KERNELDIR_612" "$KVERSION_612"
	echo "$abi612 $pkgver612" >"$stamp"
	msg "kernel $KVERSION_612 ready in $(elapsed "$t0") s"
}

# set_612 ABI: the 6.12 paths for that ABI.
set_612() {
	KVERSION_612=$1-amd64
	KERNELDIR_612=$KROOT_612/usr/src/linux-headers-$KVERSION_612
	KIMAGE_612=$KROOT_612/boot/vmlinuz-$KVERSION_612
	KMODDIR_612=$KROOT_612/lib/modules/$KVERSION_612
}

# Sets KERNELDIR_612, KVERSION_612, KIMAGE_612 and KMODDIR_612, or leaves
# them empty with a warning (the reason is in $LOG_612).
fetch_612() {
	local try
	for try in 1 2; do
		if ! current_abi_612; then
			if [[ $try == 1 ]] && ! ((updated)); then
				msg "no linux-headers-6.12-amd64 in the package lists: running apt-get update"
				apt_update
				continue
			fi
			if [[ -r $KROOT_612/.kvp-fetched ]]; then
				read -r abi612 pkgver612 <"$KROOT_612/.kvp-fetched"
				warn "apt-cache knows no 6.12 kernel; using the cached $abi612"
			else
				echo "fetch.sh: apt-cache knows no linux-headers-6.12-amd64 (nor any linux-headers-6.12.*-amd64): is bookworm-security in the apt sources?" >"$LOG_612"
				warn "no 6.12 kernel in the package lists (bookworm-security): nothing can build for or boot 6.12"
				return 0
			fi
		fi
		set_612 "$abi612"
		# A subshell, so that a `die` only ends this part; outside any
		# condition, so that set -e holds in it.  Its messages go to the
		# log too, for scripts/modules.sh to show.
		local rc
		set +e
		(
			set -e
			fetch_kernel_612
		) 2>"$LOG_612"
		rc=$?
		set -e
		cat "$LOG_612" >&2
		if ((rc == 0)); then
			rm -f "$LOG_612"
			return 0
		fi
		# Stale package lists name files the mirror no longer has.
		if [[ $try == 1 ]] && ! ((updated)); then
			msg "fetching the 6.12 headers failed: updating the package lists and trying again"
			apt_update
			continue
		fi
		break
	done
	# Offline with a newer ABI listed, say: an older fetch still builds.
	if [[ -r $KROOT_612/.kvp-fetched ]]; then
		read -r abi612 pkgver612 <"$KROOT_612/.kvp-fetched"
		set_612 "$abi612"
		if [[ -f $KERNELDIR_612/Makefile && -f $KIMAGE_612 ]] &&
			(fix_makefile "$KROOT_612" "$KERNELDIR_612" "$abi612"); then
			warn "could not fetch the current 6.12 kernel; using the cached $abi612"
			return 0
		fi
	fi
	warn "could not fetch Debian's 6.12 kernel ($LOG_612 says why): nothing can build for or boot 6.12"
	KERNELDIR_612='' KVERSION_612='' KIMAGE_612='' KMODDIR_612=''
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
fetch_612

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
export KERNELDIR_612=$KERNELDIR_612
export KVERSION_612=$KVERSION_612
export KIMAGE_612=$KIMAGE_612
export KMODDIR_612=$KMODDIR_612
EOF
mv "$BUILD/env.sh.tmp" "$BUILD/env.sh"

cat <<EOF
KERNELDIR='$KERNELDIR'
KVERSION='$KVERSION'
KIMAGE='$KIMAGE'
KMODDIR='$KMODDIR'
KSFT_DIR='$KSFT'
KERNELDIR_612='$KERNELDIR_612'
KVERSION_612='$KVERSION_612'
KIMAGE_612='$KIMAGE_612'
KMODDIR_612='$KMODDIR_612'
EOF
