// SPDX-License-Identifier: GPL-2.0
/*
 * Memory for host packets.  A transport hands a packet over from any
 * context, so the copy is made without sleeping; when memory is short it
 * comes from a small reserve set aside at load, so that a host that sends
 * one request at a time (as Hyper-V does) is always answered.  Only when
 * the reserve is in use too does the transport hear -ENOMEM, and it keeps
 * the packet to try again: nothing is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "kvp.h"

#define KVP_RESERVE	2

static struct kvp_request *kvp_reserve[KVP_RESERVE];
static DEFINE_SPINLOCK(kvp_reserve_lock);

#ifdef KVP_DEBUG
/* Test builds only: make every ordinary allocation fail. */
static bool kvp_debug_fail_alloc;
module_param_named(debug_fail_alloc, kvp_debug_fail_alloc, bool, 0600);
MODULE_PARM_DESC(debug_fail_alloc,
		 "Test builds: fail every packet allocation but the reserve");
#else
#define kvp_debug_fail_alloc false
#endif

static struct kvp_request *kvp_reserve_take(void)
{
	struct kvp_request *req = NULL;
	unsigned long flags;
	int i;

	spin_lock_irqsave(&kvp_reserve_lock, flags);
	for (i = 0; i < KVP_RESERVE && !req; i++) {
		req = kvp_reserve[i];
		kvp_reserve[i] = NULL;
	}
	spin_unlock_irqrestore(&kvp_reserve_lock, flags);
	return req;
}

static void kvp_reserve_put(struct kvp_request *req)
{
	unsigned long flags;
	int i;

	spin_lock_irqsave(&kvp_reserve_lock, flags);
	for (i = 0; i < KVP_RESERVE; i++) {
		if (!kvp_reserve[i]) {
			kvp_reserve[i] = req;
			break;
		}
	}
	spin_unlock_irqrestore(&kvp_reserve_lock, flags);
}

/* Room for a packet of len bytes (at most KVP_IC_MAX_PACKET), any context. */
struct kvp_request *kvp_request_alloc(size_t len)
{
	struct kvp_request *req = NULL;

	if (!kvp_debug_fail_alloc)
		req = kmalloc(struct_size(req, pkt, len),
			      GFP_NOWAIT | __GFP_NOWARN);
	if (req) {
		req->reserved = false;
	} else {
		req = kvp_reserve_take();
		if (!req)
			return NULL;
		req->reserved = true;
	}
	INIT_LIST_HEAD(&req->list);
	req->len = len;
	return req;
}

void kvp_request_free(struct kvp_request *req)
{
	if (req->reserved)
		kvp_reserve_put(req);
	else
		kfree(req);
}

int kvp_request_init(void)
{
	int i;

	for (i = 0; i < KVP_RESERVE; i++) {
		kvp_reserve[i] = kvmalloc(struct_size(kvp_reserve[i], pkt,
						      KVP_IC_MAX_PACKET),
					  GFP_KERNEL);
		if (!kvp_reserve[i]) {
			kvp_request_uninit();
			return -ENOMEM;
		}
	}
	return 0;
}

/* After every request is back. */
void kvp_request_uninit(void)
{
	int i;

	for (i = 0; i < KVP_RESERVE; i++) {
		kvfree(kvp_reserve[i]);
		kvp_reserve[i] = NULL;
	}
}
