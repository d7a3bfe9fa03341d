#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches the real pool-file clients from Debian's packages, for
# selftests/clients_test.sh, and caches them: apt-get download + dpkg -x,
# never installed on the machine.
#
#   cloud-init  cloudinit/reporting/handlers.py HyperVKvpReportingHandler
#               (writes pool 1)
#   waagent     azurelinuxagent/common/rdma.py (WALinuxAgent; reads pool 0)
#
#   $BUILD/clients/debs/          the .deb files
#   $BUILD/clients/root/          both packages extracted with dpkg -x;
#                                 their Python code is in
#                                 usr/lib/python3/dist-packages
#   $BUILD/clients/.kvp-fetched   "cloud-init VERSION waagent VERSION"
#
# A second run asks apt-cache (one call) for the candidate versions and finds
# everything done; with no package lists, or a mirror out of reach, it keeps
# using what it fetched before (with a warning).
#
# Prints shell assignments on stdout (`eval "$(scripts/fetch-clients.sh)"`):
#   CLIENTS_ROOT  CLIENTS_PYTHONPATH  CLOUD_INIT_VERSION  WAAGENT_VERSION
# Messages go to stderr.  Exit status: 0 done, 2 the packages cannot be had
# (no candidate in the package lists, or the download failed) and nothing is
# cached, 1 any other error.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

CLIENTS=$BUILD/clients
DEBS=$CLIENTS/debs
ROOT=$CLIENTS/root
STAMP=$CLIENTS/.kvp-fetched
PYDIR=usr/lib/python3/dist-packages
PKGS=(cloud-init waagent)
# What the test uses from each package: the extraction is judged by these.
FILES=(
	"$PYDIR/cloudinit/reporting/handlers.py"
	"$PYDIR/azurelinuxagent/common/rdma.py"
)
mkdir -p "$DEBS"

# Two runs at once (make -j, two tests) must not extract over each other.
exec 9>"$CLIENTS/.lock"
flock 9

APT_GET=(apt-get -q -o DPkg::Lock::Timeout=300
	-o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=2)
# apt-get download as root warns that _apt cannot write here: download as root.
((EUID == 0)) && APT_GET+=(-o APT::Sandbox::User=root)

# Exit 2 (cannot be had) unless an earlier fetch is there to fall back on.
unavailable() {
	if cached; then
		warn "$*; using the cached $(cat "$STAMP")"
		report
		exit 0
	fi
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 2
}

cached() {
	local f
	[[ -r $STAMP ]] || return 1
	for f in "${FILES[@]}"; do
		[[ -f $ROOT/$f ]] || return 1
	done
}

report() {
	local ci wa
	read -r _ ci _ wa <"$STAMP"
	cat <<-EOF
		CLIENTS_ROOT='$ROOT'
		CLIENTS_PYTHONPATH='$ROOT/$PYDIR'
		CLOUD_INIT_VERSION='$ci'
		WAAGENT_VERSION='$wa'
	EOF
}

updated=0
apt_update() {
	((updated)) && return 1
	updated=1
	if ((EUID != 0)); then
		warn "not root: cannot run apt-get update"
		return 1
	fi
	msg "updating the package lists"
	"${APT_GET[@]}" update >&2 || {
		warn "apt-get update failed"
		return 1
	}
}

# Candidate versions of both packages, in one apt-cache call: "PKG VER" lines.
candidates() {
	apt-cache policy "${PKGS[@]}" 2>/dev/null | awk '
		/^[^ ]/ { sub(/:$/, ""); pkg = $0 }
		$1 == "Candidate:" && $2 != "(none)" { print pkg, $2 }'
}

declare -A ver=()
read_candidates() {
	local p v
	ver=()
	while read -r p v; do
		ver[$p]=$v
	done < <(candidates)
	for p in "${PKGS[@]}"; do
		[[ -n ${ver[$p]:-} ]] || return 1
	done
}

if ! read_candidates && ! { apt_update && read_candidates; }; then
	unavailable "apt-cache knows no candidate for ${PKGS[*]} (is Debian's main archive in the apt sources?)"
fi
want="cloud-init ${ver[cloud-init]} waagent ${ver[waagent]}"

if cached && [[ "$(cat "$STAMP")" == "$want" ]]; then
	report
	exit 0
fi

# The .deb of PKG=VER in $DEBS, downloaded unless there already.
deb_of() { compgen -G "$DEBS/${1}_${2//:/%3a}_*.deb" | head -n 1 || true; }
download() {
	local pkg=$1 v=$2
	[[ -n "$(deb_of "$pkg" "$v")" ]] && return 0
	msg "downloading $pkg $v"
	(cd "$DEBS" && "${APT_GET[@]}" download "$pkg=$v" >&2) && [[ -n "$(deb_of "$pkg" "$v")" ]]
}

t0=$(now)
for p in "${PKGS[@]}"; do
	# Stale package lists name files the mirror no longer has: update, retry.
	if ! download "$p" "${ver[$p]}" &&
		! { apt_update && read_candidates && download "$p" "${ver[$p]}"; }; then
		unavailable "apt-get download $p=${ver[$p]} failed"
	fi
done
want="cloud-init ${ver[cloud-init]} waagent ${ver[waagent]}"

# Extract next to the old tree and swap, so that a failure leaves the old one.
tmp=$CLIENTS/.root.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
for p in "${PKGS[@]}"; do
	dpkg -x "$(deb_of "$p" "${ver[$p]}")" "$tmp" || die "dpkg -x of $p failed"
done
for f in "${FILES[@]}"; do
	[[ -f $tmp/$f ]] || die "the packages have no $f"
done
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
echo "$want" >"$STAMP"
# Versions no longer wanted.
for p in "${PKGS[@]}"; do
	find "$DEBS" -name "${p}_*.deb" ! -name "${p}_${ver[$p]//:/%3a}_*" -delete
done
msg "$want ready in $ROOT in $(elapsed "$t0") s"
report
