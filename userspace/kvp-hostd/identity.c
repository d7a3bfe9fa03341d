// SPDX-License-Identifier: GPL-2.0
/*
 * The host's identity: an Ed25519 key pair in STATE/host.key (PKCS#8 PEM,
 * 0600, in a 0700 directory), made on first start, and the host id derived
 * from its public key (lib/sign.h).  Grants are signed with it; vendors sign
 * licences naming its public key, so it must never change behind the
 * admin's back: an unreadable or damaged key stops the daemon rather than
 * being replaced.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostd.h"
#include "log.h"
#include "sign.h"

#define KVP_HOST_KEY	"host.key"

static struct {
	struct kvp_signer *signer;
	uint8_t pub[KVP_SIGN_PUBLIC_LEN];
	char id[KVP_HOST_ID_LEN + 1];
} kvp_identity;

/*
 * The parents of the state directory, as the system's own would be (0755):
 * a minimal root file system may have no /var/lib yet.
 */
static void kvp_state_parents(const char *dir)
{
	char *path = strdup(dir), *slash = path;

	while (slash && (slash = strchr(slash + 1, '/'))) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	free(path);
}

/* The state directory: made 0700; an existing one open to others is told. */
static int kvp_state_dir(const char *dir)
{
	struct stat st;

	kvp_state_parents(dir);
	if (mkdir(dir, 0700) == 0) {
		kvp_info("created state directory %s", dir);
		return 0;
	}
	if (errno != EEXIST || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		kvp_err("state directory %s: %s", dir,
			errno == EEXIST ? "not a directory" : strerror(errno));
		return errno == EEXIST ? -ENOTDIR : -errno;
	}
	if (st.st_mode & 077)
		kvp_warn("state directory %s is mode %04o: it holds the host's private key, make it 0700",
			 dir, st.st_mode & 07777);
	return 0;
}

/* A key restored from a backup may have lost its mode: say so. */
static void kvp_host_key_mode(const char *path)
{
	struct stat st;

	if (!stat(path, &st) && (st.st_mode & 077))
		kvp_warn("host key %s is mode %04o: not the owner's alone, make it 0600",
			 path, st.st_mode & 07777);
}

static int kvp_host_key(const char *path)
{
	int err = kvp_sign_load(path, &kvp_identity.signer);

	if (err == -ENOENT) {
		err = kvp_sign_generate(path);
		if (err) {
			kvp_err("cannot create the host key %s: %s", path,
				strerror(-err));
			return err;
		}
		kvp_info("created the host key %s", path);
		err = kvp_sign_load(path, &kvp_identity.signer);
	}
	if (err)
		kvp_err("host key %s: %s", path, err == -EBADMSG ?
			"not an Ed25519 private key (PKCS#8 PEM); not replacing it" :
			strerror(-err));
	else
		kvp_host_key_mode(path);
	return err;
}

int kvp_identity_init(const char *state_dir)
{
	char *path;
	int err;

	err = kvp_state_dir(state_dir);
	if (err)
		return err;
	if (asprintf(&path, "%s/%s", state_dir, KVP_HOST_KEY) < 0)
		return -ENOMEM;
	err = kvp_host_key(path);
	free(path);
	if (err)
		return err;
	kvp_sign_public(kvp_identity.signer, kvp_identity.pub);
	kvp_host_id(kvp_identity.pub, kvp_identity.id);
	kvp_info("host id %s", kvp_identity.id);
	return 0;
}

void kvp_identity_exit(void)
{
	kvp_sign_free(kvp_identity.signer);
	memset(&kvp_identity, 0, sizeof(kvp_identity));
}

const struct kvp_signer *kvp_identity_signer(void)
{
	return kvp_identity.signer;
}

const uint8_t *kvp_identity_public(void)
{
	return kvp_identity.signer ? kvp_identity.pub : NULL;
}

const char *kvp_identity_host_id(void)
{
	return kvp_identity.signer ? kvp_identity.id : NULL;
}
