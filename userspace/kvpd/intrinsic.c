// SPDX-License-Identifier: GPL-2.0
/*
 * Intrinsic items.  The fixed ones (OS name and versions, architecture) are
 * read once at start; addresses and the host name are read at each request,
 * since they change (the daemon starts before cloud-init names the
 * machine).  The FQDN is resolved in a thread of its own, because a lookup
 * can take longer than the host waits: until it is known the host name is
 * reported, never an error text, and a failed lookup is retried later.
 *
 * While an AVMA key is installed, the licence items follow the ten Hyper-V
 * ones (index 10 on), read from the licence state file at each request so
 * that the host sees every change at once (Documentation/avma.rst section
 * "Guest").  Without one, pool 2 ends at index 9, as it always did.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "intrinsic.h"
#include "license.h"
#include "log.h"
#include "utf16.h"

/* The value a host can take whole: 1023 UTF-16 units, ASCII here. */
#define KVP_WIRE_VALUE_MAX	1023
/* How long a failed FQDN lookup is trusted before it is tried again. */
#define KVP_FQDN_RETRY_SECS	30

static struct {
	char os_name[256];
	char os_major[64];
	char release[65];
	char version[65];
	char machine[65];
} kvp_intrinsic;

/* The FQDN: the canonical name of `host`, once a lookup found it. */
static struct {
	pthread_mutex_t lock;
	char host[HOST_NAME_MAX + 1];
	char canonical[256];
	time_t tried;		/* when the last lookup of `host` started */
	bool busy;		/* a lookup is running */
} kvp_fqdn_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Where the licence items come from; only the main loop reads them. */
static struct {
	const char *dir;
	char error[256];	/* the last complaint, said once */
} kvp_license_src;

typedef void (*kvp_intrinsic_fn)(char *value);

static void *kvp_resolve_fqdn(void *arg)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_flags = AI_CANONNAME,
	};
	struct addrinfo *info = NULL;
	char *host = arg;

	if (getaddrinfo(host, NULL, &hints, &info))
		info = NULL;
	pthread_mutex_lock(&kvp_fqdn_state.lock);
	if (info && info->ai_canonname &&
	    !strcmp(host, kvp_fqdn_state.host))
		snprintf(kvp_fqdn_state.canonical,
			 sizeof(kvp_fqdn_state.canonical), "%s",
			 info->ai_canonname);
	kvp_fqdn_state.busy = false;
	pthread_mutex_unlock(&kvp_fqdn_state.lock);
	if (info)
		freeaddrinfo(info);
	free(host);
	return NULL;
}

/* Called with the lock held: starts a lookup of the current host name. */
static void kvp_fqdn_lookup(void)
{
	pthread_t thread;
	char *host;

	host = strdup(kvp_fqdn_state.host);
	if (!host)
		return;
	kvp_fqdn_state.tried = time(NULL);
	if (pthread_create(&thread, NULL, kvp_resolve_fqdn, host)) {
		free(host);
		return;
	}
	kvp_fqdn_state.busy = true;
	pthread_detach(thread);
}

static void kvp_fqdn(char *value)
{
	char host[HOST_NAME_MAX + 1] = "";

	if (gethostname(host, sizeof(host)))
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	pthread_mutex_lock(&kvp_fqdn_state.lock);
	if (strcmp(host, kvp_fqdn_state.host)) {
		snprintf(kvp_fqdn_state.host, sizeof(kvp_fqdn_state.host),
			 "%s", host);
		kvp_fqdn_state.canonical[0] = '\0';
		kvp_fqdn_state.tried = 0;
	}
	snprintf(value, KVP_POOL_VALUE, "%s", kvp_fqdn_state.canonical[0] ?
		 kvp_fqdn_state.canonical : host);
	if (!kvp_fqdn_state.canonical[0] && !kvp_fqdn_state.busy && host[0] &&
	    time(NULL) - kvp_fqdn_state.tried >= KVP_FQDN_RETRY_SECS)
		kvp_fqdn_lookup();
	pthread_mutex_unlock(&kvp_fqdn_state.lock);
}

/* Non-loopback addresses of one family, ';'-joined, whole ones only. */
static void kvp_addresses(char *value, int family)
{
	char addr[INET6_ADDRSTRLEN];
	struct ifaddrs *ifa, *list;
	size_t len = 0, n;
	const void *src;

	value[0] = '\0';
	if (getifaddrs(&list))
		return;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != family ||
		    (ifa->ifa_flags & IFF_LOOPBACK))
			continue;
		if (family == AF_INET)
			src = &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
		else
			src = &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
		if (!inet_ntop(family, src, addr, sizeof(addr)))
			continue;
		n = strlen(addr) + (len ? 1 : 0);
		if (len + n > KVP_WIRE_VALUE_MAX)
			break;
		len += snprintf(value + len, KVP_POOL_VALUE - len, "%s%s",
				len ? ";" : "", addr);
	}
	freeifaddrs(list);
}

