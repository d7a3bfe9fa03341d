// SPDX-License-Identifier: GPL-2.0
/*
 * lib/catalog.c: the shipped Windows Server catalog (5 versions in order,
 * the 15 published AVMA keys found back to their version and edition),
 * drop-in precedence, malformed files refused with FILE:LINE, and the
 * product-key format.  Runs from selftests/ (run-native's working
 * directory): the shipped file is ../userspace/catalog/.  Written files go
 * to a fresh directory under /tmp.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "catalog.h"
#include "grant.h"

#define SHIPPED	"../userspace/catalog"

/* Documentation: kvp-ecosystem notes 2.3, the published table. */
static const char *const published[][3] = {
	{ "2025", "datacenter", "YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67" },
	{ "2025", "standard", "WWVGQ-PNHV9-B89P4-8GGM9-9HPQ4" },
	{ "2025", "datacenter-azure", "6NMQ9-T38WF-6MFGM-QYGYM-88J4F" },
	{ "2022", "datacenter", "W3GNR-8DDXR-2TFRP-H8P33-DV9BG" },
	{ "2022", "standard", "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK" },
	{ "2022", "datacenter-azure", "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J" },
	{ "2019", "datacenter", "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW" },
	{ "2019", "standard", "TNK62-RXVTB-4P47B-2D623-4GF74" },
	{ "2019", "essentials", "2CTP7-NHT64-BP62M-FV6GG-HFV28" },
	{ "2016", "datacenter", "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J" },
	{ "2016", "standard", "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD" },
	{ "2016", "essentials", "B4YNW-62DX9-W8V6M-82649-MHBKQ" },
	{ "2012-r2", "datacenter", "Y4TGP-NPTV9-HTC2H-7MGQ3-DV4TW" },
	{ "2012-r2", "standard", "DBGBW-NPF86-BJVTX-K3WKJ-MTB6V" },
	{ "2012-r2", "essentials", "K2XGM-NMBT3-2R6Q8-WF2FK-P36R2" },
};

static struct kvp_catalog *load_shipped(struct __test_metadata *_metadata)
{
	static const char *const dirs[] = { SHIPPED, NULL };
	struct kvp_catalog *c = NULL;
	char error[256];

	EXPECT_EQ(0, kvp_catalog_load(&c, dirs, error, sizeof(error)))
		TH_LOG("%s", error);
	return c;
}

TEST(shipped_versions_and_editions)
{
	static const char *const ids[] = {
		"2012-r2", "2016", "2019", "2022", "2025",
	};
	static const char *const names[] = {
		"2012 R2", "2016", "2019", "2022", "2025",
	};
	struct kvp_catalog *c = load_shipped(_metadata);
	const struct kvp_product *p;
	const struct kvp_edition *e;
	unsigned int i;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(1, kvp_catalog_count(c));
	p = kvp_catalog_product(c, "windows-server");
	ASSERT_NE(NULL, p);
	EXPECT_EQ(p, kvp_catalog_at(c, 0));
	EXPECT_EQ(NULL, kvp_catalog_at(c, 1));
	EXPECT_STREQ("Windows Server", p->name);
	EXPECT_STREQ(SHIPPED "/windows-server.conf", p->source);
	EXPECT_FALSE(p->has_vendor_key);
	ASSERT_EQ(5, p->nr_versions);
	for (i = 0; i < 5; i++) {
		EXPECT_STREQ(ids[i], p->versions[i]);
		EXPECT_STREQ(names[i], p->version_names[i]);
		EXPECT_EQ((int)i, kvp_product_version_rank(p, ids[i]));
	}
	EXPECT_EQ(-1, kvp_product_version_rank(p, "2012"));
	ASSERT_EQ(4, p->nr_editions);
	e = kvp_product_edition(p, "datacenter");
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(e->lends);
	EXPECT_STREQ("Datacenter", e->name);
	e = kvp_product_edition(p, "standard");
	ASSERT_NE(NULL, e);
	EXPECT_FALSE(e->lends);
	e = kvp_product_edition(p, "essentials");
	ASSERT_NE(NULL, e);
	EXPECT_FALSE(e->lends);
	e = kvp_product_edition(p, "datacenter-azure");
	ASSERT_NE(NULL, e);
	EXPECT_FALSE(e->lends);
	EXPECT_STREQ("Datacenter: Azure Edition", e->name);
	EXPECT_EQ(NULL, kvp_product_edition(p, "Datacenter"));
	EXPECT_EQ(NULL, kvp_catalog_product(c, "windows"));
	kvp_catalog_free(c);
}

