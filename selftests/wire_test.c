// SPDX-License-Identifier: GPL-2.0
/*
 * Golden byte vectors for the IC framing, negotiation and every KVP
 * message type, run against the module's own protocol code (kernel/ic.c,
 * msg.c).  The expected bytes are laid out here by hand from the offsets of
 * Documentation/protocol.rst, not with the helpers under test.
 */
#include <string.h>

#include "kselftest_harness.h"

#include "ic.h"
#include "msg.h"

#define PKT_MAX (KVP_ICMSG_HDR_LEN + KVP_MSG_IP_LEN)

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void put32(unsigned char *p, unsigned int v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* ASCII text as UTF-16LE with its terminator; returns the byte size. */
static unsigned int put_wstr(unsigned char *p, const char *s)
{
	unsigned int n = 0;

	do {
		put16(p + 2 * n, (unsigned char)s[n]);
	} while (s[n++]);
	return 2 * n;
}

/* An IC header the way a Hyper-V host sends it: framework 3.0, KVP 4.0. */
static void host_header(unsigned char *pkt, unsigned int type,
			unsigned int size)
{
	put32(pkt + 0, 1);		/* pipe: data */
	put32(pkt + 4, 20 + size);	/* pipe: bytes after it */
	put16(pkt + 8, 3);		/* icverframe 3.0 */
	put16(pkt + 10, 0);
	put16(pkt + 12, type);		/* icmsgtype */
	put16(pkt + 14, 4);		/* icvermsg 4.0 */
	put16(pkt + 16, 0);
	put16(pkt + 18, size);		/* icmsgsize */
	put32(pkt + 20, 0);		/* status */
	pkt[24] = 0;			/* ictransaction_id */
	pkt[25] = 0x03;			/* TRANSACTION | REQUEST */
}

TEST(ic_header_parse)
{
	unsigned char pkt[64] = { 0 };
	struct kvp_ic_hdr hdr;

	host_header(pkt, 2, 36);
	ASSERT_EQ(0, kvp_ic_parse(pkt, 64, &hdr));
	EXPECT_EQ(0x00030000u, hdr.fw_version);
	EXPECT_EQ(2, hdr.type);
	EXPECT_EQ(0x00040000u, hdr.msg_version);
	EXPECT_EQ(36, hdr.size);
	EXPECT_EQ(0x03, hdr.flags);
	/* Shorter than the headers, or a size that overruns the packet. */
	EXPECT_EQ(-EINVAL, kvp_ic_parse(pkt, 27, &hdr));
	EXPECT_EQ(-EINVAL, kvp_ic_parse(pkt, 63, &hdr));
	EXPECT_EQ(0, kvp_ic_parse(pkt, 28 + 36, &hdr));
}

TEST(ic_header_build_and_reply)
{
	unsigned char want[28] = { 0 }, pkt[28];
	struct kvp_ic_hdr hdr = {
		.fw_version = KVP_VERSION(3, 0), .type = 2,
		.msg_version = KVP_VERSION(4, 0), .size = 2580,
		.flags = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST,
	};

	memset(pkt, 0xaa, sizeof(pkt));
	host_header(want, 2, 2580);
	kvp_ic_build(pkt, &hdr);
	ASSERT_EQ(0, memcmp(want, pkt, 28));

	kvp_ic_set_reply(pkt, KVP_S_CONT);
	put32(want + 20, 0x80070103);
	want[25] = 0x05;		/* TRANSACTION | RESPONSE */
	ASSERT_EQ(0, memcmp(want, pkt, 28));
}

/* The host's offer: framework 1.0, 3.0; KVP 3.0, 4.0, 5.0. */
static size_t host_negotiate(unsigned char *pkt)
{
	unsigned char *n = pkt + 28;

	memset(pkt, 0, 28 + 8 + 5 * 4);
	host_header(pkt, 0, 8 + 5 * 4);
	put16(n, 2);
	put16(n + 2, 3);
	put16(n + 8, 1);	/* 1.0 */
	put16(n + 12, 3);	/* 3.0 */
	put16(n + 16, 3);	/* KVP 3.0 */
	put16(n + 20, 4);	/* KVP 4.0 */
	put16(n + 24, 5);	/* KVP 5.0 */
	return 28 + 8 + 5 * 4;
}

TEST(negotiate_picks_3_0_and_4_0)
{
	unsigned char pkt[64], want[64];
	size_t len = host_negotiate(pkt);
	u32 fw = 0, msg = 0;

	memcpy(want, pkt, len);
	ASSERT_EQ(0, kvp_ic_negotiate(pkt, len, &kvp_msg_versions, &fw, &msg));
	EXPECT_EQ(KVP_VERSION(3, 0), fw);
	EXPECT_EQ(KVP_VERSION(4, 0), msg);
	kvp_ic_set_reply(pkt, KVP_S_OK);

	put16(want + 18, 16);		/* icmsgsize */
	want[25] = 0x05;
	put16(want + 28, 1);		/* one framework version */
	put16(want + 30, 1);		/* one message version */
	put16(want + 36, 3);		/* 3.0 */
	put16(want + 38, 0);
	put16(want + 40, 4);		/* 4.0 */
	put16(want + 42, 0);
	ASSERT_EQ(0, memcmp(want, pkt, len));
}

TEST(negotiate_old_host)
{
	unsigned char pkt[64];
	size_t len = host_negotiate(pkt);
	u32 fw, msg;

	/* A host offering framework 1.0 only and KVP 3.0 only. */
	put16(pkt + 28, 1);
	put16(pkt + 30, 1);
	put16(pkt + 36, 1);
	put16(pkt + 40, 3);
	ASSERT_EQ(0, kvp_ic_negotiate(pkt, len, &kvp_msg_versions, &fw, &msg));
	EXPECT_EQ(KVP_VERSION(1, 0), fw);
	EXPECT_EQ(KVP_VERSION(3, 0), msg);
}

TEST(negotiate_no_common_version)
{
	unsigned char pkt[64];
	size_t len = host_negotiate(pkt);
	u32 fw, msg;

	put16(pkt + 44, 9);	/* KVP 3.0 -> 9.0 */
	put16(pkt + 48, 9);	/* KVP 4.0 -> 9.0 */
	ASSERT_EQ(-EPROTO, kvp_ic_negotiate(pkt, len, &kvp_msg_versions, &fw, &msg));
	EXPECT_EQ(0, pkt[28] | pkt[29] | pkt[30] | pkt[31]);
}

TEST(negotiate_malformed)
{
	unsigned char pkt[64];
	size_t len = host_negotiate(pkt);
	u32 fw, msg;

	/* Counts promising more versions than the payload holds. */
	put16(pkt + 30, 4);
	EXPECT_EQ(-EINVAL, kvp_ic_negotiate(pkt, len, &kvp_msg_versions, &fw, &msg));
	/* Counts over the limit of 100. */
	len = host_negotiate(pkt);
	put16(pkt + 28, 101);
	EXPECT_EQ(-EINVAL, kvp_ic_negotiate(pkt, len, &kvp_msg_versions, &fw, &msg));
	/* A payload too short for the negotiate header. */
	len = host_negotiate(pkt);
	put16(pkt + 18, 4);
	EXPECT_EQ(-EINVAL, kvp_ic_negotiate(pkt, len, &kvp_msg_versions, &fw, &msg));
	/* A packet shorter than its icmsgsize. */
	len = host_negotiate(pkt);
	EXPECT_EQ(-EINVAL, kvp_ic_negotiate(pkt, len - 1, &kvp_msg_versions, &fw, &msg));
}

TEST(negotiate_host_side_roundtrip)
{
	static const u32 fw[] = { KVP_VERSION(1, 0), KVP_VERSION(3, 0) };
	static const u32 msgv[] = { KVP_VERSION(3, 0), KVP_VERSION(4, 0),
				    KVP_VERSION(5, 0) };
	unsigned char pkt[64], want[64];
	u32 f, m;
	size_t len;

	len = kvp_ic_build_negotiate(pkt, sizeof(pkt), fw, 2, msgv, 3);
	ASSERT_EQ(host_negotiate(want), len);
	/* Header versions of a negotiate request are 1.0/1.0. */
	put16(want + 8, 1);
	put16(want + 14, 1);
	ASSERT_EQ(0, memcmp(want, pkt, len));
	ASSERT_EQ(0, kvp_ic_negotiate(pkt, len, &kvp_msg_versions, &f, &m));
	kvp_ic_set_reply(pkt, KVP_S_OK);
	ASSERT_EQ(0, kvp_ic_parse_negotiate_reply(pkt, len, &f, &m));
	EXPECT_EQ(KVP_VERSION(3, 0), f);
	EXPECT_EQ(KVP_VERSION(4, 0), m);
	/* A reply without the RESPONSE flag is refused. */
	pkt[25] = 0x01;
	EXPECT_EQ(-EPROTO, kvp_ic_parse_negotiate_reply(pkt, len, &f, &m));
	ASSERT_EQ(0, kvp_ic_build_negotiate(pkt, 40, fw, 2, msgv, 3));
}

/* A SET of the hand-built layout: value_type @4, sizes @8/@12, key @16. */
static void set_request(unsigned char *p, unsigned int pool, const char *key,
			const char *value)
{
	memset(p, 0, KVP_MSG_ENUM_LEN);
	p[0] = 1;
	p[1] = pool;
	put32(p + 4, 1);
	put32(p + 8, put_wstr(p + 16, key));
	put32(p + 12, put_wstr(p + 528, value));
}

TEST(set_decode)
{
	unsigned char p[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg;

	set_request(p, 0, "HostName", "host-1");
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_EQ(KVP_OP_SET, msg.op);
	EXPECT_EQ(0, msg.pool);
	EXPECT_STREQ("HostName", msg.key);
	EXPECT_EQ(8, msg.key_len);
	EXPECT_STREQ("host-1", msg.value);
	EXPECT_EQ(6, msg.value_len);
	/* A host that sends the 2580-byte message for every operation. */
	ASSERT_EQ(0, kvp_msg_decode(p, 2580, &msg));
	/* Just long enough for the strings it carries. */
	ASSERT_EQ(0, kvp_msg_decode(p, 528 + 14, &msg));
	ASSERT_EQ(-EINVAL, kvp_msg_decode(p, 528 + 13, &msg));
}

TEST(set_encode_matches_layout)
{
	unsigned char want[KVP_MSG_ENUM_LEN], p[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg = {
		.op = KVP_OP_SET, .pool = 3, .key = "VirtualMachineName",
		.key_len = 18, .value = "vm-7", .value_len = 4,
	};

	set_request(want, 3, "VirtualMachineName", "vm-7");
	memset(p, 0x55, sizeof(p));
	ASSERT_EQ(0, kvp_msg_encode(p, 2576, &msg));
	ASSERT_EQ(0, memcmp(want, p, 2576));
}

TEST(set_numeric_values)
{
	unsigned char p[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg;

	set_request(p, 0, "n", "");
	put32(p + 4, 4);		/* REG_U32 */
	put32(p + 528, 0x12345678);
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_STREQ("305419896", msg.value);
	put32(p + 4, 8);		/* REG_U64 */
	put32(p + 528, 0xffffffff);
	put32(p + 532, 0xffffffff);
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_STREQ("18446744073709551615", msg.value);
	put32(p + 4, 11);		/* REG_QWORD, as Windows numbers it */
	put32(p + 532, 0);
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_STREQ("4294967295", msg.value);
	put32(p + 4, 4);
	put32(p + 528, 0);
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_STREQ("0", msg.value);
}

TEST(delete_layout)
{
	unsigned char want[KVP_MSG_DELETE_LEN], p[KVP_MSG_DELETE_LEN];
	struct kvp_msg msg = {
		.op = KVP_OP_DELETE, .pool = 0, .key = "gone", .key_len = 4,
	};

	memset(want, 0, sizeof(want));
	want[0] = 2;
	put32(want + 4, put_wstr(want + 8, "gone"));
	ASSERT_EQ(520, kvp_msg_len(KVP_OP_DELETE));
	ASSERT_EQ(0, kvp_msg_encode(p, sizeof(p), &msg));
	ASSERT_EQ(0, memcmp(want, p, sizeof(p)));
	ASSERT_EQ(0, kvp_msg_decode(want, sizeof(want), &msg));
	EXPECT_EQ(KVP_OP_DELETE, msg.op);
	EXPECT_STREQ("gone", msg.key);
	EXPECT_EQ(-EINVAL, kvp_msg_encode(p, 519, &msg));
}

TEST(enumerate_request_and_reply)
{
	unsigned char p[KVP_MSG_ENUM_LEN], want[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg;

	/* The host's request: index 7 of pool 2, nothing else set. */
	memset(p, 0, sizeof(p));
	p[0] = 3;
	p[1] = 2;
	put32(p + 4, 7);
	ASSERT_EQ(0, kvp_msg_decode(p, sizeof(p), &msg));
	EXPECT_EQ(KVP_OP_ENUMERATE, msg.op);
	EXPECT_EQ(2, msg.pool);
	EXPECT_EQ(7, msg.index);
	EXPECT_STREQ("", msg.key);

	/* The guest's reply in place: REG_SZ @8, sizes @12/@16, key @20. */
	strcpy(msg.key, "OSName");
	msg.key_len = 6;
	strcpy(msg.value, "Debian GNU/Linux");
	msg.value_len = 16;
	ASSERT_EQ(0, kvp_msg_encode(p, sizeof(p), &msg));
	memset(want, 0, sizeof(want));
	want[0] = 3;
	want[1] = 2;
	put32(want + 4, 7);
	put32(want + 8, 1);
	put32(want + 12, put_wstr(want + 20, "OSName"));
	put32(want + 16, put_wstr(want + 532, "Debian GNU/Linux"));
	ASSERT_EQ(0, memcmp(want, p, sizeof(p)));
	ASSERT_EQ(2580, kvp_msg_len(KVP_OP_ENUMERATE));
}

TEST(get_layout)
{
	unsigned char p[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg;

	set_request(p, 1, "k", "");
	p[0] = 0;
	put32(p + 12, 0);
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_EQ(KVP_OP_GET, msg.op);
	EXPECT_STREQ("k", msg.key);
	strcpy(msg.value, "v");
	msg.value_len = 1;
	ASSERT_EQ(0, kvp_msg_encode(p, 2576, &msg));
	EXPECT_EQ(4, p[12]);		/* value_size: "v" + terminator */
	EXPECT_EQ('v', p[528]);
	EXPECT_EQ(0, p[530] | p[531]);
}

/*
 * A request is read only for what the host sends: the fields the guest
 * writes back may hold anything (a host reusing its buffer leaves old
 * bytes there).  A reply is read for what the guest writes.
 */
TEST(output_fields_ignored)
{
	unsigned char p[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg;

	memset(p, 0xff, sizeof(p));
	p[0] = KVP_OP_ENUMERATE;
	p[1] = 2;
	put16(p + 2, 0);
	put32(p + 4, 7);
	ASSERT_EQ(0, kvp_msg_decode(p, sizeof(p), &msg));
	EXPECT_EQ(7, msg.index);
	EXPECT_STREQ("", msg.key);
	EXPECT_EQ(-EINVAL, kvp_msg_decode_reply(p, sizeof(p), &msg));

	set_request(p, 1, "k", "");
	p[0] = KVP_OP_GET;
	put32(p + 4, 0x1234);			/* stale value_type */
	put32(p + 12, 0xffffffff);		/* stale value_size */
	memset(p + 528, 0xff, KVP_VALUE_BYTES);
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_STREQ("k", msg.key);
	EXPECT_STREQ("", msg.value);
	EXPECT_EQ(-EINVAL, kvp_msg_decode_reply(p, 2576, &msg));
}

TEST(decode_rejects_malformed)
{
	unsigned char p[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg;

	set_request(p, 0, "key", "value");
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 3, &msg));
	/* Cut inside the fixed fields, before the key (never read past). */
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 12, &msg));
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 15, &msg));
	p[0] = KVP_OP_ENUMERATE;
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 19, &msg));
	p[0] = KVP_OP_DELETE;
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 7, &msg));
	set_request(p, 0, "key", "value");
	p[1] = 5;				/* no pool 5 */
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 2576, &msg));
	set_request(p, 0, "key", "value");
	put32(p + 8, 7);			/* odd size */
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 2576, &msg));
	put32(p + 8, 514);			/* over the 512-byte field */
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 2576, &msg));
	put32(p + 8, 6);			/* "key" without terminator */
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 2576, &msg));
	set_request(p, 0, "key", "value");
	put32(p + 12, 2050);			/* over the 2048-byte field */
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 2576, &msg));
	set_request(p, 0, "key", "value");
	put16(p + 16, 0xdc00);			/* lone low surrogate */
	EXPECT_EQ(-EINVAL, kvp_msg_decode(p, 2576, &msg));
	p[0] = 4;				/* GET_IP_INFO: not here yet */
	EXPECT_EQ(-EOPNOTSUPP, kvp_msg_decode(p, 2576, &msg));
	p[0] = 9;
	EXPECT_EQ(-EOPNOTSUPP, kvp_msg_decode(p, 2576, &msg));
}

