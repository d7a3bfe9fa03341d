/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stock daemon's message: struct hv_kvp_msg of <linux/hyperv.h>, the
 * 7432 bytes that hv_kvp_daemon reads from and writes to /dev/vmbus/hv_kvp.
 * Pure code, shared with userspace (see wire.h): building the message for a
 * checked host request, and reading the daemon's answer.  Byte layout:
 * Documentation/chardev.rst.
 *
 * The layout is that of the KVP payload on the wire (op @0, pool @1, the
 * body @4 with the same offsets, msg.c's kvp_msg_kinds), but strings are
 * UTF-8 and integers are in the guest's byte order.
 */
#ifndef _KVP_STOCK_H
#define _KVP_STOCK_H

#include "msg.h"

/* sizeof(struct hv_kvp_msg): its body union rounds 7426 up to 7428. */
#define KVP_STOCK_MSG_LEN	7432

/* The handshake: the daemon's first write, and the kernel's answer. */
#define KVP_STOCK_OP_REGISTER	4	/* legacy: no IP injection */
#define KVP_STOCK_OP_REGISTER1	100
#define KVP_STOCK_OFF_ERROR	0	/* int error, over operation and pool */
#define KVP_STOCK_OFF_VERSION	4	/* body.kvp_register.version[512] */
#define KVP_STOCK_VERSION	"3.1"	/* HV_DRV_VERSION, as hv_utils sends */

int kvp_stock_register(const u8 *msg);
void kvp_stock_register_reply(u8 *msg, u8 reg);
int kvp_stock_request(u8 *msg, const struct kvp_msg *req);
int kvp_stock_answer(const u8 *msg, u8 reg, u8 op,
		     struct kvp_exchange_answer *answer);

#endif /* _KVP_STOCK_H */
