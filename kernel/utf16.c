// SPDX-License-Identifier: GPL-2.0
/*
 * Strict UTF-16LE <-> UTF-8 conversion for KVP keys and values.
 *
 * The kernel's own nls helpers are lenient (they pass unpaired surrogates
 * through, and their length arguments are easy to get wrong, see
 * Documentation/protocol.rst); these reject anything not well formed, and
 * never write past the given size.
 */
#include "utf16.h"

#define KVP_SURROGATE_HIGH	0xd800
#define KVP_SURROGATE_LOW	0xdc00
#define KVP_SURROGATE_END	0xe000
#define KVP_MAX_CODE_POINT	0x10ffff

/*
 * Decodes one code point from at most len bytes of UTF-8.  Returns the
 * number of bytes it took, or -EINVAL for a NUL byte, a stray continuation
 * byte, a truncated or overlong sequence, a surrogate or a value past
 * U+10FFFF.
 */
static int kvp_utf8_next(const u8 *s, size_t len, u32 *cp)
{
	static const u32 min_for_len[] = { 0, 0, 0x80, 0x800, 0x10000 };
	int need, i;
	u32 c = s[0];

	if (c == 0)
		return -EINVAL;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		need = 2;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		need = 3;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		need = 4;
		c &= 0x07;
	} else {
		return -EINVAL;
	}
	if (len < (size_t)need)
		return -EINVAL;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EINVAL;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min_for_len[need] || c > KVP_MAX_CODE_POINT ||
	    (c >= KVP_SURROGATE_HIGH && c < KVP_SURROGATE_END))
		return -EINVAL;
	*cp = c;
	return need;
}

static size_t kvp_utf8_put(char *out, u32 cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

bool kvp_utf8_valid(const char *in, size_t len)
{
	const u8 *s = (const u8 *)in;
	size_t pos = 0;
	u32 cp;
	int n;

	while (pos < len) {
		n = kvp_utf8_next(s + pos, len - pos, &cp);
		if (n < 0)
			return false;
		pos += n;
	}
	return true;
}

/*
 * Converts UTF-16LE to NUL-terminated UTF-8.  Reads at most `units` code
 * units and stops early at a NUL unit.  Returns the UTF-8 length without
 * the terminator, -EINVAL for an unpaired surrogate, or -ENOSPC when the
 * result and its terminator do not fit out_size bytes.
 */
int kvp_utf16_to_utf8(const u8 *in, size_t units, char *out, size_t out_size)
{
	size_t i, pos = 0;
	char buf[4];
	u32 cp, low;
	size_t n;

	for (i = 0; i < units; i++) {
		cp = kvp_get_le16(in + 2 * i);
		if (cp == 0)
			break;
		if (cp >= KVP_SURROGATE_LOW && cp < KVP_SURROGATE_END)
			return -EINVAL;
		if (cp >= KVP_SURROGATE_HIGH && cp < KVP_SURROGATE_LOW) {
			if (i + 1 >= units)
				return -EINVAL;
			low = kvp_get_le16(in + 2 * (i + 1));
			if (low < KVP_SURROGATE_LOW || low >= KVP_SURROGATE_END)
				return -EINVAL;
			cp = 0x10000 + ((cp - KVP_SURROGATE_HIGH) << 10) +
			     (low - KVP_SURROGATE_LOW);
			i++;
		}
		n = kvp_utf8_put(buf, cp);
		if (pos + n + 1 > out_size)
			return -ENOSPC;
		memcpy(out + pos, buf, n);
		pos += n;
	}
	if (pos + 1 > out_size)
		return -ENOSPC;
	out[pos] = '\0';
	return (int)pos;
}

/*
 * Converts len bytes of UTF-8 to NUL-terminated UTF-16LE in at most
 * max_units code units, terminator included.  What does not fit is cut at a
 * character boundary (a surrogate pair is never split) and *truncated set.
 * Returns the number of units written without the terminator, or -EINVAL
 * for input that is not valid UTF-8 (nothing meaningful is written then).
 */
int kvp_utf8_to_utf16(const char *in, size_t len, u8 *out, size_t max_units,
		      bool *truncated)
{
	const u8 *s = (const u8 *)in;
	size_t pos = 0, units = 0, need;
	u32 cp;
	int n;

	*truncated = false;
	if (max_units == 0 || !kvp_utf8_valid(in, len))
		return -EINVAL;
	while (pos < len) {
		n = kvp_utf8_next(s + pos, len - pos, &cp);
		need = cp >= 0x10000 ? 2 : 1;
		if (units + need > max_units - 1) {
			*truncated = true;
			break;
		}
		if (need == 2) {
			cp -= 0x10000;
			kvp_put_le16(out + 2 * units++,
				     (u16)(KVP_SURROGATE_HIGH + (cp >> 10)));
			cp = KVP_SURROGATE_LOW + (cp & 0x3ff);
		}
		kvp_put_le16(out + 2 * units++, (u16)cp);
		pos += n;
	}
	kvp_put_le16(out + 2 * units, 0);
	return (int)units;
}
