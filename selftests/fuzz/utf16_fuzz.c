// SPDX-License-Identifier: GPL-2.0
/*
 * kernel/utf16.c both ways.  Input: one byte saying how much room the
 * output gets (0: none, 255: all the text could need), then the text, read
 * once as UTF-16LE and once as UTF-8.  Every output buffer is allocated to
 * exactly the size passed, so that ASan sees a write past it.
 *
 * Properties: what is accepted converts back to itself (UTF-8 -> UTF-16 ->
 * UTF-8 is the identity when it fits, and otherwise keeps the longest
 * prefix that fits, cut between characters); what is not well formed is
 * refused; a short output only ever turns a result into -ENOSPC (UTF-16 to
 * UTF-8) or a cut (UTF-8 to UTF-16).
 */
#include "fuzz.h"
#include "utf16.h"

/* UTF-8 never takes more than 3 bytes per UTF-16 unit. */
#define UTF8_ROOM(units)	(3 * (units) + 1)

static size_t scaled(uint8_t room, size_t need)
{
	return room * need / 255;
}

/* Units before the first NUL unit. */
static size_t utf16_strlen(const u8 *in, size_t units)
{
	size_t i;

	for (i = 0; i < units; i++)
		if (kvp_get_le16(in + 2 * i) == 0)
			break;
	return i;
}

static void check_to_utf8(const u8 *in, size_t units, uint8_t room)
{
	size_t len = utf16_strlen(in, units), tight = scaled(room, UTF8_ROOM(units));
	char *out = malloc(UTF8_ROOM(units)), *small = malloc(tight);
	u8 *back = malloc(2 * (len + 1));
	bool cut;
	int ret, n;

	ret = kvp_utf16_to_utf8(in, units, out, UTF8_ROOM(units));
	n = kvp_utf16_to_utf8(in, units, small, tight);
	if (ret < 0) {
		FUZZ_CHECK(ret == -EINVAL);
		FUZZ_CHECK(n == -EINVAL || n == -ENOSPC);
		goto out;
	}
	FUZZ_CHECK(strlen(out) == (size_t)ret);
	FUZZ_CHECK(kvp_utf8_valid(out, ret));
	if ((size_t)ret < tight)
		FUZZ_CHECK(n == ret && !memcmp(small, out, ret + 1));
	else
		FUZZ_CHECK(n == -ENOSPC);
	/* Back to the same units, up to the first NUL. */
	FUZZ_CHECK(kvp_utf8_to_utf16(out, ret, back, len + 1, &cut) ==
		   (int)len);
	FUZZ_CHECK(!cut && !memcmp(back, in, 2 * len));
	FUZZ_CHECK(kvp_get_le16(back + 2 * len) == 0);
out:
	free(out);
	free(small);
	free(back);
}

static void check_to_utf16(const char *in, size_t len, uint8_t room)
{
	size_t max_units = scaled(room, len + 1);
	u8 *out = malloc(2 * max_units);
	char *back = NULL;
	bool cut;
	int n, m;

	n = kvp_utf8_to_utf16(in, len, out, max_units, &cut);
	if (!kvp_utf8_valid(in, len) || max_units == 0) {
		FUZZ_CHECK(n == -EINVAL);
		goto out;
	}
	FUZZ_CHECK(n >= 0 && (size_t)n < max_units);
	FUZZ_CHECK(utf16_strlen(out, n + 1) == (size_t)n);
	back = malloc(UTF8_ROOM(n));
	m = kvp_utf16_to_utf8(out, n + 1, back, UTF8_ROOM(n));
	FUZZ_CHECK(m >= 0);
	FUZZ_CHECK(fuzz_check_cut(in, len, back, m, max_units - 1) == cut);
out:
	free(out);
	free(back);
}

/* libFuzzer hands over an exact-size copy: reading past it shows too. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	check_to_utf8(data + 1, (size - 1) / 2, data[0]);
	check_to_utf16((const char *)data + 1, size - 1, data[0]);
	return 0;
}
