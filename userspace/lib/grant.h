/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two signed documents of activation (byte layouts: Documentation/
 * avma.rst section "Signed documents"):
 *
 *   host licence  signed by a vendor key: product line, highest version and
 *                 edition a host holds, bound to the host's public key;
 *   grant         signed by the host key: one guest's activation (VM id,
 *                 product, edition, version, host, times, the guest's
 *                 nonce), carrying the host's licence when it has a signed
 *                 one, so that whoever holds the vendor key can check the
 *                 whole chain offline.
 *
 * In text (pool 2, licence files, reports) both are base64 of these bytes.
 */
#ifndef _KVP_GRANT_H
#define _KVP_GRANT_H

#include <stdbool.h>
#include <stdint.h>

#include "avma.h"
#include "sign.h"

#define KVP_LICENSE_MAGIC	"KVPL"
#define KVP_LICENSE_LEN		232	/* signature included */
#define KVP_GRANT_MAGIC		"KVPG"
#define KVP_GRANT_FIXED_LEN	252	/* before the licence */
#define KVP_GRANT_MAX_LEN	(KVP_GRANT_FIXED_LEN + KVP_LICENSE_LEN + \
				 KVP_SIGN_SIG_LEN)	/* 548 */

struct kvp_license {
	char product[KVP_AVMA_PRODUCT_LEN];
	char version[KVP_AVMA_VERSION_LEN];	/* highest it may lend */
	char edition[KVP_AVMA_EDITION_LEN];
	uint8_t host_key[KVP_SIGN_PUBLIC_LEN];
	uint64_t issued;			/* unix seconds */
	uint64_t not_after;			/* unix seconds, 0: never */
	uint8_t vendor_key[KVP_SIGN_PUBLIC_LEN];
	uint8_t sig[KVP_SIGN_SIG_LEN];
};

struct kvp_grant {
	uint8_t id[16];				/* the inherited activation id */
	uint8_t vm_id[KVP_AVMA_UUID_LEN];
	uint8_t nonce[KVP_AVMA_NONCE_LEN];
	uint64_t activated;			/* unix seconds */
	uint64_t expires;			/* unix seconds: the lease */
	char product[KVP_AVMA_PRODUCT_LEN];
	char version[KVP_AVMA_VERSION_LEN];
	char edition[KVP_AVMA_EDITION_LEN];
	char host_name[KVP_AVMA_NAME_LEN];
	uint8_t host_key[KVP_SIGN_PUBLIC_LEN];
	bool has_license;
	struct kvp_license license;
	uint8_t sig[KVP_SIGN_SIG_LEN];
};

/* Sign (fills ->vendor_key/->sig, or ->host_key/->sig) and encode. */
int kvp_license_sign(struct kvp_license *lic, const struct kvp_signer *vendor,
		     uint8_t out[KVP_LICENSE_LEN]);
/*
 * Returns the length written (at most KVP_GRANT_MAX_LEN), or -ENOSPC (cap
 * too small), -EINVAL (a text field empty or too long; host_name may be
 * empty), -EIO (signing failed).
 */
int kvp_grant_sign(struct kvp_grant *grant, const struct kvp_signer *host,
		   uint8_t *out, size_t cap);

/* Layout only: -EINVAL for a malformed document; signatures unchecked. */
int kvp_license_decode(const uint8_t *buf, size_t len,
		       struct kvp_license *lic);
int kvp_grant_decode(const uint8_t *buf, size_t len, struct kvp_grant *grant);

/*
 * Signatures: the licence by its vendor_key, which must equal `vendor`;
 * the grant (buf, len: the bytes `grant` was decoded from) by its
 * host_key, and, when it carries a licence, that licence as above, naming
 * the same host key and product, valid for the whole lease (not_after 0
 * or >= the grant's expires), and passing the catalog's checks, done by
 * the caller: `licence_ok` = kvp_product_license_covers() (its edition
 * lends, its version is no lower than the grant's).  `vendor` NULL: the
 * product has no vendor key and the grant must carry no licence.
 * 0, or -EBADMSG (a signature, or buf is not grant), -EPERM (the chain does
 * not hold).
 */
int kvp_license_verify(const struct kvp_license *lic,
		       const uint8_t vendor[KVP_SIGN_PUBLIC_LEN]);
int kvp_grant_verify(const uint8_t *buf, size_t len,
		     const struct kvp_grant *grant,
		     const uint8_t *vendor, bool licence_ok);

#endif /* _KVP_GRANT_H */
