/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ed25519 keys and signatures (OpenSSL's libcrypto), the host id, random
 * bytes and base64: what the activation trust chain is made of
 * (Documentation/avma.rst).  Private keys are PKCS#8 PEM files, mode 0600;
 * public keys travel as 32 raw bytes, in text as base64.
 */
#ifndef _KVP_SIGN_H
#define _KVP_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define KVP_SIGN_PUBLIC_LEN	32
#define KVP_SIGN_SIG_LEN	64
/* SHA-256 of the public key, first 15 bytes, base32: 6 groups of 4. */
#define KVP_HOST_ID_LEN		29	/* "ABCD-EFGH-IJKL-MNOP-QRST-UVWX" */
#define KVP_BASE64_LEN(n)	(((n) + 2) / 3 * 4)

struct kvp_signer;

/* A new key pair in `path` (created 0600, never overwritten: -EEXIST). */
int kvp_sign_generate(const char *path);
/* -ENOENT, -EACCES, -EBADMSG (not an Ed25519 private key). */
int kvp_sign_load(const char *path, struct kvp_signer **signer);
void kvp_sign_free(struct kvp_signer *signer);
void kvp_sign_public(const struct kvp_signer *signer,
		     uint8_t pub[KVP_SIGN_PUBLIC_LEN]);
int kvp_sign(const struct kvp_signer *signer, const uint8_t *data,
	     size_t len, uint8_t sig[KVP_SIGN_SIG_LEN]);
/* 0 when sig is pub's signature of data, -EBADMSG otherwise. */
int kvp_verify(const uint8_t pub[KVP_SIGN_PUBLIC_LEN], const uint8_t *data,
	       size_t len, const uint8_t sig[KVP_SIGN_SIG_LEN]);

void kvp_host_id(const uint8_t pub[KVP_SIGN_PUBLIC_LEN],
		 char id[KVP_HOST_ID_LEN + 1]);
/* Cryptographically strong random bytes; -EIO if none can be had. */
int kvp_random(uint8_t *buf, size_t len);

/* Standard base64 with padding; out holds KVP_BASE64_LEN(len) + 1. */
void kvp_base64_encode(const uint8_t *in, size_t len, char *out);
/*
 * Strict: no white space, padding only at the end, zero bits under it.
 * Returns the decoded length, or -EINVAL (bad character, length, padding,
 * or more than cap bytes).
 */
int kvp_base64_decode(const char *in, uint8_t *out, size_t cap);

/* A random (version 4, RFC 4122) UUID; -EIO if no random bytes. */
int kvp_uuid_random(uint8_t uuid[16]);

/* 16 bytes <-> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case). */
void kvp_uuid_format(const uint8_t uuid[16], char out[37]);
int kvp_uuid_parse(const char *in, uint8_t uuid[16]);

#endif /* _KVP_SIGN_H */
