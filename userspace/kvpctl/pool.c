// SPDX-License-Identifier: GPL-2.0
/*
 * Pool names and numbers, exit codes for pool engine errors, and what the
 * guest pool commands (list, get, set, delete) share.  They work on the
 * files directly, under the same locks as kvpd, so they work whether or
 * not kvpd runs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvpctl.h"
#include "msg.h"
#include "pool.h"

static const char *const kvpctl_pool_names[KVP_POOL_COUNT] = {
	[KVP_POOL_EXTERNAL] = "external",
	[KVP_POOL_GUEST] = "guest",
	[KVP_POOL_AUTO] = "auto",
	[KVP_POOL_AUTO_EXTERNAL] = "auto-external",
	[KVP_POOL_AUTO_INTERNAL] = "auto-internal",
};

/* Why the guest must not write a pool, or NULL if it may. */
static const char *const kvpctl_pool_owner[KVP_POOL_COUNT] = {
	[KVP_POOL_EXTERNAL] = "is written by the host",
	[KVP_POOL_AUTO] = "is made up by the daemon, its file is not served",
	[KVP_POOL_AUTO_EXTERNAL] = "is written by the host",
};

int kvpctl_parse_pool(const char *arg)
{
	int nr;

	for (nr = 0; nr < KVP_POOL_COUNT; nr++)
		if (!strcmp(arg, kvpctl_pool_names[nr]))
			return nr;
	if (arg[0] >= '0' && arg[0] < '0' + KVP_POOL_COUNT && !arg[1])
		return arg[0] - '0';
	return -1;
}

const char *kvpctl_pool_name(int nr)
{
	return nr >= 0 && nr < KVP_POOL_COUNT ? kvpctl_pool_names[nr] : "?";
}

int kvpctl_exit_code(int err)
{
	switch (err) {
	case 0:
		return KVPCTL_OK;
	case -ENAMETOOLONG:
	case -EMSGSIZE:
		return KVPCTL_TOO_LONG;
	case -ENOENT:
		return KVPCTL_NO_KEY;
	case -EACCES:
	case -EPERM:
	case -EROFS:
		return KVPCTL_PERM;
	case -EINVAL:
		return KVPCTL_USAGE;
	default:
		return KVPCTL_ERR;
	}
}

/*
 * An error from the pool's path, not from a key: a missing directory, or
 * one whose name is too long (kvp_pool_open()'s -ENAMETOOLONG, where the
 * operations' is a key too long), is a failure, not a lookup or a limit.
 */
static int kvpctl_pool_perror(int err, int nr)
{
	fprintf(stderr, "kvpctl: pool %s (%s/.kvp_pool_%d): %s\n",
		kvpctl_pool_name(nr), kvpctl_opts.pool_dir, nr, strerror(-err));
	if (err == -ENOENT || err == -ENAMETOOLONG)
		return KVPCTL_ERR;
	return kvpctl_exit_code(err);
}

int kvpctl_pool_report(int err, int nr, const char *key, const char *value)
{
	switch (err) {
	case 0:
		return KVPCTL_OK;
	case -ENAMETOOLONG:
		fprintf(stderr, "kvpctl: key is %zu bytes, at most %d fit a record\n",
			strlen(key), KVP_POOL_KEY - 1);
		break;
	case -EMSGSIZE:
		fprintf(stderr, "kvpctl: value is %zu bytes, at most %d fit a record\n",
			strlen(value), KVP_POOL_VALUE - 1);
		break;
	case -ENOENT:
		fprintf(stderr, "kvpctl: no key '%s' in pool %s\n", key,
			kvpctl_pool_name(nr));
		break;
	case -EINVAL:
		fprintf(stderr, "kvpctl: %s\n", !*key ? "the key is empty" :
			value ? "key or value is not valid UTF-8" :
				"key is not valid UTF-8");
		break;
	case -ETIMEDOUT:
		fprintf(stderr, "kvpctl: pool %s is locked by another program\n",
			kvpctl_pool_name(nr));
		break;
	default:
		return kvpctl_pool_perror(err, nr);
	}
	return kvpctl_exit_code(err);
}

int kvpctl_pool_open(struct kvp_pool **pool, int nr, int mode)
{
	int err;

	if (mode == KVP_POOL_WRITE && kvpctl_pool_owner[nr] &&
	    !kvpctl_opts.force) {
		fprintf(stderr, "kvpctl: pool %s %s; -f writes it anyway\n",
			kvpctl_pool_name(nr), kvpctl_pool_owner[nr]);
		return KVPCTL_READ_ONLY;
	}
	err = kvp_pool_open(pool, kvpctl_opts.pool_dir, nr, mode);
	return err ? kvpctl_pool_perror(err, nr) : KVPCTL_OK;
}

/* The usage line names every word the command takes. */
static int kvpctl_words(const char *usage)
{
	int words = 1;

	for (; (usage = strchr(usage, ' ')); usage++)
		words++;
	return words;
}

int kvpctl_pool_start(int argc, char **argv, const char *usage, int mode,
		      struct kvp_pool **pool, int *nr)
{
	if (argc != kvpctl_words(usage)) {
		fprintf(stderr, "usage: kvpctl %s\n", usage);
		return KVPCTL_USAGE;
	}
	*nr = kvpctl_parse_pool(argv[1]);
	if (*nr < 0) {
		fprintf(stderr, "kvpctl: unknown pool '%s' (external, guest, auto, auto-external, auto-internal or 0-4)\n",
			argv[1]);
		return KVPCTL_BAD_POOL;
	}
	return pool ? kvpctl_pool_open(pool, *nr, mode) : KVPCTL_OK;
}