static void kvp_ipv4(char *value)
{
	kvp_addresses(value, AF_INET);
}

static void kvp_ipv6(char *value)
{
	kvp_addresses(value, AF_INET6);
}

/* Each item is computed by fn, or else is the fixed text read at start. */
static const struct {
	const char *key;
	kvp_intrinsic_fn fn;
	const char *fixed;
} kvp_intrinsic_items[] = {
	{ "FullyQualifiedDomainName", kvp_fqdn, NULL },
	/* The version stock kernels give their daemon: hosts know it. */
	{ "IntegrationServicesVersion", NULL, "3.1" },
	{ "NetworkAddressIPv4", kvp_ipv4, NULL },
	{ "NetworkAddressIPv6", kvp_ipv6, NULL },
	{ "OSBuildNumber", NULL, kvp_intrinsic.release },
	{ "OSName", NULL, kvp_intrinsic.os_name },
	{ "OSMajorVersion", NULL, kvp_intrinsic.os_major },
	{ "OSMinorVersion", NULL, "" },
	{ "OSVersion", NULL, kvp_intrinsic.version },
	{ "ProcessorArchitecture", NULL, kvp_intrinsic.machine },
};

/*
 * The host must only get valid UTF-8 (the kernel refuses anything else):
 * text cut to fit a buffer loses its last, partial character, and text that
 * was never UTF-8 (a Latin-1 os-release, say) is not sent at all.
 */
static void kvp_utf8_fix(char *s)
{
	size_t len = strlen(s), cut;

	for (cut = 0; cut < 4 && cut <= len; cut++)
		if (kvp_utf8_valid(s, len - cut)) {
			s[len - cut] = '\0';
			return;
		}
	s[0] = '\0';
}

static void kvp_intrinsic_value(size_t i, char *value)
{
	if (kvp_intrinsic_items[i].fn)
		kvp_intrinsic_items[i].fn(value);
	else
		snprintf(value, KVP_POOL_VALUE, "%s",
			 kvp_intrinsic_items[i].fixed);
	kvp_utf8_fix(value);
}

#define KVP_NR_INTRINSIC \
	(sizeof(kvp_intrinsic_items) / sizeof(kvp_intrinsic_items[0]))

/* One os-release value, quotes and backslash escapes removed. */
static void kvp_os_release_value(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && *in != '\n' && n + 1 < size; in++) {
		if (*in == '"' || *in == '\'')
			continue;
		if (*in == '\\' && in[1])
			in++;
		out[n++] = *in;
	}
	out[n] = '\0';
}

static void kvp_read_os_release(void)
{
	static const char *const paths[] = {
		"/etc/os-release", "/usr/lib/os-release",
	};
	char line[512];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		f = fopen(paths[i], "re");
		if (f)
			break;
	}
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "NAME=", 5))
			kvp_os_release_value(line + 5, kvp_intrinsic.os_name,
					     sizeof(kvp_intrinsic.os_name));
		else if (!strncmp(line, "VERSION_ID=", 11))
			kvp_os_release_value(line + 11, kvp_intrinsic.os_major,
					     sizeof(kvp_intrinsic.os_major));
	}
	fclose(f);
}

void kvp_intrinsic_init(const char *state_dir)
{
	char value[KVP_POOL_VALUE];
	struct utsname uts;
	char *dash;

	if (!uname(&uts)) {
		snprintf(kvp_intrinsic.release, sizeof(kvp_intrinsic.release),
			 "%s", uts.release);
		snprintf(kvp_intrinsic.version, sizeof(kvp_intrinsic.version),
			 "%s", uts.release);
		dash = strchr(kvp_intrinsic.version, '-');
		if (dash)
			*dash = '\0';
		snprintf(kvp_intrinsic.machine, sizeof(kvp_intrinsic.machine),
			 "%s", uts.machine);
		snprintf(kvp_intrinsic.os_name, sizeof(kvp_intrinsic.os_name),
			 "%s", uts.sysname);
	}
	kvp_read_os_release();
	kvp_fqdn(value);	/* starts the first lookup */
	kvp_license_src.dir = state_dir;
}

