// SPDX-License-Identifier: GPL-2.0
/*
 * The channel functions of hv_vmbus (drivers/hv/channel.c, ring_buffer.c)
 * over two packet queues instead of rings shared with a hypervisor: the
 * device's to_guest queue, which the host's writes fill, and the host's
 * to_host queue, which vmbus_sendpacket() fills.  Each queue holds what
 * the ring would: a packet takes its descriptor, its payload padded to 8
 * bytes and a trailer, and the ring keeps one byte free.
 *
 * Channel callbacks run from the channel's tasklet (softirq), as on VMBus:
 * it is scheduled when a packet reaches an open channel, and at open when
 * packets wait.
 */
#include <linux/slab.h>

#include "frame.h"
#include "standin.h"

/* What a packet of len payload bytes takes of a VMBus ring. */
static u32 standin_ring_bytes(u32 len)
{
	return sizeof(struct vmpacket_descriptor) + ALIGN(len, 8) +
	       sizeof(u64);
}

/* The data area of a ring of size bytes: its first page is the header. */
static u32 standin_ring_data(u32 size)
{
	return size - sizeof(struct hv_ring_buffer);
}

/* Until a driver opens the channel, the host may queue what fits in the
 * ring hv_utils opens for KVP (VMBus hosts cannot send before the open;
 * the stand-in lets a test queue packets for the open to find).
 */
#define STANDIN_UNOPENED_RING	VMBUS_RING_SIZE(3 * HV_HYP_PAGE_SIZE)

static bool standin_ring_fits(u32 used, u32 add, u32 data_bytes)
{
	return used + add < data_bytes;
}

static struct standin_device *standin_of(struct vmbus_channel *channel)
{
	return container_of(channel, struct standin_device, channel);
}

static void standin_on_event(struct tasklet_struct *t)
{
	struct vmbus_channel *channel = from_tasklet(channel, t,
						     callback_event);
	void (*callback)(void *context) = READ_ONCE(channel->onchannel_callback);

	/* NULL once the channel is closed, as in vmbus_on_event(). */
	if (callback)
		callback(channel->channel_callback_context);
}

/* The channel as vmbus_process_offer() leaves it: offered, not open. */
void standin_channel_init(struct standin_device *dev)
{
	struct vmbus_channel *channel = &dev->channel;

	channel->device_obj = &dev->hv;
	channel->state = CHANNEL_OPEN_STATE;
	channel->offermsg.offer.if_type = dev->hv.dev_type;
	channel->offermsg.offer.if_instance = dev->hv.dev_instance;
	tasklet_setup(&channel->callback_event, standin_on_event);
	dev->hv.channel = channel;
	INIT_LIST_HEAD(&dev->to_guest);
	dev->recv_ring_bytes = standin_ring_data(STANDIN_UNOPENED_RING);
}

struct standin_packet *standin_packet_alloc(u32 len, u32 payload_len,
					    gfp_t gfp)
{
	struct standin_packet *pkt = kzalloc(struct_size(pkt, data, len), gfp);

	if (pkt) {
		pkt->len = len;
		pkt->ring_bytes = standin_ring_bytes(payload_len);
	}
	return pkt;
}

static void standin_free_packets(struct list_head *list)
{
	struct standin_packet *pkt, *next;

	list_for_each_entry_safe(pkt, next, list, node)
		kfree(pkt);
	INIT_LIST_HEAD(list);
}

/* Drops what both rings hold, as freeing them does.  host->lock held. */
void standin_flush(struct standin_device *dev)
{
	standin_free_packets(&dev->to_guest);
	dev->to_guest_bytes = 0;
	standin_free_packets(&dev->host->to_host);
	dev->host->to_host_bytes = 0;
}

/*
 * Queues a packet of the host for the guest.  Returns 0 (the packet is the
 * device's now), -ENODEV when no device is offered, -EAGAIN when its ring
 * is full.
 */
int standin_deliver(struct standin_host *host, struct standin_packet *pkt)
{
	struct standin_device *dev;
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&host->lock, flags);
	dev = host->dev;
	if (!dev) {
		err = -ENODEV;
	} else if (!standin_ring_fits(dev->to_guest_bytes, pkt->ring_bytes,
				      dev->recv_ring_bytes)) {
		err = -EAGAIN;
	} else {
		list_add_tail(&pkt->node, &dev->to_guest);
		dev->to_guest_bytes += pkt->ring_bytes;
		if (dev->channel.state == CHANNEL_OPENED_STATE)
			tasklet_schedule(&dev->channel.callback_event);
	}
	spin_unlock_irqrestore(&host->lock, flags);
	return err;
}

/*
 * Whether the host may write: the guest's ring is empty (any packet that
 * fits a ring fits) or has room for a packet of the largest size.
 */
bool standin_guest_has_room(struct standin_host *host)
{
	struct standin_device *dev;
	unsigned long flags;
	bool room;

	spin_lock_irqsave(&host->lock, flags);
	dev = host->dev;
	room = dev && (list_empty(&dev->to_guest) ||
		       standin_ring_fits(dev->to_guest_bytes,
					 standin_ring_bytes(KVP_VSOCK_MAX_PAYLOAD),
					 dev->recv_ring_bytes));
	spin_unlock_irqrestore(&host->lock, flags);
	return room;
}

