// SPDX-License-Identifier: GPL-2.0
/*
 * kvp_vmbus.ko: carries the KVP integration service's IC packets over its
 * Hyper-V VMBus channel, the KVP half of what hv_utils does.  It binds the
 * KVP IC device (class a9a0f4e7-5a45-4d96-b827-8a841e8c03e6) with the
 * stock ring and receive-buffer sizes, hands each host packet to kvp.ko and
 * sends the core's replies in band under the host's request id.  Everything
 * the packets mean is the core's.
 *
 * The channel callback runs in a tasklet (softirq): it reads the ring one
 * packet at a time and the core copies each one and handles it later in
 * process context.  When the core has no memory for a copy the packet stays
 * in the receive buffer, reading stops, and a work item hands it over again
 * a little later, so no packet is dropped: the host sends nothing more until
 * its requests are answered anyway.
 *
 * Device removal (the host rescinds the channel, an admin unbinds the
 * driver) takes the channel down in the order the core needs: no replies
 * after the service is disconnected, no ring reads after the channel is
 * closed.  A re-offered channel is a new device and probes afresh.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/hyperv.h>
#include <linux/module.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <asm/mshyperv.h>

#include "compat.h"
#include "transport.h"

/* hv_utils' sizes: 3 pages of ring each way, a 4-page receive buffer. */
#define KVP_VMBUS_RING_SIZE	VMBUS_RING_SIZE(3 * HV_HYP_PAGE_SIZE)
#define KVP_VMBUS_RECV_SIZE	(4 * HV_HYP_PAGE_SIZE)
#define KVP_VMBUS_NOMEM_RETRY_MS	10

struct kvp_vmbus {
	struct kvp_transport transport;
	struct vmbus_channel *channel;
	enum kvp_service_id service;

	spinlock_t lock;		/* the ring's one reader, and below */
	bool closing;			/* no more ring reads */
	bool held;			/* buf holds a packet the core lacked
					 * memory for
					 */
	u32 held_len;
	u64 held_id;
	struct delayed_work retry_work;	/* hands the held packet over again */
	atomic_t malformed;		/* packets to count as malformed */
	struct work_struct malformed_work; /* counts them, process context */
	u8 *buf;
};

static int kvp_vmbus_send(struct kvp_transport *transport,
			  enum kvp_service_id service, const u8 *pkt,
			  size_t len, u64 id)
{
	struct kvp_vmbus *kv = container_of(transport, struct kvp_vmbus,
					    transport);
	int err;

	err = vmbus_sendpacket(kv->channel, (void *)pkt, len, id,
			       VM_PKT_DATA_INBAND, 0);
	if (err)
		pr_warn_ratelimited("cannot send a reply to the host (%d)\n",
				    err);
	return err;
}

static const struct kvp_transport_ops kvp_vmbus_ops = {
	.send = kvp_vmbus_send,
};

/*
 * Reads the ring until it is empty, handing every packet to the core (lock
 * held, bottom halves off).  A packet the core could not copy is held and
 * retried first, so the host's order is kept.
 */
static void kvp_vmbus_drain(struct kvp_vmbus *kv)
{
	u32 len;
	u64 id;
	int err;

	while (!kv->closing) {
		if (!kv->held) {
			err = vmbus_recvpacket(kv->channel, kv->buf,
					       KVP_VMBUS_RECV_SIZE, &len, &id);
			if (err) {
				/* Larger than any IC packet: the ring is stuck. */
				pr_err_ratelimited("cannot read a host packet (%d, %u bytes)\n",
						   err, len);
				return;
			}
			if (!len)
				return;
			kv->held_len = len;
			kv->held_id = id;
		}
		err = kvp_transport_receive(&kv->transport, kv->service,
					    kv->buf, kv->held_len,
					    kv->held_id);
		kv->held = err == -ENOMEM;
		if (kv->held) {
			mod_delayed_work(system_wq, &kv->retry_work,
					 msecs_to_jiffies(KVP_VMBUS_NOMEM_RETRY_MS));
			return;
		}
		if (err) {
			pr_warn_ratelimited("host packet of %u bytes is no IC packet: dropped\n",
					    kv->held_len);
			atomic_inc(&kv->malformed);
			schedule_work(&kv->malformed_work);
		}
	}
}

/* The core counts in process context only. */
static void kvp_vmbus_count_malformed(struct work_struct *work)
{
	struct kvp_vmbus *kv = container_of(work, struct kvp_vmbus,
					    malformed_work);

	while (atomic_add_unless(&kv->malformed, -1, 0))
		kvp_transport_malformed(&kv->transport, kv->service);
}

/* The channel callback: a tasklet, bottom halves already off. */
static void kvp_vmbus_on_channel(void *context)
{
	struct kvp_vmbus *kv = context;

	spin_lock(&kv->lock);
	if (!kv->held)
		kvp_vmbus_drain(kv);
	spin_unlock(&kv->lock);
}

static void kvp_vmbus_retry(struct work_struct *work)
{
	struct kvp_vmbus *kv = container_of(to_delayed_work(work),
					    struct kvp_vmbus, retry_work);

	spin_lock_bh(&kv->lock);
	kvp_vmbus_drain(kv);
	spin_unlock_bh(&kv->lock);
}

static struct hv_driver kvp_vmbus_driver;

