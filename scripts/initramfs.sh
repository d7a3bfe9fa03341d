#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packs $BUILD/initramfs-$KSERIES.cpio.gz, the whole root file system of the
# test VM for one test kernel (6.1 or 6.12, see use_kernel in common.sh):
#
#   /init                       scripts/vm-init.sh
#   /bin/busybox + applets      busybox-static; /bin/sh is busybox ash
#   /bin/bash                   with its libraries, for tests that want bash
#   /lib/modules/$KVERSION/     vsock, vmw_vsock_virtio_transport_common,
#                               vsock_loopback (+ KVP_VM_MODULES) from the
#                               Debian image (decompressed: 6.12 ships .ko.xz),
#                               and everything they and our modules depend on,
#                               except hv_vmbus and hv_utils (see below);
#                               extra/ holds the .ko files built for this
#                               kernel (scripts/modules.sh): kernel/*.ko
#                               (kvp.ko, kvp_vsock.ko, ...) and, when built,
#                               the VMBus stand-in's selftests/vmbus/*.ko;
#                               depmod'ed, so `modprobe kvp_vsock` works
#   /usr/sbin/kvpd /usr/bin/kvpctl /usr/sbin/kvp-hostd   our tools (their
#                               libraries, libcrypto among them, by ldd)
#   /usr/share/kvp/catalog.d/   the shipped product catalog,
#                               userspace/catalog/*.conf
#   /usr/sbin/hv_kvp_daemon     the stock daemon, with /usr/libexec/hypervkvpd
#   /selftests/vm/              selftests/vm/ (run.sh, test-*.sh, demo.sh, ...)
#   /selftests/out/vm/          selftests/out/vm/ (static test binaries)
#   /etc/kvp-kversion           $KVERSION
#   /etc/kvp-kseries            $KSERIES (6.1 or 6.12)
#   /selftests/kvp_vmbus.sha256 when check.sh recorded it: the sha256 of the
#                               release build's kvp_vmbus.ko for this kernel,
#                               in sha256sum's format ("HEX  kvp_vmbus.ko"),
#                               so that a test can prove the loaded file is it
#
# hv_vmbus.ko and hv_utils.ko never go in: they cannot load without Hyper-V,
# and with hv_vmbus.ko absent depmod resolves kvp_vmbus.ko's hv_vmbus symbols
# to the stand-in, so `modprobe kvp_vmbus` loads the stand-in under it.
#
# Dynamically linked programs get their libraries and ld.so copied from this
# machine (ldd).  Project binaries that are not built yet are skipped with a
# warning, so the rig works before the tools do.
#
# Usage: scripts/initramfs.sh [--kernel 6.1|6.12]     (default 6.1)
#
# Environment: KVP_VM_MODULES="mod ..."   more Debian modules to include
#              KVP_VM_BINS="/path ..."    more programs of this machine to
#                                         include (same path, with libs)
#              KVP_VM_NO_MODULES=1        leave out our .ko files, and
#              KVP_VM_NO_TOOLS=1          our tools (check.sh sets these
#                                         when a build failed, so that the
#                                         VM does not test stale files)
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

