/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The product catalog: which products can be activated, their versions in
 * order, their editions (and whether a host of that edition may lend
 * activation), the generic AVMA key of each version and edition, and the
 * vendor's public key when the product has one.  Files *.conf in the
 * shipped directory (KVP_CATALOG_DIR) and the drop-in directory
 * (KVP_CATALOG_DROPIN); a product in a later file replaces one of the same
 * id.  Format: Documentation/avma.rst section "Catalog files".
 */
#ifndef _KVP_CATALOG_H
#define _KVP_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "avma.h"
#include "sign.h"

#define KVP_CATALOG_DIR		"/usr/share/kvp/catalog.d"
#define KVP_CATALOG_DROPIN	"/etc/kvp/catalog.d"
#define KVP_KEY_TEXT_LEN	29	/* 5 groups of 5, 4 dashes */

struct kvp_catalog;

struct kvp_product_key {
	const char *version;	/* a version id of the product */
	const char *edition;	/* an edition id of the product */
	const char *key;	/* "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" */
};

struct kvp_edition {
	const char *id;		/* "datacenter" */
	const char *name;	/* "Datacenter" */
	bool lends;		/* a host of this edition activates guests */
};

struct kvp_product {
	const char *id;		/* "windows-server" */
	const char *name;	/* "Windows Server" */
	const char *const *versions;	/* oldest first */
	unsigned int nr_versions;
	const char *const *version_names;	/* "2012 R2", ... */
	const struct kvp_edition *editions;
	unsigned int nr_editions;
	const struct kvp_product_key *keys;
	unsigned int nr_keys;
	bool has_vendor_key;
	uint8_t vendor_key[KVP_SIGN_PUBLIC_LEN];
	const char *source;	/* the file it came from */
};

/*
 * dirs: NULL-terminated, read in order; NULL for the two defaults.  A
 * missing directory is no error; a malformed file is (-EINVAL, and
 * `error` says file, line and what is wrong).
 */
int kvp_catalog_load(struct kvp_catalog **catalog, const char *const *dirs,
		     char *error, size_t error_len);
void kvp_catalog_free(struct kvp_catalog *catalog);
unsigned int kvp_catalog_count(const struct kvp_catalog *catalog);
const struct kvp_product *kvp_catalog_at(const struct kvp_catalog *catalog,
					 unsigned int i);
const struct kvp_product *kvp_catalog_product(const struct kvp_catalog *c,
					      const char *id);
const struct kvp_edition *kvp_product_edition(const struct kvp_product *p,
					      const char *id);
/* Position in the product's order, oldest 0; -1 if it has no such one. */
int kvp_product_version_rank(const struct kvp_product *p, const char *version);
/*
 * Whether licence `lic` (grant.h) lets its host lend p at `version`: it is
 * for p, its edition is one of p's that lends, and its version is one of
 * p's no older than `version` (the catalog half of kvp_grant_verify()).
 */
struct kvp_license;
bool kvp_product_license_covers(const struct kvp_product *p,
				const struct kvp_license *lic,
				const char *version);
/* The catalog entry of an AVMA key (normalized text), or NULL. */
const struct kvp_product_key *
kvp_catalog_find_key(const struct kvp_catalog *catalog, const char *key,
		     const struct kvp_product **product);

/*
 * The product-key format: 5 groups of 5 characters of
 * BCDFGHJKMPQRTVWXY2346789 plus at most one N, dash separated; lower case
 * and missing dashes are accepted on input.  0 and the normalized form in
 * out, or -EINVAL and a message naming the first fault.
 */
int kvp_key_normalize(const char *in, char out[KVP_KEY_TEXT_LEN + 1],
		      char *error, size_t error_len);

#endif /* _KVP_CATALOG_H */