/*
 * Whether the device is ours to take.  Only devices of our table's classes:
 * driver_override can send any device here (with a null id).  hv_utils
 * binds the same class on distribution kernels: while it is registered,
 * kvp_vmbus takes the device only when it is claimed for it
 * (driver_override: `kvpctl vmbus claim`, the udev rule), so that which
 * driver serves KVP never depends on which module loaded first.
 */
static bool kvp_vmbus_ours(struct hv_device *dev,
			   const struct hv_vmbus_device_id *dev_id)
{
	if (!guid_equal(&dev->dev_type, &dev_id->guid))
		return false;
	if (kvp_hv_overridden_for(dev, &kvp_vmbus_driver))
		return true;
	if (driver_find("hv_utils", dev->device.bus)) {
		dev_info(&dev->device, "left to hv_utils: `kvpctl vmbus claim` hands it to kvp\n");
		return false;
	}
	return true;
}

static int kvp_vmbus_probe(struct hv_device *dev,
			   const struct hv_vmbus_device_id *dev_id)
{
	struct kvp_vmbus *kv;
	int err;

	/* As hv_utils: the host's KVP items are not for confidential VMs. */
	if (hv_is_isolation_supported()) {
		dev_info(&dev->device, "isolated VM: KVP is not used\n");
		return -ENODEV;
	}
	if (!kvp_vmbus_ours(dev, dev_id))
		return -ENODEV;
	kv = kzalloc(sizeof(*kv), GFP_KERNEL);
	if (!kv)
		return -ENOMEM;
	kv->buf = kmalloc(KVP_VMBUS_RECV_SIZE, GFP_KERNEL);
	if (!kv->buf) {
		err = -ENOMEM;
		goto err_free;
	}
	kv->channel = dev->channel;
	kv->service = dev_id->driver_data;
	spin_lock_init(&kv->lock);
	INIT_DELAYED_WORK(&kv->retry_work, kvp_vmbus_retry);
	INIT_WORK(&kv->malformed_work, kvp_vmbus_count_malformed);
	kv->transport.name = "vmbus";
	kv->transport.ops = &kvp_vmbus_ops;
	/* Its device's service only: Hyper-V's activation is undocumented. */
	kv->transport.services = BIT(kv->service);
	err = kvp_transport_register(&kv->transport);
	if (err) {
		dev_err(&dev->device, "kvp.ko is bound to another transport (kvp_vsock?): %d\n",
			err);
		goto err_free;
	}
	/* Connected before the channel opens: the host may send at once. */
	kvp_transport_set_connected(&kv->transport, kv->service, true);
	kv->channel->max_pkt_size = KVP_VMBUS_RECV_SIZE;
	set_channel_read_mode(kv->channel, HV_CALL_DIRECT);
	hv_set_drvdata(dev, kv);
	err = vmbus_open(kv->channel, KVP_VMBUS_RING_SIZE, KVP_VMBUS_RING_SIZE,
			 NULL, 0, kvp_vmbus_on_channel, kv);
	if (err) {
		dev_err(&dev->device, "cannot open the channel: %d\n", err);
		goto err_unregister;
	}
	dev_info(&dev->device, "KVP channel open\n");
	return 0;

err_unregister:
	kvp_transport_set_connected(&kv->transport, kv->service, false);
	kvp_transport_unregister(&kv->transport);
err_free:
	kfree(kv->buf);
	kfree(kv);
	return err;
}

static KVP_HV_REMOVE_RET kvp_vmbus_remove(struct hv_device *dev)
{
	struct kvp_vmbus *kv = hv_get_drvdata(dev);

	/* The core sends nothing more; packets still coming are dropped. */
	kvp_transport_set_connected(&kv->transport, kv->service, false);
	spin_lock_bh(&kv->lock);
	kv->closing = true;
	spin_unlock_bh(&kv->lock);
	cancel_delayed_work_sync(&kv->retry_work);
	vmbus_close(kv->channel);
	cancel_work_sync(&kv->malformed_work);
	kvp_transport_unregister(&kv->transport);
	kfree(kv->buf);
	kfree(kv);
	dev_info(&dev->device, "KVP channel closed\n");
	return KVP_HV_REMOVED;
}

/* The IC classes carried, each with the core's service for it. */
static const struct hv_vmbus_device_id kvp_vmbus_id_table[] = {
	{ HV_KVP_GUID, .driver_data = KVP_SERVICE_EXCHANGE },
	{ },
};
MODULE_DEVICE_TABLE(vmbus, kvp_vmbus_id_table);

static struct hv_driver kvp_vmbus_driver = {
	.name = KBUILD_MODNAME,
	.id_table = kvp_vmbus_id_table,
	.probe = kvp_vmbus_probe,
	.remove = kvp_vmbus_remove,
	.driver = {
		.probe_type = PROBE_PREFER_ASYNCHRONOUS,
	},
};

static int __init kvp_vmbus_init(void)
{
	return vmbus_driver_register(&kvp_vmbus_driver);
}

static void __exit kvp_vmbus_exit(void)
{
	vmbus_driver_unregister(&kvp_vmbus_driver);
}

module_init(kvp_vmbus_init);
module_exit(kvp_vmbus_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hyper-V VMBus transport for the KVP exchange engine");
MODULE_AUTHOR("The kvp developers");
