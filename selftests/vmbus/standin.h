/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmbus_standin.ko, the VMBus stand-in of the tests: a "vmbus" bus whose
 * devices a userspace host offers through /dev/vmbus-standin (host.c), the
 * bus and driver functions of hv_vmbus (bus.c) and its channel functions
 * over packet queues (channel.c).  Documentation/vmbus-standin.rst.
 */
#ifndef _VMBUS_STANDIN_INTERNAL_H
#define _VMBUS_STANDIN_INTERNAL_H

#include <linux/hyperv.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

/* One VMBus packet, queued for the guest or for the host. */
struct standin_packet {
	struct list_head node;
	u64 request_id;
	u32 ring_bytes;	/* what the packet would take of a VMBus ring */
	u32 len;	/* bytes in data */
	/* for the guest: the payload; for the host: the whole vsock frame */
	u8 data[];
};

struct standin_host;

/* A device a host offered, with its one channel. */
struct standin_device {
	struct hv_device hv;
	struct vmbus_channel channel;
	struct standin_host *host;
	/* Under host->lock, with channel.state and channel.rescind: */
	struct list_head to_guest;
	u32 to_guest_bytes;
	u32 recv_ring_bytes;	/* data areas of the rings */
	u32 send_ring_bytes;
};

/* The host end of a channel: one open file of /dev/vmbus-standin. */
struct standin_host {
	struct mutex offer_lock;	/* offers and rescinds */
	guid_t class_id;		/* of the last offer */
	guid_t instance_id;
	bool offered_once;

	spinlock_t lock;		/* the rest, dev's queues and state */
	struct standin_device *dev;	/* offered now, or NULL */
	struct list_head to_host;	/* the guest's packets (frames) */
	u32 to_host_bytes;
	wait_queue_head_t wait;		/* readers, pollers */

	struct mutex read_lock;		/* the frame being read: */
	struct standin_packet *reading;
	u32 read_off;
};

extern struct bus_type standin_bus;

void standin_device_init(struct standin_device *dev);
int standin_device_add(struct standin_device *dev);

void standin_channel_init(struct standin_device *dev);
struct standin_packet *standin_packet_alloc(u32 len, u32 payload_len,
					    gfp_t gfp);
int standin_deliver(struct standin_host *host, struct standin_packet *pkt);
bool standin_guest_has_room(struct standin_host *host);
void standin_flush(struct standin_device *dev);

int standin_host_init(void);
void standin_host_exit(void);

#endif /* _VMBUS_STANDIN_INTERNAL_H */
