// SPDX-License-Identifier: GPL-2.0
/*
 * The stock daemon's message (kernel/stock.c): its layout against the
 * struct hv_kvp_msg of the uapi header the daemon is built with, and golden
 * bytes, laid out here by hand from Documentation/chardev.rst, for each
 * message kvp.ko writes to /dev/vmbus/hv_kvp and each answer it reads.
 */
#include <stddef.h>
#include <string.h>

#include <linux/hyperv.h>

#include "kselftest_harness.h"

#include "msg.h"
#include "stock.h"

#define LEN KVP_STOCK_MSG_LEN

static void put32(unsigned char *p, unsigned int v)
{
	memcpy(p, &v, 4);
}

static unsigned int get32(const unsigned char *p)
{
	unsigned int v;

	memcpy(&v, p, 4);
	return v;
}

/* The request a host packet becomes, through what exchange.c does. */
static int host_request(struct kvp_msg *msg, unsigned char op,
			 unsigned char pool, const char *key, const char *value,
			 unsigned int index)
{
	unsigned char payload[KVP_MSG_ENUM_LEN] = { 0 };
	struct kvp_msg host = { .op = op, .pool = pool, .index = index };

	host.key_len = strlen(key);
	memcpy(host.key, key, host.key_len + 1);
	host.value_len = strlen(value);
	memcpy(host.value, value, host.value_len + 1);
	return kvp_msg_encode(payload, sizeof(payload), &host) ||
	       kvp_msg_check_request(payload, sizeof(payload), msg);
}

/* Only the bytes [from, to) of msg may be non-zero, besides the named. */
static int zero_but(const unsigned char *msg, size_t from, size_t to)
{
	size_t i;

	for (i = 0; i < LEN; i++)
		if ((i < from || i >= to) && msg[i])
			return (int)i;
	return -1;
}

TEST(layout_is_the_uapi_struct)
{
	const struct kvp_msg_kind *set = kvp_msg_kind(KVP_OP_SET);
	const struct kvp_msg_kind *get = kvp_msg_kind(KVP_OP_GET);
	const struct kvp_msg_kind *del = kvp_msg_kind(KVP_OP_DELETE);
	const struct kvp_msg_kind *en = kvp_msg_kind(KVP_OP_ENUMERATE);

	EXPECT_EQ(sizeof(struct hv_kvp_msg), LEN);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, error), KVP_STOCK_OFF_ERROR);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, kvp_hdr.operation),
		  KVP_MSG_OFF_OP);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, kvp_hdr.pool), KVP_MSG_OFF_POOL);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_register.version),
		  KVP_STOCK_OFF_VERSION);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_set.data.value_type),
		  set->value_hdr);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_set.data.key_size),
		  set->key_size);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_set.data.value_size),
		  set->value_hdr + 8);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_set.data.key),
		  set->key);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_set.data.value),
		  set->value);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_get.data.key),
		  get->key);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_get.data.value),
		  get->value);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_delete.key_size),
		  del->key_size);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_delete.key), del->key);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_enum_data.index),
		  en->index);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_enum_data.data.key),
		  en->key);
	EXPECT_EQ(offsetof(struct hv_kvp_msg, body.kvp_enum_data.data.value),
		  en->value);
	/* The same numbers, as the documentation gives them. */
	EXPECT_EQ(16, set->key);
	EXPECT_EQ(528, set->value);
	EXPECT_EQ(8, del->key);
	EXPECT_EQ(20, en->key);
	EXPECT_EQ(532, en->value);
}

TEST(register_accepts_register1_and_register_only)
{
	unsigned char msg[LEN] = { 0 };
	int op;

	for (op = 0; op < 256; op++) {
		msg[0] = op;
		msg[1] = 0xff;	/* ignored, as hv_utils ignores it */
		EXPECT_EQ(op == 100 || op == 4 ? op : -EINVAL,
			  kvp_stock_register(msg));
	}
}

TEST(register_reply)
{
	unsigned char msg[LEN];

	memset(msg, 0xaa, sizeof(msg));
	kvp_stock_register_reply(msg, KVP_STOCK_OP_REGISTER1);
	EXPECT_EQ(100, msg[0]);
	EXPECT_EQ(0, memcmp(msg + 4, "3.1", 4));
	msg[0] = 0;
	EXPECT_EQ(-1, zero_but(msg, 4, 7));
	kvp_stock_register_reply(msg, KVP_STOCK_OP_REGISTER);
	EXPECT_EQ(4, msg[0]);
	msg[0] = 0;
	EXPECT_EQ(-1, zero_but(msg, 4, 7));
}

