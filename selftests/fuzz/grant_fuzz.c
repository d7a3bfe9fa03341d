// SPDX-License-Identifier: GPL-2.0
/*
 * The signed documents' decoders (userspace/lib/grant.c), which read what
 * a host sends (a grant) and what an admin installs (a licence).  Input:
 * the bytes of one document, read both as a licence and as a grant.
 *
 * Properties: text fields decoded hold their NUL; a document that decodes
 * is exactly what encoding its fields gives back (signing them again with
 * a key of the harness's changes only the key and signature bytes), so no
 * byte of it is ignored; and verifying it never crashes, whatever it says.
 */
#include <unistd.h>

#include "fuzz.h"
#include "grant.h"

static char key_dir[] = "/tmp/grant_fuzz.XXXXXX";
static struct kvp_signer *signer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64];

	(void)argc;
	(void)argv;
	if (!mkdtemp(key_dir))
		abort();
	snprintf(path, sizeof(path), "%s/key", key_dir);
	if (kvp_sign_generate(path) || kvp_sign_load(path, &signer))
		abort();
	unlink(path);
	rmdir(key_dir);
	return 0;
}

static void check_license(const uint8_t *data, size_t size)
{
	uint8_t out[KVP_LICENSE_LEN], vendor[KVP_SIGN_PUBLIC_LEN];
	struct kvp_license lic;
	int ret;

	if (kvp_license_decode(data, size, &lic))
		return;
	FUZZ_CHECK(size == KVP_LICENSE_LEN);
	FUZZ_CHECK(strnlen(lic.product, sizeof(lic.product)) < sizeof(lic.product));
	FUZZ_CHECK(strnlen(lic.edition, sizeof(lic.edition)) < sizeof(lic.edition));
	memcpy(vendor, lic.vendor_key, sizeof(vendor));
	ret = kvp_license_verify(&lic, vendor);
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG);
	FUZZ_CHECK(kvp_license_sign(&lic, signer, out) == 0);
	/* All but the vendor key and the signature: offsets 136 on. */
	FUZZ_CHECK(!memcmp(out, data, 136));
}

static void check_grant(const uint8_t *data, size_t size)
{
	uint8_t out[KVP_GRANT_MAX_LEN];
	struct kvp_grant grant;
	size_t lic_off = KVP_GRANT_FIXED_LEN;
	int ret;

	if (kvp_grant_decode(data, size, &grant))
		return;
	FUZZ_CHECK(size == lic_off + (grant.has_license ? KVP_LICENSE_LEN : 0) +
		   KVP_SIGN_SIG_LEN);
	FUZZ_CHECK(strnlen(grant.host_name, sizeof(grant.host_name)) <
		   sizeof(grant.host_name));
	ret = kvp_grant_verify(data, size, &grant, NULL, true);
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG || ret == -EPERM);
	ret = kvp_grant_verify(data, size, &grant, grant.license.vendor_key,
			       data[0] & 1);
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG || ret == -EPERM);
	FUZZ_CHECK(kvp_grant_sign(&grant, signer, out, sizeof(out)) ==
		   (int)size);
	/* All but the host key (216..247) and the grant's signature. */
	FUZZ_CHECK(!memcmp(out, data, 216));
	FUZZ_CHECK(!memcmp(out + 248, data + 248,
			   size - KVP_SIGN_SIG_LEN - 248));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_license(data, size);
	check_grant(data, size);
	return 0;
}
