// SPDX-License-Identifier: GPL-2.0
/*
 * The product catalog: parsing the *.conf files of the catalog directories
 * (format: Documentation/avma.rst section "Catalog files"), and the
 * product-key format.  A file is read whole; any fault in any file fails
 * the whole load with FILE:LINE and what is wrong, so that a typo in a
 * drop-in never silently takes a product away.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "grant.h"
#include "utf16.h"

#define KVP_CATALOG_FILE_MAX	(1 << 20)
#define KVP_KEY_ALPHABET	"BCDFGHJKMPQRTVWXY2346789"

/* The public view, and the same arrays as the parser owns them. */
struct cat_product {
	struct kvp_product pub;
	char **versions;
	char **version_names;
	struct kvp_edition *editions;
	struct kvp_product_key *keys;
	int line;		/* of its [product] line */
};

struct kvp_catalog {
	struct cat_product **products;
	unsigned int nr;
};

/* Where the parser is, for the messages. */
struct cat_parse {
	struct kvp_catalog *cat;
	const char *file;
	int line;
	char *error;
	size_t error_len;
	struct cat_product *cur;	/* the section being read */
	char **ids;			/* products of this file */
	unsigned int nr_ids;
};

static int cat_error(struct cat_parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int cat_error(struct cat_parse *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!ps->error_len)
		return -EINVAL;
	n = ps->line ? snprintf(ps->error, ps->error_len, "%s:%d: ", ps->file,
				ps->line)
		     : snprintf(ps->error, ps->error_len, "%s: ", ps->file);
	if (n >= 0 && (size_t)n < ps->error_len) {
		va_start(ap, fmt);
		vsnprintf(ps->error + n, ps->error_len - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void product_free(struct cat_product *p)
{
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->pub.nr_versions; i++) {
		free(p->versions[i]);
		free(p->version_names[i]);
	}
	for (i = 0; i < p->pub.nr_editions; i++) {
		free((char *)p->editions[i].id);
		free((char *)p->editions[i].name);
	}
	for (i = 0; i < p->pub.nr_keys; i++)
		free((char *)p->keys[i].key);
	free(p->versions);
	free(p->version_names);
	free(p->editions);
	free(p->keys);
	free((char *)p->pub.id);
	free((char *)p->pub.name);
	free((char *)p->pub.source);
	free(p);
}

void kvp_catalog_free(struct kvp_catalog *catalog)
{
	unsigned int i;

	if (!catalog)
		return;
	for (i = 0; i < catalog->nr; i++)
		product_free(catalog->products[i]);
	free(catalog->products);
	free(catalog);
}

/* Grows *arr (elements of size) by one; the new one is zeroed. */
static void *grow(void *arr, unsigned int nr, size_t size)
{
	char *p = realloc(arr, (nr + 1) * size);

	if (p)
		memset(p + nr * size, 0, size);
	return p;
}

/* An id: [a-z0-9] then [a-z0-9._-], shorter than its wire field. */
static bool id_ok(const char *s, size_t field)
{
	size_t i, len = strlen(s);

	if (!len || len >= field)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (i && (c == '.' || c == '_' || c == '-'))))
			return false;
	}
	return true;
}

/* A display name: UTF-8 without control characters, fits a name field. */
static bool name_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (!len || len >= KVP_AVMA_NAME_LEN || !kvp_utf8_valid(s, len))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Splits off the first word of *rest (white space separated). */
static char *next_word(char **rest)
{
	char *s = *rest + strspn(*rest, " \t"), *end;

	if (!*s)
		return NULL;
	end = s + strcspn(s, " \t");
	*rest = end + strspn(end, " \t");
	if (*end)
		*end = '\0';
	return s;
}

static int find_version(const struct cat_product *p, const char *id)
{
	unsigned int i;

	for (i = 0; i < p->pub.nr_versions; i++)
		if (!strcmp(p->versions[i], id))
			return i;
	return -1;
}

static int find_edition(const struct cat_product *p, const char *id)
{
	unsigned int i;

	for (i = 0; i < p->pub.nr_editions; i++)
		if (!strcmp(p->editions[i].id, id))
			return i;
	return -1;
}

static int set_name(struct cat_parse *ps, char *value)
{
	struct cat_product *p = ps->cur;

	if (p->pub.name)
		return cat_error(ps, "name given twice");
	if (!name_ok(value))
		return cat_error(ps, "name: 1 to %d bytes of UTF-8 text",
				 KVP_AVMA_NAME_LEN - 1);
	p->pub.name = strdup(value);
	return p->pub.name ? 0 : -ENOMEM;
}

