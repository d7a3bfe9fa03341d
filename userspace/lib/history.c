// SPDX-License-Identifier: GPL-2.0
/*
 * The activation history (history.h) in SQLite, WAL mode, so that kvpctl
 * and others may read while kvp-hostd writes.  The schema is versioned
 * (PRAGMA user_version) and marked as ours (PRAGMA application_id), so a
 * file that is something else is recognised and refused before anything
 * is written to it: a history is only ever added to, never repaired,
 * truncated or replaced here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "history.h"

#define KVP_HISTORY_APP_ID	0x4b565048	/* "KVPH" */
#define KVP_HISTORY_SCHEMA	1
#define KVP_HISTORY_BUSY_MS	5000
#define KVP_SQLITE_MAGIC	"SQLite format 3"	/* and its NUL: 16 bytes */
#define KVP_SQLITE_HDR_LEN	100

static const char kvp_history_schema[] =
	"CREATE TABLE history ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" vm_id TEXT NOT NULL COLLATE NOCASE,"
	" vm_name TEXT NOT NULL,"
	" cid INTEGER NOT NULL,"
	" product TEXT NOT NULL,"
	" version TEXT NOT NULL,"
	" edition TEXT NOT NULL,"
	" outcome INTEGER NOT NULL,"
	" reason INTEGER NOT NULL,"
	" grant_id TEXT NOT NULL COLLATE NOCASE,"
	" expires INTEGER NOT NULL,"
	" nonce BLOB NOT NULL);"
	"CREATE INDEX history_nonce ON history(nonce);"
	"CREATE INDEX history_vm_id ON history(vm_id);"
	"CREATE INDEX history_vm_name ON history(vm_name);"
	"CREATE INDEX history_grant ON history(grant_id);"
	"CREATE INDEX history_time ON history(time);"
	"PRAGMA application_id = 1263947848;"	/* KVP_HISTORY_APP_ID */
	"PRAGMA user_version = 1;";		/* KVP_HISTORY_SCHEMA */

#define KVP_HISTORY_COLUMNS \
	"time, vm_id, vm_name, cid, product, version, edition, outcome, " \
	"reason, grant_id, expires, nonce"

enum {
	KVP_HISTORY_INSERT,
	KVP_HISTORY_NONCE,
	KVP_HISTORY_EACH,
	KVP_HISTORY_LAST,
	KVP_HISTORY_FIND,
	KVP_HISTORY_NR_STMTS,
};

static const char *const kvp_history_sql[KVP_HISTORY_NR_STMTS] = {
	[KVP_HISTORY_INSERT] = "INSERT INTO history (" KVP_HISTORY_COLUMNS
		") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[KVP_HISTORY_NONCE] = "SELECT 1 FROM history WHERE nonce = ?1 LIMIT 1",
	[KVP_HISTORY_EACH] = "SELECT " KVP_HISTORY_COLUMNS " FROM history"
		" WHERE (?1 IS NULL OR vm_id = ?1 OR vm_name = ?1)"
		" AND time >= ?2 ORDER BY time, id",
	[KVP_HISTORY_LAST] = "SELECT " KVP_HISTORY_COLUMNS " FROM history"
		" WHERE (vm_id = ?1 OR vm_name = ?1) AND outcome = 0"
		" ORDER BY time DESC, id DESC LIMIT 1",
	[KVP_HISTORY_FIND] = "SELECT " KVP_HISTORY_COLUMNS " FROM history"
		" WHERE grant_id = ?1 AND grant_id != ''"
		" ORDER BY id DESC LIMIT 1",
};

struct kvp_history {
	sqlite3 *db;
	sqlite3_stmt *stmt[KVP_HISTORY_NR_STMTS];
};

static int kvp_history_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

static int kvp_history_fail(int err, char *error, size_t len,
			    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int kvp_history_fail(int err, char *error, size_t len,
			    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error, len, fmt, ap);
	va_end(ap);
	return err;
}

