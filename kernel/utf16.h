/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strict UTF-16LE <-> UTF-8 conversion for KVP strings.  Pure code, shared
 * with userspace (see wire.h).
 *
 * Both directions reject what is not well formed (unpaired surrogates,
 * overlong or truncated UTF-8 sequences, code points above U+10FFFF) rather
 * than passing it on: a pool file and the host both see only valid text.
 */
#ifndef _KVP_UTF16_H
#define _KVP_UTF16_H

#include "wire.h"

int kvp_utf16_to_utf8(const u8 *in, size_t units, char *out, size_t out_size);
int kvp_utf8_to_utf16(const char *in, size_t len, u8 *out, size_t max_units,
		      bool *truncated);
bool kvp_utf8_valid(const char *in, size_t len);

#endif /* _KVP_UTF16_H */
