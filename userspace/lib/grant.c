// SPDX-License-Identifier: GPL-2.0
/*
 * The host licence and the grant: encoding, strict decoding and the
 * signature chain.  Offsets are those of Documentation/avma.rst section
 * "Signed documents".  A document decodes only if encoding what it
 * decodes to gives back the same bytes: the signatures cover bytes, and
 * no byte may carry meaning the structure does not show.
 */
#include <errno.h>
#include <string.h>

#include "grant.h"

#define KVP_DOC_VERSION		1

/* The licence. */
#define LIC_OFF_PRODUCT		8
#define LIC_OFF_VERSION		40
#define LIC_OFF_EDITION		56
#define LIC_OFF_HOST_KEY	88
#define LIC_OFF_ISSUED		120
#define LIC_OFF_NOT_AFTER	128
#define LIC_OFF_VENDOR_KEY	136
#define LIC_OFF_SIG		168

/* The grant. */
#define GR_OFF_ID		8
#define GR_OFF_VM_ID		24
#define GR_OFF_NONCE		40
#define GR_OFF_ACTIVATED	56
#define GR_OFF_EXPIRES		64
#define GR_OFF_PRODUCT		72
#define GR_OFF_VERSION		104
#define GR_OFF_EDITION		120
#define GR_OFF_HOST_NAME	152
#define GR_OFF_HOST_KEY		216
#define GR_OFF_LICENSE_LEN	248
#define GR_OFF_RESERVED		250

/* -EINVAL unless s fits with at least one NUL (and is non-empty if asked). */
static int put_text(uint8_t *field, size_t size, const char *s, bool empty_ok)
{
	size_t len = strnlen(s, size);

	if (len == size || (!len && !empty_ok))
		return -EINVAL;
	memset(field, 0, size);
	memcpy(field, s, len);
	return 0;
}

/* A NUL in the field and nothing but NULs after the first one. */
static int get_text(char *s, const uint8_t *field, size_t size, bool empty_ok)
{
	size_t len = strnlen((const char *)field, size), i;

	if (len == size || (!len && !empty_ok))
		return -EINVAL;
	for (i = len; i < size; i++)
		if (field[i])
			return -EINVAL;
	memcpy(s, field, size);
	return 0;
}

static void put_header(uint8_t *buf, const char *magic, size_t len)
{
	memcpy(buf, magic, 4);
	kvp_put_le16(buf + 4, KVP_DOC_VERSION);
	kvp_put_le16(buf + 6, len);
}

static bool header_ok(const uint8_t *buf, const char *magic, size_t len)
{
	return !memcmp(buf, magic, 4) &&
	       kvp_get_le16(buf + 4) == KVP_DOC_VERSION &&
	       kvp_get_le16(buf + 6) == len;
}

/* All 232 bytes, the signature as it stands in lic. */
static int license_encode(const struct kvp_license *lic, uint8_t *out)
{
	put_header(out, KVP_LICENSE_MAGIC, KVP_LICENSE_LEN);
	if (put_text(out + LIC_OFF_PRODUCT, KVP_AVMA_PRODUCT_LEN,
		     lic->product, false) ||
	    put_text(out + LIC_OFF_VERSION, KVP_AVMA_VERSION_LEN,
		     lic->version, false) ||
	    put_text(out + LIC_OFF_EDITION, KVP_AVMA_EDITION_LEN,
		     lic->edition, false))
		return -EINVAL;
	memcpy(out + LIC_OFF_HOST_KEY, lic->host_key, KVP_SIGN_PUBLIC_LEN);
	kvp_put_le64(out + LIC_OFF_ISSUED, lic->issued);
	kvp_put_le64(out + LIC_OFF_NOT_AFTER, lic->not_after);
	memcpy(out + LIC_OFF_VENDOR_KEY, lic->vendor_key, KVP_SIGN_PUBLIC_LEN);
	memcpy(out + LIC_OFF_SIG, lic->sig, KVP_SIGN_SIG_LEN);
	return 0;
}

int kvp_license_sign(struct kvp_license *lic, const struct kvp_signer *vendor,
		     uint8_t out[KVP_LICENSE_LEN])
{
	int ret;

	kvp_sign_public(vendor, lic->vendor_key);
	memset(lic->sig, 0, KVP_SIGN_SIG_LEN);
	ret = license_encode(lic, out);
	if (!ret)
		ret = kvp_sign(vendor, out, LIC_OFF_SIG, out + LIC_OFF_SIG);
	if (!ret)
		memcpy(lic->sig, out + LIC_OFF_SIG, KVP_SIGN_SIG_LEN);
	return ret;
}

