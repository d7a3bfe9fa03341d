#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: builds everything, boots the test VM in demo mode and shows its
# console, where selftests/vm/demo.sh runs (log: $BUILD/vm-demo.log).
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

setup_vm
exec "$REPO/scripts/vm-run.sh" demo
