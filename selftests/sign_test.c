// SPDX-License-Identifier: GPL-2.0
/*
 * lib/sign.c: key files (created 0600, never overwritten, clear load
 * errors), Ed25519 signatures against a vector made by the openssl tool,
 * the host id against one made by python3 (hashlib, base64.b32encode),
 * base64 against RFC 4648's vectors, random bytes and UUID text.  Each
 * test gets a fresh directory under /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "sign.h"

/* RFC 8032 section 7.1, test 1: the key, as PKCS#8 PEM. */
static const char rfc_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
	"-----END PRIVATE KEY-----\n";

static const uint8_t rfc_pub[KVP_SIGN_PUBLIC_LEN] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
	0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
	0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

/* `openssl pkeyutl -sign -rawin` of "abc" with that key. */
static const uint8_t abc_sig[KVP_SIGN_SIG_LEN] = {
	0x80, 0xd7, 0x24, 0xb0, 0x1e, 0x7c, 0xa2, 0x60,
	0xf4, 0xcc, 0x7f, 0x8d, 0xe7, 0xc9, 0x5f, 0x73,
	0xcf, 0xac, 0x61, 0x5b, 0xab, 0x1f, 0x76, 0x2b,
	0x64, 0x35, 0xb6, 0xec, 0x26, 0xc8, 0xcf, 0x6d,
	0x2c, 0x75, 0x8d, 0xae, 0x2f, 0x87, 0x39, 0x9a,
	0x8e, 0xed, 0xa1, 0xcb, 0xcd, 0x28, 0x35, 0xac,
	0x5b, 0xa6, 0x6d, 0x6e, 0xca, 0xa3, 0xab, 0xa5,
	0xe5, 0x67, 0xa7, 0x51, 0x05, 0x3d, 0xc2, 0x07,
};

/* An X25519 key: a private key, but not one that signs. */
static const char x25519_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VuBCIEIKjJcKkv4J4mHLqFt7UHG02D0DyVQ5Hm6ArWzKTuL8Vi\n"
	"-----END PRIVATE KEY-----\n";

FIXTURE(dir)
{
	char path[64];
	char file[96];
};

