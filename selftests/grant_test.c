// SPDX-License-Identifier: GPL-2.0
/*
 * lib/grant.c: the byte layouts of the host licence and the grant
 * (Documentation/avma.rst, "Signed documents"), strict decoding (every
 * malformed layout refused), and the signature chain: vendor -> licence ->
 * host key -> grant.  Keys are made fresh in a directory under /tmp.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "grant.h"

FIXTURE(chain)
{
	char dir[64];
	struct kvp_signer *vendor, *host, *other;
	uint8_t vendor_pub[KVP_SIGN_PUBLIC_LEN];
	struct kvp_license lic;
	struct kvp_grant grant;
};

static struct kvp_signer *make_key(const char *dir, const char *name)
{
	struct kvp_signer *s;
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (kvp_sign_generate(path) || kvp_sign_load(path, &s))
		abort();
	unlink(path);
	return s;
}

FIXTURE_SETUP(chain)
{
	strcpy(self->dir, "/tmp/kvp-grant-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	self->vendor = make_key(self->dir, "vendor");
	self->host = make_key(self->dir, "host");
	self->other = make_key(self->dir, "other");
	rmdir(self->dir);
	kvp_sign_public(self->vendor, self->vendor_pub);

	memset(&self->lic, 0, sizeof(self->lic));
	strcpy(self->lic.product, "example-os");
	strcpy(self->lic.version, "3");
	strcpy(self->lic.edition, "datacenter");
	kvp_sign_public(self->host, self->lic.host_key);
	self->lic.issued = 1767225600;		/* 2026-01-01 */
	self->lic.not_after = 1830297600;	/* 2028-01-01 */

	memset(&self->grant, 0, sizeof(self->grant));
	memset(self->grant.id, 0x11, 16);
	memset(self->grant.vm_id, 0x22, 16);
	memset(self->grant.nonce, 0x33, 16);
	self->grant.activated = 1796083200;	/* 2026-12-01 */
	self->grant.expires = 1796083200 + 604800;
	strcpy(self->grant.product, "example-os");
	strcpy(self->grant.version, "2");
	strcpy(self->grant.edition, "standard");
	strcpy(self->grant.host_name, "host-1.example");
}

FIXTURE_TEARDOWN(chain)
{
	kvp_sign_free(self->vendor);
	kvp_sign_free(self->host);
	kvp_sign_free(self->other);
}

/* The grant with the signed licence; returns its length. */
static int sign_with_licence(struct _test_data_chain *self, uint8_t *buf)
{
	uint8_t lic[KVP_LICENSE_LEN];

	if (kvp_license_sign(&self->lic, self->vendor, lic))
		return -1;
	self->grant.has_license = true;
	self->grant.license = self->lic;
	return kvp_grant_sign(&self->grant, self->host, buf, KVP_GRANT_MAX_LEN);
}

TEST_F(chain, licence_layout)
{
	uint8_t buf[KVP_LICENSE_LEN];
	struct kvp_license back;

	ASSERT_EQ(0, kvp_license_sign(&self->lic, self->vendor, buf));
	EXPECT_EQ(0, memcmp(buf, "KVPL\x01\x00\xe8\x00", 8));
	EXPECT_STREQ("example-os", (char *)buf + 8);
	EXPECT_STREQ("3", (char *)buf + 40);
	EXPECT_STREQ("datacenter", (char *)buf + 56);
	EXPECT_EQ(0, memcmp(buf + 88, self->lic.host_key, 32));
	EXPECT_EQ(0, memcmp(buf + 120, "\x00\xb9\x55\x69\x00\x00\x00\x00", 8));
	EXPECT_EQ(0, memcmp(buf + 128, "\x00\x20\x18\x6d\x00\x00\x00\x00", 8));
	EXPECT_EQ(0, memcmp(buf + 136, self->vendor_pub, 32));
	EXPECT_EQ(0, memcmp(buf + 168, self->lic.sig, 64));
	EXPECT_EQ(0, kvp_verify(self->vendor_pub, buf, 168, buf + 168));

	ASSERT_EQ(0, kvp_license_decode(buf, sizeof(buf), &back));
	EXPECT_EQ(0, memcmp(&back, &self->lic, sizeof(back)));
	EXPECT_EQ(0, kvp_license_verify(&back, self->vendor_pub));
}