int vmbus_open(struct vmbus_channel *channel, u32 send_ringbuffersize,
	       u32 recv_ringbuffersize, void *userdata, u32 userdatalen,
	       void (*onchannel_callback)(void *context), void *context)
{
	struct standin_device *dev = standin_of(channel);
	unsigned long flags;
	int err = 0;

	/* The rings: whole pages, the first one their header. */
	if (send_ringbuffersize <= sizeof(struct hv_ring_buffer) ||
	    recv_ringbuffersize <= sizeof(struct hv_ring_buffer) ||
	    !PAGE_ALIGNED(send_ringbuffersize) ||
	    !PAGE_ALIGNED(recv_ringbuffersize) ||
	    userdatalen > MAX_USER_DEFINED_BYTES)
		return -EINVAL;

	spin_lock_irqsave(&dev->host->lock, flags);
	if (channel->state != CHANNEL_OPEN_STATE) {
		err = -EINVAL;	/* open already */
	} else if (channel->rescind) {
		err = -ENODEV;
	} else {
		dev->send_ring_bytes = standin_ring_data(send_ringbuffersize);
		dev->recv_ring_bytes = standin_ring_data(recv_ringbuffersize);
		channel->channel_callback_context = context;
		WRITE_ONCE(channel->onchannel_callback, onchannel_callback);
		channel->state = CHANNEL_OPENED_STATE;
		if (!list_empty(&dev->to_guest))
			tasklet_schedule(&channel->callback_event);
	}
	spin_unlock_irqrestore(&dev->host->lock, flags);
	return err;
}
EXPORT_SYMBOL_GPL(vmbus_open);

/*
 * Closes the channel: no callback runs once it returns (the tasklet is
 * killed, waiting for a callback under way), and what the rings held is
 * gone.  The channel can be opened again.
 */
void vmbus_close(struct vmbus_channel *channel)
{
	struct standin_device *dev = standin_of(channel);
	unsigned long flags;

	spin_lock_irqsave(&dev->host->lock, flags);
	if (channel->state == CHANNEL_OPENED_STATE) {
		channel->state = CHANNEL_OPEN_STATE;
		WRITE_ONCE(channel->onchannel_callback, NULL);
		standin_flush(dev);
		dev->recv_ring_bytes = standin_ring_data(STANDIN_UNOPENED_RING);
	}
	spin_unlock_irqrestore(&dev->host->lock, flags);
	tasklet_kill(&channel->callback_event);
}
EXPORT_SYMBOL_GPL(vmbus_close);

/*
 * One packet per call, as hv_ringbuffer_read(): 0 with *buffer_actual_len
 * 0 when there is none; -ENOBUFS with its length when it does not fit
 * (it stays queued); else its payload, padded to 8 bytes as the ring
 * carries it, and the host's request id.
 */
int vmbus_recvpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u32 *buffer_actual_len, u64 *requestid)
{
	struct standin_device *dev = standin_of(channel);
	struct standin_packet *pkt;
	unsigned long flags;

	if (!bufferlen)
		return -EINVAL;
	*buffer_actual_len = 0;
	*requestid = 0;

	spin_lock_irqsave(&dev->host->lock, flags);
	pkt = list_first_entry_or_null(&dev->to_guest, struct standin_packet,
				       node);
	if (!pkt) {
		spin_unlock_irqrestore(&dev->host->lock, flags);
		return 0;
	}
	*buffer_actual_len = pkt->len;
	if (pkt->len > bufferlen) {
		spin_unlock_irqrestore(&dev->host->lock, flags);
		return -ENOBUFS;
	}
	*requestid = pkt->request_id;
	memcpy(buffer, pkt->data, pkt->len);
	list_del(&pkt->node);
	dev->to_guest_bytes -= pkt->ring_bytes;
	spin_unlock_irqrestore(&dev->host->lock, flags);

	kfree(pkt);
	wake_up_interruptible(&dev->host->wait);	/* room: POLLOUT */
	return 0;
}
EXPORT_SYMBOL(vmbus_recvpacket);

/*
 * Queues an in-band packet for the host as a vsock PACKET frame (version
 * 2, service KVP, id = requestid).  -ENODEV once the channel is rescinded,
 * -EAGAIN when the host left a ring's worth unread, -EINVAL for another
 * packet type, a packet over one frame or a channel not open.
 */
int vmbus_sendpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u64 requestid,
		     enum vmbus_packet_type type, u32 flags)
{
	struct standin_device *dev = standin_of(channel);
	struct standin_host *host = dev->host;
	struct kvp_frame frame = {
		.version = 2, .type = KVP_VSOCK_PACKET, .length = bufferlen,
		.service = KVP_VSOCK_SERVICE_KVP, .id = requestid,
	};
	struct standin_packet *pkt;
	unsigned long irqflags;
	int err = 0;

	if (type != VM_PKT_DATA_INBAND || bufferlen > KVP_VSOCK_MAX_PAYLOAD)
		return -EINVAL;
	pkt = standin_packet_alloc(KVP_VSOCK_HDR_LEN + bufferlen, bufferlen,
				   GFP_ATOMIC);
	if (!pkt)
		return -ENOMEM;
	kvp_frame_build(pkt->data, &frame);
	memcpy(pkt->data + KVP_VSOCK_HDR_LEN, buffer, bufferlen);

	spin_lock_irqsave(&host->lock, irqflags);
	if (channel->rescind) {
		err = -ENODEV;
	} else if (channel->state != CHANNEL_OPENED_STATE) {
		err = -EINVAL;
	} else if (!standin_ring_fits(host->to_host_bytes, pkt->ring_bytes,
				      dev->send_ring_bytes)) {
		err = -EAGAIN;
	} else {
		list_add_tail(&pkt->node, &host->to_host);
		host->to_host_bytes += pkt->ring_bytes;
	}
	spin_unlock_irqrestore(&host->lock, irqflags);
	if (err) {
		kfree(pkt);
		return err;
	}
	wake_up_interruptible(&host->wait);
	return 0;
}
EXPORT_SYMBOL(vmbus_sendpacket);
