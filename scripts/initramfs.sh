#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packs $BUILD/initramfs.cpio.gz, the whole root file system of the test VM:
#
#   /init                       scripts/vm-init.sh
#   /bin/busybox + applets      busybox-static; /bin/sh is busybox ash
#   /bin/bash                   with its libraries, for tests that want bash
#   /lib/modules/$KVERSION/     vsock, vmw_vsock_virtio_transport_common,
#                               vsock_loopback (+ KVP_VM_MODULES) from the
#                               Debian image, and everything they and our
#                               modules depend on; extra/ holds every .ko
#                               built under kernel/ (kvp.ko, kvp_vsock.ko,
#                               ...); depmod'ed, so `modprobe kvp_vsock` works
#   /usr/sbin/kvpd /usr/bin/kvpctl /usr/sbin/kvp-hostd   our tools
#   /usr/sbin/hv_kvp_daemon     the stock daemon, with /usr/libexec/hypervkvpd
#   /selftests/vm/              selftests/vm/ (run.sh, test-*.sh, demo.sh, ...)
#   /selftests/out/vm/          selftests/out/vm/ (static test binaries)
#
# Dynamically linked programs get their libraries and ld.so copied from this
# machine (ldd).  Project binaries that are not built yet are skipped with a
# warning, so the rig works before the tools do.
#
# Environment: KVP_VM_MODULES="mod ..."   more Debian modules to include
#              KVP_VM_BINS="/path ..."    more programs of this machine to
#                                         include (same path, with libs)
#              KVP_VM_NO_MODULES=1        leave out kernel/*.ko, and
#              KVP_VM_NO_TOOLS=1          our tools (check.sh sets these
#                                         when a build failed, so that the
#                                         VM does not test stale files)
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
load_env

t0=$(now)
ROOT=$BUILD/initramfs
OUT=$BUILD/initramfs.cpio.gz
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

# Our modules: every .ko built under kernel/.
ours=()
while IFS= read -r -d '' ko; do
	cp "$ko" "$MODDEST/extra/"
	ours+=("$(basename "$ko" .ko)")
done < <(if [[ ${KVP_VM_NO_MODULES:-0} != 1 ]]; then
	find "$REPO/kernel" -name '*.ko' -print0 | sort -z
fi)
if [[ ${KVP_VM_NO_MODULES:-0} == 1 ]]; then
	warn "kernel/*.ko left out (KVP_VM_NO_MODULES=1)"
elif ((${#ours[@]} == 0)); then
	warn "no kernel/*.ko built: the initramfs has none of our modules"
fi

# --- the VMBus stand-in of the tests (selftests/vmbus) ---------------------
# It takes hv_vmbus.ko's place: its .ko files (built by `make -C
# selftests/vmbus`) go to extra/ with ours, and hv_vmbus and hv_utils, whose
# symbols and device it provides, stay out of the tree (hv_vmbus does not
# load without Hyper-V), so that depmod resolves the hv_vmbus symbols of
# kvp_vmbus.ko and hvutils_standin.ko to vmbus_standin.ko.
standin_replaces=(hv_vmbus hv_utils)
if [[ ${KVP_VM_NO_MODULES:-0} != 1 ]]; then
	while IFS= read -r -d '' ko; do
		cp "$ko" "$MODDEST/extra/"
		ours+=("$(basename "$ko" .ko)")
	done < <(find "$REPO/selftests/vmbus" -name '*.ko' -print0 | sort -z)
fi
# --- end of the VMBus stand-in ---------------------------------------------

# Debian modules to include: the vsock loopback chain, extras, and whatever
# our modules depend on that is not one of ours (nor replaced by the
# stand-in).
want=(vsock vmw_vsock_virtio_transport_common vsock_loopback)
# shellcheck disable=SC2206 # word splitting wanted
want+=(${KVP_VM_MODULES:-})
for m in "${ours[@]}"; do
	deps=$(modinfo -F depends "$MODDEST/extra/$m.ko" 2>/dev/null || true)
	for d in ${deps//,/ }; do
		[[ " ${ours[*]} ${standin_replaces[*]} " == *" $d "* ]] ||
			want+=("$d")
	done
done
for m in "${want[@]}"; do
	paths=$(modprobe -d "$KMODROOT" -S "$KVERSION" --show-depends "$m" 2>&1) ||
		die "module $m: $paths"
	while read -r cmd path _; do
		[[ $cmd == insmod ]] || continue # builtin
		rel=${path#"$KMODDIR"/}
		mkdir -p "$MODDEST/$(dirname "$rel")"
		cp "$path" "$MODDEST/$rel"
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
