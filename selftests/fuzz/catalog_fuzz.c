// SPDX-License-Identifier: GPL-2.0
/*
 * The catalog parser and the product-key format (userspace/lib/catalog.c),
 * which read files a vendor or an admin drops in, and keys users type.
 * Input: the text of one catalog file, loaded from a folder of the
 * harness's own; its first line is also read as a product key.
 *
 * Properties: a catalog that loads holds only what the format allows (ids
 * that fit their wire fields, versions ranked in file order, each key in
 * normalized form, found back by kvp_catalog_find_key, of a version and an
 * edition of its product); one that does not load says FILE:... why; a
 * key that normalizes is 5 groups of 5 and normalizes to itself.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "catalog.h"

static char cat_dir[] = "/tmp/catalog_fuzz.XXXXXX";
static char cat_path[64];

static void remove_dir(void)
{
	unlink(cat_path);
	rmdir(cat_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(cat_dir))
		abort();
	snprintf(cat_path, sizeof(cat_path), "%s/fuzz.conf", cat_dir);
	atexit(remove_dir);
	return 0;
}

static void check_product(const struct kvp_catalog *c,
			  const struct kvp_product *p)
{
	const struct kvp_product_key *k;
	const struct kvp_product *owner;
	char again[KVP_KEY_TEXT_LEN + 1];
	unsigned int i;

	FUZZ_CHECK(strlen(p->id) < KVP_AVMA_PRODUCT_LEN);
	FUZZ_CHECK(kvp_catalog_product(c, p->id) == p);
	FUZZ_CHECK(p->name && p->nr_versions && p->nr_editions);
	for (i = 0; i < p->nr_versions; i++) {
		FUZZ_CHECK(strlen(p->versions[i]) < KVP_AVMA_VERSION_LEN);
		FUZZ_CHECK(kvp_product_version_rank(p, p->versions[i]) ==
			   (int)i);
	}
	for (i = 0; i < p->nr_editions; i++) {
		FUZZ_CHECK(strlen(p->editions[i].id) < KVP_AVMA_EDITION_LEN);
		FUZZ_CHECK(kvp_product_edition(p, p->editions[i].id) ==
			   &p->editions[i]);
	}
	for (i = 0; i < p->nr_keys; i++) {
		k = &p->keys[i];
		FUZZ_CHECK(kvp_product_version_rank(p, k->version) >= 0);
		FUZZ_CHECK(kvp_product_edition(p, k->edition));
		FUZZ_CHECK(!kvp_key_normalize(k->key, again, NULL, 0));
		FUZZ_CHECK(!strcmp(again, k->key));
		FUZZ_CHECK(kvp_catalog_find_key(c, k->key, &owner));
	}
}

static void check_key(const uint8_t *data, size_t size)
{
	char in[64], out[KVP_KEY_TEXT_LEN + 1], again[KVP_KEY_TEXT_LEN + 1];
	char error[160];
	size_t len = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
	char *nl;

	memcpy(in, data, len);
	in[len] = '\0';
	nl = strchr(in, '\n');
	if (nl)
		*nl = '\0';
	error[0] = '\0';
	if (kvp_key_normalize(in, out, error, sizeof(error))) {
		FUZZ_CHECK(error[0]);
		return;
	}
	FUZZ_CHECK(strlen(out) == KVP_KEY_TEXT_LEN);
	FUZZ_CHECK(!kvp_key_normalize(out, again, NULL, 0));
	FUZZ_CHECK(!strcmp(out, again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dirs[] = { cat_dir, NULL };
	struct kvp_catalog *c;
	char error[256];
	unsigned int i;
	int fd, ret;

	check_key(data, size);
	fd = open(cat_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
	ret = kvp_catalog_load(&c, dirs, error, sizeof(error));
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL);
		FUZZ_CHECK(!strncmp(error, cat_path, strlen(cat_path)));
		return 0;
	}
	for (i = 0; i < kvp_catalog_count(c); i++)
		check_product(c, kvp_catalog_at(c, i));
	kvp_catalog_free(c);
	return 0;
}
