#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Usage: features.sh SRCTREE
#
# Prints the -D flags for what the kernel headers under SRCTREE changed that
# kvp's modules and the VMBus stand-in of the tests must follow (kernel/Kbuild
# and selftests/vmbus/ use it; compat.h turns them into one spelling).  The headers are asked, not LINUX_VERSION_CODE:
# stable kernels backport such changes (Debian's 6.12.117 has the driver
# core's driver_override of a later kernel), and checkpatch rejects version
# tests anyway.
inc=$1/include/linux

has() {
	grep -qE "$2" "$inc/$1" 2>/dev/null && printf -- '-D%s ' "$3"
}

# The driver core keeps driver_override (and its sysfs file) for the bus;
# struct hv_device has none.
has device.h 'device_match_driver_override' KVP_HAVE_CORE_DRIVER_OVERRIDE
# bus_type.uevent takes a const device (6.3 on), .match a const driver
# (6.11 on).
has device/bus.h 'uevent\)\(const struct device' KVP_HAVE_CONST_UEVENT
has device/bus.h 'match\)\(struct device \*dev, const struct device_driver' \
	KVP_HAVE_CONST_MATCH
# hv_driver.remove returns void (6.3 on), int before.
has hyperv.h 'void \(\*remove\)\(struct hv_device' KVP_HAVE_VOID_REMOVE
exit 0