TEST(limits_exact)
{
	unsigned char p[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg;
	int i;

	/* 255 units + terminator fill the key field exactly. */
	set_request(p, 0, "", "");
	for (i = 0; i < 255; i++)
		put16(p + 16 + 2 * i, 'k');
	put16(p + 16 + 510, 0);
	put32(p + 8, 512);
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_EQ(255, msg.key_len);
	/* 1023 CJK units: 3069 bytes of UTF-8, more than a record holds. */
	for (i = 0; i < 1023; i++)
		put16(p + 528 + 2 * i, 0x4e00);
	put16(p + 528 + 2046, 0);
	put32(p + 12, 2048);
	EXPECT_EQ(-EMSGSIZE, kvp_msg_decode(p, 2576, &msg));
	/* 682 of them (2046 bytes) still fit. */
	put16(p + 528 + 2 * 682, 0);
	put32(p + 12, 2 * 683);
	ASSERT_EQ(0, kvp_msg_decode(p, 2576, &msg));
	EXPECT_EQ(2046, msg.value_len);
}

TEST(encode_cuts_at_wire_limit)
{
	unsigned char p[KVP_MSG_ENUM_LEN];
	struct kvp_msg msg = { .op = KVP_OP_ENUMERATE };

	memset(msg.key, 'k', 300);
	msg.key[300] = '\0';
	msg.key_len = 300;
	memset(msg.value, 'v', 1022);
	/* U+1F600 needs two units: with 1022 before it only one is left. */
	memcpy(msg.value + 1022, "\xf0\x9f\x98\x80", 5);
	msg.value_len = 1026;
	ASSERT_EQ(1, kvp_msg_encode(p, sizeof(p), &msg));
	EXPECT_EQ(512, p[12] | p[13] << 8);	/* 255 units + terminator */
	EXPECT_EQ(2046, p[16] | p[17] << 8);	/* 1022 units + terminator */
	EXPECT_EQ(0, p[532 + 2044] | p[532 + 2045]);
	/* Exactly 1023 units fit without a cut. */
	memset(msg.value, 'v', 1023);
	msg.value[1023] = '\0';
	msg.value_len = 1023;
	msg.key_len = 3;
	ASSERT_EQ(0, kvp_msg_encode(p, sizeof(p), &msg));
	EXPECT_EQ(2048, p[16] | p[17] << 8);
	/* Invalid UTF-8 is refused, never sent. */
	msg.value[0] = (char)0xc0;
	msg.value[1] = (char)0x80;
	EXPECT_EQ(-EINVAL, kvp_msg_encode(p, sizeof(p), &msg));
}

TEST_HARNESS_MAIN
