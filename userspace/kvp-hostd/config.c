// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration file (--config, default /etc/kvp/hostd.conf): INI, the
 * keys of Documentation/kvp-hostd.rst "Configuration file".  Read once, at
 * start, before anything else is set up; any fault in it stops the daemon
 * with FILE:LINE and what is wrong, so that a typo never runs as a default.
 * The default file may be missing (every key then has its default); one
 * named with --config must exist.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avma.h"
#include "hostd.h"
#include "log.h"
#include "utf16.h"

struct kvp_hostd_config kvp_hostd_config = {
	.activation = true,
	.lease = KVP_HOSTD_LEASE,
	.rate_burst = KVP_HOSTD_RATE_BURST,
	.rate_interval = KVP_HOSTD_RATE_INTERVAL,
};

enum kvp_section { KVP_SEC_NONE, KVP_SEC_HOST, KVP_SEC_ACTIVATION,
		   KVP_SEC_LICENSE };

struct kvp_parse {
	const char *path;
	unsigned int line;
	enum kvp_section section;
	struct kvp_license_conf *license;	/* the [license] being read */
	struct kvp_license_conf **tail;
	bool history_set;
	unsigned int nr_catalog_dirs;
};

static int kvp_conf_error(const struct kvp_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int kvp_conf_error(const struct kvp_parse *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kvp_err("%s:%u: %s", p->path, p->line, msg);
	return -EINVAL;
}

static char *kvp_trim(char *s)
{
	char *end = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int kvp_conf_bool(const struct kvp_parse *p, const char *key,
			 const char *value, bool *out)
{
	if (!strcmp(value, "yes") || !strcmp(value, "true") ||
	    !strcmp(value, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(value, "no") || !strcmp(value, "false") ||
	    !strcmp(value, "0")) {
		*out = false;
		return 0;
	}
	return kvp_conf_error(p, "%s: want yes or no, not '%s'", key, value);
}

/* A duration: N, Ns, Nm, Nh or Nd, 1 second to 10 years. */
static int kvp_conf_duration(const struct kvp_parse *p, const char *key,
			     const char *value, u64 *out)
{
	unsigned long long n;
	char *end;
	u64 unit = 1;

	errno = 0;
	n = strtoull(value, &end, 10);
	if (*end && !end[1]) {
		switch (*end++) {
		case 's':
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 24 * 3600;
			break;
		default:
			end--;
		}
	}
	if (errno || end == value || *end || !isdigit((unsigned char)*value) ||
	    !n || n > 3650ULL * 24 * 3600 / unit)
		return kvp_conf_error(p, "%s: want a duration (N, Ns, Nm, Nh or Nd, at most 10 years), not '%s'",
				      key, value);
	*out = n * unit;
	return 0;
}

static int kvp_conf_path(const struct kvp_parse *p, const char *key,
			 const char *value, char **out)
{
	if (value[0] != '/')
		return kvp_conf_error(p, "%s: want an absolute path, not '%s'",
				      key, value);
	free(*out);
	*out = strdup(value);
	return *out ? 0 : -ENOMEM;
}

static int kvp_conf_string(char **out, const char *value)
{
	free(*out);
	*out = strdup(value);
	return *out ? 0 : -ENOMEM;
}

static int kvp_conf_host(struct kvp_parse *p, const char *key,
			 const char *value)
{
	struct kvp_hostd_config *c = &kvp_hostd_config;

	if (!strcmp(key, "name")) {
		if (!value[0] || strlen(value) >= KVP_AVMA_NAME_LEN ||
		    !kvp_utf8_valid(value, strlen(value)))
			return kvp_conf_error(p, "name: 1 to %u bytes of UTF-8",
					      KVP_AVMA_NAME_LEN - 1);
		return kvp_conf_string(&c->host_name, value);
	}
	if (!strcmp(key, "state-dir"))
		return kvp_conf_path(p, key, value, &c->state_dir);
	return kvp_conf_error(p, "unknown key '%s' in [host]", key);
}

static int kvp_conf_catalog(struct kvp_parse *p, const char *value)
{
	struct kvp_hostd_config *c = &kvp_hostd_config;
	char **dirs;

	if (value[0] != '/')
		return kvp_conf_error(p, "catalog: want an absolute path, not '%s'",
				      value);
	dirs = realloc(c->catalog_dirs,
		       (p->nr_catalog_dirs + 2) * sizeof(*dirs));
	if (!dirs)
		return -ENOMEM;
	c->catalog_dirs = dirs;
	dirs[p->nr_catalog_dirs + 1] = NULL;
	dirs[p->nr_catalog_dirs] = strdup(value);
	if (!dirs[p->nr_catalog_dirs])
		return -ENOMEM;
	p->nr_catalog_dirs++;
	return 0;
}

static int kvp_conf_rate(struct kvp_parse *p, const char *key,
			 const char *value)
{
	struct kvp_hostd_config *c = &kvp_hostd_config;
	unsigned long n;
	char *end;
	u64 d;

	if (!strcmp(key, "rate-interval")) {
		if (kvp_conf_duration(p, key, value, &d))
			return -EINVAL;
		if (d > 24 * 3600)
			return kvp_conf_error(p, "rate-interval: at most 1 day");
		c->rate_interval = (unsigned int)d;
		return 0;
	}
	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno || !isdigit((unsigned char)*value) || *end || !n ||
	    n > 1000)
		return kvp_conf_error(p, "rate-burst: want 1 to 1000, not '%s'",
				      value);
	c->rate_burst = (unsigned int)n;
	return 0;
}

static int kvp_conf_activation(struct kvp_parse *p, const char *key,
			       const char *value)
{
	struct kvp_hostd_config *c = &kvp_hostd_config;

	if (!strcmp(key, "enabled"))
		return kvp_conf_bool(p, key, value, &c->activation);
	if (!strcmp(key, "lease"))
		return kvp_conf_duration(p, key, value, &c->lease);
	if (!strcmp(key, "rate-burst") || !strcmp(key, "rate-interval"))
		return kvp_conf_rate(p, key, value);
	if (!strcmp(key, "history")) {
		p->history_set = true;
		if (!strcmp(value, "off")) {
			free(c->history);
			c->history = NULL;
			return 0;
		}
		return kvp_conf_path(p, key, value, &c->history);
	}
	if (!strcmp(key, "history-required"))
		return kvp_conf_bool(p, key, value, &c->history_required);
	if (!strcmp(key, "catalog"))
		return kvp_conf_catalog(p, value);
	if (!strcmp(key, "journal-socket"))
		return kvp_conf_path(p, key, value, &c->journal_socket);
	return kvp_conf_error(p, "unknown key '%s' in [activation]", key);
}

/* Field lengths as the wire and the signed documents hold them. */
static int kvp_conf_field(struct kvp_parse *p, const char *key,
			  const char *value, size_t size, char **out)
{
	if (!value[0] || strlen(value) >= size)
		return kvp_conf_error(p, "%s: 1 to %zu bytes", key, size - 1);
	return kvp_conf_string(out, value);
}

static int kvp_conf_license(struct kvp_parse *p, const char *key,
			    const char *value)
{
	struct kvp_license_conf *l = p->license;

	if (!strcmp(key, "file"))
		return kvp_conf_path(p, key, value, &l->file);
	if (!strcmp(key, "product"))
		return kvp_conf_field(p, key, value, KVP_AVMA_PRODUCT_LEN,
				      &l->product);
	if (!strcmp(key, "version"))
		return kvp_conf_field(p, key, value, KVP_AVMA_VERSION_LEN,
				      &l->version);
	if (!strcmp(key, "edition"))
		return kvp_conf_field(p, key, value, KVP_AVMA_EDITION_LEN,
				      &l->edition);
	if (!strcmp(key, "activated"))
		return kvp_conf_bool(p, key, value, &l->activated);
	return kvp_conf_error(p, "unknown key '%s' in [license]", key);
}

/* A [license] is either a file or a declaration, and then a whole one. */
static int kvp_conf_license_end(struct kvp_parse *p)
{
	struct kvp_license_conf *l = p->license;
	unsigned int line = p->line;
	int err = 0;

	if (!l)
		return 0;
	p->license = NULL;
	p->line = l->line;
	if (l->file && (l->product || l->version || l->edition ||
			l->activated))
		err = kvp_conf_error(p, "[license]: either file, or product, version, edition and activated, not both");
	else if (!l->file && (!l->product || !l->version || !l->edition))
		err = kvp_conf_error(p, "[license]: a declared licence needs product, version and edition (and activated = yes once it is)");
	p->line = line;
	return err;
}

static int kvp_conf_section(struct kvp_parse *p, char *name)
{
	struct kvp_license_conf *l;

	if (kvp_conf_license_end(p))
		return -EINVAL;
	if (!strcmp(name, "host")) {
		p->section = KVP_SEC_HOST;
	} else if (!strcmp(name, "activation")) {
		p->section = KVP_SEC_ACTIVATION;
	} else if (!strcmp(name, "license")) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		l->line = p->line;
		*p->tail = l;
		p->tail = &l->next;
		p->license = l;
		p->section = KVP_SEC_LICENSE;
	} else {
		return kvp_conf_error(p, "unknown section [%s]", name);
	}
	return 0;
}

static int kvp_conf_line(struct kvp_parse *p, char *line)
{
	char *s = kvp_trim(line), *eq, *end;

	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end || end[1])
			return kvp_conf_error(p, "want [SECTION]");
		*end = '\0';
		return kvp_conf_section(p, kvp_trim(s + 1));
	}
	eq = strchr(s, '=');
	if (!eq)
		return kvp_conf_error(p, "want KEY = VALUE");
	*eq = '\0';
	s = kvp_trim(s);
	switch (p->section) {
	case KVP_SEC_HOST:
		return kvp_conf_host(p, s, kvp_trim(eq + 1));
	case KVP_SEC_ACTIVATION:
		return kvp_conf_activation(p, s, kvp_trim(eq + 1));
	case KVP_SEC_LICENSE:
		return kvp_conf_license(p, s, kvp_trim(eq + 1));
	default:
		return kvp_conf_error(p, "'%s' outside a section", s);
	}
}