TEST_F(chain, grant_layout_without_licence)
{
	uint8_t buf[KVP_GRANT_MAX_LEN], pub[KVP_SIGN_PUBLIC_LEN];
	struct kvp_grant back;

	ASSERT_EQ(316, kvp_grant_sign(&self->grant, self->host, buf,
				      sizeof(buf)));
	kvp_sign_public(self->host, pub);
	EXPECT_EQ(0, memcmp(buf, "KVPG\x01\x00\x3c\x01", 8));
	EXPECT_EQ(0x11, buf[8]);
	EXPECT_EQ(0x22, buf[24]);
	EXPECT_EQ(0x33, buf[40]);
	EXPECT_EQ(0, memcmp(buf + 56, "\x00\x0e\x0e\x6b\x00\x00\x00\x00", 8));
	EXPECT_EQ(0, memcmp(buf + 64, "\x80\x48\x17\x6b\x00\x00\x00\x00", 8));
	EXPECT_STREQ("example-os", (char *)buf + 72);
	EXPECT_STREQ("2", (char *)buf + 104);
	EXPECT_STREQ("standard", (char *)buf + 120);
	EXPECT_STREQ("host-1.example", (char *)buf + 152);
	EXPECT_EQ(0, memcmp(buf + 216, pub, 32));
	EXPECT_EQ(0, memcmp(buf + 248, "\0\0\0\0", 4));
	EXPECT_EQ(0, kvp_verify(pub, buf, 252, buf + 252));

	/* The padding after has_license is not the grant's. */
	memset(&back, 0, sizeof(back));
	ASSERT_EQ(0, kvp_grant_decode(buf, 316, &back));
	EXPECT_EQ(0, memcmp(&back, &self->grant, sizeof(back)));
	EXPECT_EQ(0, kvp_grant_verify(buf, 316, &back, NULL, false));
}

TEST_F(chain, grant_layout_with_licence)
{
	uint8_t buf[KVP_GRANT_MAX_LEN], lic[KVP_LICENSE_LEN];
	struct kvp_grant back;

	ASSERT_EQ(0, kvp_license_sign(&self->lic, self->vendor, lic));
	ASSERT_EQ(548, sign_with_licence(self, buf));
	EXPECT_EQ(0, memcmp(buf + 4, "\x01\x00\x24\x02", 4));
	EXPECT_EQ(0, memcmp(buf + 248, "\xe8\x00\x00\x00", 4));
	EXPECT_EQ(0, memcmp(buf + 252, lic, sizeof(lic)));
	/* The padding after has_license is not the grant's. */
	memset(&back, 0, sizeof(back));
	ASSERT_EQ(0, kvp_grant_decode(buf, 548, &back));
	EXPECT_EQ(0, memcmp(&back, &self->grant, sizeof(back)));
	EXPECT_EQ(0, kvp_grant_verify(buf, 548, &back, self->vendor_pub,
				      true));
}

TEST_F(chain, sign_refuses_what_does_not_fit)
{
	uint8_t buf[KVP_GRANT_MAX_LEN], lic[KVP_LICENSE_LEN];

	EXPECT_EQ(-ENOSPC, kvp_grant_sign(&self->grant, self->host, buf, 315));
	memset(self->grant.host_name, 'h', sizeof(self->grant.host_name));
	EXPECT_EQ(-EINVAL, kvp_grant_sign(&self->grant, self->host, buf,
					  sizeof(buf)));
	self->grant.host_name[0] = '\0';	/* an empty name is fine */
	EXPECT_EQ(316, kvp_grant_sign(&self->grant, self->host, buf,
				      sizeof(buf)));
	self->grant.product[0] = '\0';
	EXPECT_EQ(-EINVAL, kvp_grant_sign(&self->grant, self->host, buf,
					  sizeof(buf)));
	memset(self->lic.edition, 'e', sizeof(self->lic.edition));
	EXPECT_EQ(-EINVAL, kvp_license_sign(&self->lic, self->vendor, lic));
}

/* One malformed grant: what to change in a good one. */
struct bad_layout {
	const char *what;
	size_t off;
	uint8_t value;
	int len_delta;
};

static const struct bad_layout bad_grants[] = {
	{ "magic", 0, 'k', 0 },
	{ "magic", 3, 'L', 0 },
	{ "version 0", 4, 0, 0 },
	{ "version 2", 4, 2, 0 },
	{ "version 257", 5, 1, 0 },
	{ "total length", 6, 0x7b, 0 },
	{ "total length", 7, 0, 0 },
	{ "product without NUL", 72 + 31, 'x', 0 },
	{ "product: bytes after its NUL", 72 + 20, 'x', 0 },
	{ "product empty", 72, 0, 0 },
	{ "version without NUL", 104 + 15, 'x', 0 },
	{ "version empty", 104, 0, 0 },
	{ "edition without NUL", 120 + 31, 'x', 0 },
	{ "edition empty", 120, 0, 0 },
	{ "host name without NUL", 152 + 63, 'x', 0 },
	{ "licence length 1", 248, 1, 0 },
	{ "licence length 232 without one", 248, 232, 0 },
	{ "licence length 256", 249, 1, 0 },
	{ "reserved", 250, 1, 0 },
	{ "reserved", 251, 0x80, 0 },
	{ "one byte short", 0, 'K', -1 },
	{ "one byte more", 0, 'K', 1 },
};

