// SPDX-License-Identifier: GPL-2.0
/*
 * The vsock framing (kernel/frame.c, uapi/kvp_vsock.h): the exact bytes
 * kvp_frame_build() writes, what kvp_frame_parse() accepts and rejects, and
 * the WELCOME payload of each version.
 * Runs the module's own frame.c, compiled for userspace into libkvp.a.
 */
#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "kselftest_harness.h"

/* A PACKET frame, version 1, 0x1234 payload bytes, id 0x0102030405060708. */
static const u8 golden[KVP_VSOCK_HDR_LEN] = {
	'K', 'V', 'P', 'F',			/* magic 0x4650564b, LE */
	0x01, 0x00,				/* version 1 */
	0x03, 0x00,				/* type PACKET */
	0x34, 0x12, 0x00, 0x00,			/* length 0x1234 */
	0x00, 0x00, 0x00, 0x00,			/* flags */
	0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	/* id */
};

/* The same in version 2, on service 1 (activation). */
static const u8 golden_v2[KVP_VSOCK_HDR_LEN] = {
	'K', 'V', 'P', 'F',			/* magic 0x4650564b, LE */
	0x02, 0x00,				/* version 2 */
	0x03, 0x00,				/* type PACKET */
	0x34, 0x12, 0x00, 0x00,			/* length 0x1234 */
	0x01, 0x00,				/* service 1 */
	0x00, 0x00,				/* flags */
	0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	/* id */
};

static const struct kvp_frame golden_frame = {
	.version = 1,
	.type = KVP_VSOCK_PACKET,
	.length = 0x1234,
	.id = 0x0102030405060708ULL,
};

TEST(header_is_24_bytes)
{
	ASSERT_EQ(24, KVP_VSOCK_HDR_LEN);
	ASSERT_EQ(KVP_VSOCK_HDR_LEN, KVP_VSOCK_OFF_ID + 8);
	ASSERT_EQ(KVP_VSOCK_OFF_FLAGS, KVP_VSOCK_OFF_SERVICE + 2);
	/* The magic reads "KVPF" in memory. */
	ASSERT_EQ(0, memcmp(golden, "KVPF", 4));
}

TEST(build_golden)
{
	u8 hdr[KVP_VSOCK_HDR_LEN + 1];

	/* Every byte is written, and none past the header. */
	memset(hdr, 0xa5, sizeof(hdr));
	kvp_frame_build(hdr, &golden_frame);
	ASSERT_EQ(0, memcmp(hdr, golden, KVP_VSOCK_HDR_LEN));
	ASSERT_EQ(0xa5, hdr[KVP_VSOCK_HDR_LEN]);
}

TEST(build_golden_v2)
{
	struct kvp_frame f = golden_frame;
	u8 hdr[KVP_VSOCK_HDR_LEN];

	f.version = 2;
	f.service = KVP_VSOCK_SERVICE_ACTIVATION;
	kvp_frame_build(hdr, &f);
	ASSERT_EQ(0, memcmp(hdr, golden_v2, KVP_VSOCK_HDR_LEN));
}

TEST(parse_golden)
{
	struct kvp_frame f;

	memset(&f, 0xff, sizeof(f));
	ASSERT_EQ(0, kvp_frame_parse(golden, &f));
	EXPECT_EQ(1, f.version);
	EXPECT_EQ(KVP_VSOCK_PACKET, f.type);
	EXPECT_EQ(0x1234U, f.length);
	EXPECT_EQ(0x0102030405060708ULL, f.id);
	EXPECT_EQ(0, f.service);

	ASSERT_EQ(0, kvp_frame_parse(golden_v2, &f));
	EXPECT_EQ(2, f.version);
	EXPECT_EQ(KVP_VSOCK_SERVICE_ACTIVATION, f.service);
	EXPECT_EQ(0x1234U, f.length);
}

TEST(round_trip)
{
	static const struct kvp_frame frames[] = {
		{ .version = 1, .type = KVP_VSOCK_HELLO },
		{ .version = 1, .type = KVP_VSOCK_WELCOME },
		{ .version = 0xffff, .type = 0xffff },
		{ .version = 1, .type = KVP_VSOCK_PACKET,
		  .length = KVP_VSOCK_MAX_PAYLOAD, .id = ~0ULL },
		{ .version = 2, .type = KVP_VSOCK_PACKET, .service = 0xffff,
		  .length = 1, .id = 1 },
	};
	u8 hdr[KVP_VSOCK_HDR_LEN];
	struct kvp_frame f;
	size_t i;

	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		kvp_frame_build(hdr, &frames[i]);
		ASSERT_EQ(0, kvp_frame_parse(hdr, &f)) TH_LOG("frame %zu", i);
		EXPECT_EQ(frames[i].version, f.version);
		EXPECT_EQ(frames[i].type, f.type);
		EXPECT_EQ(frames[i].length, f.length);
		EXPECT_EQ(frames[i].id, f.id);
		EXPECT_EQ(frames[i].service, f.service);
	}
}