static int kvp_conf_read(struct kvp_parse *p, FILE *f)
{
	char line[4096];
	int err;

	while (fgets(line, sizeof(line), f)) {
		p->line++;
		if (!strchr(line, '\n') && !feof(f))
			return kvp_conf_error(p, "line longer than %zu bytes",
					      sizeof(line) - 2);
		err = kvp_conf_line(p, line);
		if (err)
			return err;
	}
	if (ferror(f)) {
		kvp_err("%s: %s", p->path, strerror(errno));
		return -EIO;
	}
	return kvp_conf_license_end(p);
}

/* Defaults that depend on other keys: the state directory's files. */
static int kvp_conf_defaults(struct kvp_parse *p)
{
	struct kvp_hostd_config *c = &kvp_hostd_config;

	if (!c->state_dir && kvp_conf_string(&c->state_dir,
					     KVP_HOSTD_STATE_DIR))
		return -ENOMEM;
	if (!p->history_set &&
	    asprintf(&c->history, "%s/history.db", c->state_dir) < 0) {
		c->history = NULL;
		return -ENOMEM;
	}
	if (c->history_required && !c->history) {
		kvp_err("%s: history-required = yes with history = off",
			p->path);
		return -EINVAL;
	}
	return 0;
}

int kvp_config_load(const char *path, bool must_exist)
{
	struct kvp_parse p = {
		.path = path,
		.tail = &kvp_hostd_config.licenses,
	};
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f && (errno != ENOENT || must_exist)) {
		err = -errno;
		kvp_err("config %s: %s", path, strerror(errno));
		return err;
	}
	if (f) {
		kvp_hostd_config.path = strdup(path);
		err = kvp_hostd_config.path ? kvp_conf_read(&p, f) : -ENOMEM;
		fclose(f);
	}
	if (!err)
		err = kvp_conf_defaults(&p);
	if (err == -ENOMEM)
		kvp_err("config %s: out of memory", path);
	return err;
}

void kvp_config_free(void)
{
	struct kvp_hostd_config *c = &kvp_hostd_config;
	struct kvp_license_conf *l;
	char **dir;

	while ((l = c->licenses)) {
		c->licenses = l->next;
		free(l->file);
		free(l->product);
		free(l->version);
		free(l->edition);
		free(l);
	}
	for (dir = c->catalog_dirs; dir && *dir; dir++)
		free(*dir);
	free(c->catalog_dirs);
	free(c->path);
	free(c->host_name);
	free(c->state_dir);
	free(c->history);
	free(c->journal_socket);
	memset(c, 0, sizeof(*c));
}