TEST(set_request_bytes)
{
	unsigned char msg[LEN];
	struct kvp_msg req;

	memset(msg, 0xaa, sizeof(msg));
	/* "k€" is 4 UTF-8 bytes (2 UTF-16 units on the wire). */
	ASSERT_EQ(0, host_request(&req, KVP_OP_SET, 3, "k\xe2\x82\xac",
				  "value", 0));
	ASSERT_EQ(0, kvp_stock_request(msg, &req));
	EXPECT_EQ(1, msg[0]);
	EXPECT_EQ(3, msg[1]);
	EXPECT_EQ(0, get32(msg + 4));		/* value_type, as hv_utils */
	EXPECT_EQ(5, get32(msg + 8));		/* key_size: bytes + NUL */
	EXPECT_EQ(6, get32(msg + 12));		/* value_size */
	EXPECT_EQ(0, memcmp(msg + 16, "k\xe2\x82\xac", 5));
	EXPECT_EQ(0, memcmp(msg + 528, "value", 6));
	msg[0] = msg[1] = 0;
	put32(msg + 8, 0);
	put32(msg + 12, 0);
	memset(msg + 16, 0, 5);
	memset(msg + 528, 0, 6);
	EXPECT_EQ(-1, zero_but(msg, 0, 0));
}

TEST(set_of_a_number_is_its_decimal_text)
{
	unsigned char payload[KVP_MSG_ENUM_LEN] = { 0 };
	unsigned char msg[LEN];
	struct kvp_msg req;

	/* A REG_U32 SET as a host sends it: value_type 4, the u32 @528. */
	payload[0] = KVP_OP_SET;
	put32(payload + 4, 4);
	put32(payload + 8, 4);
	put32(payload + 12, 4);
	payload[16] = 'n';
	put32(payload + 528, 4294967295u);
	ASSERT_EQ(0, kvp_msg_check_request(payload, sizeof(payload), &req));
	ASSERT_EQ(0, kvp_stock_request(msg, &req));
	EXPECT_EQ(11, get32(msg + 12));		/* "4294967295" + NUL */
	EXPECT_EQ(0, memcmp(msg + 528, "4294967295", 11));
	EXPECT_EQ(2, get32(msg + 8));
}

TEST(get_delete_enumerate_request_bytes)
{
	unsigned char msg[LEN];
	struct kvp_msg req;

	memset(msg, 0xaa, sizeof(msg));
	ASSERT_EQ(0, host_request(&req, KVP_OP_GET, 0, "key", "ignored", 0));
	ASSERT_EQ(0, kvp_stock_request(msg, &req));
	EXPECT_EQ(0, msg[0]);
	EXPECT_EQ(4, get32(msg + 8));
	EXPECT_EQ(0, memcmp(msg + 16, "key", 4));
	/* The room for the value: hv_utils leaves 0, and gets nothing. */
	EXPECT_EQ(2048, get32(msg + 12));
	EXPECT_EQ(-1, zero_but(msg, 8, 20));

	ASSERT_EQ(0, host_request(&req, KVP_OP_DELETE, 1, "gone", "", 0));
	ASSERT_EQ(0, kvp_stock_request(msg, &req));
	EXPECT_EQ(2, msg[0]);
	EXPECT_EQ(1, msg[1]);
	EXPECT_EQ(5, get32(msg + 4));
	EXPECT_EQ(0, memcmp(msg + 8, "gone", 5));
	EXPECT_EQ(-1, zero_but(msg, 0, 13));

	ASSERT_EQ(0, host_request(&req, KVP_OP_ENUMERATE, 2, "", "",
				  0x01020304));
	ASSERT_EQ(0, kvp_stock_request(msg, &req));
	EXPECT_EQ(3, msg[0]);
	EXPECT_EQ(2, msg[1]);
	EXPECT_EQ(0x01020304u, get32(msg + 4));
	EXPECT_EQ(-1, zero_but(msg, 0, 8));
}

TEST(empty_key_has_size_one)
{
	unsigned char msg[LEN];
	struct kvp_msg req;

	ASSERT_EQ(0, host_request(&req, KVP_OP_SET, 0, "", "", 0));
	ASSERT_EQ(0, kvp_stock_request(msg, &req));
	EXPECT_EQ(1, get32(msg + 8));
	EXPECT_EQ(1, get32(msg + 12));
}

