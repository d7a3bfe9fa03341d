/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the harnesses share: the check that stops the run (libFuzzer saves
 * the input as a crash), and facts about UTF-8 text that the properties
 * are stated in.
 */
#ifndef _KVP_FUZZ_H
#define _KVP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: property broken: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* The UTF-16 units that valid UTF-8 `s` (len bytes) needs. */
static inline size_t fuzz_utf16_units(const char *s, size_t len)
{
	size_t i, units = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xc0) != 0x80)
			units += c >= 0xf0 ? 2 : 1;
	}
	return units;
}

/* The byte length of the character at s (valid UTF-8). */
static inline size_t fuzz_utf8_char_len(const char *s)
{
	unsigned char c = (unsigned char)s[0];

	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/*
 * Checks that `got` is what cutting valid UTF-8 `full` to at most max_units
 * UTF-16 units must keep: all of it if it fits, else the longest prefix that
 * ends at a character boundary and fits.  Returns whether it was cut.
 */
static inline bool fuzz_check_cut(const char *full, size_t full_len,
				  const char *got, size_t got_len,
				  size_t max_units)
{
	size_t units;

	if (fuzz_utf16_units(full, full_len) <= max_units) {
		FUZZ_CHECK(got_len == full_len);
		FUZZ_CHECK(!memcmp(got, full, full_len));
		return false;
	}
	FUZZ_CHECK(got_len < full_len && !memcmp(got, full, got_len));
	FUZZ_CHECK(((unsigned char)full[got_len] & 0xc0) != 0x80);
	units = fuzz_utf16_units(got, got_len);
	FUZZ_CHECK(units <= max_units);
	FUZZ_CHECK(units + fuzz_utf16_units(full + got_len,
					    fuzz_utf8_char_len(full + got_len))
		   > max_units);
	return true;
}

#endif /* _KVP_FUZZ_H */
