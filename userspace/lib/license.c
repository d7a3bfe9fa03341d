// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's licence state and the activation procedure (license.h,
 * Documentation/avma.rst section "Guest").
 *
 * Writers (kvpd, kvpctl) take license.lock for every read-modify-write and
 * replace the state file by rename, so a reader without the lock sees the
 * old file or the new one, never half of one.  The state file is strict:
 * anything that does not parse is reported and read as no key, and only
 * an explicit install or uninstall writes over it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "isotime.h"
#include "license.h"
#include "log.h"

#define KVP_GUEST_FILE		"license"
#define KVP_GUEST_EVENTS	"license.events"
#define KVP_GUEST_LOCK		"license.lock"
#define KVP_GUEST_FILE_MAX	4096	/* a full state is about 1 KiB */
#define KVP_GUEST_LINE_MAX	1024
#define KVP_GUEST_KEY_TAIL	5	/* the last group of a key */

const char *kvp_guest_default_dir(void)
{
	const char *dir = getenv(KVP_STATE_DIR_ENV);

	return dir && *dir ? dir : KVP_STATE_DIR;
}

const char *kvp_guest_state_name(enum kvp_guest_state state)
{
	switch (state) {
	case KVP_GUEST_LICENSED:
		return "Licensed";
	case KVP_GUEST_NOTIFICATION:
		return "Notification";
	default:
		return "Unlicensed";
	}
}

/* A time of license.events, as kvp_time_text() wrote it. */
static int kvp_time_parse(const char *s, uint64_t *t)
{
	int64_t v;

	if (kvp_iso_time_parse(s, &v) || v < 0)
		return -EINVAL;
	*t = v;
	return 0;
}