static int add_version(struct cat_parse *ps, char *value)
{
	struct cat_product *p = ps->cur;
	unsigned int n = p->pub.nr_versions;
	char *id = next_word(&value);
	char **v, **names;

	if (!id || !*value)
		return cat_error(ps, "expected: version = ID DISPLAY NAME");
	if (!id_ok(id, KVP_AVMA_VERSION_LEN))
		return cat_error(ps, "version id '%s': 1 to %d of a-z 0-9 . _ - (not first)",
				 id, KVP_AVMA_VERSION_LEN - 1);
	if (!name_ok(value))
		return cat_error(ps, "version %s: the name must be 1 to %d bytes of UTF-8 text",
				 id, KVP_AVMA_NAME_LEN - 1);
	if (find_version(p, id) >= 0)
		return cat_error(ps, "version %s given twice", id);
	v = grow(p->versions, n, sizeof(*v));
	if (v)
		p->versions = v;
	names = grow(p->version_names, n, sizeof(*names));
	if (names)
		p->version_names = names;
	if (!v || !names)
		return -ENOMEM;
	v[n] = strdup(id);
	names[n] = strdup(value);
	p->pub.nr_versions++;	/* product_free() frees what was made */
	p->pub.versions = (const char *const *)p->versions;
	p->pub.version_names = (const char *const *)p->version_names;
	return v[n] && names[n] ? 0 : -ENOMEM;
}

static int add_edition(struct cat_parse *ps, char *value)
{
	struct cat_product *p = ps->cur;
	unsigned int n = p->pub.nr_editions;
	char *id = next_word(&value), *lends = next_word(&value);
	struct kvp_edition *e;

	if (!id || !lends || !*value)
		return cat_error(ps, "expected: edition = ID lends=yes|no DISPLAY NAME");
	if (!id_ok(id, KVP_AVMA_EDITION_LEN))
		return cat_error(ps, "edition id '%s': 1 to %d of a-z 0-9 . _ - (not first)",
				 id, KVP_AVMA_EDITION_LEN - 1);
	if (strcmp(lends, "lends=yes") && strcmp(lends, "lends=no"))
		return cat_error(ps, "edition %s: '%s' where lends=yes or lends=no belongs",
				 id, lends);
	if (!name_ok(value))
		return cat_error(ps, "edition %s: the name must be 1 to %d bytes of UTF-8 text",
				 id, KVP_AVMA_NAME_LEN - 1);
	if (find_edition(p, id) >= 0)
		return cat_error(ps, "edition %s given twice", id);
	e = grow(p->editions, n, sizeof(*e));
	if (!e)
		return -ENOMEM;
	p->editions = e;
	p->pub.editions = e;
	p->pub.nr_editions++;
	e[n].lends = !strcmp(lends, "lends=yes");
	e[n].id = strdup(id);
	e[n].name = strdup(value);
	return e[n].id && e[n].name ? 0 : -ENOMEM;
}

static int add_key(struct cat_parse *ps, char *value)
{
	struct cat_product *p = ps->cur;
	unsigned int n = p->pub.nr_keys, i;
	char *ver = next_word(&value), *ed = next_word(&value);
	char *text = next_word(&value);
	char key[KVP_KEY_TEXT_LEN + 1], why[96];
	struct kvp_product_key *k;
	int v, e;

	if (!ver || !ed || !text || *value)
		return cat_error(ps, "expected: key = VERSION EDITION KEY");
	v = find_version(p, ver);
	if (v < 0)
		return cat_error(ps, "key: version %s is not given above", ver);
	e = find_edition(p, ed);
	if (e < 0)
		return cat_error(ps, "key: edition %s is not given above", ed);
	if (kvp_key_normalize(text, key, why, sizeof(why)))
		return cat_error(ps, "key %s: %s", text, why);
	for (i = 0; i < n; i++) {
		if (p->keys[i].version == p->versions[v] &&
		    p->keys[i].edition == p->editions[e].id)
			return cat_error(ps, "a second key for %s %s", ver, ed);
		if (!strcmp(p->keys[i].key, key))
			return cat_error(ps, "key %s is already the key of %s %s",
					 key, p->keys[i].version,
					 p->keys[i].edition);
	}
	k = grow(p->keys, n, sizeof(*k));
	if (!k)
		return -ENOMEM;
	p->keys = k;
	p->pub.keys = k;
	p->pub.nr_keys++;
	k[n].version = p->versions[v];
	k[n].edition = p->editions[e].id;
	k[n].key = strdup(key);
	return k[n].key ? 0 : -ENOMEM;
}