/* The SQLite header's integers are big endian. */
static uint32_t kvp_history_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Whose database it is, from its application id, schema version and
 * whether it has a schema at all: 0 an empty one (ours to fill), 1 ours,
 * -EINVAL another program's or another schema's, error saying which.
 */
static int kvp_history_owner(int64_t app, int64_t version, bool schema,
			     const char *path, char *error, size_t len)
{
	if (!app && !version && !schema)
		return 0;
	if (app != KVP_HISTORY_APP_ID)
		return kvp_history_fail(-EINVAL, error, len,
					"%s: an SQLite database, but not a kvp activation history: left as it is",
					path);
	if (version != KVP_HISTORY_SCHEMA)
		return kvp_history_fail(-EINVAL, error, len,
					"%s: history schema version %lld, this program knows version %d: left as it is",
					path, (long long)version,
					KVP_HISTORY_SCHEMA);
	return 1;
}

/*
 * What the 100-byte database header says, read before SQLite opens the
 * file, so that SQLite never opens one that is not ours: even to read, it
 * may roll back another program's journal or checkpoint its WAL.  0: no
 * bytes, or an SQLite database that never had a schema (ours to fill);
 * 1: our schema; else -EBADMSG or -EINVAL, error saying why.
 */
static int kvp_history_header(const unsigned char *hdr, ssize_t n,
			      const char *path, char *error, size_t len)
{
	if (!n)
		return 0;
	if (n < KVP_SQLITE_HDR_LEN ||
	    memcmp(hdr, KVP_SQLITE_MAGIC, sizeof(KVP_SQLITE_MAGIC)))
		return kvp_history_fail(-EBADMSG, error, len,
					"%s: not an SQLite database (corrupt, or another kind of file): left as it is",
					path);
	/* application_id, user_version, and the schema's change counter. */
	return kvp_history_owner(kvp_history_be32(hdr + 68),
				 kvp_history_be32(hdr + 60),
				 kvp_history_be32(hdr + 40), path, error, len);
}

/*
 * Before SQLite sees the file: it must be a regular file whose header
 * (kvp_history_header) is ours or none.  -ENOENT, and no message, if
 * there is none.
 */
static int kvp_history_file(const char *path, char *error, size_t len)
{
	unsigned char hdr[KVP_SQLITE_HDR_LEN];
	struct stat st;
	ssize_t n = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return err;
		return kvp_history_fail(err, error, len, "%s: %s", path,
					strerror(-err));
	}
	if (fstat(fd, &st) < 0)
		err = kvp_history_fail(-errno, error, len, "%s: %s", path,
				       strerror(errno));
	else if (!S_ISREG(st.st_mode))
		err = kvp_history_fail(-EINVAL, error, len,
				       "%s: not a regular file", path);
	else if (st.st_size && (n = pread(fd, hdr, sizeof(hdr), 0)) < 0)
		err = kvp_history_fail(-errno, error, len, "%s: %s", path,
				       strerror(errno));
	else
		err = kvp_history_header(hdr, n, path, error, len);
	close(fd);
	return err;
}

