// SPDX-License-Identifier: GPL-2.0
/*
 * The activation message bodies (kernel/avma.c, Documentation/protocol.rst
 * section 4): the exact bytes the builders write, written out here by hand
 * from the tables of the document, what the parsers accept and refuse, and
 * the names of outcomes and reasons.  Runs the module's own avma.c,
 * compiled for userspace into libkvp.a.
 */
#include <string.h>

#include "avma.h"
#include "kselftest_harness.h"

/*
 * A request: nonce 00..0f, VM id f0..ff, product "ws", version "2022",
 * edition "dc", key "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", VM name "vm".
 * Every byte not listed is 0.
 */
static const u8 golden_request[212] = {
	[0] = 0x01, 0x00,			/* op 1, ACTIVATE */
	[2] = 0x00, 0x00,			/* reserved */
	[4] = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* nonce */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	[20] = 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,	/* VM id */
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	[36] = 'w', 's',			/* product, 32 bytes */
	[68] = '2', '0', '2', '2',		/* version, 16 bytes */
	[84] = 'd', 'c',			/* edition, 32 bytes */
	[116] = 'A', 'A', 'A', 'A', 'A', '-',	/* key, 32 bytes */
	'B', 'B', 'B', 'B', 'B', '-', 'C', 'C', 'C', 'C', 'C', '-',
	'D', 'D', 'D', 'D', 'D', '-', 'E', 'E', 'E', 'E', 'E',
	[148] = 'v', 'm',			/* VM name, 64 bytes */
};

/* A Success reply to it with the 4-byte grant "KVPG". */
static const u8 golden_success[32] = {
	0x01, 0x00,				/* op 1 */
	0x00, 0x00,				/* outcome 0, Success */
	0x00, 0x00, 0x00, 0x00,			/* reason 0 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* nonce */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x04, 0x00,				/* grant_len 4 */
	0x00, 0x00,				/* reserved */
	'K', 'V', 'P', 'G',			/* the grant */
};

/* Activation Denied, reason key (17), no grant. */
static const u8 golden_denied[28] = {
	0x01, 0x00,				/* op 1 */
	0x03, 0x00,				/* outcome 3, Denied */
	0x11, 0x00, 0x00, 0x00,			/* reason 17, key */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* nonce */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x00, 0x00,				/* grant_len 0 */
	0x00, 0x00,				/* reserved */
};