TEST(bad_magic)
{
	struct kvp_frame f;
	u8 hdr[KVP_VSOCK_HDR_LEN];
	int i;

	/* Any change in any magic byte is refused. */
	for (i = 0; i < 4; i++) {
		memcpy(hdr, golden, sizeof(hdr));
		hdr[KVP_VSOCK_OFF_MAGIC + i] ^= 0x20;
		EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f)) TH_LOG("byte %d", i);
	}
	/* Big-endian magic too. */
	memcpy(hdr, golden, sizeof(hdr));
	memcpy(hdr, "FPVK", 4);
	EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f));
}

/* Version 1: offsets 12-15 are all flags, zero; version 2: 14-15. */
TEST(nonzero_flags)
{
	struct kvp_frame f;
	u8 hdr[KVP_VSOCK_HDR_LEN];
	int i;

	for (i = 0; i < 4; i++) {
		memcpy(hdr, golden, sizeof(hdr));
		hdr[KVP_VSOCK_OFF_SERVICE + i] = 0x01;
		EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f)) TH_LOG("byte %d", i);
		hdr[KVP_VSOCK_OFF_SERVICE + i] = 0x80;
		EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f)) TH_LOG("byte %d", i);
	}
	for (i = 0; i < 2; i++) {
		memcpy(hdr, golden_v2, sizeof(hdr));
		hdr[KVP_VSOCK_OFF_FLAGS + i] = 0x01;
		EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f)) TH_LOG("byte %d", i);
		hdr[KVP_VSOCK_OFF_FLAGS + i] = 0x80;
		EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f)) TH_LOG("byte %d", i);
	}
	/* Any service parses in version 2: the connection decides. */
	memcpy(hdr, golden_v2, sizeof(hdr));
	kvp_put_le16(hdr + KVP_VSOCK_OFF_SERVICE, 0xffff);
	ASSERT_EQ(0, kvp_frame_parse(hdr, &f));
	EXPECT_EQ(0xffff, f.service);
}

TEST(length_limit)
{
	struct kvp_frame f = golden_frame;
	u8 hdr[KVP_VSOCK_HDR_LEN];

	f.length = KVP_VSOCK_MAX_PAYLOAD;
	kvp_frame_build(hdr, &f);
	ASSERT_EQ(0, kvp_frame_parse(hdr, &f));
	ASSERT_EQ(16384U, f.length);

	f.length = KVP_VSOCK_MAX_PAYLOAD + 1;
	kvp_frame_build(hdr, &f);
	EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f));

	/* The top bit set: no sign trouble. */
	kvp_put_le32(hdr + KVP_VSOCK_OFF_LENGTH, 0x80000000U);
	EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f));
	kvp_put_le32(hdr + KVP_VSOCK_OFF_LENGTH, 0xffffffffU);
	EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f));
}

TEST(version_zero)
{
	struct kvp_frame f;
	u8 hdr[KVP_VSOCK_HDR_LEN];

	memcpy(hdr, golden, sizeof(hdr));
	hdr[KVP_VSOCK_OFF_VERSION] = 0;
	EXPECT_EQ(-EINVAL, kvp_frame_parse(hdr, &f));

	/* Versions above ours parse: HELLO carries the peer's highest. */
	hdr[KVP_VSOCK_OFF_VERSION] = 2;
	EXPECT_EQ(0, kvp_frame_parse(hdr, &f));
	EXPECT_EQ(2, f.version);
	hdr[KVP_VSOCK_OFF_VERSION] = 3;
	EXPECT_EQ(0, kvp_frame_parse(hdr, &f));
	EXPECT_EQ(3, f.version);
}