TEST_F(chain, malformed_grants_refused)
{
	uint8_t good[KVP_GRANT_MAX_LEN + 1], buf[KVP_GRANT_MAX_LEN + 1];
	struct kvp_grant back;
	unsigned int i;
	int len;

	len = kvp_grant_sign(&self->grant, self->host, good, sizeof(good));
	ASSERT_EQ(316, len);
	good[len] = 0;
	for (i = 0; i < ARRAY_SIZE(bad_grants); i++) {
		memcpy(buf, good, sizeof(buf));
		buf[bad_grants[i].off] = bad_grants[i].value;
		EXPECT_EQ(-EINVAL, kvp_grant_decode(buf,
						    len + bad_grants[i].len_delta,
						    &back))
			TH_LOG("%s accepted", bad_grants[i].what);
	}
	for (i = 0; i < (unsigned int)len; i++)
		EXPECT_EQ(-EINVAL, kvp_grant_decode(good, i, &back));
	EXPECT_EQ(0, kvp_grant_decode(good, len, &back));
}

static const struct bad_layout bad_licences[] = {
	{ "magic", 0, 'X', 0 },
	{ "magic: a grant's", 3, 'G', 0 },
	{ "version 0", 4, 0, 0 },
	{ "version 2", 4, 2, 0 },
	{ "length", 6, 231, 0 },
	{ "length", 7, 1, 0 },
	{ "product without NUL", 8 + 31, 'x', 0 },
	{ "product: bytes after its NUL", 8 + 31, 0, 0 },	/* see below */
	{ "product empty", 8, 0, 0 },
	{ "version without NUL", 40 + 15, 'x', 0 },
	{ "version: bytes after its NUL", 40 + 2, 'x', 0 },
	{ "edition without NUL", 56 + 31, 'x', 0 },
	{ "edition empty", 56, 0, 0 },
	{ "one byte short", 0, 'K', -1 },
	{ "one byte more", 0, 'K', 1 },
};

TEST_F(chain, malformed_licences_refused)
{
	uint8_t good[KVP_LICENSE_LEN + 1], buf[KVP_LICENSE_LEN + 1];
	struct kvp_license back;
	unsigned int i;

	ASSERT_EQ(0, kvp_license_sign(&self->lic, self->vendor, good));
	good[KVP_LICENSE_LEN] = 0;
	for (i = 0; i < ARRAY_SIZE(bad_licences); i++) {
		memcpy(buf, good, sizeof(buf));
		buf[bad_licences[i].off] = bad_licences[i].value;
		/* "example-os" then NULs: a byte after it breaks the padding. */
		if (i == 7)
			buf[8 + 12] = 'x';
		EXPECT_EQ(-EINVAL, kvp_license_decode(buf,
					KVP_LICENSE_LEN + bad_licences[i].len_delta,
					&back))
			TH_LOG("%s accepted", bad_licences[i].what);
	}
}

TEST_F(chain, grant_with_malformed_licence_refused)
{
	uint8_t buf[KVP_GRANT_MAX_LEN];
	struct kvp_grant back;

	ASSERT_EQ(548, sign_with_licence(self, buf));
	buf[252] = 'X';		/* the licence's magic */
	EXPECT_EQ(-EINVAL, kvp_grant_decode(buf, 548, &back));
	buf[252] = 'K';
	buf[252 + 4] = 2;	/* its version */
	EXPECT_EQ(-EINVAL, kvp_grant_decode(buf, 548, &back));
}

TEST_F(chain, verify_good_chains)
{
	uint8_t buf[KVP_GRANT_MAX_LEN];
	struct kvp_grant back;
	int len;

	len = sign_with_licence(self, buf);
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(0, kvp_grant_verify(buf, len, &back, self->vendor_pub, true));
	/* A licence that never ends. */
	self->lic.not_after = 0;
	len = sign_with_licence(self, buf);
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(0, kvp_grant_verify(buf, len, &back, self->vendor_pub, true));
}

