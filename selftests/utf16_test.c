// SPDX-License-Identifier: GPL-2.0
/*
 * UTF-16LE <-> UTF-8 edge cases for the module's converter (kernel/utf16.c):
 * surrogate pairs, unpaired surrogates, invalid UTF-8, exact limits.
 */
#include <string.h>

#include "kselftest_harness.h"

#include "utf16.h"

static size_t wire(unsigned char *out, const unsigned int *units, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = units[i] & 0xff;
		out[2 * i + 1] = units[i] >> 8;
	}
	return n;
}

TEST(bmp_and_ascii)
{
	static const unsigned int in[] = { 'A', 0xe9, 0x4e2d, 0 };
	unsigned char buf[8];
	char out[16];

	wire(buf, in, 4);
	ASSERT_EQ(6, kvp_utf16_to_utf8(buf, 4, out, sizeof(out)));
	EXPECT_STREQ("A\xc3\xa9\xe4\xb8\xad", out);
}

TEST(surrogate_pair_both_ways)
{
	static const unsigned int in[] = { 0xd83d, 0xde00, 0 };
	unsigned char buf[8], back[8];
	bool cut;
	char out[8];

	wire(buf, in, 3);
	ASSERT_EQ(4, kvp_utf16_to_utf8(buf, 3, out, sizeof(out)));
	EXPECT_EQ(0, memcmp("\xf0\x9f\x98\x80", out, 5));
	ASSERT_EQ(2, kvp_utf8_to_utf16(out, 4, back, 4, &cut));
	EXPECT_FALSE(cut);
	EXPECT_EQ(0, memcmp(buf, back, 6));
}

TEST(unpaired_surrogates_rejected)
{
	static const unsigned int lone_high[] = { 'a', 0xd800, 0 };
	static const unsigned int lone_low[] = { 0xdc00, 'a', 0 };
	static const unsigned int high_then_text[] = { 0xd800, 'a', 0 };
	static const unsigned int high_at_end[] = { 'a', 0xdbff };
	unsigned char buf[8];
	char out[16];

	wire(buf, lone_high, 3);
	EXPECT_EQ(-EINVAL, kvp_utf16_to_utf8(buf, 3, out, sizeof(out)));
	wire(buf, lone_low, 3);
	EXPECT_EQ(-EINVAL, kvp_utf16_to_utf8(buf, 3, out, sizeof(out)));
	wire(buf, high_then_text, 3);
	EXPECT_EQ(-EINVAL, kvp_utf16_to_utf8(buf, 3, out, sizeof(out)));
	wire(buf, high_at_end, 2);
	EXPECT_EQ(-EINVAL, kvp_utf16_to_utf8(buf, 2, out, sizeof(out)));
}

TEST(output_size_exact)
{
	static const unsigned int in[] = { 'a', 'b', 'c', 0 };
	unsigned char buf[8];
	char out[4];

	wire(buf, in, 4);
	EXPECT_EQ(3, kvp_utf16_to_utf8(buf, 4, out, 4));
	EXPECT_EQ(-ENOSPC, kvp_utf16_to_utf8(buf, 4, out, 3));
	/* Stops at the terminator, or at the unit count without one. */
	EXPECT_EQ(2, kvp_utf16_to_utf8(buf, 2, out, 4));
	EXPECT_STREQ("ab", out);
}

TEST(invalid_utf8_rejected)
{
	static const char *const bad[] = {
		"\xc0\x80",		/* overlong NUL */
		"\xc1\xbf",		/* overlong */
		"\xe0\x80\x80",		/* overlong */
		"\xf0\x80\x80\x80",	/* overlong */
		"\xed\xa0\x80",		/* UTF-16 surrogate D800 */
		"\xf4\x90\x80\x80",	/* above U+10FFFF */
		"\xe4\xb8",		/* truncated */
		"\x80",			/* stray continuation */
		"\xfe",			/* never valid */
		"a\xc3",		/* truncated at the end */
	};
	unsigned char buf[16];
	size_t i;
	bool cut;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_FALSE(kvp_utf8_valid(bad[i], strlen(bad[i])));
		EXPECT_EQ(-EINVAL, kvp_utf8_to_utf16(bad[i], strlen(bad[i]),
						     buf, 8, &cut));
	}
	/* An embedded NUL inside the given length is not text either. */
	EXPECT_FALSE(kvp_utf8_valid("a\0b", 3));
	EXPECT_TRUE(kvp_utf8_valid("\xf4\x8f\xbf\xbf", 4));	/* U+10FFFF */
	EXPECT_TRUE(kvp_utf8_valid("", 0));
}

TEST(truncation_at_character_boundary)
{
	unsigned char buf[16];
	bool cut;

	/* 4 units with the terminator: "ab" + a pair does not fit. */
	ASSERT_EQ(2, kvp_utf8_to_utf16("ab\xf0\x9f\x98\x80", 6, buf, 4, &cut));
	EXPECT_TRUE(cut);
	EXPECT_EQ(0, buf[4] | buf[5]);
	/* 5 units: it does. */
	ASSERT_EQ(4, kvp_utf8_to_utf16("ab\xf0\x9f\x98\x80", 6, buf, 5, &cut));
	EXPECT_FALSE(cut);
	/* Only the terminator fits. */
	ASSERT_EQ(0, kvp_utf8_to_utf16("abc", 3, buf, 1, &cut));
	EXPECT_TRUE(cut);
	EXPECT_EQ(-EINVAL, kvp_utf8_to_utf16("abc", 3, buf, 0, &cut));
}

TEST(every_bmp_code_point_round_trips)
{
	unsigned char w[4], back[4];
	char u[8];
	unsigned int cp;
	bool cut;
	int n;

	for (cp = 1; cp < 0x10000; cp++) {
		if (cp >= 0xd800 && cp < 0xe000)
			continue;
		w[0] = cp & 0xff;
		w[1] = cp >> 8;
		w[2] = w[3] = 0;
		n = kvp_utf16_to_utf8(w, 2, u, sizeof(u));
		ASSERT_GE(n, 1);
		ASSERT_TRUE(kvp_utf8_valid(u, n));
		ASSERT_EQ(1, kvp_utf8_to_utf16(u, n, back, 2, &cut));
		ASSERT_EQ(0, memcmp(w, back, 4));
	}
}

TEST_HARNESS_MAIN