/* A version-2 WELCOME and its payload, byte for byte (protocol.rst 6.3). */
TEST(welcome_v2_bytes)
{
	static const u8 want[KVP_VSOCK_HDR_LEN + KVP_VSOCK_WELCOME_LEN] = {
		'K', 'V', 'P', 'F', 0x02, 0x00, 0x02, 0x00,
		0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00,
	};
	struct kvp_frame f = { .version = 2, .type = KVP_VSOCK_WELCOME };
	u8 buf[sizeof(want)];
	u32 services;

	memset(buf, 0xa5, sizeof(buf));
	f.length = kvp_frame_welcome_build(buf + KVP_VSOCK_HDR_LEN, 2,
					   1U << KVP_VSOCK_SERVICE_KVP);
	ASSERT_EQ(KVP_VSOCK_WELCOME_LEN, f.length);
	kvp_frame_build(buf, &f);
	ASSERT_EQ(0, memcmp(want, buf, sizeof(want)));

	ASSERT_EQ(0, kvp_frame_parse(buf, &f));
	ASSERT_EQ(0, kvp_frame_welcome_parse(&f, buf + KVP_VSOCK_HDR_LEN, 2, 3,
					     &services));
	EXPECT_EQ(1U, services);
	/* A guest that said HELLO 3 takes it too. */
	EXPECT_EQ(0, kvp_frame_welcome_parse(&f, buf + KVP_VSOCK_HDR_LEN, 3, 3,
					     &services));
}

TEST(welcome_v1_is_empty)
{
	struct kvp_frame f = { .version = 1, .type = KVP_VSOCK_WELCOME };
	u8 payload[KVP_VSOCK_WELCOME_LEN] = { 0xa5, 0xa5, 0xa5, 0xa5 };
	u32 services = 0;

	EXPECT_EQ(0U, kvp_frame_welcome_build(payload, 1, 0xffffffffU));
	EXPECT_EQ(0xa5, payload[0]);
	ASSERT_EQ(0, kvp_frame_welcome_parse(&f, payload, 2, 3, &services));
	EXPECT_EQ(1U << KVP_VSOCK_SERVICE_KVP, services);
	ASSERT_EQ(0, kvp_frame_welcome_parse(&f, payload, 1, 3, &services));
}

/* What a guest refuses instead of a WELCOME (protocol.rst 6.3). */
TEST(welcome_refused)
{
	const struct kvp_frame good = { .version = 2,
					.type = KVP_VSOCK_WELCOME,
					.length = KVP_VSOCK_WELCOME_LEN };
	const u8 payload[KVP_VSOCK_WELCOME_LEN] = { 1 };
	const u8 activation_only[KVP_VSOCK_WELCOME_LEN] = { 2 };
	struct kvp_frame f;
	u32 services;

	f = good;
	EXPECT_EQ(0, kvp_frame_welcome_parse(&f, payload, 2, 3, &services));
	/* A version above the HELLO's. */
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 1, 3,
						   &services));
	f.version = 3;
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 2, 3,
						   &services));
	/* The wrong length for its version, either way. */
	f = good;
	f.length = 0;
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 2, 3,
						   &services));
	f = good;
	f.version = 1;
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 2, 3,
						   &services));
	/* An id, a service, another type. */
	f = good;
	f.id = 1;
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 2, 3,
						   &services));
	f = good;
	f.service = 1;
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 2, 3,
						   &services));
	f = good;
	f.type = KVP_VSOCK_PACKET;
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 2, 3,
						   &services));
	/* A version-2 mask without the KVP exchange. */
	f = good;
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, activation_only, 2, 3,
						   &services));
}

/* HELLO payloads, byte for byte (protocol.rst 6.3), and their parsing. */
TEST(hello_v3_bytes)
{
	static const u8 want[KVP_VSOCK_HDR_LEN + KVP_VSOCK_HELLO_LEN] = {
		'K', 'V', 'P', 'F', 0x03, 0x00, 0x01, 0x00,
		0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x03, 0x00, 0x00, 0x00,
	};
	struct kvp_frame f = { .version = 3, .type = KVP_VSOCK_HELLO };
	u8 buf[sizeof(want)];
	u32 services;

	memset(buf, 0xa5, sizeof(buf));
	f.length = kvp_frame_hello_build(buf + KVP_VSOCK_HDR_LEN, 3, 3);
	ASSERT_EQ(KVP_VSOCK_HELLO_LEN, f.length);
	kvp_frame_build(buf, &f);
	ASSERT_EQ(0, memcmp(want, buf, sizeof(want)));
	ASSERT_EQ(0, kvp_frame_parse(buf, &f));
	ASSERT_EQ(0, kvp_frame_hello_parse(&f, buf + KVP_VSOCK_HDR_LEN,
					   &services));
	EXPECT_EQ(3U, services);
}