use_kernel_option "$@"
shift "$KERNEL_SHIFT"
(($# == 0)) || die "usage: $0 [--kernel 6.1|6.12]"

t0=$(now)
ROOT=$BUILD/initramfs-$KSERIES
OUT=$BUILD/initramfs-$KSERIES.cpio.gz
KMODROOT=${KMODDIR%/lib/modules/*} # the extracted image, for modprobe -d

rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,dev,proc,sys,tmp,run,var,root}
mkdir -p "$ROOT"/selftests/{vm,out/vm}

# --- busybox --------------------------------------------------------------
BUSYBOX=$(command -v busybox) || die "busybox not found: run scripts/deps.sh"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked: install busybox-static"
fi
cp "$BUSYBOX" "$ROOT/bin/busybox"
while read -r applet; do
	case $applet in
	*/*) ;;
	*) continue ;; # linuxrc
	esac
	# Absolute links are right inside the VM's root, and fork nothing.
	[[ -e $ROOT/$applet ]] || ln -s /bin/busybox "$ROOT/$applet"
done < <("$BUSYBOX" --list-full)

# --- programs with their shared libraries ---------------------------------
# copy_prog SRC DEST: copies SRC to $ROOT/DEST and, if dynamic, every library
# ldd names (at the same path, symlinks resolved), ld.so included.
copy_prog() {
	local src=$1 dest=$2 lib
	mkdir -p "$ROOT/$(dirname "$dest")"
	cp -L "$src" "$ROOT/$dest"
	chmod 0755 "$ROOT/$dest"
	# ldd fails on static programs: nothing more to copy then.
	ldd "$src" >/dev/null 2>&1 || return 0
	while read -r lib; do
		[[ -e $ROOT/$lib ]] && continue
		mkdir -p "$ROOT/$(dirname "$lib")"
		cp -L "$lib" "$ROOT/$lib"
	done < <(ldd "$src" | awk '
		$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }')
}

copy_prog "$(command -v bash)" /bin/bash

declare -A TOOLS=(
	[userspace/kvpd/kvpd]=/usr/sbin/kvpd
	[userspace/kvpctl/kvpctl]=/usr/bin/kvpctl
	[userspace/kvp-hostd/kvp-hostd]=/usr/sbin/kvp-hostd
)
for t in "${!TOOLS[@]}"; do
	if [[ ${KVP_VM_NO_TOOLS:-0} == 1 ]]; then
		warn "$t left out (KVP_VM_NO_TOOLS=1)"
	elif [[ -x $REPO/$t ]]; then
		copy_prog "$REPO/$t" "${TOOLS[$t]}"
	else
		warn "$t is not built: not in the initramfs"
	fi
done

# Where lib/catalog.c reads it (KVP_CATALOG_DIR), as make install puts it.
mkdir -p "$ROOT/usr/share/kvp/catalog.d"
cp "$REPO"/userspace/catalog/*.conf "$ROOT/usr/share/kvp/catalog.d/"

if [[ -x /usr/sbin/hv_kvp_daemon ]]; then
	copy_prog /usr/sbin/hv_kvp_daemon /usr/sbin/hv_kvp_daemon
	# The scripts it runs for DNS/DHCP/IP items.
	if [[ -d /usr/libexec/hypervkvpd ]]; then
		mkdir -p "$ROOT/usr/libexec"
		cp -a /usr/libexec/hypervkvpd "$ROOT/usr/libexec/"
	fi
else
	warn "/usr/sbin/hv_kvp_daemon missing (package hyperv-daemons): not in the initramfs"
fi

for b in ${KVP_VM_BINS:-}; do
	[[ -x $b ]] || die "KVP_VM_BINS: $b is not an executable"
	copy_prog "$b" "$b"
done

# --- kernel modules -------------------------------------------------------
MODDEST=$ROOT/lib/modules/$KVERSION
mkdir -p "$MODDEST/extra"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[[ -f $KMODDIR/$f ]] && cp "$KMODDIR/$f" "$MODDEST/"
done

# Our modules: those the last build for this kernel built.
ours=()
if [[ ${KVP_VM_NO_MODULES:-0} == 1 ]]; then
	warn "our .ko files left out (KVP_VM_NO_MODULES=1)"
else
	while IFS= read -r ko; do
		if [[ ! -f $ko ]]; then
			warn "$ko is in Kbuild's modules.order but not built: left out"
			continue
		fi
		cp "$ko" "$MODDEST/extra/"
		ours+=("$(basename "$ko" .ko)")
	done < <(built_modules)
	((${#ours[@]} > 0)) ||
		warn "no modules built for $KSERIES (scripts/modules.sh --kernel $KSERIES): the initramfs has none of ours"
fi
# The release build's kvp_vmbus.ko sha256 as check.sh recorded it, unless
# kvp_vmbus.ko was built again after that (by hand): then it is no record of
# this file.
SHA=$BUILD/kvp_vmbus-release-$KSERIES.sha256
if [[ -r $SHA && $SHA -nt $MODTREE/kernel/kvp_vmbus.ko ]]; then
	cp "$SHA" "$ROOT/selftests/kvp_vmbus.sha256"
elif [[ -r $SHA ]]; then
	warn "kvp_vmbus.ko was rebuilt after check.sh recorded its release sha256: /selftests/kvp_vmbus.sha256 left out"
fi

# Debian modules to include: the vsock loopback chain, extras, and whatever
# our modules depend on that is not one of ours, except what the stand-in
# replaces.
LEFT_OUT=" hv_vmbus hv_utils "
want=(vsock vmw_vsock_virtio_transport_common vsock_loopback)
# shellcheck disable=SC2206 # word splitting wanted
want+=(${KVP_VM_MODULES:-})
for m in "${ours[@]}"; do
	deps=$(modinfo -F depends "$MODDEST/extra/$m.ko" 2>/dev/null || true)
	for d in ${deps//,/ }; do
		[[ " ${ours[*]} " == *" $d "* ]] || want+=("$d")
	done
done
for m in "${want[@]}"; do
	[[ $LEFT_OUT == *" $m "* ]] && continue
	paths=$(modprobe -d "$KMODROOT" -S "$KVERSION" --show-depends "$m" 2>&1) ||
		die "module $m: $paths"
	while read -r cmd path _; do
		[[ $cmd == insmod ]] || continue # builtin
		rel=${path#"$KMODDIR"/}
		name=${rel##*/}
		[[ $LEFT_OUT == *" ${name%%.ko*} "* ]] && continue
		mkdir -p "$MODDEST/$(dirname "$rel")"
		# busybox modprobe loads plain .ko files only.
		case $rel in
		*.ko.xz) xz -dc "$path" >"$MODDEST/${rel%.xz}" ;;
		*) cp "$path" "$MODDEST/$rel" ;;
		esac
	done <<<"$paths"