FIXTURE_SETUP(dir)
{
	strcpy(self->path, "/tmp/kvp-sign-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->path));
	snprintf(self->file, sizeof(self->file), "%s/key.pem", self->path);
}

FIXTURE_TEARDOWN(dir)
{
	unlink(self->file);
	rmdir(self->path);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

TEST_F(dir, generate_makes_a_0600_key_that_signs)
{
	struct kvp_signer *s = NULL;
	uint8_t pub[KVP_SIGN_PUBLIC_LEN], sig[KVP_SIGN_SIG_LEN];
	mode_t old = umask(0);
	struct stat st;

	/* Even with no umask at all, nobody else may read it. */
	ASSERT_EQ(0, kvp_sign_generate(self->file));
	umask(old);
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, kvp_sign_load(self->file, &s));
	kvp_sign_public(s, pub);
	ASSERT_EQ(0, kvp_sign(s, (const uint8_t *)"data", 4, sig));
	EXPECT_EQ(0, kvp_verify(pub, (const uint8_t *)"data", 4, sig));
	kvp_sign_free(s);
}

TEST_F(dir, generate_never_overwrites)
{
	char before[256] = "", after[256] = "";
	FILE *f;

	ASSERT_EQ(0, kvp_sign_generate(self->file));
	f = fopen(self->file, "r");
	ASSERT_NE(NULL, f);
	ASSERT_LT(0, fread(before, 1, sizeof(before) - 1, f));
	fclose(f);
	EXPECT_EQ(-EEXIST, kvp_sign_generate(self->file));
	f = fopen(self->file, "r");
	ASSERT_NE(NULL, f);
	ASSERT_LT(0, fread(after, 1, sizeof(after) - 1, f));
	fclose(f);
	EXPECT_STREQ(before, after);
}

TEST_F(dir, two_keys_differ)
{
	struct kvp_signer *a, *b;
	uint8_t pa[KVP_SIGN_PUBLIC_LEN], pb[KVP_SIGN_PUBLIC_LEN];
	char second[128];

	snprintf(second, sizeof(second), "%s/second.pem", self->path);
	ASSERT_EQ(0, kvp_sign_generate(self->file));
	ASSERT_EQ(0, kvp_sign_generate(second));
	ASSERT_EQ(0, kvp_sign_load(self->file, &a));
	ASSERT_EQ(0, kvp_sign_load(second, &b));
	kvp_sign_public(a, pa);
	kvp_sign_public(b, pb);
	EXPECT_NE(0, memcmp(pa, pb, sizeof(pa)));
	kvp_sign_free(a);
	kvp_sign_free(b);
	unlink(second);
}

TEST_F(dir, load_errors)
{
	struct kvp_signer *s = NULL;

	EXPECT_EQ(-ENOENT, kvp_sign_load(self->file, &s));
	write_file(self->file, "not a key\n", 0600);
	EXPECT_EQ(-EBADMSG, kvp_sign_load(self->file, &s));
	write_file(self->file, x25519_pem, 0600);
	EXPECT_EQ(-EBADMSG, kvp_sign_load(self->file, &s));
	write_file(self->file, "", 0600);
	EXPECT_EQ(-EBADMSG, kvp_sign_load(self->file, &s));
	EXPECT_EQ(NULL, s);
	/* root reads any file: the permission check means nothing then. */
	if (geteuid()) {
		write_file(self->file, rfc_key_pem, 0600);
		chmod(self->file, 0);
		EXPECT_EQ(-EACCES, kvp_sign_load(self->file, &s));
	}
}

TEST_F(dir, rfc8032_key_signs_like_openssl)
{
	struct kvp_signer *s;
	uint8_t pub[KVP_SIGN_PUBLIC_LEN], sig[KVP_SIGN_SIG_LEN];

	write_file(self->file, rfc_key_pem, 0600);
	ASSERT_EQ(0, kvp_sign_load(self->file, &s));
	kvp_sign_public(s, pub);
	EXPECT_EQ(0, memcmp(rfc_pub, pub, sizeof(pub)));
	ASSERT_EQ(0, kvp_sign(s, (const uint8_t *)"abc", 3, sig));
	EXPECT_EQ(0, memcmp(abc_sig, sig, sizeof(sig)));
	kvp_sign_free(s);
}

TEST(verify_rejects_every_flipped_bit)
{
	uint8_t sig[KVP_SIGN_SIG_LEN], pub[KVP_SIGN_PUBLIC_LEN];
	uint8_t msg[3] = { 'a', 'b', 'c' };
	unsigned int bit;

	ASSERT_EQ(0, kvp_verify(rfc_pub, msg, 3, abc_sig));
	for (bit = 0; bit < 8 * sizeof(msg); bit++) {
		msg[bit / 8] ^= 1 << bit % 8;
		EXPECT_EQ(-EBADMSG, kvp_verify(rfc_pub, msg, 3, abc_sig));
		msg[bit / 8] ^= 1 << bit % 8;
	}
	for (bit = 0; bit < 8 * sizeof(sig); bit++) {
		memcpy(sig, abc_sig, sizeof(sig));
		sig[bit / 8] ^= 1 << bit % 8;
		EXPECT_EQ(-EBADMSG, kvp_verify(rfc_pub, msg, 3, sig));
	}
	for (bit = 0; bit < 8 * sizeof(pub); bit++) {
		memcpy(pub, rfc_pub, sizeof(pub));
		pub[bit / 8] ^= 1 << bit % 8;
		EXPECT_EQ(-EBADMSG, kvp_verify(pub, msg, 3, abc_sig));
	}
	/* Shorter data is other data. */
	EXPECT_EQ(-EBADMSG, kvp_verify(rfc_pub, msg, 2, abc_sig));
}

TEST(host_id_known_vector)
{
	char id[KVP_HOST_ID_LEN + 1];

	/* python3: b32encode(sha256(rfc_pub).digest()[:15]), in fours. */
	memset(id, 'x', sizeof(id));
	kvp_host_id(rfc_pub, id);
	EXPECT_STREQ("EH7D-DX5B-KSRG-CYTL-7BKA-I36S", id);
	EXPECT_EQ(KVP_HOST_ID_LEN, strlen(id));
}

TEST(host_id_format)
{
	uint8_t pub[KVP_SIGN_PUBLIC_LEN];
	char id[KVP_HOST_ID_LEN + 1];
	int round, i;

	for (round = 0; round < 32; round++) {
		ASSERT_EQ(0, kvp_random(pub, sizeof(pub)));
		kvp_host_id(pub, id);
		ASSERT_EQ(29, strlen(id));
		for (i = 0; i < 29; i++) {
			bool dash = i % 5 == 4;

			ASSERT_EQ(dash, id[i] == '-');
			ASSERT_TRUE(dash || strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
						   id[i]));
		}
	}
}