static int set_vendor_key(struct cat_parse *ps, char *value)
{
	struct cat_product *p = ps->cur;
	uint8_t raw[KVP_SIGN_PUBLIC_LEN + 3];

	if (p->pub.has_vendor_key)
		return cat_error(ps, "vendor-key given twice");
	if (kvp_base64_decode(value, raw, sizeof(raw)) != KVP_SIGN_PUBLIC_LEN)
		return cat_error(ps, "vendor-key: base64 of a %d-byte Ed25519 public key expected",
				 KVP_SIGN_PUBLIC_LEN);
	memcpy(p->pub.vendor_key, raw, KVP_SIGN_PUBLIC_LEN);
	p->pub.has_vendor_key = true;
	return 0;
}

/* The section is complete: it replaces a product of the same id. */
static int finish_product(struct cat_parse *ps)
{
	struct cat_product *p = ps->cur, **arr;
	struct kvp_catalog *cat = ps->cat;
	int line = ps->line;
	unsigned int i;

	if (!p)
		return 0;
	ps->line = p->line;
	if (!p->pub.name)
		return cat_error(ps, "product %s has no name", p->pub.id);
	if (!p->pub.nr_versions)
		return cat_error(ps, "product %s has no version", p->pub.id);
	if (!p->pub.nr_editions)
		return cat_error(ps, "product %s has no edition", p->pub.id);
	ps->line = line;
	ps->cur = NULL;
	for (i = 0; i < cat->nr; i++) {
		if (!strcmp(cat->products[i]->pub.id, p->pub.id)) {
			product_free(cat->products[i]);
			cat->products[i] = p;
			return 0;
		}
	}
	arr = grow(cat->products, cat->nr, sizeof(*arr));
	if (!arr) {
		product_free(p);
		return -ENOMEM;
	}
	cat->products = arr;
	arr[cat->nr++] = p;
	return 0;
}

static int start_product(struct cat_parse *ps, char *header)
{
	char *rest = header, *word = next_word(&rest), *id = next_word(&rest);
	struct cat_product *p;
	unsigned int i;
	char **ids;
	int ret;

	if (!word || strcmp(word, "product") || !id || *rest)
		return cat_error(ps, "expected [product ID]");
	if (!id_ok(id, KVP_AVMA_PRODUCT_LEN))
		return cat_error(ps, "product id '%s': 1 to %d of a-z 0-9 . _ - (not first)",
				 id, KVP_AVMA_PRODUCT_LEN - 1);
	for (i = 0; i < ps->nr_ids; i++)
		if (!strcmp(ps->ids[i], id))
			return cat_error(ps, "product %s given twice in this file",
					 id);
	ret = finish_product(ps);
	if (ret)
		return ret;
	ids = grow(ps->ids, ps->nr_ids, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	ps->ids = ids;
	ids[ps->nr_ids] = strdup(id);
	if (!ids[ps->nr_ids])
		return -ENOMEM;
	ps->nr_ids++;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	ps->cur = p;
	p->line = ps->line;
	p->pub.id = strdup(id);
	p->pub.source = strdup(ps->file);
	return p->pub.id && p->pub.source ? 0 : -ENOMEM;
}

static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int parse_line(struct cat_parse *ps, char *line)
{
	static const struct {
		const char *name;
		int (*set)(struct cat_parse *ps, char *value);
	} keys[] = {
		{ "name", set_name },
		{ "version", add_version },
		{ "edition", add_edition },
		{ "key", add_key },
		{ "vendor-key", set_vendor_key },
	};
	char *eq, *name;
	unsigned int i;
	size_t len;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	len = strlen(line);
	if (*line == '[') {
		if (line[len - 1] != ']')
			return cat_error(ps, "expected [product ID]");
		line[len - 1] = '\0';
		return start_product(ps, line + 1);
	}
	eq = strchr(line, '=');
	if (!eq)
		return cat_error(ps, "expected KEY = VALUE");
	*eq = '\0';
	name = trim(line);
	if (!ps->cur)
		return cat_error(ps, "'%s' before any [product ID]", name);
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(name, keys[i].name))
			return keys[i].set(ps, trim(eq + 1));
	return cat_error(ps, "unknown key '%s' (name, version, edition, key, vendor-key)",
			 name);
}