TEST(shipped_keys_found_back)
{
	struct kvp_catalog *c = load_shipped(_metadata);
	const struct kvp_product_key *k;
	const struct kvp_product *p;
	char key[KVP_KEY_TEXT_LEN + 1], error[128];
	unsigned int i;

	ASSERT_NE(NULL, c);
	p = kvp_catalog_product(c, "windows-server");
	ASSERT_NE(NULL, p);
	EXPECT_EQ(15, p->nr_keys);
	for (i = 0; i < ARRAY_SIZE(published); i++) {
		ASSERT_EQ(0, kvp_key_normalize(published[i][2], key, error,
					       sizeof(error)))
			TH_LOG("%s: %s", published[i][2], error);
		EXPECT_STREQ(published[i][2], key);
		p = NULL;
		k = kvp_catalog_find_key(c, key, &p);
		ASSERT_NE(NULL, k) TH_LOG("%s not found", key);
		EXPECT_STREQ(published[i][0], k->version);
		EXPECT_STREQ(published[i][1], k->edition);
		EXPECT_STREQ(key, k->key);
		ASSERT_NE(NULL, p);
		EXPECT_STREQ("windows-server", p->id);
	}
	/* A KMS client key (GVLK) is no AVMA key. */
	EXPECT_EQ(NULL, kvp_catalog_find_key(c, "WX4NM-KYWYW-QJJR4-XV3QB-6VM33",
					     NULL));
	kvp_catalog_free(c);
}

TEST(licence_covers_same_or_older_from_a_lending_edition)
{
	struct kvp_catalog *c = load_shipped(_metadata);
	struct kvp_license lic = { .product = "windows-server" };
	const struct kvp_product *p;

	ASSERT_NE(NULL, c);
	p = kvp_catalog_product(c, "windows-server");
	strcpy(lic.version, "2022");
	strcpy(lic.edition, "datacenter");
	EXPECT_TRUE(kvp_product_license_covers(p, &lic, "2012-r2"));
	EXPECT_TRUE(kvp_product_license_covers(p, &lic, "2022"));
	EXPECT_FALSE(kvp_product_license_covers(p, &lic, "2025"));
	EXPECT_FALSE(kvp_product_license_covers(p, &lic, "2023"));
	strcpy(lic.edition, "standard");
	EXPECT_FALSE(kvp_product_license_covers(p, &lic, "2016"));
	strcpy(lic.edition, "datacenter");
	strcpy(lic.version, "2030");
	EXPECT_FALSE(kvp_product_license_covers(p, &lic, "2016"));
	strcpy(lic.version, "2025");
	strcpy(lic.product, "windows");
	EXPECT_FALSE(kvp_product_license_covers(p, &lic, "2016"));
	kvp_catalog_free(c);
}

FIXTURE(dir)
{
	char path[64];
};

FIXTURE_SETUP(dir)
{
	strcpy(self->path, "/tmp/kvp-catalog-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->path));
}

FIXTURE_TEARDOWN(dir)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->path);
	if (system(cmd))
		TH_LOG("could not remove %s", self->path);
}

static void put_bytes(const char *dir, const char *name, const char *text,
		      size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f))
		abort();
}

static void put(const char *dir, const char *name, const char *text)
{
	put_bytes(dir, name, text, strlen(text));
}

static const char small[] =
	"[product example-os]\n"
	"name = Example OS\n"
	"version = 1 One\n"
	"version = 2 Two\n"
	"edition = server lends=yes Server\n"
	"key = 1 server BBBBB-CCCCC-DDDDD-FFFFF-GGGGG\n";

