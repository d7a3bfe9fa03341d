#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-VM demo (kvp_vm.mode=demo, `make demo`).  A minimal stand-in: shows the
# kernel and the loaded modules.  To be replaced by the real demo (a host and
# a guest exchanging items).

echo "kernel: $(uname -a)"
modprobe vsock_loopback
echo "modules:"
lsmod
