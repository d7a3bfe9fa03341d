/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels kvp is built for (Debian's 6.1 and
 * 6.12), in one place: the rest of the code is written once, for all of
 * them.  This is the only file that tests LINUX_VERSION_CODE (style.sh lets
 * checkpatch allow it here and nowhere else).
 */
#ifndef _KVP_COMPAT_H
#define _KVP_COMPAT_H

#include <linux/version.h>

/*
 * hv_driver.remove returns void since 6.3, int before:
 *	static KVP_HV_REMOVE_RET f(struct hv_device *dev)
 *	{ ...; return KVP_HV_REMOVED; }
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define KVP_HV_REMOVE_RET void
#define KVP_HV_REMOVED
#else
#define KVP_HV_REMOVE_RET int
#define KVP_HV_REMOVED 0
#endif

#endif /* _KVP_COMPAT_H */
