// SPDX-License-Identifier: GPL-2.0
/*
 * The stock daemon's message (struct hv_kvp_msg, 7432 bytes): what kvp.ko
 * writes for hv_kvp_daemon and reads back from it, filled the way the stock
 * hv_utils driver fills it, so that the daemon cannot tell the difference.
 * Every field lies where msg.c's kind table puts it on the wire.
 */
#include "stock.h"

/* The chardev ABI is in the guest's byte order, not the wire's. */
static u32 kvp_stock_get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void kvp_stock_put32(u8 *p, u32 v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * The daemon's first write: the register operation it speaks
 * (KVP_STOCK_OP_REGISTER1 or the legacy KVP_STOCK_OP_REGISTER), or -EINVAL
 * for anything else.  Only the operation byte counts, as in hv_utils.
 */
int kvp_stock_register(const u8 *msg)
{
	u8 op = msg[KVP_MSG_OFF_OP];

	if (op != KVP_STOCK_OP_REGISTER1 && op != KVP_STOCK_OP_REGISTER)
		return -EINVAL;
	return op;
}

/* The answer to it: the accepted operation and the version string. */
void kvp_stock_register_reply(u8 *msg, u8 reg)
{
	memset(msg, 0, KVP_STOCK_MSG_LEN);
	msg[KVP_MSG_OFF_OP] = reg;
	memcpy(msg + KVP_STOCK_OFF_VERSION, KVP_STOCK_VERSION,
	       sizeof(KVP_STOCK_VERSION));
}

/* A string and its size: UTF-8 bytes plus one for the terminator. */
static void kvp_stock_put_str(u8 *msg, u32 size_off, u32 off, const char *s,
			      u32 len)
{
	kvp_stock_put32(msg + size_off, len + 1);
	memcpy(msg + off, s, len + 1);
}

/*
 * The daemon's message for a request kvp_msg_check_request() accepted, in
 * KVP_STOCK_MSG_LEN bytes: operation, pool, and the fields the request
 * carries (ENUMERATE: the index; GET, DELETE: the key; SET: key and value),
 * everything else zero.  value_type stays 0 as hv_utils leaves it: a
 * number the host sent is already its decimal text (msg.c).  One size
 * differs from hv_utils: a GET's value_size is the room for the value
 * (hv_utils leaves 0, and the daemon then copies no byte of it).
 */
int kvp_stock_request(u8 *msg, const struct kvp_msg *req)
{
	const struct kvp_msg_kind *kind = kvp_msg_kind(req->op);

	if (!kind)
		return -EOPNOTSUPP;
	memset(msg, 0, KVP_STOCK_MSG_LEN);
	msg[KVP_MSG_OFF_OP] = req->op;
	msg[KVP_MSG_OFF_POOL] = req->pool;
	if (kind->request & KVP_FIELD_INDEX)
		kvp_stock_put32(msg + kind->index, req->index);
	if (kind->request & KVP_FIELD_KEY)
		kvp_stock_put_str(msg, kind->key_size, kind->key, req->key,
				  req->key_len);
	if (kind->request & KVP_FIELD_VALUE)
		kvp_stock_put_str(msg, kind->value_hdr + 8, kind->value,
				  req->value, req->value_len);
	if (req->op == KVP_OP_GET)
		kvp_stock_put32(msg + kind->value_hdr + 8, KVP_VALUE_BYTES);
	return 0;
}

/* A string field of `max` bytes holds its terminator. */
static const char *kvp_stock_str(const u8 *msg, u32 off, size_t max)
{
	return memchr(msg + off, 0, max) ? (const char *)msg + off : NULL;
}

/*
 * The daemon's answer to a request of operation `op`, from a daemon that
 * registered with `reg`.  Its status: a REGISTER1 daemon puts an HRESULT in
 * the int at offset 0 (over operation and pool); a legacy REGISTER one
 * says "no such item" (S_CONT) with an empty key in the operation's key
 * field.  With S_OK, the fields the operation's reply carries point into
 * msg (ENUMERATE: key and value, GET: value; their size fields are not
 * read, hv_utils does not read them either).  -EINVAL: a field without
 * its terminator.
 */
int kvp_stock_answer(const u8 *msg, u8 reg, u8 op,
		     struct kvp_exchange_answer *answer)
{
	const struct kvp_msg_kind *kind = kvp_msg_kind(op);

	memset(answer, 0, sizeof(*answer));
	if (!kind)
		return -EINVAL;
	if (reg == KVP_STOCK_OP_REGISTER1)
		answer->status = kvp_stock_get32(msg + KVP_STOCK_OFF_ERROR);
	else
		answer->status = msg[kind->key] ? KVP_S_OK : KVP_S_CONT;
	if (answer->status != KVP_S_OK)
		return 0;
	if (kind->reply & KVP_FIELD_KEY) {
		answer->key = kvp_stock_str(msg, kind->key, KVP_KEY_BYTES);
		if (!answer->key)
			return -EINVAL;
		answer->fields |= KVP_FIELD_KEY;
	}
	if (kind->reply & KVP_FIELD_VALUE) {
		answer->value = kvp_stock_str(msg, kind->value,
					      KVP_VALUE_BYTES);
		if (!answer->value)
			return -EINVAL;
		answer->fields |= KVP_FIELD_VALUE;
	}
	return 0;
}