done
depmod -b "$ROOT" "$KVERSION"

# --- tests ------------------------------------------------------------------
if [[ -d $REPO/selftests/vm ]]; then
	# Scripts and data; C sources, headers and objects stay out.
	(cd "$REPO/selftests/vm" && find . -type f ! -name '*.[chod]' -print0 |
		cpio --quiet -0 -pdm "$ROOT/selftests/vm")
fi
if compgen -G "$REPO/selftests/out/vm/*" >/dev/null; then
	for b in "$REPO"/selftests/out/vm/*; do
		[[ -f $b && -x $b ]] && copy_prog "$b" "/selftests/out/vm/${b##*/}"
	done
fi
[[ -x $ROOT/selftests/vm/run.sh ]] || warn "selftests/vm/run.sh missing: kvp.mode=check will fail"

# --- init and device nodes ------------------------------------------------
install -m 0755 "$REPO/scripts/vm-init.sh" "$ROOT/init"
echo "$KVERSION" >"$ROOT/etc/kvp-kversion"
echo "$KSERIES" >"$ROOT/etc/kvp-kseries"
# The kernel opens /dev/console for init before anything is mounted; without
# the node init starts with no stdio.  vm-init.sh reopens it after mounting
# devtmpfs anyway, so a non-root packer only loses early messages.
if ((EUID == 0)); then
	mknod -m 600 "$ROOT/dev/console" c 5 1
	mknod -m 666 "$ROOT/dev/null" c 1 3
else
	warn "not root: no /dev/console node in the initramfs"
fi

# --- pack -----------------------------------------------------------------
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
	cpio --quiet -o -0 -H newc -R 0:0 | gzip -1 >"$OUT.tmp")
mv "$OUT.tmp" "$OUT"
msg "$OUT: $(du -h "$OUT" | cut -f1), modules: ${ours[*]:-none} (+ ${#want[@]} Debian), $(elapsed "$t0") s"
