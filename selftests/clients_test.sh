#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kvp-timeout: 180
#
# The pool files with the real clients, no mocks: Debian's cloud-init and
# waagent (WALinuxAgent) packages, fetched and unpacked by
# scripts/fetch-clients.sh (never installed), run with Debian's python3 and
# PYTHONPATH at their dist-packages; the Python side is clients_test.py.
#
#   1. cloud-init's HyperVKvpReportingHandler (reporting type "hyperv",
#      kvp_file_path in a temporary pool directory) publishes events, one
#      long enough to be split into chunks; `kvpctl -j list guest` must show
#      every record exactly as cloud-init encodes it, and agree record for
#      record with the file decoded with struct "512s2048s" and with
#      cloud-init's own reader.  Truncate-once-per-boot empties a pool 1
#      older than the boot.  kvpctl set/delete in pool 1, before, after and
#      while cloud-init's thread appends (flock only), loses nothing.
#   2. `kvpctl -f set external` NdDriverVersion and IPoIB_Data, then
#      WALinuxAgent's RDMAHandler.get_rdma_version() and
#      RDMADeviceHandler.read_ipoib_data() read them back.  They read the
#      hard-coded /var/lib/hyperv/.kvp_pool_0, so this part runs in a
#      private mount namespace with a tmpfs there (the machine's own pools
#      are never touched); kvpctl writes it at its default path too.  In a
#      private network namespace as well, RDMADeviceHandler.start() then
#      provisions from IPoIB_Data for real: it finds the ib* interfaces by
#      MAC and assigns the addresses with `ip`, which is checked.
#
# Needs: userspace/kvpctl/kvpctl built (make tools), /usr/bin/python3 with
# python3-requests, python3-yaml and python3-distro (scripts/deps.sh),
# unshare (root, or unprivileged user namespaces).  The first run downloads
# the two packages (about 0.8 MB); later runs use $BUILD/clients.
# Exit 0 pass, 1 fail, 4 skip: only when the packages cannot be had (no
# candidate in the apt lists, or the mirror out of reach) and none is cached.
#
# Environment: KVPCTL (default ../userspace/kvpctl/kvpctl from this folder),
# BUILD (default <repo>/build), TEST_TMPDIR (the runner's; else a new one).