TEST(unsupported_operation_refused)
{
	unsigned char msg[LEN];
	struct kvp_msg req = { .op = KVP_OP_GET_IP_INFO };
	struct kvp_exchange_answer answer;

	EXPECT_EQ(-EOPNOTSUPP, kvp_stock_request(msg, &req));
	EXPECT_EQ(-EINVAL, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1,
					    KVP_OP_GET_IP_INFO, &answer));
}

TEST(register1_answer_status_overlays_operation_and_pool)
{
	unsigned char msg[LEN] = { 0 };
	struct kvp_exchange_answer a;

	put32(msg, KVP_S_CONT);
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1,
				      KVP_OP_ENUMERATE, &a));
	EXPECT_EQ(KVP_S_CONT, a.status);
	EXPECT_EQ(0, a.fields);
	put32(msg, KVP_E_FAIL);
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1, KVP_OP_SET,
				      &a));
	EXPECT_EQ(KVP_E_FAIL, a.status);
	/* A SET or DELETE answer carries nothing but its status. */
	put32(msg, 0);
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1, KVP_OP_SET,
				      &a));
	EXPECT_EQ(KVP_S_OK, a.status);
	EXPECT_EQ(0, a.fields);
}

TEST(enumerate_and_get_answers)
{
	unsigned char msg[LEN] = { 0 };
	struct kvp_exchange_answer a;

	msg[0] = 3;	/* the daemon's own bytes at 0..3 are its status */
	put32(msg, 0);
	memcpy(msg + 20, "OSName", 7);
	memcpy(msg + 532, "Debian GNU/Linux", 17);
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1,
				      KVP_OP_ENUMERATE, &a));
	EXPECT_EQ(KVP_S_OK, a.status);
	EXPECT_EQ(KVP_FIELD_KEY | KVP_FIELD_VALUE, a.fields);
	EXPECT_STREQ("OSName", a.key);
	EXPECT_STREQ("Debian GNU/Linux", a.value);

	/* GET: the value where the daemon puts it, @528 (hv_utils: @532). */
	memset(msg, 0, sizeof(msg));
	memcpy(msg + 16, "k", 2);
	memcpy(msg + 528, "abcdefgh", 9);
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1, KVP_OP_GET,
				      &a));
	EXPECT_EQ(KVP_FIELD_VALUE, a.fields);
	EXPECT_STREQ("abcdefgh", a.value);
}

TEST(unterminated_fields_refused)
{
	unsigned char msg[LEN] = { 0 };
	struct kvp_exchange_answer a;

	memset(msg + 20, 'k', 512);
	EXPECT_EQ(-EINVAL, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1,
					    KVP_OP_ENUMERATE, &a));
	msg[20 + 511] = 0;
	memset(msg + 532, 'v', 2048);
	EXPECT_EQ(-EINVAL, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1,
					    KVP_OP_ENUMERATE, &a));
	msg[532 + 2047] = 0;
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1,
				      KVP_OP_ENUMERATE, &a));
	EXPECT_EQ(511, strlen(a.key));
	EXPECT_EQ(2047, strlen(a.value));
	/* GET: its value field is @528..2575 */
	memset(msg, 0, sizeof(msg));
	memset(msg + 528, 'v', 2048);
	EXPECT_EQ(-EINVAL, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER1,
					    KVP_OP_GET, &a));
}

TEST(legacy_register_empty_key_is_no_item)
{
	unsigned char msg[LEN] = { 0 };
	struct kvp_exchange_answer a;

	put32(msg, 0xffffffff);	/* no status field for a legacy daemon */
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER,
				      KVP_OP_ENUMERATE, &a));
	EXPECT_EQ(KVP_S_CONT, a.status);
	memcpy(msg + 20, "key", 4);
	memcpy(msg + 532, "value", 6);
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER,
				      KVP_OP_ENUMERATE, &a));
	EXPECT_EQ(KVP_S_OK, a.status);
	EXPECT_STREQ("key", a.key);
	/* The operation's own key field: GET's is @16. */
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER, KVP_OP_GET,
				      &a));
	EXPECT_EQ(KVP_S_CONT, a.status);
	memcpy(msg + 16, "k", 2);
	ASSERT_EQ(0, kvp_stock_answer(msg, KVP_STOCK_OP_REGISTER, KVP_OP_GET,
				      &a));
	EXPECT_EQ(KVP_S_OK, a.status);
}

TEST_HARNESS_MAIN