TEST_F(chain, verify_wrong_vendor)
{
	uint8_t buf[KVP_GRANT_MAX_LEN], other[KVP_SIGN_PUBLIC_LEN];
	uint8_t lic[KVP_LICENSE_LEN];
	struct kvp_grant back;
	int len;

	kvp_sign_public(self->other, other);
	len = sign_with_licence(self, buf);
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(-EPERM, kvp_grant_verify(buf, len, &back, other, true));
	EXPECT_EQ(-EPERM, kvp_license_verify(&back.license, other));

	/* Signed by another key that claims to be the vendor. */
	ASSERT_EQ(0, kvp_license_sign(&self->lic, self->other, lic));
	memcpy(self->lic.vendor_key, self->vendor_pub, KVP_SIGN_PUBLIC_LEN);
	self->grant.license = self->lic;
	len = kvp_grant_sign(&self->grant, self->host, buf, sizeof(buf));
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(-EBADMSG, kvp_license_verify(&back.license,
					       self->vendor_pub));
	EXPECT_EQ(-EBADMSG, kvp_grant_verify(buf, len, &back,
					     self->vendor_pub, true));
}

TEST_F(chain, verify_licence_for_another_host)
{
	uint8_t buf[KVP_GRANT_MAX_LEN], lic[KVP_LICENSE_LEN];
	struct kvp_grant back;
	int len;

	kvp_sign_public(self->other, self->lic.host_key);
	ASSERT_EQ(0, kvp_license_sign(&self->lic, self->vendor, lic));
	self->grant.has_license = true;
	self->grant.license = self->lic;
	len = kvp_grant_sign(&self->grant, self->host, buf, sizeof(buf));
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(0, kvp_license_verify(&back.license, self->vendor_pub));
	EXPECT_EQ(-EPERM, kvp_grant_verify(buf, len, &back, self->vendor_pub,
					   true));
}

TEST_F(chain, verify_product_or_edition_mismatch)
{
	uint8_t buf[KVP_GRANT_MAX_LEN];
	struct kvp_grant back;
	int len;

	strcpy(self->lic.product, "other-os");
	len = sign_with_licence(self, buf);
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(-EPERM, kvp_grant_verify(buf, len, &back, self->vendor_pub,
					   true));
	/* The caller's catalog check failed: edition, or version too old. */
	strcpy(self->lic.product, "example-os");
	len = sign_with_licence(self, buf);
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(-EPERM, kvp_grant_verify(buf, len, &back, self->vendor_pub,
					   false));
}

TEST_F(chain, verify_licence_expired_before_the_grant)
{
	uint8_t buf[KVP_GRANT_MAX_LEN];
	struct kvp_grant back;
	int len;

	self->lic.not_after = self->grant.activated - 1;
	len = sign_with_licence(self, buf);
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(-EPERM, kvp_grant_verify(buf, len, &back, self->vendor_pub,
					   true));
}

TEST_F(chain, verify_licence_presence_follows_the_vendor_key)
{
	uint8_t buf[KVP_GRANT_MAX_LEN];
	struct kvp_grant back;
	int len;

	/* A vendor product needs the licence... */
	len = kvp_grant_sign(&self->grant, self->host, buf, sizeof(buf));
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(-EPERM, kvp_grant_verify(buf, len, &back, self->vendor_pub,
					   true));
	/* ...a product without a vendor key has none. */
	len = sign_with_licence(self, buf);
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	EXPECT_EQ(-EPERM, kvp_grant_verify(buf, len, &back, NULL, true));
}

TEST_F(chain, verify_needs_the_bytes_decoded)
{
	uint8_t buf[KVP_GRANT_MAX_LEN];
	struct kvp_grant back;
	int len;

	len = sign_with_licence(self, buf);
	ASSERT_EQ(0, kvp_grant_decode(buf, len, &back));
	back.expires++;
	EXPECT_EQ(-EBADMSG, kvp_grant_verify(buf, len, &back,
					     self->vendor_pub, true));
	back.expires--;
	EXPECT_EQ(-EBADMSG, kvp_grant_verify(buf, len - 1, &back,
					     self->vendor_pub, true));
}

TEST_F(chain, any_tampered_byte_fails)
{
	uint8_t good[KVP_GRANT_MAX_LEN], buf[KVP_GRANT_MAX_LEN];
	unsigned int i, refused = 0;
	struct kvp_grant back;
	int len;

	len = sign_with_licence(self, good);
	ASSERT_EQ(548, len);
	for (i = 0; i < (unsigned int)len; i++) {
		memcpy(buf, good, len);
		buf[i] ^= 1 << (i % 8);
		if (kvp_grant_decode(buf, len, &back) ||
		    kvp_grant_verify(buf, len, &back, self->vendor_pub, true))
			refused++;
		else
			TH_LOG("byte %u changed and still verifies", i);
	}
	EXPECT_EQ((unsigned int)len, refused);
}

TEST_HARNESS_MAIN