/* Versions 1 and 2: empty, from a guest of the KVP exchange alone. */
TEST(hello_v1_v2_are_empty)
{
	u8 payload[KVP_VSOCK_HELLO_LEN] = { 0xa5, 0xa5, 0xa5, 0xa5 };
	struct kvp_frame f = { .type = KVP_VSOCK_HELLO };
	u32 services = 0;

	for (f.version = 1; f.version <= 2; f.version++) {
		EXPECT_EQ(0U, kvp_frame_hello_build(payload, f.version, 3));
		EXPECT_EQ(0xa5, payload[0]);
		ASSERT_EQ(0, kvp_frame_hello_parse(&f, payload, &services));
		EXPECT_EQ(1U << KVP_VSOCK_SERVICE_KVP, services);
	}
}

/* A later version may only append: its first 4 bytes are the mask. */
TEST(hello_newer_version)
{
	const u8 payload[12] = { 0x07, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	struct kvp_frame f = { .version = KVP_VSOCK_VERSION_MAX + 1,
			       .type = KVP_VSOCK_HELLO };
	u32 services = 0;

	for (f.length = 4; f.length <= sizeof(payload); f.length += 4) {
		ASSERT_EQ(0, kvp_frame_hello_parse(&f, payload, &services));
		EXPECT_EQ(7U, services);
	}
	f.version = 0xffff;
	EXPECT_EQ(0, kvp_frame_hello_parse(&f, payload, &services));
	f.length = 3;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
	f.length = 0;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
}

/* What a host refuses instead of a HELLO. */
TEST(hello_refused)
{
	const struct kvp_frame good = { .version = 3, .type = KVP_VSOCK_HELLO,
					.length = KVP_VSOCK_HELLO_LEN };
	const u8 payload[8] = { 1 }, no_kvp[4] = { 2 };
	struct kvp_frame f;
	u32 services;

	f = good;
	EXPECT_EQ(0, kvp_frame_hello_parse(&f, payload, &services));
	/* The wrong length for its version. */
	f.length = 0;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
	f.length = 3;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
	f.length = 8;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
	f.length = 4;
	f.version = 2;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
	f.version = 1;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
	/* A mask without the KVP exchange. */
	f = good;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, no_kvp, &services));
	/* An id, a service, another type. */
	f = good;
	f.id = 1;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
	f = good;
	f.service = 1;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
	f = good;
	f.type = KVP_VSOCK_WELCOME;
	EXPECT_EQ(-EINVAL, kvp_frame_hello_parse(&f, payload, &services));
}

/*
 * A version-3 WELCOME holds the KVP exchange and only services the HELLO
 * named; version 2's mask is the host's and is not checked.
 */
TEST(welcome_v3_mask)
{
	struct kvp_frame f = { .version = 3, .type = KVP_VSOCK_WELCOME,
			       .length = KVP_VSOCK_WELCOME_LEN };
	u8 payload[KVP_VSOCK_WELCOME_LEN];
	u32 services;

	kvp_put_le32(payload, 3);
	ASSERT_EQ(0, kvp_frame_welcome_parse(&f, payload, 3, 3, &services));
	EXPECT_EQ(3U, services);
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 3, 1,
						   &services));
	kvp_put_le32(payload, 2);
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 3, 3,
						   &services));
	kvp_put_le32(payload, 0);
	EXPECT_EQ(-EINVAL, kvp_frame_welcome_parse(&f, payload, 3, 3,
						   &services));
	f.version = 2;
	kvp_put_le32(payload, 0x80000003U);
	ASSERT_EQ(0, kvp_frame_welcome_parse(&f, payload, 3, 1, &services));
	EXPECT_EQ(0x80000003U, services);
}

TEST(serves)
{
	EXPECT_TRUE(kvp_frame_serves(1, KVP_VSOCK_SERVICE_KVP));
	EXPECT_FALSE(kvp_frame_serves(1, KVP_VSOCK_SERVICE_ACTIVATION));
	EXPECT_TRUE(kvp_frame_serves(0x80000000U, 31));
	EXPECT_FALSE(kvp_frame_serves(0xffffffffU, 32));
	EXPECT_FALSE(kvp_frame_serves(0xffffffffU, 0xffff));
}

TEST_HARNESS_MAIN