/* One integer from a one-row statement such as a PRAGMA. */
static int kvp_history_int(sqlite3 *db, const char *sql, int64_t *value)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			*value = sqlite3_column_int64(stmt, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * As kvp_history_header(), through SQLite and under the write lock: the
 * header alone misses what another program's WAL may still hold.
 */
static int kvp_history_schema_check(sqlite3 *db, const char *path,
				    char *error, size_t len)
{
	int64_t app = 0, version = 0, tables = 0;
	int rc;

	rc = kvp_history_int(db, "PRAGMA application_id", &app);
	if (rc == SQLITE_OK)
		rc = kvp_history_int(db, "PRAGMA user_version", &version);
	if (rc == SQLITE_OK)
		rc = kvp_history_int(db, "SELECT count(*) FROM sqlite_master",
				     &tables);
	if (rc != SQLITE_OK)
		return kvp_history_fail(kvp_history_errno(rc), error, len,
					"%s: cannot read it: %s", path,
					sqlite3_errstr(rc));
	return kvp_history_owner(app, version, tables, path, error, len);
}

static int kvp_history_exec(struct kvp_history *h, const char *sql,
			    const char *path, const char *what, char *error,
			    size_t len)
{
	int rc = sqlite3_exec(h->db, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	return kvp_history_fail(kvp_history_errno(rc), error, len,
				"%s: cannot %s: %s", path, what,
				sqlite3_errmsg(h->db));
}

/*
 * Creates the schema in an empty database, under a write lock so that two
 * daemons starting at once do not both create it; checks it again inside.
 */
static int kvp_history_create(struct kvp_history *h, const char *path,
			      char *error, size_t len)
{
	int err;

	err = kvp_history_exec(h, "BEGIN IMMEDIATE", path, "lock it", error,
			       len);
	if (err)
		return err;
	err = kvp_history_schema_check(h->db, path, error, len);
	if (!err)
		err = kvp_history_exec(h, kvp_history_schema, path,
				       "create the schema", error, len);
	if (err >= 0)
		return kvp_history_exec(h, "COMMIT", path, "create the schema",
					error, len);
	sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

static int kvp_history_wal(struct kvp_history *h, const char *path,
			   char *error, size_t len)
{
	const unsigned char *mode = NULL;
	sqlite3_stmt *stmt;
	int rc;

	rc = sqlite3_prepare_v2(h->db, "PRAGMA journal_mode = WAL", -1, &stmt,
				NULL);
	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
		mode = sqlite3_column_text(stmt, 0);
	rc = mode && !strcmp((const char *)mode, "wal") ? 0 : -EIO;
	sqlite3_finalize(stmt);
	if (rc)
		return kvp_history_fail(rc, error, len,
					"%s: cannot switch to WAL mode: %s",
					path, sqlite3_errmsg(h->db));
	return 0;
}

static int kvp_history_prepare(struct kvp_history *h, const char *path,
			       char *error, size_t len)
{
	int i, rc;

	for (i = 0; i < KVP_HISTORY_NR_STMTS; i++) {
		rc = sqlite3_prepare_v3(h->db, kvp_history_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT,
					&h->stmt[i], NULL);
		if (rc != SQLITE_OK)
			return kvp_history_fail(kvp_history_errno(rc), error,
						len, "%s: %s", path,
						sqlite3_errmsg(h->db));
	}
	return 0;
}

/* A connection to path that may write, with our schema, in WAL mode. */
static int kvp_history_setup(struct kvp_history *h, const char *path,
			     char *error, size_t len)
{
	int rc, err;

	rc = sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK)
		return kvp_history_fail(kvp_history_errno(rc), error, len,
					"%s: cannot open it: %s", path,
					sqlite3_errstr(rc));
	/* SQLite falls back to reading only; a history must take rows. */
	if (sqlite3_db_readonly(h->db, "main") == 1)
		return kvp_history_fail(-EACCES, error, len,
					"%s: read-only (no write permission): history cannot be recorded",
					path);
	sqlite3_busy_timeout(h->db, KVP_HISTORY_BUSY_MS);
	err = kvp_history_create(h, path, error, len);
	return err ? err : kvp_history_wal(h, path, error, len);
}

/*
 * A new history, made whole (schema, WAL mode) under a temporary name
 * (mode 0600: the history names every VM) and then linked to path: two
 * processes opening a missing history at once never see a half-made one,
 * nor race to switch its journal mode, which SQLite would refuse one of
 * them.  Whoever links first wins; the other opens that one.
 */
static int kvp_history_new(const char *path, char *error, size_t len)
{
	struct kvp_history tmp = { 0 };
	char name[PATH_MAX];
	int fd, err;

	if ((size_t)snprintf(name, sizeof(name), "%s.XXXXXX", path) >=
	    sizeof(name))
		return kvp_history_fail(-ENAMETOOLONG, error, len,
					"%s: name too long", path);
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return kvp_history_fail(err, error, len,
						"%s: its directory does not exist",
						path);
		return kvp_history_fail(err, error, len, "%s: cannot create it: %s",
					path, strerror(-err));
	}
	close(fd);
	err = kvp_history_setup(&tmp, name, error, len);
	sqlite3_close(tmp.db);
	if (!err && link(name, path) && errno != EEXIST)
		err = kvp_history_fail(-errno, error, len,
				       "%s: cannot create it: %s", path,
				       strerror(errno));
	unlink(name);
	return err;
}

int kvp_history_open(struct kvp_history **hp, const char *path, char *error,
		     size_t error_len)
{
	struct kvp_history *h;
	int err;

	*hp = NULL;
	err = kvp_history_file(path, error, error_len);
	if (err == -ENOENT) {
		err = kvp_history_new(path, error, error_len);
		if (!err) {
			err = kvp_history_file(path, error, error_len);
			if (err == -ENOENT)
				kvp_history_fail(err, error, error_len,
						 "%s: removed while it was made",
						 path);
		}
	}
	if (err < 0)
		return err;
	h = calloc(1, sizeof(*h));
	if (!h)
		return kvp_history_fail(-ENOMEM, error, error_len,
					"%s: out of memory", path);
	err = kvp_history_setup(h, path, error, error_len);
	if (!err)
		err = kvp_history_prepare(h, path, error, error_len);
	if (err) {
		kvp_history_close(h);
		return err;
	}
	*hp = h;
	return 0;
}

void kvp_history_close(struct kvp_history *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < KVP_HISTORY_NR_STMTS; i++)
		sqlite3_finalize(h->stmt[i]);
	sqlite3_close(h->db);
	free(h);
}

