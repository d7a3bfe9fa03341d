/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a transport module (kvp_vsock.ko, kvp_vmbus.ko) sees of kvp.ko.
 *
 * A transport moves IC packets between a host and the core's services: it
 * hands each packet it receives to kvp_transport_receive(), from any context,
 * and sends the replies the core gives it through ops->send().  The core
 * knows nothing of any one hypervisor.  One transport is bound at a time; it
 * carries one or more services, each with its own connection state (on
 * VMBus every service is a channel of its own).
 */
#ifndef _KVP_TRANSPORT_H
#define _KVP_TRANSPORT_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/* The IC services of the core.  A new service adds a value here. */
enum kvp_service_id {
	KVP_SERVICE_EXCHANGE,	/* KVP data exchange: the host asks */
	KVP_SERVICE_COUNT,
};

struct kvp_transport;

struct kvp_transport_ops {
	/*
	 * Sends one reply packet for the host request `id` of `service`.
	 * Called in process context with the service's lock held: it may
	 * sleep, but must not call back into the core, and should not block
	 * for long.
	 */
	int (*send)(struct kvp_transport *transport,
		    enum kvp_service_id service, const u8 *pkt, size_t len,
		    u64 id);
};

struct kvp_transport {
	const char *name;
	const struct kvp_transport_ops *ops;

	/* The core's: received packets waiting for rx_work, in order. */
	spinlock_t rx_lock;
	struct list_head rx_queue;
	struct work_struct rx_work;
};

int kvp_transport_register(struct kvp_transport *transport);
void kvp_transport_unregister(struct kvp_transport *transport);
void kvp_transport_set_connected(struct kvp_transport *transport,
				 enum kvp_service_id service, bool connected);
int kvp_transport_receive(struct kvp_transport *transport,
			  enum kvp_service_id service, const u8 *pkt,
			  size_t len, u64 id);
void kvp_transport_malformed(struct kvp_transport *transport,
			     enum kvp_service_id service);

#endif /* _KVP_TRANSPORT_H */
