// SPDX-License-Identifier: GPL-2.0
/*
 * The stock daemon's answer through what kvp.ko does with it
 * (kernel/chardev.c): kvp_stock_answer() reads the 7432-byte message, and
 * for a request that takes a reply its key and value go into the host's
 * packet with kvp_msg_answer(), as kernel/exchange.c does.
 *
 * Input: byte 0 picks the daemon's register operation (odd: REGISTER1,
 * even: the legacy REGISTER), byte 1 the request's operation (any byte:
 * unknown ones must be refused), the rest is the daemon's message, cut or
 * zero-padded to 7432 bytes as a write of another size never reaches the
 * parser.
 */
#include "fuzz.h"
#include "msg.h"
#include "stock.h"

/* A field the parser handed back lies in its place in msg, terminated. */
static void check_field(const u8 *msg, const char *field, u32 off,
			size_t max)
{
	FUZZ_CHECK(field == (const char *)msg + off);
	FUZZ_CHECK(strnlen(field, max) < max);
}

/* The host's request for `op`, decoded as exchange.c keeps it. */
static void host_request(u8 *payload, struct kvp_msg *req, u8 op)
{
	memset(payload, 0, KVP_MSG_ENUM_LEN);
	payload[KVP_MSG_OFF_OP] = op;
	FUZZ_CHECK(kvp_msg_check_request(payload, KVP_MSG_ENUM_LEN, req) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 msg[KVP_STOCK_MSG_LEN];
	static u8 payload[KVP_MSG_ENUM_LEN];
	static struct kvp_msg req;
	const struct kvp_msg_kind *kind;
	struct kvp_exchange_answer a;
	u8 reg, op;
	int err;

	if (size < 2)
		return 0;
	reg = data[0] & 1 ? KVP_STOCK_OP_REGISTER1 : KVP_STOCK_OP_REGISTER;
	op = data[1];
	size -= 2;
	memset(msg, 0, sizeof(msg));
	memcpy(msg, data + 2, size < sizeof(msg) ? size : sizeof(msg));

	err = kvp_stock_register(msg);
	FUZZ_CHECK(err == -EINVAL || err == msg[0]);

	kind = kvp_msg_kind(op);
	err = kvp_stock_answer(msg, reg, op, &a);
	if (!kind) {
		FUZZ_CHECK(err == -EINVAL);
		return 0;
	}
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	if (err)
		return 0;
	if (a.status != KVP_S_OK) {
		FUZZ_CHECK(a.fields == 0);
		return 0;
	}
	FUZZ_CHECK(a.fields == kind->reply);
	if (a.fields & KVP_FIELD_KEY)
		check_field(msg, a.key, kind->key, KVP_KEY_BYTES);
	if (a.fields & KVP_FIELD_VALUE)
		check_field(msg, a.value, kind->value, KVP_VALUE_BYTES);

	host_request(payload, &req, op);
	err = kvp_msg_answer(payload, sizeof(payload), &req, a.fields, a.key,
			     a.value);
	FUZZ_CHECK(err == 0 || err == 1 || err == -EINVAL);
	return 0;
}
