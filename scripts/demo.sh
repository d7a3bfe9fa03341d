#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: builds everything, boots the test VM in demo mode and shows its
# console, where selftests/vm/demo.sh runs (log: $BUILD/vm-demo-6.1.log), on
# the 6.1 kernel, or on each of $KERNELS.  Exit status 1 if a demo failed.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

setup_vm
rc=0
for k in $KERNELS; do
	"$REPO/scripts/vm-run.sh" --kernel "$k" demo || rc=1
done
exit "$rc"