set -u

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/.." && pwd)
PY=/usr/bin/python3
KSFT_SKIP=4
KVPCTL=${KVPCTL:-$REPO/userspace/kvpctl/kvpctl}
case $KVPCTL in
/*) ;;
*) KVPCTL=$(pwd)/$KVPCTL ;;
esac

# NdDriverVersion: a version string.  IPoIB_Data: NUMPAIRS:<n>|<MAC>:<IPv4>|...
# with the MAC in 12 hex digits, no colons: rdma.py parses each pair with
# r"([^:]+):(\d+\.\d+\.\d+\.\d+)" and compares the MAC with the interface's,
# upper case and colons dropped.
ND_VERSION=142.0
MAC1=00155D010203 IP1=10.0.0.5
MAC2=00155D0102AB IP2=10.0.1.6
IPOIB="NUMPAIRS:2|$MAC1:$IP1|$MAC2:$IP2"

fail() {
	echo "FAIL - $*"
	exit 1
}

# Debian's python3 (not one first in PATH), no user site, no PYTHON* from
# the caller but PYTHONPATH at the unpacked packages.
py() {
	env -u PYTHONHOME -u PYTHONSTARTUP -u PYTHONNOUSERSITE -u PYTHONSAFEPATH \
		PYTHONPATH="$CLIENTS_PYTHONPATH" "$PY" -s "$@"
}

# IPoIB hardware address (20 bytes) of an interface whose Ethernet MAC is
# $1: the last 8 bytes are the port GUID, MAC[0:3] ff:fd MAC[3:6] (the
# EUI-64 form rdma.py expects: it keeps bytes 0-2 and 5-7 of those 8).
ipoib_addr() {
	echo "$1" | tr 'A-F' 'a-f' | sed 's/^\(..\)\(..\)\(..\)\(..\)\(..\)\(..\)$/80:00:02:08:fe:80:00:00:00:00:00:00:\1:\2:\3:ff:fd:\4:\5:\6/'
}

# ---- in the private namespaces (run through unshare, below) -----------------
if [ "${1:-}" = --in-ns ]; then
	net=$2
	# The real path, on a tmpfs only this namespace sees.  Without a
	# /var/lib/hyperv to mount on (no hyperv-daemons), hide /var/lib
	# instead: nothing here needs the rest of it.
	if [ -d /var/lib/hyperv ]; then
		mount -t tmpfs -o mode=0755 kvp-test /var/lib/hyperv || fail "mount tmpfs on /var/lib/hyperv"
	else
		mount -t tmpfs -o mode=0755 kvp-test /var/lib || fail "mount tmpfs on /var/lib"
		mkdir /var/lib/hyperv
	fi
	[ -z "$(ls -A /var/lib/hyperv)" ] || fail "/var/lib/hyperv is not a fresh tmpfs"
	echo "ok - private tmpfs on /var/lib/hyperv (mount namespace)"

	# Other items around and a stale version first: WALinuxAgent takes
	# the first record with the key, so an update must replace in place.
	k() { "$KVPCTL" "$@" || fail "kvpctl $*"; }
	k -f set external PhysicalHostName HOST-0042
	k -f set external NdDriverVersion 141.0.9999.1234
	k -f set external ignition.config '{"ignition":{"version":"3.4.0"}}'
	k -f set external IPoIB_Data "NUMPAIRS:1|00155D999999:192.168.0.9"
	k -f set external NdDriverVersion "$ND_VERSION"
	k -f set external IPoIB_Data "$IPOIB"
	k -f delete external PhysicalHostName
	if [ "$(k get external NdDriverVersion)" != "$ND_VERSION" ] ||
		[ "$(k get external IPoIB_Data)" != "$IPOIB" ]; then
		fail "kvpctl get external does not return what kvpctl set"
	fi
	echo "ok - kvpctl -f set external NdDriverVersion $ND_VERSION, IPoIB_Data $IPOIB (default --pool-dir)"

	provision=
	if [ "$net" = 1 ]; then
		# Two interfaces named ib*, whose address files (bind-mounted
		# over sysfs, remounted for this network namespace) read as
		# IPoIB addresses with the MACs of IPoIB_Data.
		mount -t sysfs sysfs /sys || fail "mount sysfs"
		made=
		for t in dummy bridge; do
			if ip link add ib0 type $t 2>/dev/null &&
				ip link add ib1 type $t 2>/dev/null; then
				made=$t
				break
			fi
			ip link del ib0 2>/dev/null
		done
		if [ -n "$made" ]; then
			ipoib_addr $MAC1 >"$TEST_TMPDIR/ib0.address"
			ipoib_addr $MAC2 >"$TEST_TMPDIR/ib1.address"
			for i in 0 1; do
				mount --bind "$TEST_TMPDIR/ib$i.address" /sys/class/net/ib$i/address ||
					fail "bind-mount an IPoIB address over /sys/class/net/ib$i/address"
			done
			echo "ok - ib0, ib1 ($made) in a private network namespace, addresses $(cat /sys/class/net/ib0/address), $(cat /sys/class/net/ib1/address)"
			provision=provision
		else
			echo "note - no dummy or bridge interface can be made here: RDMADeviceHandler.start() not run"
		fi
	fi

	py "$here/clients_test.py" waagent "$ND_VERSION" "$IPOIB" $provision || exit 1

	if [ -n "$provision" ]; then
		for pair in "ib0 $IP1" "ib1 $IP2"; do
			dev=${pair% *} want=${pair#* }
			a=$(ip -o -4 addr show dev "$dev" | awk '{ print $4 }')
			up=$(ip -o link show dev "$dev" | grep -c '[<,]UP[,>]')
			if [ "$a" != "$want/16" ] || [ "$up" != 1 ]; then
				fail "$dev: WALinuxAgent should have set it up with $want/16: address '$a', up: $up"
			fi
			echo "ok - $dev is up with $a: WALinuxAgent matched its MAC in IPoIB_Data"
		done
	fi
	exit 0
fi

# ---- main --------------------------------------------------------------------
[ -x "$KVPCTL" ] || fail "$KVPCTL is not built: make tools (or set KVPCTL)"
[ -x "$PY" ] || fail "$PY is missing: run scripts/deps.sh"

t0=$(date +%s)
out=$("$REPO/scripts/fetch-clients.sh")
rc=$?
if [ $rc = 2 ]; then
	echo "SKIP: Debian's cloud-init and waagent packages cannot be fetched (scripts/fetch-clients.sh, above)"
	exit $KSFT_SKIP
fi
[ $rc = 0 ] || fail "scripts/fetch-clients.sh failed (exit $rc)"
eval "$out"
echo "ok - cloud-init $CLOUD_INIT_VERSION and waagent $WAAGENT_VERSION unpacked in $CLIENTS_ROOT ($(($(date +%s) - t0)) s)"

err=$(py -c 'import cloudinit.reporting.handlers, azurelinuxagent.common.rdma' 2>&1) ||
	fail "$PY cannot import the clients' modules (scripts/deps.sh installs python3-requests, python3-yaml, python3-distro): $err"

if [ -z "${TEST_TMPDIR:-}" ]; then
	TEST_TMPDIR=$(mktemp -d /tmp/clients_test.XXXXXX) || fail "mktemp"
	trap 'rm -rf "$TEST_TMPDIR"' EXIT
fi
export TEST_TMPDIR KVPCTL CLIENTS_PYTHONPATH

echo "== cloud-init $CLOUD_INIT_VERSION: HyperVKvpReportingHandler -> pool 1, kvpctl --pool-dir $TEST_TMPDIR/pools"
mkdir -p "$TEST_TMPDIR/pools"
py "$here/clients_test.py" cloud-init "$KVPCTL" "$TEST_TMPDIR/pools" || exit 1

echo "== waagent $WAAGENT_VERSION: kvpctl -f set external -> WALinuxAgent's rdma.py reads /var/lib/hyperv/.kvp_pool_0"
# Root: mount and network namespaces; otherwise the same inside a user
# namespace (root there).  Without a network namespace, only the reads.
if [ "$(id -u)" = 0 ]; then
	userns=
else
	userns=-r
fi
if unshare $userns -m -n true 2>/dev/null; then
	unshare $userns -m -n -- "$0" --in-ns 1 || exit 1
elif unshare $userns -m true 2>/dev/null; then
	unshare $userns -m -- "$0" --in-ns 0 || exit 1
else
	fail "unshare $userns -m does not work here: cannot give WALinuxAgent a private /var/lib/hyperv"
fi

echo "clients_test: all passed in $(($(date +%s) - t0)) s"
exit 0
