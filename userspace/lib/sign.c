// SPDX-License-Identifier: GPL-2.0
/*
 * Ed25519 keys and signatures, SHA-256 and random bytes come from OpenSSL's
 * libcrypto and getrandom(); what is written here is only the plumbing
 * around them and the text forms (base32 host id, base64, UUID).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sign.h"

struct kvp_signer {
	EVP_PKEY *pkey;
	uint8_t pub[KVP_SIGN_PUBLIC_LEN];
};

static const char kvp_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char kvp_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* The file is ours from O_EXCL on: a failed write must not leave half a key. */
int kvp_sign_generate(const char *path)
{
	EVP_PKEY *pkey;
	FILE *f;
	int fd, ok;

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey) {
		ERR_clear_error();
		return -EIO;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		EVP_PKEY_free(pkey);
		return -errno;
	}
	/* The umask may only have taken bits away; make it exactly 0600. */
	f = fchmod(fd, 0600) ? NULL : fdopen(fd, "w");
	ok = f && PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	if (f)
		ok = fclose(f) == 0 && ok;
	else
		close(fd);
	if (!ok) {
		unlink(path);
		return -EIO;
	}
	return 0;
}

int kvp_sign_load(const char *path, struct kvp_signer **signer)
{
	struct kvp_signer *s;
	EVP_PKEY *pkey;
	size_t len = KVP_SIGN_PUBLIC_LEN;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!pkey)
		return -EBADMSG;
	s = calloc(1, sizeof(*s));
	if (!s) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	s->pkey = pkey;
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
	    !EVP_PKEY_get_raw_public_key(pkey, s->pub, &len) ||
	    len != KVP_SIGN_PUBLIC_LEN) {
		ERR_clear_error();
		kvp_sign_free(s);
		return -EBADMSG;
	}
	*signer = s;
	return 0;
}

void kvp_sign_free(struct kvp_signer *signer)
{
	if (!signer)
		return;
	EVP_PKEY_free(signer->pkey);
	free(signer);
}

void kvp_sign_public(const struct kvp_signer *signer,
		     uint8_t pub[KVP_SIGN_PUBLIC_LEN])
{
	memcpy(pub, signer->pub, KVP_SIGN_PUBLIC_LEN);
}

int kvp_sign(const struct kvp_signer *signer, const uint8_t *data,
	     size_t len, uint8_t sig[KVP_SIGN_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = KVP_SIGN_SIG_LEN;
	int ok;

	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, signer->pkey) &&
	     EVP_DigestSign(ctx, sig, &sig_len, data, len) &&
	     sig_len == KVP_SIGN_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -EIO;
}

int kvp_verify(const uint8_t pub[KVP_SIGN_PUBLIC_LEN], const uint8_t *data,
	       size_t len, const uint8_t sig[KVP_SIGN_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	EVP_PKEY *pkey;
	int ok;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
					   KVP_SIGN_PUBLIC_LEN);
	ctx = EVP_MD_CTX_new();
	ok = pkey && ctx &&
	     EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, KVP_SIGN_SIG_LEN, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ok ? 0 : -EBADMSG;
}

/* 15 bytes are 120 bits: 24 base32 characters, no padding. */
void kvp_host_id(const uint8_t pub[KVP_SIGN_PUBLIC_LEN],
		 char id[KVP_HOST_ID_LEN + 1])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int bits = 0, acc = 0, i, n = 0;
	char *out = id;

	if (!EVP_Digest(pub, KVP_SIGN_PUBLIC_LEN, md, NULL, EVP_sha256(), NULL))
		abort();	/* SHA-256 is built into libcrypto */
	for (i = 0; i < 15; i++) {
		acc = (acc << 8 | md[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			if (n && n % 4 == 0)
				*out++ = '-';
			*out++ = kvp_b32[(acc >> bits) & 31];
			n++;
		}
	}
	*out = '\0';
}

int kvp_random(uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = getrandom(buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		buf += n;
		len -= n;
	}
	return 0;
}

int kvp_uuid_random(uint8_t uuid[16])
{
	int err = kvp_random(uuid, 16);

	if (err)
		return err;
	uuid[6] = (uuid[6] & 0x0f) | 0x40;	/* version 4: random */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;	/* the RFC 4122 variant */
	return 0;
}

void kvp_base64_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t v;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];
		*out++ = kvp_b64[v >> 18];
		*out++ = kvp_b64[(v >> 12) & 63];
		*out++ = kvp_b64[(v >> 6) & 63];
		*out++ = kvp_b64[v & 63];
	}
	if (i < len) {
		v = in[i] << 16 | (i + 1 < len ? in[i + 1] << 8 : 0);
		*out++ = kvp_b64[v >> 18];
		*out++ = kvp_b64[(v >> 12) & 63];
		*out++ = i + 1 < len ? kvp_b64[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int kvp_b64_value(char c)
{
	const char *p = c ? strchr(kvp_b64, c) : NULL;

	return p ? p - kvp_b64 : -1;
}

/*
 * Strict (RFC 4648 section 3.5 "canonical"): groups of 4, padding only at
 * the end, and the bits the padding leaves over must be zero, so that one
 * byte string has exactly one text form.  No white space.
 */
int kvp_base64_decode(const char *in, uint8_t *out, size_t cap)
{
	size_t len = strlen(in), i, n = 0;
	int pad = 0, k, v[4];
	uint32_t acc;

	if (len % 4)
		return -EINVAL;
	if (len && in[len - 1] == '=')
		pad = len >= 2 && in[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > cap)
		return -EINVAL;
	for (i = 0; i < len; i += 4) {
		bool last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			v[k] = kvp_b64_value(in[i + k]);
			if (v[k] < 0 && !(last && k >= 4 - pad))
				return -EINVAL;
		}
		acc = v[0] << 18 | v[1] << 12;
		out[n++] = acc >> 16;
		if (last && pad == 2) {
			if (v[1] & 15)
				return -EINVAL;
			break;
		}
		acc |= v[2] << 6;
		out[n++] = (acc >> 8) & 0xff;
		if (last && pad == 1) {
			if (v[2] & 3)
				return -EINVAL;
			break;
		}
		out[n++] = (acc | v[3]) & 0xff;
	}
	return n;
}

void kvp_uuid_format(const uint8_t uuid[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*out++ = '-';
		*out++ = hex[uuid[i] >> 4];
		*out++ = hex[uuid[i] & 15];
	}
	*out = '\0';
}

static int kvp_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly the 36-character form; either case. */
int kvp_uuid_parse(const char *in, uint8_t uuid[16])
{
	int i, hi, lo;

	if (strlen(in) != 36)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			if (*in++ != '-')
				return -EINVAL;
		}
		hi = kvp_hex_value(in[0]);
		lo = kvp_hex_value(in[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		uuid[i] = hi << 4 | lo;
		in += 2;
	}
	return 0;
}