static int kvp_history_text(sqlite3_stmt *stmt, int col, const char *s,
			    size_t size)
{
	return sqlite3_bind_text(stmt, col, s, (int)strnlen(s, size),
				 SQLITE_STATIC);
}

/* Runs a statement that returns no rows, and makes it ready again. */
static int kvp_history_done(sqlite3_stmt *stmt, int rc)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_DONE ? 0 : kvp_history_errno(rc);
}

int kvp_history_add(struct kvp_history *h, const struct kvp_history_row *row)
{
	sqlite3_stmt *stmt = h->stmt[KVP_HISTORY_INSERT];
	int rc;

	rc = sqlite3_bind_int64(stmt, 1, row->time);
	if (rc == SQLITE_OK)
		rc = kvp_history_text(stmt, 2, row->vm_id, sizeof(row->vm_id));
	if (rc == SQLITE_OK)
		rc = kvp_history_text(stmt, 3, row->vm_name,
				      sizeof(row->vm_name));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 4, row->cid);
	if (rc == SQLITE_OK)
		rc = kvp_history_text(stmt, 5, row->product,
				      sizeof(row->product));
	if (rc == SQLITE_OK)
		rc = kvp_history_text(stmt, 6, row->version,
				      sizeof(row->version));
	if (rc == SQLITE_OK)
		rc = kvp_history_text(stmt, 7, row->edition,
				      sizeof(row->edition));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 8, row->outcome);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 9, row->reason);
	if (rc == SQLITE_OK)
		rc = kvp_history_text(stmt, 10, row->grant_id,
				      sizeof(row->grant_id));
	/* SQLite integers are signed: a lease end past 2^63 is no date. */
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 11, row->expires > INT64_MAX ?
					INT64_MAX : (int64_t)row->expires);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(stmt, 12, row->nonce, sizeof(row->nonce),
				       SQLITE_STATIC);
	return kvp_history_done(stmt, rc);
}

