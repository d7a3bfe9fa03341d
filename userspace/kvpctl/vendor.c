// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl vendor: what a product's vendor does to set up the activation
 * trust chain (Documentation/avma.rst): make its key pair, whose public
 * half goes in the product's catalog entry, and sign host licences with
 * it.  Runs anywhere; nothing here talks to kvp.ko or kvp-hostd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grant.h"
#include "isotime.h"
#include "json.h"
#include "kvpctl.h"

#define KVPCTL_SIGN_USAGE \
	"vendor sign-license --key VENDOR.key --product P --version V --edition E --host-key BASE64 [--not-after UNIX|DATE] [-o FILE]"

static int kvpctl_vendor_keygen(const char *path)
{
	char b64[KVP_BASE64_LEN(KVP_SIGN_PUBLIC_LEN) + 1];
	uint8_t pub[KVP_SIGN_PUBLIC_LEN];
	struct kvp_signer *signer;
	struct kvp_json json;
	int err;

	err = kvp_sign_generate(path);
	if (!err)
		err = kvp_sign_load(path, &signer);
	if (err) {
		fprintf(stderr, "kvpctl: vendor keygen: %s: %s\n", path,
			err == -EEXIST ? "exists, not overwritten" :
					 strerror(-err));
		return err == -EACCES || err == -EPERM ? KVPCTL_PERM :
							 KVPCTL_ERR;
	}
	kvp_sign_public(signer, pub);
	kvp_sign_free(signer);
	kvp_base64_encode(pub, sizeof(pub), b64);
	if (!kvpctl_opts.json) {
		printf("public key: %s\n", b64);
		printf("catalog line (in the product's section): vendor-key = %s\n",
		       b64);
		return KVPCTL_OK;
	}
	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "file", path);
	kvp_json_str(&json, "public_key", b64);
	kvp_json_close(&json, '}');
	return KVPCTL_OK;
}

static int kvpctl_set_text(char *dst, size_t size, const char *what,
			   const char *value)
{
	if (!*value || strlen(value) >= size) {
		fprintf(stderr, "kvpctl: vendor sign-license: --%s: 1 to %zu bytes\n",
			what, size - 1);
		return KVPCTL_USAGE;
	}
	strcpy(dst, value);
	return KVPCTL_OK;
}

struct kvpctl_sign_args {
	const char *key;
	const char *out;
	struct kvp_license lic;
};

static int kvpctl_sign_option(int c, const char *arg,
			      struct kvpctl_sign_args *a)
{
	uint8_t pub[KVP_SIGN_PUBLIC_LEN + 3];
	int64_t t;

	switch (c) {
	case 'k':
		a->key = arg;
		return KVPCTL_OK;
	case 'o':
		a->out = arg;
		return KVPCTL_OK;
	case 'p':
		return kvpctl_set_text(a->lic.product, sizeof(a->lic.product),
				       "product", arg);
	case 'v':
		return kvpctl_set_text(a->lic.version, sizeof(a->lic.version),
				       "version", arg);
	case 'e':
		return kvpctl_set_text(a->lic.edition, sizeof(a->lic.edition),
				       "edition", arg);
	case 'H':
		if (kvp_base64_decode(arg, pub, sizeof(pub)) !=
		    KVP_SIGN_PUBLIC_LEN) {
			fprintf(stderr, "kvpctl: vendor sign-license: --host-key: base64 of a %d-byte public key expected (kvpctl host identity shows it)\n",
				KVP_SIGN_PUBLIC_LEN);
			return KVPCTL_USAGE;
		}
		memcpy(a->lic.host_key, pub, KVP_SIGN_PUBLIC_LEN);
		return KVPCTL_OK;
	case 'n':
		if (kvp_iso_time_parse(arg, &t) || t < 0) {
			fprintf(stderr, "kvpctl: vendor sign-license: --not-after: '%s' is neither UNIX seconds nor an ISO 8601 date or time\n",
				arg);
			return KVPCTL_USAGE;
		}
		a->lic.not_after = t;
		return KVPCTL_OK;
	default:
		fprintf(stderr, "usage: kvpctl " KVPCTL_SIGN_USAGE "\n");
		return KVPCTL_USAGE;
	}
}

static int kvpctl_write_out(const char *path, const char *text)
{
	FILE *f = stdout;
	int err = 0;

	if (path) {
		f = fopen(path, "we");
		if (!f)
			err = -errno;
	}
	if (!err && (fputs(text, f) < 0 || fflush(f)))
		err = -errno;
	if (path && f && fclose(f) && !err)
		err = -errno;
	if (err) {
		fprintf(stderr, "kvpctl: vendor sign-license: %s: %s\n",
			path ? path : "stdout", strerror(-err));
		return KVPCTL_ERR;
	}
	return KVPCTL_OK;
}

static int kvpctl_vendor_sign(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "product", required_argument, NULL, 'p' },
		{ "version", required_argument, NULL, 'v' },
		{ "edition", required_argument, NULL, 'e' },
		{ "host-key", required_argument, NULL, 'H' },
		{ "not-after", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	char text[KVP_BASE64_LEN(KVP_LICENSE_LEN) + 2];
	struct kvpctl_sign_args a = { 0 };
	uint8_t zero[KVP_SIGN_PUBLIC_LEN] = { 0 }, buf[KVP_LICENSE_LEN];
	struct kvp_signer *vendor;
	int c, ret, err;

	optind = 0;	/* a fresh scan: argv[0] is "sign-license" */
	while ((c = getopt_long(argc - 1, argv + 1, "o:", options,
				NULL)) != -1) {
		ret = kvpctl_sign_option(c, optarg, &a);
		if (ret)
			return ret;
	}
	if (optind != argc - 1 || !a.key || !a.lic.product[0] ||
	    !a.lic.version[0] || !a.lic.edition[0] ||
	    !memcmp(a.lic.host_key, zero, sizeof(zero))) {
		fprintf(stderr, "usage: kvpctl " KVPCTL_SIGN_USAGE "\n");
		return KVPCTL_USAGE;
	}
	err = kvp_sign_load(a.key, &vendor);
	if (err) {
		fprintf(stderr, "kvpctl: vendor sign-license: %s: %s\n", a.key,
			err == -EBADMSG ? "not an Ed25519 private key" :
					  strerror(-err));
		return err == -EACCES ? KVPCTL_PERM : KVPCTL_ERR;
	}
	a.lic.issued = time(NULL);
	if (a.lic.not_after && a.lic.not_after <= a.lic.issued)
		fprintf(stderr, "kvpctl: warning: --not-after is in the past: hosts refuse this licence\n");
	err = kvp_license_sign(&a.lic, vendor, buf);
	kvp_sign_free(vendor);
	if (err) {
		fprintf(stderr, "kvpctl: vendor sign-license: cannot sign: %s\n",
			strerror(-err));
		return KVPCTL_ERR;
	}
	kvp_base64_encode(buf, sizeof(buf), text);
	strcat(text, "\n");
	return kvpctl_write_out(a.out, text);
}

int kvpctl_vendor(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "keygen"))
		return kvpctl_vendor_keygen(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "sign-license"))
		return kvpctl_vendor_sign(argc, argv);
	fprintf(stderr, "usage: kvpctl vendor keygen FILE\n"
			"       kvpctl " KVPCTL_SIGN_USAGE "\n");
	return KVPCTL_USAGE;
}