static void kvp_say(char *error, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kvp_say(char *error, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!error || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(error, len, fmt, ap);
	va_end(ap);
}

static int kvp_guest_path(char *path, const char *dir, const char *name)
{
	if (snprintf(path, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Takes license.lock, creating the directory (0755) if need be. */
static int kvp_guest_lock(const char *dir)
{
	char path[PATH_MAX];
	int fd, err;

	err = kvp_guest_path(path, dir, KVP_GUEST_LOCK);
	if (err)
		return err;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

static void kvp_guest_unlock(int fd)
{
	close(fd);	/* drops the flock */
}

/* Writes `len` bytes to dir/name by temp file, fsync and rename. */
static int kvp_guest_replace(const char *dir, const char *name,
			     const char *data, size_t len, mode_t mode)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	ssize_t n;
	size_t done = 0;
	int fd, dfd, err = 0;

	err = kvp_guest_path(path, dir, name);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0)
		return -errno;
	while (!err && done < len) {
		n = write(fd, data + done, len - done);
		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0)
			done += n;
	}
	if (!err && (fchmod(fd, mode) || fsync(fd)))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	/* The rename itself must survive a crash too. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* Reads a whole small file: its length, or -errno (-EFBIG past cap). */
static ssize_t kvp_guest_read(const char *dir, const char *name, char *buf,
			      size_t cap)
{
	char path[PATH_MAX];
	size_t len = 0;
	ssize_t n;
	int fd, err;

	err = kvp_guest_path(path, dir, name);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, cap - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || len + n == cap) {
			err = n < 0 ? -errno : -EFBIG;
			close(fd);
			return err;
		}
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* ---- the state file ---- */

enum kvp_guest_field {
	KVP_GF_KEY, KVP_GF_AVMA, KVP_GF_PRODUCT, KVP_GF_VERSION,
	KVP_GF_EDITION, KVP_GF_OUTCOME, KVP_GF_REASON, KVP_GF_TRIED_AT,
	KVP_GF_GRANT, KVP_GF_COUNT,
};

static const char *const kvp_guest_fields[KVP_GF_COUNT] = {
	"key", "avma", "product", "version", "edition", "outcome", "reason",
	"tried_at", "grant",
};

static int kvp_parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end || *v > max ? -EINVAL : 0;
}

static int kvp_copy_text(char *dst, size_t size, const char *src)
{
	if (!*src || strlen(src) >= size)
		return -EINVAL;
	strcpy(dst, src);
	return 0;
}

/* A non-AVMA key is kept as its last group only: nothing needs more. */
static bool kvp_key_tail_valid(const char *s)
{
	char key[KVP_KEY_TEXT_LEN + 1], norm[KVP_KEY_TEXT_LEN + 1];

	if (strlen(s) != KVP_GUEST_KEY_TAIL)
		return false;
	snprintf(key, sizeof(key), "BBBBB-BBBBB-BBBBB-BBBBB-%s", s);
	return !kvp_key_normalize(key, norm, NULL, 0) && !strcmp(key, norm);
}

static int kvp_guest_grant_text(struct kvp_guest *g, const char *text)
{
	uint8_t buf[KVP_GRANT_MAX_LEN];
	int n;

	if (strlen(text) > KVP_BASE64_LEN(KVP_GRANT_MAX_LEN))
		return -EINVAL;
	n = kvp_base64_decode(text, buf, sizeof(buf));
	if (n <= 0 || kvp_grant_decode(buf, n, &g->decoded))
		return -EINVAL;
	memcpy(g->grant, buf, n);
	g->grant_len = n;
	return 0;
}

static int kvp_guest_field(struct kvp_guest *g, enum kvp_guest_field f,
			   const char *v)
{
	char norm[KVP_KEY_TEXT_LEN + 1];
	uint64_t n;

	switch (f) {
	case KVP_GF_KEY:
		if (strlen(v) == KVP_GUEST_KEY_TAIL)
			return kvp_key_tail_valid(v) ?
			       kvp_copy_text(g->key, sizeof(g->key), v) :
			       -EINVAL;
		if (kvp_key_normalize(v, norm, NULL, 0) || strcmp(v, norm))
			return -EINVAL;
		return kvp_copy_text(g->key, sizeof(g->key), v);
	case KVP_GF_AVMA:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return -EINVAL;
		g->avma = !strcmp(v, "yes");
		return 0;
	case KVP_GF_PRODUCT:
		return kvp_copy_text(g->product, sizeof(g->product), v);
	case KVP_GF_VERSION:
		return kvp_copy_text(g->version, sizeof(g->version), v);
	case KVP_GF_EDITION:
		return kvp_copy_text(g->edition, sizeof(g->edition), v);
	case KVP_GF_OUTCOME:
		if (kvp_parse_u64(v, KVP_AVMA_OUTCOME_COUNT - 1, &n))
			return -EINVAL;
		g->outcome = n;
		g->tried = true;
		return 0;
	case KVP_GF_REASON:
		if (kvp_parse_u64(v, UINT32_MAX, &n))
			return -EINVAL;
		g->reason = n;
		return 0;
	case KVP_GF_TRIED_AT:
		return kvp_parse_u64(v, INT64_MAX, &g->tried_at);
	case KVP_GF_GRANT:
		return kvp_guest_grant_text(g, v);
	default:
		return -EINVAL;
	}
}

/* The fields that must go together, and a grant for the key's product. */
static const char *kvp_guest_consistent(const struct kvp_guest *g,
					unsigned int seen)
{
	const unsigned int item = 1u << KVP_GF_PRODUCT |
				  1u << KVP_GF_VERSION | 1u << KVP_GF_EDITION;
	const unsigned int tried = 1u << KVP_GF_OUTCOME |
				   1u << KVP_GF_REASON | 1u << KVP_GF_TRIED_AT;

	if (!(seen & 1u << KVP_GF_KEY) || !(seen & 1u << KVP_GF_AVMA))
		return "no key or avma line";
	if (g->avma != ((seen & item) == item) || (!g->avma && (seen & item)))
		return "product, version and edition go with an AVMA key only";
	if (strlen(g->key) != (g->avma ? KVP_KEY_TEXT_LEN : KVP_GUEST_KEY_TAIL))
		return "an AVMA key is kept whole, any other by its last group";
	if ((seen & tried) && (seen & tried) != tried)
		return "outcome, reason and tried_at go together";
	if (g->grant_len && (!g->avma ||
			     strcmp(g->decoded.product, g->product) ||
			     strcmp(g->decoded.version, g->version) ||
			     strcmp(g->decoded.edition, g->edition)))
		return "the grant is not for the installed key";
	return NULL;
}

static int kvp_guest_parse(char *text, struct kvp_guest *g, char *error,
			   size_t error_len)
{
	unsigned int seen = 0, line = 0, f;
	char *next, *eq;
	const char *why;

	for (; *text; text = next) {
		line++;
		next = strchr(text, '\n');
		if (!next) {
			kvp_say(error, error_len, "line %u: no newline", line);
			return -EBADMSG;
		}
		*next++ = '\0';
		if (*text == '#')
			continue;
		eq = strchr(text, '=');
		if (eq)
			*eq = '\0';
		for (f = 0; eq && f < KVP_GF_COUNT; f++)
			if (!strcmp(text, kvp_guest_fields[f]))
				break;
		if (!eq || f == KVP_GF_COUNT || seen & 1u << f) {
			kvp_say(error, error_len, "line %u: %s '%s'", line,
				!eq ? "no '=' in" : f == KVP_GF_COUNT ?
				"unknown field" : "repeated field", text);
			return -EBADMSG;
		}
		seen |= 1u << f;
		if (kvp_guest_field(g, f, eq + 1)) {
			kvp_say(error, error_len, "line %u: bad %s '%s'", line,
				text, eq + 1);
			return -EBADMSG;
		}
	}
	if (!seen)
		return 0;	/* an empty file is the empty state */
	why = kvp_guest_consistent(g, seen);
	if (why) {
		kvp_say(error, error_len, "%s", why);
		return -EBADMSG;
	}
	return 0;
}

int kvp_guest_load(const char *dir, struct kvp_guest *g, char *error,
		   size_t error_len)
{
	char text[KVP_GUEST_FILE_MAX + 1], why[160] = "";
	ssize_t len;
	int err;

	memset(g, 0, sizeof(*g));
	len = kvp_guest_read(dir, KVP_GUEST_FILE, text, sizeof(text));
	if (len == -ENOENT)
		return 0;
	if (len == -EFBIG || (len >= 0 && strlen(text) != (size_t)len)) {
		snprintf(why, sizeof(why), "%s", len == -EFBIG ?
			 "too long" : "a NUL byte in it");
		len = -EBADMSG;
	}
	if (len < 0 && len != -EBADMSG)
		return len;
	err = len < 0 ? (int)len : kvp_guest_parse(text, g, why, sizeof(why));
	if (err) {
		memset(g, 0, sizeof(*g));
		kvp_say(error, error_len,
			"%s/%s is corrupt (%s): taken as no key installed",
			dir, KVP_GUEST_FILE, why);
	}
	return err;
}

static int kvp_guest_save(const char *dir, const struct kvp_guest *g)
{
	char text[KVP_GUEST_FILE_MAX + 1];
	char grant[KVP_BASE64_LEN(KVP_GRANT_MAX_LEN) + 1];
	size_t len;

	len = snprintf(text, sizeof(text),
		       "# kvp guest licence state: written by kvpd and kvpctl\n"
		       "key=%s\navma=%s\n", g->key, g->avma ? "yes" : "no");
	if (g->avma)
		len += snprintf(text + len, sizeof(text) - len,
				"product=%s\nversion=%s\nedition=%s\n",
				g->product, g->version, g->edition);
	if (g->tried)
		len += snprintf(text + len, sizeof(text) - len,
				"outcome=%u\nreason=%u\ntried_at=%llu\n",
				g->outcome, g->reason,
				(unsigned long long)g->tried_at);
	if (g->grant_len) {
		kvp_base64_encode(g->grant, g->grant_len, grant);
		len += snprintf(text + len, sizeof(text) - len, "grant=%s\n",
				grant);
	}
	if (len >= sizeof(text))
		return -EOVERFLOW;
	return kvp_guest_replace(dir, KVP_GUEST_FILE, text, len, 0644);
}

enum kvp_guest_state kvp_guest_state(const struct kvp_guest *g, uint64_t now,
				     uint32_t *reason)
{
	enum kvp_guest_state state = KVP_GUEST_UNLICENSED;
	uint32_t why = KVP_AVMA_R_NO_KEY;

	if (g->avma && g->grant_len) {
		state = now < g->decoded.expires ? KVP_GUEST_LICENSED :
						    KVP_GUEST_NOTIFICATION;
		why = state == KVP_GUEST_LICENSED ? KVP_AVMA_R_NONE :
						     KVP_AVMA_R_EXPIRED;
	} else if (g->avma) {
		why = g->tried ? g->reason : KVP_AVMA_R_NONE;
	}
	if (reason)
		*reason = why;
	return state;
}

/* ---- key install ---- */

int kvp_guest_install_key(const char *dir, const struct kvp_catalog *catalog,
			  const char *text, struct kvp_guest *g, char *error,
			  size_t error_len)
{
	char norm[KVP_KEY_TEXT_LEN + 1], why[160] = "";
	const struct kvp_product_key *pk;
	const struct kvp_product *p;
	struct kvp_guest old;
	int fd, err;

	err = kvp_key_normalize(text, norm, error, error_len);
	if (err)
		return err;
	fd = kvp_guest_lock(dir);
	if (fd < 0)
		return fd;
	err = kvp_guest_load(dir, &old, why, sizeof(why));
	if (err && err != -EBADMSG)
		goto out;
	if (err)
		kvp_say(error, error_len, "%s; replaced", why);
	pk = kvp_catalog_find_key(catalog, norm, &p);
	if (pk && old.avma && !strcmp(old.key, norm) &&
	    !strcmp(old.product, p->id) && !strcmp(old.version, pk->version) &&
	    !strcmp(old.edition, pk->edition)) {
		*g = old;	/* the same key again: its grant stays */
	} else {
		memset(g, 0, sizeof(*g));
		g->avma = pk;
		if (pk) {
			strcpy(g->key, norm);
			snprintf(g->product, sizeof(g->product), "%s", p->id);
			snprintf(g->version, sizeof(g->version), "%s",
				 pk->version);
			snprintf(g->edition, sizeof(g->edition), "%s",
				 pk->edition);
		} else {
			strcpy(g->key, norm + KVP_KEY_TEXT_LEN -
				       KVP_GUEST_KEY_TAIL);
		}
	}
	err = kvp_guest_save(dir, g);
out:
	kvp_guest_unlock(fd);
	return err;
}

int kvp_guest_uninstall_key(const char *dir)
{
	char path[PATH_MAX];
	struct kvp_guest g;
	int fd, err;

	err = kvp_guest_path(path, dir, KVP_GUEST_FILE);
	if (err)
		return err;
	fd = kvp_guest_lock(dir);
	if (fd < 0)
		return fd;
	err = kvp_guest_load(dir, &g, NULL, 0);
	/* A corrupt file goes too: that is what uninstall is for. */
	if (!err && !g.key[0])
		err = -ENOKEY;
	else if (!err || err == -EBADMSG)
		err = unlink(path) ? -errno : 0;
	kvp_guest_unlock(fd);
	return err;
}

/* ---- license.events ---- */

/* A text field of an events line: no tabs or newlines, "-" for empty. */
static void kvp_event_text(char *out, size_t size, const char *in)
{
	size_t i;

	snprintf(out, size, "%s", *in ? in : "-");
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

static void kvp_event_line(const struct kvp_guest_event *ev, char *line,
			   size_t size)
{
	char t[KVP_TIME_TEXT_LEN + 1], exp[KVP_TIME_TEXT_LEN + 1];
	char name[KVP_AVMA_NAME_LEN];

	kvp_time_text(ev->time, t);
	kvp_time_text(ev->expires, exp);
	kvp_event_text(name, sizeof(name), ev->host_name);
	snprintf(line, size, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t,
		 kvp_avma_outcome_name(ev->outcome),
		 kvp_avma_reason_name(ev->reason), ev->product, ev->version,
		 ev->edition, *ev->host_id ? ev->host_id : "-", name,
		 *ev->grant_id ? ev->grant_id : "-", *exp ? exp : "-");
}

/* Appends one line, keeping the last KVP_GUEST_EVENTS_KEEP; under lock. */
static int kvp_guest_event_append(const char *dir,
				  const struct kvp_guest_event *ev)
{
	const size_t cap = (KVP_GUEST_EVENTS_KEEP + 1) * KVP_GUEST_LINE_MAX;
	char line[KVP_GUEST_LINE_MAX], *buf, *start;
	unsigned int lines = 0;
	ssize_t len;
	size_t n;
	int err;

	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	len = kvp_guest_read(dir, KVP_GUEST_EVENTS, buf, cap - sizeof(line));
	if (len == -ENOENT)
		len = 0;
	if (len < 0) {
		free(buf);
		return len;
	}
	if (len && buf[len - 1] != '\n')
		buf[len++] = '\n';	/* a torn last line stays one line */
	kvp_event_line(ev, line, sizeof(line));
	n = strlen(line);
	memcpy(buf + len, line, n + 1);
	len += n;
	/* Drop the oldest lines beyond the bound. */
	for (start = buf + len; start > buf; start--)
		if (start[-1] == '\n' && start != buf + len &&
		    ++lines == KVP_GUEST_EVENTS_KEEP)
			break;
	err = kvp_guest_replace(dir, KVP_GUEST_EVENTS, start,
				buf + len - start, 0644);
	free(buf);
	return err;
}

static int kvp_event_field(char **cursor, char **field)
{
	char *tab;

	if (!*cursor)
		return -EINVAL;
	*field = *cursor;
	tab = strchr(*cursor, '\t');
	if (tab)
		*tab++ = '\0';
	*cursor = tab;
	if (!strcmp(*field, "-"))
		**field = '\0';
	return 0;
}

static int kvp_name_value(const char *name, unsigned int max,
			  const char *(*fn)(uint32_t), uint32_t *v)
{
	unsigned int i;

	for (i = 0; i < max; i++)
		if (!strcmp(name, fn(i))) {
			*v = i;
			return 0;
		}
	return -EINVAL;
}

/* One line of license.events, NUL-terminated, without its newline. */
static int kvp_event_parse(char *line, struct kvp_guest_event *ev)
{
	char *f[10], *cursor = line;
	unsigned int i;

	memset(ev, 0, sizeof(*ev));
	for (i = 0; i < 10; i++)
		if (kvp_event_field(&cursor, &f[i]))
			return -EINVAL;
	if (cursor || kvp_time_parse(f[0], &ev->time) ||
	    kvp_name_value(f[1], KVP_AVMA_OUTCOME_COUNT,
			   kvp_avma_outcome_name, &ev->outcome) ||
	    kvp_name_value(f[2], 128, kvp_avma_reason_name, &ev->reason) ||
	    (*f[9] && kvp_time_parse(f[9], &ev->expires)))
		return -EINVAL;
	snprintf(ev->product, sizeof(ev->product), "%s", f[3]);
	snprintf(ev->version, sizeof(ev->version), "%s", f[4]);
	snprintf(ev->edition, sizeof(ev->edition), "%s", f[5]);
	snprintf(ev->host_id, sizeof(ev->host_id), "%s", f[6]);
	snprintf(ev->host_name, sizeof(ev->host_name), "%s", f[7]);
	snprintf(ev->grant_id, sizeof(ev->grant_id), "%s", f[8]);
	return 0;
}

int kvp_guest_events(const char *dir, kvp_guest_event_fn fn, void *arg)
{
	char path[PATH_MAX], line[KVP_GUEST_LINE_MAX];
	struct kvp_guest_event ev;
	unsigned int nr = 0;
	int err = 0;
	FILE *f;

	err = kvp_guest_path(path, dir, KVP_GUEST_EVENTS);
	if (err)
		return err;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		nr++;
		line[strcspn(line, "\n")] = '\0';
		if (kvp_event_parse(line, &ev)) {
			kvp_warn("%s: line %u is not an event: skipped", path,
				 nr);
			continue;
		}
		err = fn(&ev, arg);
	}
	fclose(f);
	return err < 0 ? err : 0;
}

/* ---- the activation procedure ---- */

static bool kvp_text_eq(const char *a, const char *b)
{
	return !strcmp(a, b);
}

/*
 * The reply, checked as avma.rst "Guest" says: the host's own outcome if
 * it refused; else the grant must decode, carry good signatures (and, for
 * a vendor product, the vendor's licence chain) and be for this request.
 */
static uint32_t kvp_guest_check(const struct kvp_product *p,
				const struct kvp_avma_request *req,
				const uint8_t *body, size_t len,
				struct kvp_grant *grant, uint32_t *reason)
{
	struct kvp_avma_reply rep;
	const uint8_t *vendor = p->has_vendor_key ? p->vendor_key : NULL;

	*reason = KVP_AVMA_R_BAD_REPLY;
	if (kvp_avma_reply_parse(body, len, &rep) ||
	    rep.op != KVP_AVMA_OP_ACTIVATE)
		return KVP_AVMA_INVALID_DATA;
	*reason = KVP_AVMA_R_NONCE;
	if (memcmp(rep.nonce, req->nonce, KVP_AVMA_NONCE_LEN))
		return KVP_AVMA_INVALID_DATA;
	if (rep.outcome != KVP_AVMA_SUCCESS) {
		*reason = rep.reason;
		return rep.outcome;
	}
	*reason = KVP_AVMA_R_BAD_REPLY;
	if (rep.grant_len > KVP_GRANT_MAX_LEN ||
	    kvp_grant_decode(rep.grant, rep.grant_len, grant))
		return KVP_AVMA_INVALID_DATA;
	*reason = KVP_AVMA_R_SIGNATURE;
	if (kvp_grant_verify(rep.grant, rep.grant_len, grant, vendor,
			     !grant->has_license ||
			     kvp_product_license_covers(p, &grant->license,
							req->version)))
		return KVP_AVMA_INVALID_DATA;
	*reason = KVP_AVMA_R_NONCE;
	if (memcmp(grant->nonce, req->nonce, KVP_AVMA_NONCE_LEN))
		return KVP_AVMA_INVALID_DATA;
	*reason = KVP_AVMA_R_OTHER_VM;
	if (memcmp(grant->vm_id, req->vm_id, KVP_AVMA_UUID_LEN))
		return KVP_AVMA_INVALID_DATA;
	*reason = KVP_AVMA_R_MISMATCH;
	if (!kvp_text_eq(grant->product, req->product) ||
	    !kvp_text_eq(grant->version, req->version) ||
	    !kvp_text_eq(grant->edition, req->edition))
		return KVP_AVMA_INVALID_DATA;
	/* A lease that has ended already is no activation (a host clock
	 * far behind ours, or a replayed old grant). */
	*reason = KVP_AVMA_R_BAD_REPLY;
	if (grant->expires <= grant->activated ||
	    grant->expires <= (uint64_t)time(NULL))
		return KVP_AVMA_INVALID_DATA;
	*reason = KVP_AVMA_R_NONE;
	return KVP_AVMA_SUCCESS;
}

/* The transport's errors that are an outcome (Invalid Host), or 0. */
static uint32_t kvp_guest_transport_reason(int err)
{
	switch (err) {
	case -EHOSTUNREACH:
		return KVP_AVMA_R_NO_SERVICE;
	case -ENOTCONN:
		return KVP_AVMA_R_NO_HOST;
	case -ETIMEDOUT:
	case -ECONNRESET:
		return KVP_AVMA_R_TIMEOUT;
	default:
		return 0;
	}
}

static void kvp_guest_event_fill(struct kvp_guest_event *ev,
				 const struct kvp_avma_request *req,
				 uint32_t outcome, uint32_t reason,
				 const struct kvp_grant *grant)
{
	memset(ev, 0, sizeof(*ev));
	ev->time = time(NULL);
	ev->outcome = outcome;
	ev->reason = reason;
	snprintf(ev->product, sizeof(ev->product), "%s", req->product);
	snprintf(ev->version, sizeof(ev->version), "%s", req->version);
	snprintf(ev->edition, sizeof(ev->edition), "%s", req->edition);
	if (outcome != KVP_AVMA_SUCCESS)
		return;
	snprintf(ev->host_name, sizeof(ev->host_name), "%s", grant->host_name);
	kvp_host_id(grant->host_key, ev->host_id);
	kvp_uuid_format(grant->id, ev->grant_id);
	ev->expires = grant->expires;
}

/*
 * Event 12309 in the journal (or syslog), fields in avma.rst "Events"
 * order; vm_id NULL: not an attempt (the end of a lease).
 */
static void kvp_guest_log_event(const char *socket, const uint8_t *vm_id,
				const struct kvp_guest_event *ev)
{
	char vm[37] = "", exp[KVP_TIME_TEXT_LEN + 1], msg[512];
	const struct kvp_event_field fields[] = {
		{ "KVP_OUTCOME", kvp_avma_outcome_name(ev->outcome) },
		{ "KVP_REASON", kvp_avma_reason_name(ev->reason) },
		{ "KVP_PRODUCT", ev->product },
		{ "KVP_VERSION", ev->version },
		{ "KVP_EDITION", ev->edition },
		{ "KVP_HOST_ID", ev->host_id },
		{ "KVP_HOST_NAME", ev->host_name },
		{ "KVP_GRANT_ID", ev->grant_id },
		{ "KVP_VM_ID", vm },
		{ "KVP_EXPIRES", exp },
	};
	int err;

	if (vm_id)
		kvp_uuid_format(vm_id, vm);
	kvp_time_text(ev->expires, exp);
	if (!vm_id)
		snprintf(msg, sizeof(msg),
			 "licence of %s %s %s: lease ended and no host renewed it: Notification",
			 ev->product, ev->version, ev->edition);
	else if (ev->outcome == KVP_AVMA_SUCCESS)
		snprintf(msg, sizeof(msg),
			 "activation of %s %s %s: Success, by host %s (%s), lease until %s",
			 ev->product, ev->version, ev->edition, ev->host_name,
			 ev->host_id, exp);
	else
		snprintf(msg, sizeof(msg), "activation of %s %s %s: %s (%s)",
			 ev->product, ev->version, ev->edition,
			 kvp_avma_outcome_name(ev->outcome),
			 kvp_avma_reason_name(ev->reason));
	err = kvp_event_log(socket, KVP_EVENT_GUEST,
			    ev->outcome == KVP_AVMA_SUCCESS ? LOG_INFO :
							      LOG_WARNING,
			    msg, fields, sizeof(fields) / sizeof(fields[0]));
	if (err)
		kvp_warn("cannot log event %d: %s", KVP_EVENT_GUEST,
			 strerror(-err));
}

/*
 * The outcome into the state file, unless the key changed while the host
 * was asked (then only the event is recorded).  Success replaces the
 * grant; a failure keeps it, so a valid lease runs to its end.
 */
static int kvp_guest_record(const struct kvp_guest_activation *a,
			    const struct kvp_guest *before,
			    const struct kvp_avma_request *req,
			    uint32_t outcome, uint32_t reason,
			    const uint8_t *grant, size_t grant_len,
			    const struct kvp_grant *decoded,
			    struct kvp_guest *g)
{
	struct kvp_guest_event ev;
	int fd, err, err2;

	fd = kvp_guest_lock(a->dir);
	if (fd < 0)
		return fd;
	err = kvp_guest_load(a->dir, g, NULL, 0);
	if (!err && !strcmp(g->key, before->key) && g->avma) {
		g->tried = true;
		g->outcome = outcome;
		g->reason = reason;
		g->tried_at = time(NULL);
		if (outcome == KVP_AVMA_SUCCESS) {
			memcpy(g->grant, grant, grant_len);
			g->grant_len = grant_len;
			g->decoded = *decoded;
		}
		err = kvp_guest_save(a->dir, g);
	} else if (!err || err == -EBADMSG) {
		kvp_warn("the key changed during the activation: state left as it is");
		err = 0;
	}
	kvp_guest_event_fill(&ev, req, outcome, reason, decoded);
	/* The outcome stands without its line: say so, go on. */
	err2 = kvp_guest_event_append(a->dir, &ev);
	if (err2)
		kvp_warn("%s/%s: cannot add the event: %s", a->dir,
			 KVP_GUEST_EVENTS, strerror(-err2));
	kvp_guest_unlock(fd);
	kvp_guest_log_event(a->event_socket, req->vm_id, &ev);
	return err;
}

int kvp_guest_expire(const char *dir, const char *event_socket, uint64_t now)
{
	struct kvp_guest_event ev = { 0 };
	struct kvp_guest g;
	int fd, err;

	fd = kvp_guest_lock(dir);
	if (fd < 0)
		return fd;
	err = kvp_guest_load(dir, &g, NULL, 0);
	if (err || kvp_guest_state(&g, now, NULL) != KVP_GUEST_NOTIFICATION ||
	    (g.tried && g.reason == KVP_AVMA_R_EXPIRED)) {
		kvp_guest_unlock(fd);
		return err == -EBADMSG ? 0 : err;
	}
	g.tried = true;
	g.outcome = KVP_AVMA_INVALID_HOST;
	g.reason = KVP_AVMA_R_EXPIRED;
	g.tried_at = now;
	err = kvp_guest_save(dir, &g);
	ev.time = now;
	ev.outcome = g.outcome;
	ev.reason = g.reason;
	snprintf(ev.product, sizeof(ev.product), "%s", g.product);
	snprintf(ev.version, sizeof(ev.version), "%s", g.version);
	snprintf(ev.edition, sizeof(ev.edition), "%s", g.edition);
	if (!err)
		err = kvp_guest_event_append(dir, &ev);
	kvp_guest_unlock(fd);
	if (err)
		return err;
	kvp_guest_log_event(event_socket, NULL, &ev);
	return 1;
}

static int kvp_guest_request(const struct kvp_guest_activation *a,
			     const struct kvp_guest *g,
			     struct kvp_avma_request *req)
{
	int err;

	memset(req, 0, sizeof(*req));
	req->op = KVP_AVMA_OP_ACTIVATE;
	err = kvp_random(req->nonce, sizeof(req->nonce));
	if (err)
		return err;
	memcpy(req->vm_id, a->vm_id, sizeof(req->vm_id));
	strcpy(req->product, g->product);
	strcpy(req->version, g->version);
	strcpy(req->edition, g->edition);
	strcpy(req->key, g->key);
	if (a->vm_name[0])
		snprintf(req->vm_name, sizeof(req->vm_name), "%s", a->vm_name);
	else if (gethostname(req->vm_name, sizeof(req->vm_name) - 1))
		req->vm_name[0] = '\0';
	return 0;
}

/* The installed key, as the catalog has it now. */
static int kvp_guest_product(const struct kvp_guest_activation *a,
			     struct kvp_guest *g,
			     const struct kvp_product **p, char *error,
			     size_t error_len)
{
	const struct kvp_product_key *pk;
	int err;

	err = kvp_guest_load(a->dir, g, error, error_len);
	if (err && err != -EBADMSG)
		return err;
	if (err || !g->avma) {
		if (!err)
			kvp_say(error, error_len, "%s", g->key[0] ?
				"the installed key is not an AVMA key" :
				"no product key is installed");
		return -ENOKEY;
	}
	pk = kvp_catalog_find_key(a->catalog, g->key, p);
	if (!pk || strcmp((*p)->id, g->product) ||
	    strcmp(pk->version, g->version) ||
	    strcmp(pk->edition, g->edition)) {
		kvp_say(error, error_len,
			"the installed key is no longer the catalog's key for %s %s %s: install it again",
			g->product, g->version, g->edition);
		return -ENOKEY;
	}
	return 0;
}

int kvp_guest_activate(const struct kvp_guest_activation *a, uint32_t *outcome,
		       uint32_t *reason, struct kvp_guest *g, char *error,
		       size_t error_len)
{
	uint8_t body[KVP_AVMA_REQUEST_LEN], reply[KVP_AVMA_REPLY_MAX];
	struct kvp_avma_request req;
	const struct kvp_product *p;
	struct kvp_grant grant;
	struct kvp_guest before;
	int n, err;

	err = kvp_guest_product(a, &before, &p, error, error_len);
	if (!err)
		err = kvp_guest_request(a, &before, &req);
	if (err)
		return err;
	n = kvp_avma_request_build(body, &req);
	if (n < 0)
		return n;
	n = a->exchange(a->arg, body, n, reply, sizeof(reply));
	memset(&grant, 0, sizeof(grant));
	if (n >= 0) {
		*outcome = kvp_guest_check(p, &req, reply, n, &grant, reason);
	} else {
		*reason = kvp_guest_transport_reason(n);
		if (!*reason) {
			kvp_say(error, error_len, "cannot ask the host: %s",
				strerror(-n));
			return n;
		}
		*outcome = KVP_AVMA_INVALID_HOST;
	}
	return kvp_guest_record(a, &before, &req, *outcome, *reason,
				n > 0 ? reply + KVP_AVMA_REP_OFF_GRANT : NULL,
				*outcome == KVP_AVMA_SUCCESS ?
				n - KVP_AVMA_REPLY_HDR_LEN : 0, &grant, g);
}

/* ---- the VM id ---- */

static bool kvp_id_usable(const uint8_t id[KVP_AVMA_UUID_LEN])
{
	bool zero = true, ff = true;
	int i;

	for (i = 0; i < KVP_AVMA_UUID_LEN; i++) {
		zero &= id[i] == 0;
		ff &= id[i] == 0xff;
	}
	return !zero && !ff;
}

static int kvp_first_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return -errno;
	ok = fgets(buf, size, f);
	fclose(f);
	if (!ok)
		return -ENODATA;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int kvp_guest_vm_id(uint8_t id[KVP_AVMA_UUID_LEN])
{
	char line[80];
	int i;

	if (!kvp_first_line("/sys/class/dmi/id/product_uuid", line,
			    sizeof(line)) &&
	    !kvp_uuid_parse(line, id) && kvp_id_usable(id))
		return 0;
	if (kvp_first_line("/etc/machine-id", line, sizeof(line)) ||
	    strlen(line) != 2 * KVP_AVMA_UUID_LEN)
		return -ENOENT;
	for (i = 0; i < KVP_AVMA_UUID_LEN; i++) {
		if (!isxdigit((unsigned char)line[2 * i]) ||
		    !isxdigit((unsigned char)line[2 * i + 1]) ||
		    sscanf(line + 2 * i, "%2hhx", &id[i]) != 1)
			return -ENOENT;
	}
	return kvp_id_usable(id) ? 0 : -ENOENT;
}