int kvp_license_decode(const uint8_t *buf, size_t len,
		       struct kvp_license *lic)
{
	if (len != KVP_LICENSE_LEN ||
	    !header_ok(buf, KVP_LICENSE_MAGIC, KVP_LICENSE_LEN) ||
	    get_text(lic->product, buf + LIC_OFF_PRODUCT,
		     KVP_AVMA_PRODUCT_LEN, false) ||
	    get_text(lic->version, buf + LIC_OFF_VERSION,
		     KVP_AVMA_VERSION_LEN, false) ||
	    get_text(lic->edition, buf + LIC_OFF_EDITION,
		     KVP_AVMA_EDITION_LEN, false))
		return -EINVAL;
	memcpy(lic->host_key, buf + LIC_OFF_HOST_KEY, KVP_SIGN_PUBLIC_LEN);
	lic->issued = kvp_get_le64(buf + LIC_OFF_ISSUED);
	lic->not_after = kvp_get_le64(buf + LIC_OFF_NOT_AFTER);
	memcpy(lic->vendor_key, buf + LIC_OFF_VENDOR_KEY, KVP_SIGN_PUBLIC_LEN);
	memcpy(lic->sig, buf + LIC_OFF_SIG, KVP_SIGN_SIG_LEN);
	return 0;
}

int kvp_license_verify(const struct kvp_license *lic,
		       const uint8_t vendor[KVP_SIGN_PUBLIC_LEN])
{
	uint8_t buf[KVP_LICENSE_LEN];

	if (license_encode(lic, buf))
		return -EBADMSG;
	if (kvp_verify(lic->vendor_key, buf, LIC_OFF_SIG, lic->sig))
		return -EBADMSG;
	if (memcmp(lic->vendor_key, vendor, KVP_SIGN_PUBLIC_LEN))
		return -EPERM;
	return 0;
}

static size_t grant_len(const struct kvp_grant *grant)
{
	return KVP_GRANT_FIXED_LEN + (grant->has_license ? KVP_LICENSE_LEN : 0)
	       + KVP_SIGN_SIG_LEN;
}

/* All of it, the signature as it stands in grant; out holds grant_len(). */
static int grant_encode(const struct kvp_grant *grant, uint8_t *out)
{
	size_t lic_len = grant->has_license ? KVP_LICENSE_LEN : 0;

	put_header(out, KVP_GRANT_MAGIC, grant_len(grant));
	memcpy(out + GR_OFF_ID, grant->id, 16);
	memcpy(out + GR_OFF_VM_ID, grant->vm_id, KVP_AVMA_UUID_LEN);
	memcpy(out + GR_OFF_NONCE, grant->nonce, KVP_AVMA_NONCE_LEN);
	kvp_put_le64(out + GR_OFF_ACTIVATED, grant->activated);
	kvp_put_le64(out + GR_OFF_EXPIRES, grant->expires);
	if (put_text(out + GR_OFF_PRODUCT, KVP_AVMA_PRODUCT_LEN,
		     grant->product, false) ||
	    put_text(out + GR_OFF_VERSION, KVP_AVMA_VERSION_LEN,
		     grant->version, false) ||
	    put_text(out + GR_OFF_EDITION, KVP_AVMA_EDITION_LEN,
		     grant->edition, false) ||
	    put_text(out + GR_OFF_HOST_NAME, KVP_AVMA_NAME_LEN,
		     grant->host_name, true))
		return -EINVAL;
	memcpy(out + GR_OFF_HOST_KEY, grant->host_key, KVP_SIGN_PUBLIC_LEN);
	kvp_put_le16(out + GR_OFF_LICENSE_LEN, lic_len);
	kvp_put_le16(out + GR_OFF_RESERVED, 0);
	if (lic_len &&
	    license_encode(&grant->license, out + KVP_GRANT_FIXED_LEN))
		return -EINVAL;
	memcpy(out + KVP_GRANT_FIXED_LEN + lic_len, grant->sig,
	       KVP_SIGN_SIG_LEN);
	return 0;
}

