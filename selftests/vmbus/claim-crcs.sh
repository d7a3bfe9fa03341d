#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Usage: claim-crcs.sh KERNEL_MODULE_SYMVERS DIR
#
# Makes the stand-in export hv_vmbus's functions under the CRCs the kernel's
# Module.symvers lists for them, so that a module built against the real
# headers (kvp_vmbus.ko, hvutils_standin.ko) loads on the stand-in with its
# module versions checked.  genksyms cannot reproduce those CRCs here: they
# hash the types as seen from hv_vmbus's own sources, which include headers
# the stand-in does not (measured: all six differ).
#
# Kbuild (6.1 and 6.12) writes genksyms' result into each object's .cmd
# file as "#SYMVER name 0xcrc" lines, and modpost takes the CRCs from there
# into the .mod.c (the module's CRC table) and Module.symvers.  This
# rewrites those lines with the kernel's CRC of every symbol the kernel
# lists as hv_vmbus's, and when any changed removes DIR/Module.symvers so
# that the next `make modules` reruns modpost and relinks the .ko.
set -eu

symvers=$1
dir=$2
changed=0
for cmd in "$dir"/.*.o.cmd; do
	grep -q '^#SYMVER ' "$cmd" 2>/dev/null || continue
	awk 'NR == FNR {
		if ($3 ~ /(^|\/)hv_vmbus$/)
			crc[$2] = $1
		next
	}
	$1 == "#SYMVER" && ($2 in crc) { $3 = crc[$2] }
	{ print }' "$symvers" "$cmd" >"$cmd.tmp"
	if cmp -s "$cmd" "$cmd.tmp"; then
		rm -f "$cmd.tmp"
	else
		mv "$cmd.tmp" "$cmd"
		changed=1
	fi
done
if [ "$changed" = 1 ]; then
	rm -f "$dir/Module.symvers"
fi
