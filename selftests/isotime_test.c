// SPDX-License-Identifier: GPL-2.0
/*
 * kvp_iso_time_parse() (lib/isotime.c): the times `kvpctl host history
 * --since` takes and the guest's licence items hold.
 */
#include <errno.h>
#include <stdint.h>

#include "kselftest_harness.h"

#include "isotime.h"

/* 2026-12-01T00:00:00Z */
#define T0	1796083200

TEST(accepted)
{
	static const struct {
		const char *text;
		int64_t t;
	} cases[] = {
		{ "1796083200", T0 },
		{ "0", 0 },
		{ "2026-12-01", T0 },
		{ "2026-12-01T00:00", T0 },
		{ "2026-12-01T00:00:00", T0 },
		{ "2026-12-01T00:00:00Z", T0 },
		{ "2026-12-01 13:00:05Z", T0 + 13 * 3600 + 5 },
		{ "2026-12-01t00:01", T0 + 60 },
		{ "2026-12-01T01:00:00+01:00", T0 },
		{ "2026-12-01T01:30+0130", T0 },
		{ "2026-11-30T19:00:00-05", T0 },
		{ "2024-02-29", 1709164800 },
		{ "1970-01-01T00:00:00Z", 0 },
	};
	unsigned int i;
	int64_t t;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		t = -1;
		EXPECT_EQ(0, kvp_iso_time_parse(cases[i].text, &t))
			TH_LOG("%s", cases[i].text);
		EXPECT_EQ(cases[i].t, t) TH_LOG("%s", cases[i].text);
	}
}

TEST(refused)
{
	static const char cases[][24] = {
		"", "yesterday", "-5", "12x", "2026-12", "2026-12-1",
		"2026-13-01", "2026-02-30", "2025-02-29", "2026-12-00",
		"2026-12-01T24:00", "2026-12-01T12:60", "2026-12-01T12",
		"2026-12-01T12:00:61", "2026-12-01T12:00Zjunk",
		"2026-12-01T12:00+25:00", "2026-12-01T12:00+01:7",
		"2026-12-01X12:00", "26-12-01", "99999999999999999999",
	};
	unsigned int i;
	int64_t t;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		EXPECT_EQ(-EINVAL, kvp_iso_time_parse(cases[i], &t))
			TH_LOG("'%s'", cases[i]);
}

TEST_HARNESS_MAIN