static void golden_fields(struct kvp_avma_request *req)
{
	int i;

	memset(req, 0, sizeof(*req));
	req->op = KVP_AVMA_OP_ACTIVATE;
	for (i = 0; i < KVP_AVMA_NONCE_LEN; i++) {
		req->nonce[i] = i;
		req->vm_id[i] = 0xf0 + i;
	}
	strcpy(req->product, "ws");
	strcpy(req->version, "2022");
	strcpy(req->edition, "dc");
	strcpy(req->key, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE");
	strcpy(req->vm_name, "vm");
}

TEST(request_layout_is_the_documents)
{
	EXPECT_EQ(0x0041, KVP_IC_TYPE_AVMA);
	EXPECT_EQ(212, KVP_AVMA_REQUEST_LEN);
	EXPECT_EQ(28, KVP_AVMA_REPLY_HDR_LEN);
	EXPECT_EQ(1052, KVP_AVMA_REPLY_MAX);
}

TEST(request_built_byte_for_byte)
{
	struct kvp_avma_request req;
	u8 body[KVP_AVMA_REQUEST_LEN];

	golden_fields(&req);
	memset(body, 0x5a, sizeof(body));
	ASSERT_EQ(212, kvp_avma_request_build(body, &req));
	EXPECT_EQ(0, memcmp(golden_request, body, sizeof(body)));
}

TEST(request_parsed)
{
	struct kvp_avma_request req, want;

	golden_fields(&want);
	memset(&req, 0x5a, sizeof(req));
	ASSERT_EQ(0, kvp_avma_request_parse(golden_request, 212, &req));
	EXPECT_EQ(1, req.op);
	EXPECT_EQ(0, memcmp(want.nonce, req.nonce, KVP_AVMA_NONCE_LEN));
	EXPECT_EQ(0, memcmp(want.vm_id, req.vm_id, KVP_AVMA_UUID_LEN));
	EXPECT_STREQ("ws", req.product);
	EXPECT_STREQ("2022", req.version);
	EXPECT_STREQ("dc", req.edition);
	EXPECT_STREQ("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", req.key);
	EXPECT_STREQ("vm", req.vm_name);
}

/* The request with one byte changed: must be refused. */
static int parse_with(size_t off, u8 value)
{
	struct kvp_avma_request req;
	u8 body[212];

	memcpy(body, golden_request, sizeof(body));
	body[off] = value;
	return kvp_avma_request_parse(body, sizeof(body), &req);
}

TEST(bad_requests_refused)
{
	struct kvp_avma_request req;
	u8 body[213];
	int i;

	memcpy(body, golden_request, 212);
	body[212] = 0;
	EXPECT_EQ(-EINVAL, kvp_avma_request_parse(body, 211, &req));
	EXPECT_EQ(-EINVAL, kvp_avma_request_parse(body, 213, &req));
	EXPECT_EQ(-EINVAL, kvp_avma_request_parse(body, 0, &req));
	EXPECT_EQ(-EINVAL, parse_with(0, 2));		/* op 2 */
	EXPECT_EQ(-EINVAL, parse_with(0, 0));		/* op 0 */
	EXPECT_EQ(-EINVAL, parse_with(1, 1));		/* op 0x0101 */
	EXPECT_EQ(-EINVAL, parse_with(3, 1));		/* reserved */
	EXPECT_EQ(-EINVAL, parse_with(36, 0));		/* empty product */
	EXPECT_EQ(-EINVAL, parse_with(68, 0));		/* empty version */
	EXPECT_EQ(-EINVAL, parse_with(84, 0));		/* empty edition */
	EXPECT_EQ(-EINVAL, parse_with(116, 0));		/* empty key */
	EXPECT_EQ(-EINVAL, parse_with(40, 'x'));	/* after the NUL */
	EXPECT_EQ(-EINVAL, parse_with(211, 'x'));	/* VM name's last */
	/* A product of 32 bytes without NUL. */
	memset(body + 36, 'p', 32);
	EXPECT_EQ(-EINVAL, kvp_avma_request_parse(body, 212, &req));
	/* An empty VM name is allowed; so is a full one of 63 bytes. */
	memcpy(body, golden_request, 212);
	body[148] = body[149] = 0;
	EXPECT_EQ(0, kvp_avma_request_parse(body, 212, &req));
	EXPECT_STREQ("", req.vm_name);
	for (i = 148; i < 211; i++)
		body[i] = 'n';
	EXPECT_EQ(0, kvp_avma_request_parse(body, 212, &req));
	EXPECT_EQ(63, strlen(req.vm_name));
}

TEST(unencodable_requests_refused)
{
	struct kvp_avma_request req;
	u8 body[KVP_AVMA_REQUEST_LEN];

	golden_fields(&req);
	req.op = 2;
	EXPECT_EQ(-EINVAL, kvp_avma_request_build(body, &req));
	golden_fields(&req);
	memset(req.key, 'K', sizeof(req.key));		/* no room for NUL */
	EXPECT_EQ(-EINVAL, kvp_avma_request_build(body, &req));
	golden_fields(&req);
	req.edition[0] = '\0';
	EXPECT_EQ(-EINVAL, kvp_avma_request_build(body, &req));
	golden_fields(&req);
	req.vm_name[0] = '\0';
	EXPECT_EQ(212, kvp_avma_request_build(body, &req));
}

static void reply_fields(struct kvp_avma_reply *rep, u16 outcome, u32 reason,
			 const u8 *grant, u16 grant_len)
{
	int i;

	memset(rep, 0, sizeof(*rep));
	rep->op = KVP_AVMA_OP_ACTIVATE;
	rep->outcome = outcome;
	rep->reason = reason;
	for (i = 0; i < KVP_AVMA_NONCE_LEN; i++)
		rep->nonce[i] = i;
	rep->grant = grant;
	rep->grant_len = grant_len;
}

TEST(replies_built_byte_for_byte)
{
	u8 body[KVP_AVMA_REPLY_MAX];
	struct kvp_avma_reply rep;

	reply_fields(&rep, KVP_AVMA_SUCCESS, KVP_AVMA_R_NONE,
		     (const u8 *)"KVPG", 4);
	memset(body, 0x5a, sizeof(body));
	ASSERT_EQ(32, kvp_avma_reply_build(body, &rep));
	EXPECT_EQ(0, memcmp(golden_success, body, 32));
	reply_fields(&rep, KVP_AVMA_DENIED, KVP_AVMA_R_KEY, NULL, 0);
	ASSERT_EQ(28, kvp_avma_reply_build(body, &rep));
	EXPECT_EQ(0, memcmp(golden_denied, body, 28));
}

TEST(replies_parsed)
{
	struct kvp_avma_reply rep;

	ASSERT_EQ(0, kvp_avma_reply_parse(golden_success, 32, &rep));
	EXPECT_EQ(1, rep.op);
	EXPECT_EQ(KVP_AVMA_SUCCESS, rep.outcome);
	EXPECT_EQ(KVP_AVMA_R_NONE, rep.reason);
	EXPECT_EQ(15, rep.nonce[15]);
	EXPECT_EQ(4, rep.grant_len);
	EXPECT_EQ(golden_success + 28, rep.grant);
	ASSERT_EQ(0, kvp_avma_reply_parse(golden_denied, 28, &rep));
	EXPECT_EQ(KVP_AVMA_DENIED, rep.outcome);
	EXPECT_EQ(KVP_AVMA_R_KEY, rep.reason);
	EXPECT_EQ(0, rep.grant_len);
}

/* The Success reply with one byte changed, at its length. */
static int reply_with(size_t off, u8 value, size_t len)
{
	struct kvp_avma_reply rep;
	u8 body[64] = { 0 };

	memcpy(body, golden_success, sizeof(golden_success));
	body[off] = value;
	return kvp_avma_reply_parse(body, len, &rep);
}

TEST(bad_replies_refused)
{
	struct kvp_avma_reply rep;
	u8 body[KVP_AVMA_REPLY_HDR_LEN + KVP_AVMA_GRANT_MAX + 1];

	EXPECT_EQ(-EINVAL, kvp_avma_reply_parse(golden_denied, 27, &rep));
	EXPECT_EQ(-EINVAL, reply_with(0, 1, 31));	/* shorter than grant */
	EXPECT_EQ(-EINVAL, reply_with(0, 1, 33));	/* longer */
	EXPECT_EQ(-EINVAL, reply_with(0, 2, 32));	/* op 2 */
	EXPECT_EQ(-EINVAL, reply_with(2, 4, 32));	/* outcome 4 */
	EXPECT_EQ(-EINVAL, reply_with(4, 1, 32));	/* Success, reason */
	EXPECT_EQ(-EINVAL, reply_with(2, 3, 32));	/* Denied, grant */
	EXPECT_EQ(-EINVAL, reply_with(26, 1, 32));	/* reserved */
	EXPECT_EQ(-EINVAL, reply_with(24, 0, 28));	/* Success, no grant */
	/* Denied without a reason; a reason of the guest's own (64). */
	memcpy(body, golden_denied, 28);
	body[4] = 0;
	EXPECT_EQ(-EINVAL, kvp_avma_reply_parse(body, 28, &rep));
	body[4] = 64;
	EXPECT_EQ(-EINVAL, kvp_avma_reply_parse(body, 28, &rep));
	body[4] = 63;		/* a wire reason this version has no name for */
	EXPECT_EQ(0, kvp_avma_reply_parse(body, 28, &rep));
	/* A grant over 1024 bytes. */
	memset(body, 0, sizeof(body));
	memcpy(body, golden_success, 24);
	body[24] = 0x01;
	body[25] = 0x04;	/* 1025 */
	EXPECT_EQ(-EINVAL, kvp_avma_reply_parse(body, sizeof(body), &rep));
	body[24] = 0x00;	/* 1024: the most */
	EXPECT_EQ(0, kvp_avma_reply_parse(body, sizeof(body) - 1, &rep));
}

TEST(unencodable_replies_refused)
{
	static u8 grant[KVP_AVMA_GRANT_MAX + 1];
	u8 body[KVP_AVMA_REPLY_MAX];
	struct kvp_avma_reply rep;

	reply_fields(&rep, KVP_AVMA_SUCCESS, 0, grant, sizeof(grant));
	EXPECT_EQ(-EINVAL, kvp_avma_reply_build(body, &rep));
	reply_fields(&rep, KVP_AVMA_SUCCESS, 0, grant, 0);
	EXPECT_EQ(-EINVAL, kvp_avma_reply_build(body, &rep));
	reply_fields(&rep, KVP_AVMA_INVALID_HOST, KVP_AVMA_R_NO_SERVICE, NULL,
		     0);
	EXPECT_EQ(-EINVAL, kvp_avma_reply_build(body, &rep));
	reply_fields(&rep, KVP_AVMA_INVALID_HOST, KVP_AVMA_R_HOST_BUSY, NULL,
		     0);
	EXPECT_EQ(28, kvp_avma_reply_build(body, &rep));
	reply_fields(&rep, KVP_AVMA_SUCCESS, 0, grant, KVP_AVMA_GRANT_MAX);
	EXPECT_EQ(KVP_AVMA_REPLY_MAX, kvp_avma_reply_build(body, &rep));
}

TEST(names)
{
	EXPECT_STREQ("Success", kvp_avma_outcome_name(0));
	EXPECT_STREQ("Invalid Host", kvp_avma_outcome_name(1));
	EXPECT_STREQ("Invalid Data", kvp_avma_outcome_name(2));
	EXPECT_STREQ("Activation Denied", kvp_avma_outcome_name(3));
	EXPECT_STREQ("unknown", kvp_avma_outcome_name(4));
	EXPECT_STREQ("none", kvp_avma_reason_name(0));
	EXPECT_STREQ("host-busy", kvp_avma_reason_name(5));
	EXPECT_STREQ("key", kvp_avma_reason_name(17));
	EXPECT_STREQ("replay", kvp_avma_reason_name(33));
	EXPECT_STREQ("no-service", kvp_avma_reason_name(64));
	EXPECT_STREQ("nonce", kvp_avma_reason_name(68));
	EXPECT_STREQ("no-key", kvp_avma_reason_name(73));
	EXPECT_STREQ("unknown", kvp_avma_reason_name(63));
}

TEST_HARNESS_MAIN