static int parse_text(struct cat_parse *ps, char *text, size_t len)
{
	char *line = text, *nl;
	int ret = 0;

	if (memchr(text, '\0', len))
		return cat_error(ps, "a NUL byte: not a text file");
	text[len] = '\0';
	for (ps->line = 1; !ret && line; ps->line++) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		ret = parse_line(ps, line);
		line = nl ? nl + 1 : NULL;
	}
	if (!ret)
		ret = finish_product(ps);
	return ret;
}

static int read_whole(struct cat_parse *ps, const char *path, char **text,
		      size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cat_error(ps, "%s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > KVP_CATALOG_FILE_MAX) {
		close(fd);
		return cat_error(ps, "not a regular file of at most %d bytes",
				 KVP_CATALOG_FILE_MAX);
	}
	*text = malloc(st.st_size + 1);
	if (!*text) {
		close(fd);
		return -ENOMEM;
	}
	*len = 0;
	while ((n = read(fd, *text + *len, st.st_size - *len)) > 0)
		*len += n;
	close(fd);
	if (n < 0)
		return cat_error(ps, "%s", strerror(errno));
	return 0;
}

static int load_file(struct kvp_catalog *cat, const char *path, char *error,
		     size_t error_len)
{
	struct cat_parse ps = {
		.cat = cat, .file = path, .error = error, .error_len = error_len,
	};
	char *text = NULL;
	size_t len = 0;
	unsigned int i;
	int ret;

	ret = read_whole(&ps, path, &text, &len);
	if (!ret)
		ret = parse_text(&ps, text, len);
	product_free(ps.cur);
	for (i = 0; i < ps.nr_ids; i++)
		free(ps.ids[i]);
	free(ps.ids);
	free(text);
	if (ret == -ENOMEM)
		cat_error(&ps, "out of memory");
	return ret;
}

static int conf_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 &&
	       !strcmp(d->d_name + len - 5, ".conf");
}

/* Byte order, whatever the locale: the same order on every system. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int load_dir(struct kvp_catalog *cat, const char *dir, char *error,
		    size_t error_len)
{
	struct cat_parse ps = {
		.file = dir, .error = error, .error_len = error_len,
	};
	struct dirent **names;
	char *path;
	int n, i, ret = 0;

	n = scandir(dir, &names, conf_file, by_name);
	if (n < 0)
		return errno == ENOENT ? 0 : cat_error(&ps, "%s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (!ret) {
			if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0) {
				path = NULL;
				ret = -ENOMEM;
			} else {
				ret = load_file(cat, path, error, error_len);
			}
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

/*
 * A key names one version and edition of one product: the same key in two
 * products (one of them a drop-in's) would make what it activates depend
 * on the order of the files.
 */
static int keys_unique(const struct kvp_catalog *cat, char *error,
		       size_t error_len)
{
	const struct kvp_product *p, *q;
	unsigned int i, j, k, l;

	for (i = 0; i < cat->nr; i++) {
		p = &cat->products[i]->pub;
		for (j = i + 1; j < cat->nr; j++) {
			q = &cat->products[j]->pub;
			for (k = 0; k < p->nr_keys; k++)
				for (l = 0; l < q->nr_keys; l++)
					if (!strcmp(p->keys[k].key,
						    q->keys[l].key))
						goto dup;
		}
	}
	return 0;
dup:
	if (error_len)
		snprintf(error, error_len,
			 "key %s is in product %s (%s) and in product %s (%s)",
			 p->keys[k].key, p->id, p->source, q->id, q->source);
	return -EINVAL;
}

int kvp_catalog_load(struct kvp_catalog **catalog, const char *const *dirs,
		     char *error, size_t error_len)
{
	static const char *const defaults[] = {
		KVP_CATALOG_DIR, KVP_CATALOG_DROPIN, NULL,
	};
	struct kvp_catalog *cat;
	int ret = 0;

	if (error_len)
		error[0] = '\0';
	cat = calloc(1, sizeof(*cat));
	if (!cat)
		return -ENOMEM;
	for (dirs = dirs ?: defaults; !ret && *dirs; dirs++)
		ret = load_dir(cat, *dirs, error, error_len);
	if (!ret)
		ret = keys_unique(cat, error, error_len);
	if (ret) {
		kvp_catalog_free(cat);
		return ret == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	*catalog = cat;
	return 0;
}

unsigned int kvp_catalog_count(const struct kvp_catalog *catalog)
{
	return catalog->nr;
}

const struct kvp_product *kvp_catalog_at(const struct kvp_catalog *catalog,
					 unsigned int i)
{
	return i < catalog->nr ? &catalog->products[i]->pub : NULL;
}

const struct kvp_product *kvp_catalog_product(const struct kvp_catalog *c,
					      const char *id)
{
	unsigned int i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->products[i]->pub.id, id))
			return &c->products[i]->pub;
	return NULL;
}

