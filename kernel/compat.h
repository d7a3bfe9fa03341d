/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels kvp is built for (Debian's 6.1 and
 * 6.12), in one place: the rest of the code is written once, for all of
 * them.  The headers are asked (features.sh, through Kbuild), not the
 * kernel version: stable kernels backport such changes.
 */
#ifndef _KVP_COMPAT_H
#define _KVP_COMPAT_H

#include <linux/device.h>
#include <linux/hyperv.h>

/*
 * hv_driver.remove returns void since 6.3, int before:
 *	static KVP_HV_REMOVE_RET f(struct hv_device *dev)
 *	{ ...; return KVP_HV_REMOVED; }
 */
#ifdef KVP_HAVE_VOID_REMOVE
#define KVP_HV_REMOVE_RET void
#define KVP_HV_REMOVED
#else
#define KVP_HV_REMOVE_RET int
#define KVP_HV_REMOVED 0
#endif

/*
 * Whether the device's driver_override names drv (the driver core keeps it
 * in newer kernels, struct hv_device in older ones).  From probe only: the
 * driver core holds the device lock there, which guards the older field.
 */
static inline bool kvp_hv_overridden_for(struct hv_device *dev,
					 const struct hv_driver *drv)
{
#ifdef KVP_HAVE_CORE_DRIVER_OVERRIDE
	/* device_match_driver_override(), without the guard() sparse cannot
	 * follow.
	 */
	const char *name;
	bool match;

	spin_lock(&dev->device.driver_override.lock);
	name = dev->device.driver_override.name;
	match = name && !strcmp(name, drv->name);
	spin_unlock(&dev->device.driver_override.lock);
	return match;
#else
	device_lock_assert(&dev->device);
	return dev->driver_override &&
	       !strcmp(dev->driver_override, drv->name);
#endif
}

#endif /* _KVP_COMPAT_H */
