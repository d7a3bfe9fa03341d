/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The control device of the VMBus stand-in (selftests only):
 * /dev/vmbus-standin.  Each open file plays the host of one channel.  The
 * authoritative description is Documentation/vmbus-standin.rst; this header
 * names its constants for the module and the test host
 * (selftests/vm/vmbushost.c).
 *
 * ioctl()s:
 *
 *   VMBUS_STANDIN_OFFER   struct vmbus_standin_offer: offers a device of that
 *                         class and instance; a driver may bind at once.
 *                         EBUSY: this file has a device offered already.
 *   VMBUS_STANDIN_RESCIND rescinds the device offered (the driver's remove
 *                         runs before it returns).  ENODEV: none offered.
 *   VMBUS_STANDIN_REOFFER offers again the GUIDs of the last OFFER.
 *                         EINVAL: no OFFER before; EBUSY: one is offered.
 *
 * Closing the file rescinds its device.  write() takes one vsock PACKET
 * frame (kernel/uapi/kvp_vsock.h) per call: one VMBus packet for the guest;
 * read() returns the guest's packets as PACKET frames, a byte stream.
 */
#ifndef _UAPI_VMBUS_STANDIN_H
#define _UAPI_VMBUS_STANDIN_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VMBUS_STANDIN_DEVICE	"/dev/vmbus-standin"

/*
 * GUIDs in the byte order of the kernel's guid_t, the one VMBus uses:
 * the first three groups of the text form little endian, the last two
 * as written ("a9a0f4e7-5a45-..." is e7 f4 a0 a9 45 5a ...).
 */
struct vmbus_standin_offer {
	__u8 class_guid[16];
	__u8 instance_guid[16];
};

#define VMBUS_STANDIN_IOC_TYPE	'v'
#define VMBUS_STANDIN_OFFER	_IOW(VMBUS_STANDIN_IOC_TYPE, 1, \
				     struct vmbus_standin_offer)
#define VMBUS_STANDIN_RESCIND	_IO(VMBUS_STANDIN_IOC_TYPE, 2)
#define VMBUS_STANDIN_REOFFER	_IO(VMBUS_STANDIN_IOC_TYPE, 3)

#endif /* _UAPI_VMBUS_STANDIN_H */