int kvp_grant_sign(struct kvp_grant *grant, const struct kvp_signer *host,
		   uint8_t *out, size_t cap)
{
	size_t len = grant_len(grant);
	int ret;

	if (cap < len)
		return -ENOSPC;
	kvp_sign_public(host, grant->host_key);
	memset(grant->sig, 0, KVP_SIGN_SIG_LEN);
	ret = grant_encode(grant, out);
	if (!ret)
		ret = kvp_sign(host, out, len - KVP_SIGN_SIG_LEN,
			       out + len - KVP_SIGN_SIG_LEN);
	if (ret)
		return ret;
	memcpy(grant->sig, out + len - KVP_SIGN_SIG_LEN, KVP_SIGN_SIG_LEN);
	return len;
}

int kvp_grant_decode(const uint8_t *buf, size_t len, struct kvp_grant *grant)
{
	size_t lic_len;

	if (len < KVP_GRANT_FIXED_LEN + KVP_SIGN_SIG_LEN ||
	    len > KVP_GRANT_MAX_LEN || !header_ok(buf, KVP_GRANT_MAGIC, len))
		return -EINVAL;
	lic_len = kvp_get_le16(buf + GR_OFF_LICENSE_LEN);
	if ((lic_len != 0 && lic_len != KVP_LICENSE_LEN) ||
	    len != KVP_GRANT_FIXED_LEN + lic_len + KVP_SIGN_SIG_LEN ||
	    kvp_get_le16(buf + GR_OFF_RESERVED))
		return -EINVAL;
	if (get_text(grant->product, buf + GR_OFF_PRODUCT,
		     KVP_AVMA_PRODUCT_LEN, false) ||
	    get_text(grant->version, buf + GR_OFF_VERSION,
		     KVP_AVMA_VERSION_LEN, false) ||
	    get_text(grant->edition, buf + GR_OFF_EDITION,
		     KVP_AVMA_EDITION_LEN, false) ||
	    get_text(grant->host_name, buf + GR_OFF_HOST_NAME,
		     KVP_AVMA_NAME_LEN, true))
		return -EINVAL;
	grant->has_license = lic_len != 0;
	if (lic_len) {
		if (kvp_license_decode(buf + KVP_GRANT_FIXED_LEN, lic_len,
				       &grant->license))
			return -EINVAL;
	} else {
		memset(&grant->license, 0, sizeof(grant->license));
	}
	memcpy(grant->id, buf + GR_OFF_ID, 16);
	memcpy(grant->vm_id, buf + GR_OFF_VM_ID, KVP_AVMA_UUID_LEN);
	memcpy(grant->nonce, buf + GR_OFF_NONCE, KVP_AVMA_NONCE_LEN);
	grant->activated = kvp_get_le64(buf + GR_OFF_ACTIVATED);
	grant->expires = kvp_get_le64(buf + GR_OFF_EXPIRES);
	memcpy(grant->host_key, buf + GR_OFF_HOST_KEY, KVP_SIGN_PUBLIC_LEN);
	memcpy(grant->sig, buf + len - KVP_SIGN_SIG_LEN, KVP_SIGN_SIG_LEN);
	return 0;
}

/* What the licence a grant carries must say for the chain to hold. */
static int license_chain(const struct kvp_grant *grant,
			 const uint8_t *vendor, bool licence_ok)
{
	const struct kvp_license *lic = &grant->license;
	int ret;

	if (!grant->has_license)
		return -EPERM;
	ret = kvp_license_verify(lic, vendor);
	if (ret)
		return ret;
	if (memcmp(lic->host_key, grant->host_key, KVP_SIGN_PUBLIC_LEN) ||
	    strcmp(lic->product, grant->product) || !licence_ok ||
	    (lic->not_after && grant->expires > lic->not_after))
		return -EPERM;
	return 0;
}

int kvp_grant_verify(const uint8_t *buf, size_t len,
		     const struct kvp_grant *grant,
		     const uint8_t *vendor, bool licence_ok)
{
	uint8_t enc[KVP_GRANT_MAX_LEN];

	/* The fields checked below must be the ones that were signed. */
	if (len != grant_len(grant) || grant_encode(grant, enc) ||
	    memcmp(enc, buf, len))
		return -EBADMSG;
	if (kvp_verify(grant->host_key, buf, len - KVP_SIGN_SIG_LEN,
		       buf + len - KVP_SIGN_SIG_LEN))
		return -EBADMSG;
	if (!vendor)
		return grant->has_license ? -EPERM : 0;
	return license_chain(grant, vendor, licence_ok);
}