enum kvp_license_item {
	KVP_LI_STATE, KVP_LI_REASON, KVP_LI_PRODUCT, KVP_LI_EDITION,
	KVP_LI_VERSION, KVP_LI_ACTIVATION_ID, KVP_LI_HOST_NAME,
	KVP_LI_HOST_ID, KVP_LI_ACTIVATION_TIME, KVP_LI_EXPIRY, KVP_LI_GRANT,
	KVP_NR_LICENSE_ITEMS,
};

static const char *const kvp_license_items[KVP_NR_LICENSE_ITEMS] = {
	"KvpLicenseState", "KvpLicenseReason", "KvpLicenseProduct",
	"KvpLicenseEdition", "KvpLicenseVersion", "KvpLicenseActivationId",
	"KvpLicenseHostName", "KvpLicenseHostId", "KvpLicenseActivationTime",
	"KvpLicenseExpiry", "KvpLicenseGrant",
};

/* The state, or false without an AVMA key (no licence items then). */
static bool kvp_license_load(struct kvp_guest *g)
{
	char error[256] = "";

	kvp_guest_load(kvp_license_src.dir, g, error, sizeof(error));
	if (strcmp(error, kvp_license_src.error)) {
		snprintf(kvp_license_src.error, sizeof(kvp_license_src.error),
			 "%s", error);
		if (*error)
			kvp_warn("licence items: %s", error);
	}
	return g->avma;
}

/* Items that have no value yet (never activated) are "". */
static void kvp_license_value(const struct kvp_guest *g,
			      enum kvp_license_item item, char *value)
{
	const struct kvp_grant *d = &g->decoded;
	uint32_t reason;

	value[0] = '\0';
	switch (item) {
	case KVP_LI_STATE:
		snprintf(value, KVP_POOL_VALUE, "%s", kvp_guest_state_name(
			 kvp_guest_state(g, time(NULL), NULL)));
		return;
	case KVP_LI_REASON:
		kvp_guest_state(g, time(NULL), &reason);
		snprintf(value, KVP_POOL_VALUE, "%s",
			 kvp_avma_reason_name(reason));
		return;
	case KVP_LI_PRODUCT:
		snprintf(value, KVP_POOL_VALUE, "%s", g->product);
		return;
	case KVP_LI_EDITION:
		snprintf(value, KVP_POOL_VALUE, "%s", g->edition);
		return;
	case KVP_LI_VERSION:
		snprintf(value, KVP_POOL_VALUE, "%s", g->version);
		return;
	default:
		break;
	}
	if (!g->grant_len)
		return;
	if (item == KVP_LI_ACTIVATION_ID)
		kvp_uuid_format(d->id, value);
	else if (item == KVP_LI_HOST_NAME)
		snprintf(value, KVP_POOL_VALUE, "%s", d->host_name);
	else if (item == KVP_LI_HOST_ID)
		kvp_host_id(d->host_key, value);
	else if (item == KVP_LI_ACTIVATION_TIME)
		kvp_time_text(d->activated, value);
	else if (item == KVP_LI_EXPIRY)
		kvp_time_text(d->expires, value);
	else
		kvp_base64_encode(g->grant, g->grant_len, value);
	kvp_utf8_fix(value);
}

int kvp_intrinsic_enumerate(unsigned int index, char key[KVP_POOL_KEY],
			    char value[KVP_POOL_VALUE])
{
	struct kvp_guest g;

	if (index < KVP_NR_INTRINSIC) {
		snprintf(key, KVP_POOL_KEY, "%s",
			 kvp_intrinsic_items[index].key);
		kvp_intrinsic_value(index, value);
		return 0;
	}
	index -= KVP_NR_INTRINSIC;
	if (index >= KVP_NR_LICENSE_ITEMS || !kvp_license_load(&g))
		return -ENOENT;
	snprintf(key, KVP_POOL_KEY, "%s", kvp_license_items[index]);
	kvp_license_value(&g, index, value);
	return 0;
}

int kvp_intrinsic_get(const char *key, char value[KVP_POOL_VALUE])
{
	struct kvp_guest g;
	size_t i;

	for (i = 0; i < KVP_NR_INTRINSIC; i++)
		if (!strcmp(key, kvp_intrinsic_items[i].key)) {
			kvp_intrinsic_value(i, value);
			return 0;
		}
	for (i = 0; i < KVP_NR_LICENSE_ITEMS; i++)
		if (!strcmp(key, kvp_license_items[i]))
			break;
	if (i == KVP_NR_LICENSE_ITEMS || !kvp_license_load(&g))
		return -ENOENT;
	kvp_license_value(&g, i, value);
	return 0;
}
