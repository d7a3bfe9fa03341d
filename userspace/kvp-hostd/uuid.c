// SPDX-License-Identifier: GPL-2.0
/*
 * Name-based UUIDs (RFC 9562 version 5: SHA-1 of namespace and name), for
 * the VirtualMachineId of guests that have none configured.  SHA-1 is used
 * here only because version 5 is defined with it, not for security.  It is
 * written out here to keep the daemon free of a crypto library.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostd.h"

static u32 kvp_rol(u32 x, int n)
{
	return x << n | x >> (32 - n);
}

static void kvp_sha1_block(u32 h[5], const u8 *p)
{
	u32 w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	u32 f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (u32)p[4 * i] << 24 | (u32)p[4 * i + 1] << 16 |
		       (u32)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = kvp_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = kvp_rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = kvp_rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

/* SHA-1 of a message of at most KVP_SHA1_MAX bytes, padded in one go. */
#define KVP_SHA1_BUF	256
#define KVP_SHA1_MAX	(KVP_SHA1_BUF - 9)

static void kvp_sha1(const u8 *data, size_t len, u8 out[20])
{
	u32 h[5] = {
		0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0,
	};
	size_t padded = (len + 9 + 63) / 64 * 64, i;
	u64 bits = (u64)len * 8;
	u8 buf[KVP_SHA1_BUF] = { 0 };

	memcpy(buf, data, len);
	buf[len] = 0x80;
	for (i = 0; i < 8; i++)
		buf[padded - 1 - i] = (u8)(bits >> (8 * i));
	for (i = 0; i < padded; i += 64)
		kvp_sha1_block(h, buf + i);
	for (i = 0; i < 20; i++)
		out[i] = (u8)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/*
 * Writes the version 5 UUID of name in ns, in upper case as Hyper-V writes
 * GUIDs.  Returns -EINVAL for a name longer than the short ones we hash.
 */
int kvp_uuid_v5(const u8 ns[16], const char *name,
		char out[KVP_HOSTD_UUID_LEN + 1])
{
	u8 buf[KVP_SHA1_MAX], hash[20];
	size_t len = strlen(name), i;
	char *p = out;

	if (16 + len > sizeof(buf))
		return -EINVAL;
	memcpy(buf, ns, 16);
	memcpy(buf + 16, name, len);
	kvp_sha1(buf, 16 + len, hash);
	hash[6] = (hash[6] & 0x0f) | 0x50;
	hash[8] = (hash[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		p += sprintf(p, "%02X", hash[i]);
	}
	return 0;
}