const struct kvp_edition *kvp_product_edition(const struct kvp_product *p,
					      const char *id)
{
	unsigned int i;

	for (i = 0; i < p->nr_editions; i++)
		if (!strcmp(p->editions[i].id, id))
			return &p->editions[i];
	return NULL;
}

int kvp_product_version_rank(const struct kvp_product *p, const char *version)
{
	unsigned int i;

	for (i = 0; i < p->nr_versions; i++)
		if (!strcmp(p->versions[i], version))
			return i;
	return -1;
}

bool kvp_product_license_covers(const struct kvp_product *p,
				const struct kvp_license *lic,
				const char *version)
{
	const struct kvp_edition *e = kvp_product_edition(p, lic->edition);
	int have = kvp_product_version_rank(p, lic->version);
	int want = kvp_product_version_rank(p, version);

	return !strcmp(p->id, lic->product) && e && e->lends && want >= 0 &&
	       have >= want;
}

const struct kvp_product_key *
kvp_catalog_find_key(const struct kvp_catalog *catalog, const char *key,
		     const struct kvp_product **product)
{
	const struct kvp_product *p;
	unsigned int i, k;

	for (i = 0; i < catalog->nr; i++) {
		p = &catalog->products[i]->pub;
		for (k = 0; k < p->nr_keys; k++) {
			if (strcmp(p->keys[k].key, key))
				continue;
			if (product)
				*product = p;
			return &p->keys[k];
		}
	}
	return NULL;
}

static void key_error(char *error, size_t error_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void key_error(char *error, size_t error_len, const char *fmt, ...)
{
	va_list ap;

	if (!error_len)
		return;
	va_start(ap, fmt);
	vsnprintf(error, error_len, fmt, ap);
	va_end(ap);
}

/*
 * Dashes may be left out, each on its own, but one that is there must sit
 * between two groups.  Positions in the messages count the input's
 * characters from 1, dashes included, as the user typed them.
 */
int kvp_key_normalize(const char *in, char out[KVP_KEY_TEXT_LEN + 1],
		      char *error, size_t error_len)
{
	unsigned int pos, n = 0, ns = 0;
	unsigned char c;
	bool dash = false;

	for (pos = 1; (c = in[pos - 1]); pos++) {
		if (c == '-') {
			if (!n || n % 5 || n == 25 || dash)
				goto misplaced;
			dash = true;
			continue;
		}
		dash = false;
		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (n == 25) {
			key_error(error, error_len,
				  "more than 25 characters: a key is 5 groups of 5");
			return -EINVAL;
		}
		if (c == 'N' && ++ns > 1) {
			key_error(error, error_len,
				  "%u 'N's (character %u): a key has at most one",
				  ns, pos);
			return -EINVAL;
		}
		if (c != 'N' && !strchr(KVP_KEY_ALPHABET, c))
			goto alphabet;
		if (n && n % 5 == 0)
			out[n / 5 * 6 - 1] = '-';
		out[n / 5 * 6 + n % 5] = c;
		n++;
	}
	if (n != 25 || dash) {
		key_error(error, error_len,
			  "%u characters: a key is 5 groups of 5 (XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)",
			  n);
		return -EINVAL;
	}
	out[KVP_KEY_TEXT_LEN] = '\0';
	return 0;

misplaced:
	key_error(error, error_len,
		  "character %u '-' is misplaced: dashes go between groups of 5",
		  pos);
	return -EINVAL;
alphabet:
	c = in[pos - 1];
	if (c > 0x20 && c < 0x7f)
		key_error(error, error_len,
			  "character %u '%c' is not in the product-key alphabet (%s, and one N)",
			  pos, c, KVP_KEY_ALPHABET);
	else
		key_error(error, error_len,
			  "character %u (byte 0x%02x) is not in the product-key alphabet (%s, and one N)",
			  pos, c, KVP_KEY_ALPHABET);
	return -EINVAL;
}
