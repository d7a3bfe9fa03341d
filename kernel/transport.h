/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a transport module (kvp_vsock.ko, kvp_vmbus.ko) sees of kvp.ko.
 *
 * A transport moves IC packets between a host and the core: it hands each
 * packet it receives to kvp_transport_receive() and sends the replies the
 * core gives it through ops->send().  The core knows nothing of any one
 * hypervisor.  One transport is bound at a time.
 */
#ifndef _KVP_TRANSPORT_H
#define _KVP_TRANSPORT_H

#include <linux/types.h>

struct kvp_transport;

struct kvp_transport_ops {
	/*
	 * Sends one reply packet for the host request `id`.  Called in
	 * process context with the core's lock held: it may sleep, but must
	 * not call back into the core, and should not block for long.
	 */
	int (*send)(struct kvp_transport *transport, const u8 *pkt, size_t len,
		    u64 id);
};

struct kvp_transport {
	const char *name;
	const struct kvp_transport_ops *ops;
};

int kvp_transport_register(struct kvp_transport *transport);
void kvp_transport_unregister(struct kvp_transport *transport);
void kvp_transport_set_connected(struct kvp_transport *transport,
				 bool connected);
void kvp_transport_receive(struct kvp_transport *transport, const u8 *pkt,
			   size_t len, u64 id);
void kvp_transport_malformed(struct kvp_transport *transport);

#endif /* _KVP_TRANSPORT_H */
