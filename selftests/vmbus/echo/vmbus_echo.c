// SPDX-License-Identifier: GPL-2.0
/*
 * vmbus_echo.ko: a channel driver for the stand-in's own tests
 * (selftests/vm/vmbus_standin_test.c).  It binds devices of a class of its
 * own and sends every packet back with its request id, reading each one
 * twice: first into a buffer too small (vmbus_recvpacket() must say
 * -ENOBUFS and the length, and keep the packet), then whole.  A reply the
 * send ring has no room for is dropped.  The callback must run in softirq.
 */
#include <linux/hyperv.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "compat.h"

/* A send ring of one page of data: a host that does not read fills it. */
#define ECHO_SEND_RING	VMBUS_RING_SIZE(HV_HYP_PAGE_SIZE)
#define ECHO_RECV_RING	VMBUS_RING_SIZE(4 * HV_HYP_PAGE_SIZE)
#define ECHO_MAX_PACKET	16384

struct echo {
	struct vmbus_channel *channel;
	u8 packet[ECHO_MAX_PACKET];
};

/* Reads the next packet: its length, 0 if none, -errno if the stand-in
 * broke its contract.
 */
static int echo_recv(struct echo *echo, u64 *id)
{
	u32 len, small_len;
	u8 small[1];
	int err;

	err = vmbus_recvpacket(echo->channel, small, sizeof(small),
			       &small_len, id);
	if (!err)
		return small_len ? -EPROTO : 0;	/* fits in 1 byte: never */
	if (err != -ENOBUFS || small_len > sizeof(echo->packet))
		return -EPROTO;
	err = vmbus_recvpacket(echo->channel, echo->packet,
			       sizeof(echo->packet), &len, id);
	if (err || len != small_len)
		return -EPROTO;
	return len;
}

static void echo_on_channel(void *context)
{
	struct echo *echo = context;
	u64 id;
	int len;

	WARN_ON_ONCE(!in_softirq());
	while ((len = echo_recv(echo, &id)) > 0)
		vmbus_sendpacket(echo->channel, echo->packet, len, id,
				 VM_PKT_DATA_INBAND, 0);
	WARN_ON_ONCE(len < 0);
}

static int echo_probe(struct hv_device *dev,
		      const struct hv_vmbus_device_id *id)
{
	struct echo *echo = devm_kzalloc(&dev->device, sizeof(*echo),
					 GFP_KERNEL);

	if (!echo)
		return -ENOMEM;
	echo->channel = dev->channel;
	hv_set_drvdata(dev, echo);
	return vmbus_open(dev->channel, ECHO_SEND_RING, ECHO_RECV_RING, NULL,
			  0, echo_on_channel, echo);
}

static KVP_HV_REMOVE_RET echo_remove(struct hv_device *dev)
{
	vmbus_close(dev->channel);
	return KVP_HV_REMOVED;
}

/* 3c4a6d8e-0f42-4a4b-9d8f-6a1e5b7c2d90, VMBUSHOST_ECHO_CLASS */
static const struct hv_vmbus_device_id echo_ids[] = {
	{ .guid = GUID_INIT(0x3c4a6d8e, 0x0f42, 0x4a4b, 0x9d, 0x8f, 0x6a, 0x1e,
			    0x5b, 0x7c, 0x2d, 0x90) },
	{ },
};
MODULE_DEVICE_TABLE(vmbus, echo_ids);

static struct hv_driver echo_driver = {
	.name = "vmbus_echo",
	.id_table = echo_ids,
	.probe = echo_probe,
	.remove = echo_remove,
};

static int __init echo_init(void)
{
	return vmbus_driver_register(&echo_driver);
}

static void __exit echo_exit(void)
{
	vmbus_driver_unregister(&echo_driver);
}

module_init(echo_init);
module_exit(echo_exit);
MODULE_DESCRIPTION("Echoing VMBus channel driver for the stand-in's tests");
MODULE_LICENSE("GPL");
