#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kvp-timeout: 60
#
# kvpctl license and kvpctl vendor, natively, on a state directory and
# catalog of the test's own (no kernel: activate is left to the VM test,
# selftests/vm/test-30-license.sh): key install rules, status and events as
# text and JSON, exit codes, the refusal for non-root users, a corrupt state
# file, and the vendor tool's keys and licences.
#
# Needs userspace/kvpctl/kvpctl built (make tools) and the shipped catalog
# (userspace/catalog).  The root-only commands run when we are root, and
# are checked to refuse as nobody when setpriv can drop to it.
# Exit 0 pass, 1 fail, 4 skip (not root: nothing here can install a key).
#
# Environment: KVPCTL (default ../userspace/kvpctl/kvpctl from this folder),
# TEST_TMPDIR (the runner's; else a new one).

set -u

here=$(cd "$(dirname "$0")" && pwd)
KVPCTL=${KVPCTL:-$here/../userspace/kvpctl/kvpctl}
CATALOG=$here/../userspace/catalog
T=${TEST_TMPDIR:-$(mktemp -d)}

. "$here/vm/checks.sh"

k() { "$KVPCTL" --state-dir "$T/state" --catalog "$CATALOG" "$@"; }
field() { # field NAME: from license status -j
	k -j license status 2>/dev/null |
		sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"
}

[ "$(id -u)" = 0 ] || { echo "skip: not root"; exit 4; }

# Nothing installed.
check "state without a key" Unlicensed "$(field state)"
check "reason without a key" no-key "$(field reason)"
k license uninstall-key 2>/dev/null
check "uninstall with no key" 5 $?
k license activate --vm-id 00000000-0000-0000-0000-000000000001 2>/dev/null
check "activate with no key" 21 $?
k license activate --vm-id nonsense 2>/dev/null
check "activate with a bad VM id" 2 $?

# Key format.
k license install-key W3GNR-8DDXR-2TFRP-H8P33-DV9B 2>"$T/err"
check "short key" 20 $?
k license install-key W3GNR-8DDXR-2TFRP-H8P33-DV9BA 2>"$T/err"
check "key outside the alphabet" 20 $?
grep -q "not in the product-key alphabet" "$T/err"
check "says which character" 0 $?
check "nothing installed by a bad key" no-key "$(field reason)"

# Unprivileged: refused with the documented code and message.
if command -v setpriv >/dev/null 2>&1; then
	chmod 0755 "$T"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$KVPCTL" --state-dir "$T/state" --catalog "$CATALOG" \
		license install-key W3GNR-8DDXR-2TFRP-H8P33-DV9BG 2>"$T/err"
	check "install-key as nobody" 6 $?
	check "must be root" "kvpctl: license install-key: must be root" \
		"$(cat "$T/err")"
fi

# An AVMA key: lower case, no dashes.
out=$(k license install-key w3gnr8ddxr2tfrph8p33dv9bg)
check "install-key" 0 $?
check "install-key says" "installed *****-*****-*****-*****-DV9BG: AVMA key of windows-server 2022 datacenter; kvpd activates it" "$out"
check "product" windows-server "$(field product)"
check "version" 2022 "$(field version)"
check "edition" datacenter "$(field edition)"
check "partial key" "*****-*****-*****-*****-DV9BG" "$(field key)"
check "state" Unlicensed "$(field state)"
k license status | grep -q '^state: *Unlicensed$'
check "status text" 0 $?

# A retail key is kept by its last group; the file never holds the rest.
k license install-key FGHJK-MPQRT-VWXY2-34678-9BCDF >/dev/null
check "retail key" 0 $?
k -j license status | grep -q '"avma":false'
check "retail key is no AVMA key" 0 $?
grep -q FGHJK "$T/state/license"
check "retail key not stored whole" 1 $?
k license activate --vm-id 00000000-0000-0000-0000-000000000001 2>/dev/null
check "activate a retail key" 21 $?

# A corrupt state file: reported, taken as no key, left as it is.
printf 'key=W3GNR-8DDXR-2TFRP-H8P33-DV9BG\ncolour=blue\n' >"$T/state/license"
k license status >/dev/null 2>"$T/err"
check "status of a corrupt file" 1 $?
grep -q "corrupt (line 2: unknown field 'colour')" "$T/err"
check "corruption explained" 0 $?
check "corrupt file untouched" blue "$(sed -n 's/^colour=//p' "$T/state/license")"
k license install-key W3GNR-8DDXR-2TFRP-H8P33-DV9BG >/dev/null 2>"$T/err"
check "install over a corrupt file" 0 $?
grep -q "replaced" "$T/err"
check "install says it replaced it" 0 $?

# Events: none yet.
check "no events" "[]" "$(k -j license events)"

# The catalog.
check "catalog products" 1 "$(k -j license catalog | grep -o '"id":"windows-server"' | wc -l)"
check "catalog keys" 15 "$(k license catalog | grep -c '^  key ')"

k license uninstall-key >/dev/null
check "uninstall-key" 0 $?
check "state after uninstall" no-key "$(field reason)"

# Vendor: keys and licences.
out=$(k vendor keygen "$T/vendor.key")
check "keygen" 0 $?
pub=$(echo "$out" | sed -n 's/^public key: //p')
check "public key length" 44 "${#pub}"
check "key file mode" 600 "$(stat -c %a "$T/vendor.key")"
k vendor keygen "$T/vendor.key" 2>/dev/null
check "keygen never overwrites" 1 $?
hostpub=$(k -j vendor keygen "$T/host.key" | sed -n 's/.*"public_key":"\([^"]*\)".*/\1/p')
k vendor sign-license --key "$T/vendor.key" --product acme-os --version 3 \
	--edition datacenter --host-key "$hostpub" --not-after 2030-01-01 \
	-o "$T/lic"
check "sign-license" 0 $?
check "licence is 232 bytes" 232 "$(base64 -d "$T/lic" | wc -c)"
check "licence magic" KVPL "$(base64 -d "$T/lic" | head -c 4)"
k vendor sign-license --key "$T/vendor.key" --product acme-os --version 3 \
	--edition datacenter --host-key "$pub" | base64 -d | tail -c +137 |
	head -c 32 | base64 >"$T/signer"
check "licence names its vendor key" "$pub" "$(cat "$T/signer")"
k vendor sign-license --key "$T/vendor.key" --product acme-os --version 3 \
	--edition datacenter --host-key AAAA 2>/dev/null
check "bad host key" 2 $?
k vendor sign-license --key "$T/vendor.key" --product acme-os --version 3 \
	--edition datacenter --host-key "$hostpub" --not-after tomorrow 2>/dev/null
check "bad date" 2 $?
k vendor sign-license --key "$T/nokey" --product acme-os --version 3 \
	--edition datacenter --host-key "$hostpub" 2>/dev/null
check "missing vendor key" 1 $?
k vendor sign-license --product acme-os 2>/dev/null
check "incomplete command line" 2 $?

checks_done
