/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host end of a VMBus channel in the VM tests, over the VMBus stand-in
 * (selftests/vmbus, Documentation/vmbus-standin.rst): offer a device,
 * rescind it, offer it again.  The fd vmbushost_offer() returns carries
 * the channel's packets as vsock PACKET frames, so fakehost_send(),
 * fakehost_recv(), fakehost_transact() and fakehost_kvp_call() work on it
 * as on a vsock connection (no HELLO or WELCOME: the channel is there once
 * offered).
 */
#ifndef _KVP_VMBUSHOST_H
#define _KVP_VMBUSHOST_H

/* The KVP (Data Exchange) device: its class, and the instance Hyper-V
 * gives it.
 */
#define VMBUSHOST_KVP_CLASS	"a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"
#define VMBUSHOST_KVP_INSTANCE	"242ff919-07db-4180-9c2e-b86cb68c8c55"

/* Where a device appears, by its instance GUID. */
#define VMBUSHOST_SYSFS_DEVICES	"/sys/bus/vmbus/devices/"

/*
 * Opens a host end and offers a device of that class and instance (GUIDs
 * in their text form).  Returns the fd, or -errno: -ENOENT without
 * vmbus_standin.ko, -EINVAL for a malformed GUID, -EEXIST when another
 * host offers that instance.  Closing the fd rescinds the device.
 */
int vmbushost_offer(const char *class_guid, const char *instance_guid);

/* Rescinds the device offered on fd (its driver's remove has run when this
 * returns).  0 or -errno (-ENODEV: none offered).
 */
int vmbushost_rescind(int fd);

/* Offers the device of fd's last offer again.  0 or -errno (-EBUSY: it is
 * still offered).
 */
int vmbushost_reoffer(int fd);

#endif /* _KVP_VMBUSHOST_H */