TEST_F(dir, dropin_replaces_and_adds)
{
	const char *dirs[] = { SHIPPED, self->path, NULL };
	struct kvp_catalog *c;
	const struct kvp_product *p;
	char error[256], src[128];

	put(self->path, "windows-server.conf",
	    "# a vendor's own Windows Server entry\n"
	    "[product windows-server]\n"
	    "name = Windows Server (local)\n"
	    "version = 2025 2025\n"
	    "edition = datacenter lends=yes Datacenter\n"
	    "vendor-key = 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n");
	put(self->path, "example.conf", small);
	put(self->path, "example.conf.disabled", "garbage\n");
	ASSERT_EQ(0, kvp_catalog_load(&c, dirs, error, sizeof(error)))
		TH_LOG("%s", error);
	ASSERT_EQ(2, kvp_catalog_count(c));
	p = kvp_catalog_product(c, "windows-server");
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("Windows Server (local)", p->name);
	snprintf(src, sizeof(src), "%s/windows-server.conf", self->path);
	EXPECT_STREQ(src, p->source);
	EXPECT_EQ(1, p->nr_versions);
	EXPECT_EQ(0, p->nr_keys);
	ASSERT_TRUE(p->has_vendor_key);
	EXPECT_EQ(0xd7, p->vendor_key[0]);
	EXPECT_EQ(0x1a, p->vendor_key[31]);
	/* The shipped keys went with the shipped entry. */
	EXPECT_EQ(NULL, kvp_catalog_find_key(c, published[0][2], NULL));
	EXPECT_NE(NULL, kvp_catalog_find_key(c, "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG",
					     &p));
	EXPECT_STREQ("example-os", p->id);
	kvp_catalog_free(c);
}

TEST_F(dir, later_file_in_a_directory_wins)
{
	const char *dirs[] = { self->path, "/nonexistent/kvp", NULL };
	struct kvp_catalog *c;
	char error[256];

	put(self->path, "20-b.conf", small);
	put(self->path, "10-a.conf",
	    "[product example-os]\nname = Old\nversion = 1 One\n"
	    "edition = server lends=no Server\n");
	ASSERT_EQ(0, kvp_catalog_load(&c, dirs, error, sizeof(error)))
		TH_LOG("%s", error);
	ASSERT_EQ(1, kvp_catalog_count(c));
	EXPECT_STREQ("Example OS", kvp_catalog_at(c, 0)->name);
	EXPECT_TRUE(kvp_catalog_at(c, 0)->editions[0].lends);
	kvp_catalog_free(c);
}

TEST_F(dir, empty_and_missing_directories)
{
	const char *dirs[] = { self->path, "/nonexistent/kvp", NULL };
	struct kvp_catalog *c;
	char error[64];

	ASSERT_EQ(0, kvp_catalog_load(&c, dirs, error, sizeof(error)));
	EXPECT_EQ(0, kvp_catalog_count(c));
	EXPECT_EQ(NULL, kvp_catalog_find_key(c, published[0][2], NULL));
	kvp_catalog_free(c);
}

