/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvp-hostd's activation history: one row per activation request, in an
 * SQLite database in WAL mode (schema: Documentation/kvp-hostd.rst).  Rows
 * are only ever added; nothing here deletes or rewrites recorded history.
 */
#ifndef _KVP_HISTORY_H
#define _KVP_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "avma.h"

struct kvp_history;

struct kvp_history_row {
	int64_t time;				/* unix seconds */
	char vm_id[37];				/* UUID text */
	char vm_name[256];
	uint32_t cid;
	char product[KVP_AVMA_PRODUCT_LEN];
	char version[KVP_AVMA_VERSION_LEN];
	char edition[KVP_AVMA_EDITION_LEN];
	uint16_t outcome;			/* enum kvp_avma_outcome */
	uint32_t reason;			/* enum kvp_avma_reason */
	char grant_id[37];			/* UUID text, "" unless Success */
	uint64_t expires;			/* lease end, 0 unless Success */
	uint8_t nonce[KVP_AVMA_NONCE_LEN];
};

/*
 * Opens (creating the file and schema if missing) the database at path.
 * -errno, with `error` saying what is wrong (corrupt, not a kvp history,
 * permission): the caller decides whether to run without history.
 */
int kvp_history_open(struct kvp_history **h, const char *path, char *error,
		     size_t error_len);
void kvp_history_close(struct kvp_history *h);
int kvp_history_add(struct kvp_history *h, const struct kvp_history_row *row);
/* 1 if a row with this nonce exists, 0 if not, -errno. */
int kvp_history_nonce_seen(struct kvp_history *h,
			   const uint8_t nonce[KVP_AVMA_NONCE_LEN]);

/*
 * Rows oldest first, of one VM (its id or name; NULL: all) since `since`
 * (unix seconds, 0: all).  fn returns nonzero to stop.
 */
typedef int (*kvp_history_fn)(const struct kvp_history_row *row, void *arg);
int kvp_history_each(struct kvp_history *h, const char *vm, int64_t since,
		     kvp_history_fn fn, void *arg);
/* The last Success row of a VM (id or name): 1 found, 0 none, -errno. */
int kvp_history_last_grant(struct kvp_history *h, const char *vm,
			   struct kvp_history_row *row);
/* The row of a grant id: 1 found, 0 none, -errno. */
int kvp_history_find_grant(struct kvp_history *h, const char *grant_id,
			   struct kvp_history_row *row);

#endif /* _KVP_HISTORY_H */
