/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a transport module (kvp_vsock.ko, kvp_vmbus.ko) sees of kvp.ko.
 *
 * A transport moves IC packets between a host and the core's services: it
 * hands each packet it receives to kvp_transport_receive(), from any context,
 * and sends the packets the core gives it (replies, and the guest's own
 * requests on a service where the guest asks) through ops->send().  The core
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

#include "uapi/kvp.h"

/*
 * The IC services of the core, numbered as the netlink API's enum
 * kvp_service.  A new service adds a value here.
 */
enum kvp_service_id {
	KVP_SERVICE_EXCHANGE = KVP_SERVICE_KVP,	/* the host asks */
	KVP_SERVICE_AVMA = KVP_SERVICE_ACTIVATION,	/* the guest asks */
	KVP_SERVICE_COUNT,
};

struct kvp_transport;

struct kvp_transport_ops {
	/*
	 * Sends one packet of `service` with the transport's request id
	 * `id`: a reply to the host's request `id`, or a request of the
	 * guest's own (on a service where the guest asks).  Called in
	 * process context with the service's lock held: it may sleep, but
	 * must not call back into the core, and should not block for long.
	 */
	int (*send)(struct kvp_transport *transport,
		    enum kvp_service_id service, const u8 *pkt, size_t len,
		    u64 id);
};

struct kvp_transport {
	const char *name;
	const struct kvp_transport_ops *ops;
	unsigned long services;	/* BIT(kvp_service_id) of those it carries */

	/* The core's: received packets waiting for rx_work, in order. */
	spinlock_t rx_lock;
	struct list_head rx_queue;
	struct work_struct rx_work;
};

/*
 * Process context.  -EBUSY while another transport is bound.  The services
 * in transport->services are bound to it; the others have no transport.
 */
int kvp_transport_register(struct kvp_transport *transport);
/*
 * Process context, never from ops->send, while none of them is connected:
 * the services the transport carries now, a subset of transport->services
 * (a vsock host serves only those its WELCOME announces).  The others are
 * unbound until a later call carries them again.
 */
void kvp_transport_carry(struct kvp_transport *transport,
			 unsigned long services);
/* Process context, once the transport hands over no more packets. */
void kvp_transport_unregister(struct kvp_transport *transport);
/*
 * Process context, never from ops->send: a service's connection to the
 * host begins or ends.  Packets handed over before are dealt with first;
 * packets of a service that is not connected are dropped, so a transport
 * says "connected" before the host can send (before it opens a channel).
 */
void kvp_transport_set_connected(struct kvp_transport *transport,
				 enum kvp_service_id service, bool connected);
/*
 * Any context but hard interrupts (a VMBus channel callback runs in a
 * tasklet).  0: queued, it will be dealt with (a request answered, a reply
 * to the guest taken or dropped); -ENOMEM: keep the packet and
 * hand it over again later, on a timer of the transport's own, since the
 * host may send nothing more until it is answered; -EPROTO: too short to
 * be an IC packet (or too long, or no such service), nothing can answer it.
 */
int kvp_transport_receive(struct kvp_transport *transport,
			  enum kvp_service_id service, const u8 *pkt,
			  size_t len, u64 id);
/* Process context: counts a framing error the transport found. */
void kvp_transport_malformed(struct kvp_transport *transport,
			     enum kvp_service_id service);

#endif /* _KVP_TRANSPORT_H */