int kvp_history_nonce_seen(struct kvp_history *h,
			   const uint8_t nonce[KVP_AVMA_NONCE_LEN])
{
	sqlite3_stmt *stmt = h->stmt[KVP_HISTORY_NONCE];
	int rc;

	rc = sqlite3_bind_blob(stmt, 1, nonce, KVP_AVMA_NONCE_LEN,
			       SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : kvp_history_errno(rc);
}

static void kvp_history_column(sqlite3_stmt *stmt, int col, char *out,
			       size_t size)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	snprintf(out, size, "%s", s ? (const char *)s : "");
}

/*
 * The current result row into row.  A nonce of another length can only
 * come from a file changed behind our back: -EBADMSG.
 */
static int kvp_history_read(sqlite3_stmt *stmt, struct kvp_history_row *row)
{
	const void *nonce;
	int64_t expires;

	memset(row, 0, sizeof(*row));
	row->time = sqlite3_column_int64(stmt, 0);
	kvp_history_column(stmt, 1, row->vm_id, sizeof(row->vm_id));
	kvp_history_column(stmt, 2, row->vm_name, sizeof(row->vm_name));
	row->cid = (uint32_t)sqlite3_column_int64(stmt, 3);
	kvp_history_column(stmt, 4, row->product, sizeof(row->product));
	kvp_history_column(stmt, 5, row->version, sizeof(row->version));
	kvp_history_column(stmt, 6, row->edition, sizeof(row->edition));
	row->outcome = (uint16_t)sqlite3_column_int(stmt, 7);
	row->reason = (uint32_t)sqlite3_column_int64(stmt, 8);
	kvp_history_column(stmt, 9, row->grant_id, sizeof(row->grant_id));
	expires = sqlite3_column_int64(stmt, 10);
	row->expires = expires > 0 ? (uint64_t)expires : 0;
	nonce = sqlite3_column_blob(stmt, 11);
	if (!nonce || sqlite3_column_bytes(stmt, 11) != KVP_AVMA_NONCE_LEN)
		return -EBADMSG;
	memcpy(row->nonce, nonce, KVP_AVMA_NONCE_LEN);
	return 0;
}

int kvp_history_each(struct kvp_history *h, const char *vm, int64_t since,
		     kvp_history_fn fn, void *arg)
{
	sqlite3_stmt *stmt = h->stmt[KVP_HISTORY_EACH];
	struct kvp_history_row row;
	int rc, ret = 0;

	rc = vm ? sqlite3_bind_text(stmt, 1, vm, -1, SQLITE_STATIC) :
		  sqlite3_bind_null(stmt, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 2, since);
	while (rc == SQLITE_OK && !ret) {
		rc = sqlite3_step(stmt);
		if (rc != SQLITE_ROW)
			break;
		ret = kvp_history_read(stmt, &row);
		if (!ret)
			ret = fn(&row, arg) ? 1 : 0;
		rc = SQLITE_OK;
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (ret < 0)
		return ret;
	return ret || rc == SQLITE_DONE ? 0 : kvp_history_errno(rc);
}

/* The one row a LIMIT 1 query with one text parameter finds. */
static int kvp_history_one(sqlite3_stmt *stmt, const char *key,
			   struct kvp_history_row *row)
{
	int rc, ret;

	rc = sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		ret = kvp_history_read(stmt, row) ?: 1;
	else
		ret = rc == SQLITE_DONE ? 0 : kvp_history_errno(rc);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return ret;
}

int kvp_history_last_grant(struct kvp_history *h, const char *vm,
			   struct kvp_history_row *row)
{
	return kvp_history_one(h->stmt[KVP_HISTORY_LAST], vm, row);
}

int kvp_history_find_grant(struct kvp_history *h, const char *grant_id,
			   struct kvp_history_row *row)
{
	return kvp_history_one(h->stmt[KVP_HISTORY_FIND], grant_id, row);
}