TEST(random_fills)
{
	uint8_t a[64], b[64];
	unsigned int i, zero = 0;

	memset(a, 0, sizeof(a));
	ASSERT_EQ(0, kvp_random(a, sizeof(a)));
	ASSERT_EQ(0, kvp_random(b, sizeof(b)));
	EXPECT_NE(0, memcmp(a, b, sizeof(a)));
	for (i = 0; i < sizeof(a); i++)
		zero += !a[i];
	EXPECT_GT(16, zero);
	EXPECT_EQ(0, kvp_random(a, 0));
}

/* RFC 4648 section 10. */
static const char *const b64_vectors[][2] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

TEST(base64_rfc4648_vectors)
{
	char text[16];
	uint8_t raw[8];
	unsigned int i;
	size_t len;

	for (i = 0; i < ARRAY_SIZE(b64_vectors); i++) {
		len = strlen(b64_vectors[i][0]);
		kvp_base64_encode((const uint8_t *)b64_vectors[i][0], len,
				  text);
		EXPECT_STREQ(b64_vectors[i][1], text);
		EXPECT_EQ(KVP_BASE64_LEN(len), strlen(text));
		ASSERT_EQ((int)len, kvp_base64_decode(b64_vectors[i][1], raw,
						      sizeof(raw)));
		EXPECT_EQ(0, memcmp(raw, b64_vectors[i][0], len));
	}
}

TEST(base64_all_bytes_round_trip)
{
	uint8_t raw[256], back[256];
	char text[KVP_BASE64_LEN(256) + 1];
	unsigned int i, len;

	for (i = 0; i < 256; i++)
		raw[i] = 255 - i;
	for (len = 0; len <= 256; len += 1 + len / 4) {
		kvp_base64_encode(raw, len, text);
		ASSERT_EQ((int)len, kvp_base64_decode(text, back, len));
		ASSERT_EQ(0, memcmp(raw, back, len));
	}
}

TEST(base64_strict)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z", "Zm9", "Zm9v\n", " Zm9v", "Zm 9v",
		"Zh==",		/* bits left over under the padding */
		"Zm9=",		/* likewise */
		"Zg==Zm9v",	/* padding inside */
		"=Zm9", "Zm=v", "====", "Zg===", "Zm9v-_==", "Zm9v*A==",
	};
	uint8_t raw[16];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, kvp_base64_decode(bad[i], raw, sizeof(raw)))
			TH_LOG("accepted bad[%u]", i);
	/* It does not fit: refused, nothing written past cap. */
	memset(raw, 0xa5, sizeof(raw));
	EXPECT_EQ(-EINVAL, kvp_base64_decode("Zm9vYmFy", raw, 5));
	EXPECT_EQ(0xa5, raw[5]);
	EXPECT_EQ(6, kvp_base64_decode("Zm9vYmFy", raw, 6));
}

TEST(uuid_text)
{
	static const uint8_t u[16] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
	};
	static const char *const bad[] = {
		"", "0123456789abcdeffedcba9876543210",
		"01234567-89ab-cdef-fedc-ba987654321",
		"01234567-89ab-cdef-fedc-ba98765432100",
		"01234567-89abcdef-fedc-ba98-76543210",
		"0123456g-89ab-cdef-fedc-ba9876543210",
		"{1234567-89ab-cdef-fedc-ba9876543210",
	};
	uint8_t back[16];
	char text[37];
	unsigned int i;

	kvp_uuid_format(u, text);
	EXPECT_STREQ("01234567-89ab-cdef-fedc-ba9876543210", text);
	ASSERT_EQ(0, kvp_uuid_parse(text, back));
	EXPECT_EQ(0, memcmp(u, back, 16));
	ASSERT_EQ(0, kvp_uuid_parse("01234567-89AB-CDEF-FEDC-BA9876543210",
				    back));
	EXPECT_EQ(0, memcmp(u, back, 16));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, kvp_uuid_parse(bad[i], back))
			TH_LOG("accepted bad[%u]", i);
}

/* Grant ids: random, but marked as what they are, version 4 UUIDs. */
TEST(uuid_random)
{
	uint8_t a[16], b[16];
	char text[37];

	ASSERT_EQ(0, kvp_uuid_random(a));
	ASSERT_EQ(0, kvp_uuid_random(b));
	EXPECT_NE(0, memcmp(a, b, 16));
	kvp_uuid_format(a, text);
	EXPECT_EQ('4', text[14]);
	EXPECT_NE(NULL, strchr("89ab", text[19]));
}

TEST_HARNESS_MAIN
