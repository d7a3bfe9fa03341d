// SPDX-License-Identifier: GPL-2.0
/*
 * Intrinsic items.  The fixed ones (OS name and versions, architecture) are
 * read once at start; addresses and the host name are read at each request,
 * since they change (the daemon starts before cloud-init names the
 * machine).  The FQDN is resolved in a thread of its own, because a lookup
 * can take longer than the host waits: until it is known the host name is
 * reported, never an error text, and a failed lookup is retried later.
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

void kvp_intrinsic_init(void)
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
}

int kvp_intrinsic_enumerate(unsigned int index, char key[KVP_POOL_KEY],
			    char value[KVP_POOL_VALUE])
{
	if (index >= KVP_NR_INTRINSIC)
		return -ENOENT;
	snprintf(key, KVP_POOL_KEY, "%s", kvp_intrinsic_items[index].key);
	kvp_intrinsic_value(index, value);
	return 0;
}

int kvp_intrinsic_get(const char *key, char value[KVP_POOL_VALUE])
{
	size_t i;

	for (i = 0; i < KVP_NR_INTRINSIC; i++)
		if (!strcmp(key, kvp_intrinsic_items[i].key)) {
			kvp_intrinsic_value(i, value);
			return 0;
		}
	return -ENOENT;
}