static const char *const malformed[][2] = {
	{ "name = X\n", ":1: 'name' before any [product ID]" },
	{ "[product]\n", ":1: expected [product ID]" },
	{ "[vendor x]\n", ":1: expected [product ID]" },
	{ "[product x y]\n", ":1: expected [product ID]" },
	{ "[product x\n", ":1: expected [product ID]" },
	{ "[product Example]\n", ":1: product id 'Example'" },
	{ "[product -x]\n", ":1: product id '-x'" },
	{ "[product x]\nname X\n", ":2: expected KEY = VALUE" },
	{ "[product x]\ncolour = red\n", ":2: unknown key 'colour'" },
	{ "[product x]\nname =\n", ":2: name: 1 to 63 bytes" },
	{ "[product x]\nname = a\nname = b\n", ":3: name given twice" },
	{ "[product x]\nname = \xc3\x28\n", ":2: name: 1 to 63 bytes" },
	{ "[product x]\nversion = 1\n", ":2: expected: version = ID" },
	{ "[product x]\nversion = 1.0.0.0.0.0.0.0.0 V\n",
	  ":2: version id '1.0.0.0.0.0.0.0.0'" },
	{ "[product x]\nversion = 1 A\nversion = 1 B\n",
	  ":3: version 1 given twice" },
	{ "[product x]\nedition = s Server\n",
	  ":2: expected: edition = ID lends=yes|no" },
	{ "[product x]\nedition = s lends Server\n",
	  ":2: edition s: 'lends' where lends=yes or lends=no belongs" },
	{ "[product x]\nedition = s lends=yes A\nedition = s lends=no B\n",
	  ":3: edition s given twice" },
	{ "[product x]\nkey = 1 s BBBBB-CCCCC-DDDDD-FFFFF-GGGGG\n",
	  ":2: key: version 1 is not given above" },
	{ "[product x]\nversion = 1 A\nkey = 1 s BBBBB-CCCCC-DDDDD-FFFFF-GGGGG\n",
	  ":3: key: edition s is not given above" },
	{ "[product x]\nversion = 1 A\nedition = s lends=no S\n"
	  "key = 1 s BBBBB-CCCCC-DDDDD-FFFFF-GGGGO\n",
	  ":4: key BBBBB-CCCCC-DDDDD-FFFFF-GGGGO: character 29 'O' is not" },
	{ "[product x]\nversion = 1 A\nedition = s lends=no S\n"
	  "key = 1 s BBBBB-CCCCC-DDDDD-FFFFF-GGGGG extra\n",
	  ":4: expected: key = VERSION EDITION KEY" },
	{ "[product x]\nversion = 1 A\nversion = 2 B\nedition = s lends=no S\n"
	  "key = 1 s BBBBB-CCCCC-DDDDD-FFFFF-GGGGG\n"
	  "key = 1 s BBBBB-CCCCC-DDDDD-FFFFF-HHHHH\n",
	  ":6: a second key for 1 s" },
	{ "[product x]\nversion = 1 A\nversion = 2 B\nedition = s lends=no S\n"
	  "key = 1 s BBBBB-CCCCC-DDDDD-FFFFF-GGGGG\n"
	  "key = 2 s bbbbbcccccdddddfffffggggg\n",
	  ":6: key BBBBB-CCCCC-DDDDD-FFFFF-GGGGG is already the key of 1 s" },
	{ "[product x]\nvendor-key = AAAA\n",
	  ":2: vendor-key: base64 of a 32-byte" },
	{ "[product x]\nvendor-key = 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\n",
	  ":2: vendor-key: base64 of a 32-byte" },
	{ "[product x]\nname = X\nversion = 1 A\n",
	  ":1: product x has no edition" },
	{ "\n\n[product x]\nname = X\nedition = s lends=no S\n",
	  ":3: product x has no version" },
	{ "[product x]\nversion = 1 A\nedition = s lends=no S\n[product y]\n",
	  ":1: product x has no name" },
	{ "[product x]\nname = X\nversion = 1 A\nedition = s lends=no S\n"
	  "[product x]\n", ":5: product x given twice in this file" },
};

TEST_F(dir, malformed_files_say_where)
{
	const char *dirs[] = { self->path, NULL };
	struct kvp_catalog *c = NULL;
	char error[256], want[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		put(self->path, "bad.conf", malformed[i][0]);
		snprintf(want, sizeof(want), "%s/bad.conf%s", self->path,
			 malformed[i][1]);
		EXPECT_EQ(-EINVAL, kvp_catalog_load(&c, dirs, error,
						    sizeof(error)))
			TH_LOG("case %u accepted", i);
		EXPECT_EQ(0, strncmp(want, error, strlen(want)))
			TH_LOG("case %u: '%s', not '%s'", i, error, want);
	}
	EXPECT_EQ(NULL, c);
}

/* One key, two products: what it activates would depend on file order. */
TEST_F(dir, a_key_in_two_products_is_refused)
{
	const char *dirs[] = { SHIPPED, self->path, NULL };
	struct kvp_catalog *c = NULL;
	char error[256], text[256];

	snprintf(text, sizeof(text),
		 "[product copycat]\nname = Copycat\nversion = 1 1\n"
		 "edition = datacenter lends=yes Datacenter\n"
		 "key = 1 datacenter %s\n", published[0][2]);
	put(self->path, "copycat.conf", text);
	EXPECT_EQ(-EINVAL, kvp_catalog_load(&c, dirs, error, sizeof(error)));
	EXPECT_EQ(NULL, c);
	EXPECT_NE(NULL, strstr(error, published[0][2])) TH_LOG("%s", error);
	EXPECT_NE(NULL, strstr(error, "product copycat")) TH_LOG("%s", error);
}

TEST_F(dir, a_bad_file_fails_the_whole_load)
{
	const char *dirs[] = { SHIPPED, self->path, NULL };
	struct kvp_catalog *c = NULL;
	char error[256], want[128];

	put(self->path, "a.conf", small);
	put(self->path, "b.conf", "[product y]\nversion = 1\n");
	EXPECT_EQ(-EINVAL, kvp_catalog_load(&c, dirs, error, sizeof(error)));
	snprintf(want, sizeof(want), "%s/b.conf:2: ", self->path);
	EXPECT_EQ(0, strncmp(want, error, strlen(want))) TH_LOG("%s", error);
	EXPECT_EQ(NULL, c);
	/* A NUL byte: not a text file. */
	put_bytes(self->path, "b.conf", "[product y]\n\0", 13);
	EXPECT_EQ(-EINVAL, kvp_catalog_load(&c, dirs, error, sizeof(error)));
	EXPECT_NE(NULL, strstr(error, "b.conf: a NUL byte")) TH_LOG("%s", error);
	/* A directory named like a file. */
	snprintf(want, sizeof(want), "%s/b.conf", self->path);
	unlink(want);
	ASSERT_EQ(0, mkdir(want, 0700));
	EXPECT_EQ(-EINVAL, kvp_catalog_load(&c, dirs, error, sizeof(error)));
	EXPECT_NE(NULL, strstr(error, "b.conf: not a regular file"))
		TH_LOG("%s", error);
}

/* Accepted, with the normalized form. */
static const char *const good_keys[][2] = {
	{ "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG" },
	{ "bbbbbcccccdddddfffffggggg", "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG" },
	{ "BBBBB-cccccDDDDD-fffff-GGGGG", "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG" },
	{ "yqb4h-nkhhj-q6k4r-4vmy6-vch67", "YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67" },
	{ "N2346-78922-22222-22222-22222", "N2346-78922-22222-22222-22222" },
};

/* Refused, with the start of the message. */
static const char *const bad_keys[][2] = {
	{ "", "0 characters: a key is 5 groups of 5" },
	{ "BBBBB-CCCCC-DDDDD-FFFFF-GGGG", "24 characters" },
	{ "BBBBB-CCOCC-DDDDD-FFFFF-GGGGG",
	  "character 9 'O' is not in the product-key alphabet" },
	{ "BBBBB-CCCCC-DDDDD-FFFFF-GGGG0",
	  "character 29 '0' is not in the product-key alphabet" },
	{ "AAAAA-CCCCC-DDDDD-FFFFF-GGGGG", "character 1 'A' is not" },
	{ "BBBBB CCCCC-DDDDD-FFFFF-GGGGG",
	  "character 6 (byte 0x20) is not in the product-key alphabet" },
	{ "BNBBB-CCCCC-DNDDD-FFFFF-GGGGG", "2 'N's (character 14)" },
	{ "BBBB-BCCCCC-DDDDD-FFFFF-GGGGG", "character 5 '-' is misplaced" },
	{ "-BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "character 1 '-' is misplaced" },
	{ "BBBBB--CCCCC-DDDDD-FFFFF-GGGGG", "character 7 '-' is misplaced" },
	{ "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG-", "character 30 '-' is misplaced" },
	{ "BBBBB-CCCCC-DDDDD-FFFFF-", "20 characters" },
	{ "BBBBB-CCCCC-DDDDD-FFFFF-GGGGGB", "more than 25 characters" },
	{ "BBBBB-CCCCC-DDDDD-FFFFF-GGGG\xc3\xa9",
	  "character 29 (byte 0xc3) is not" },
};

TEST(key_format)
{
	char out[KVP_KEY_TEXT_LEN + 1], error[160];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good_keys); i++) {
		EXPECT_EQ(0, kvp_key_normalize(good_keys[i][0], out, error,
					       sizeof(error)))
			TH_LOG("good %u: %s", i, error);
		EXPECT_STREQ(good_keys[i][1], out);
	}
	for (i = 0; i < ARRAY_SIZE(bad_keys); i++) {
		error[0] = '\0';
		EXPECT_EQ(-EINVAL, kvp_key_normalize(bad_keys[i][0], out,
						     error, sizeof(error)))
			TH_LOG("bad %u accepted", i);
		EXPECT_EQ(0, strncmp(bad_keys[i][1], error,
				     strlen(bad_keys[i][1])))
			TH_LOG("bad %u: '%s'", i, error);
	}
	/* No room for a message: still refused. */
	EXPECT_EQ(-EINVAL, kvp_key_normalize("x", out, NULL, 0));
}

TEST_HARNESS_MAIN
