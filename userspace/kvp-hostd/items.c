// SPDX-License-Identifier: GPL-2.0
/*
 * Who a guest is (--vm) and what the host tells every guest about itself:
 * the pool-3 (AUTO_EXTERNAL, "Guest\Parameters") items a Hyper-V host
 * pushes, plus any --item of the administrator's.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostctl.h"
#include "hostd.h"
#include "log.h"
#include "utf16.h"

#define KVP_MACHINE_ID		"/etc/machine-id"
#define KVP_MACHINE_ID_MAX	64

/* --vm CID=NAME[,UUID]; name and uuid point into buf. */
struct kvp_vm {
	struct kvp_vm *next;
	u32 cid;
	char *buf;
	const char *name;
	char uuid[KVP_HOSTD_UUID_LEN + 1];	/* empty: derive one */
};

/* --item KEY=VALUE; key and value point into buf. */
struct kvp_item {
	struct kvp_item *next;
	char *buf;
	const char *key;
	const char *value;
};

/* The namespace of derived VirtualMachineIds (Documentation/kvp-hostd.rst). */
static const u8 kvp_vm_id_ns[16] = {
	0xad, 0xa6, 0x5b, 0xf0, 0x18, 0xc9, 0x46, 0xa4,
	0xa2, 0xf8, 0x72, 0x4b, 0x25, 0x04, 0x9f, 0xe2,
};

static struct kvp_vm *kvp_vms;
static struct kvp_item *kvp_items;
static char kvp_host_name[256];
static char kvp_host_short[256];
static char kvp_host_fqdn[NI_MAXHOST];
static char kvp_machine_id[KVP_MACHINE_ID_MAX + 1];

static bool kvp_all_digits(const char *s)
{
	return s[0] && strspn(s, "0123456789") == strlen(s);
}

/* Checks a UUID's form and copies it in upper case. */
static int kvp_uuid_parse(const char *s, char out[KVP_HOSTD_UUID_LEN + 1])
{
	size_t i;

	if (strlen(s) != KVP_HOSTD_UUID_LEN)
		return -EINVAL;
	for (i = 0; i < KVP_HOSTD_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
		} else if (!isxdigit((unsigned char)s[i])) {
			return -EINVAL;
		}
		out[i] = (char)toupper((unsigned char)s[i]);
	}
	out[i] = '\0';
	return 0;
}

static struct kvp_vm *kvp_vm_find(u32 cid, const char *name)
{
	struct kvp_vm *vm;

	for (vm = kvp_vms; vm; vm = vm->next)
		if (vm->cid == cid || (name && !strcmp(vm->name, name)))
			return vm;
	return NULL;
}

/* The parts of --vm CID=NAME[,UUID], checked; fills vm. */
static int kvp_vm_parse(struct kvp_vm *vm)
{
	char *name = strchr(vm->buf, '='), *uuid;

	if (!name)
		return -EINVAL;
	*name++ = '\0';
	uuid = strchr(name, ',');
	if (uuid)
		*uuid++ = '\0';
	if (!kvp_all_digits(vm->buf) || strlen(vm->buf) > 10 ||
	    strtoul(vm->buf, NULL, 10) > UINT32_MAX)
		return -EINVAL;
	vm->cid = (u32)strtoul(vm->buf, NULL, 10);
	/* A name that looks like a CID could not be told apart from one. */
	if (!name[0] || kvp_all_digits(name) ||
	    strlen(name) > KVP_HOSTD_NAME_MAX ||
	    !kvp_utf8_valid(name, strlen(name)))
		return -EINVAL;
	vm->name = name;
	return uuid ? kvp_uuid_parse(uuid, vm->uuid) : 0;
}

int kvp_items_add_vm(const char *arg)
{
	struct kvp_vm *vm = calloc(1, sizeof(*vm));

	if (vm)
		vm->buf = strdup(arg);
	if (!vm || !vm->buf) {
		free(vm);
		kvp_err("out of memory");
		return -ENOMEM;
	}
	if (kvp_vm_parse(vm) || kvp_vm_find(vm->cid, vm->name)) {
		kvp_err("bad or repeated --vm '%s': want CID=NAME[,UUID], a NAME that is not a number",
			arg);
		free(vm->buf);
		free(vm);
		return -EINVAL;
	}
	vm->next = kvp_vms;
	kvp_vms = vm;
	return 0;
}

static const struct kvp_item *kvp_item_find(const char *key)
{
	const struct kvp_item *item;

	for (item = kvp_items; item; item = item->next)
		if (!strcmp(item->key, key))
			return item;
	return NULL;
}

/* Refuses what the guest could not be sent: the same check as requests. */
static int kvp_item_check(const struct kvp_item *item)
{
	struct kvp_req *req;
	int status;

	if (!item->key[0] || kvp_item_find(item->key)) {
		kvp_err("--item %s: empty or repeated key", item->key);
		return -EINVAL;
	}
	req = kvp_req_new(KVP_OP_SET, KVP_POOL_AUTO_EXTERNAL, item->key,
			  item->value, &status);
	if (!req) {
		kvp_err("--item %s: %s", item->key,
			status == KVP_HOSTCTL_TOO_LONG ?
			"key or value too long (255, 1023 UTF-16 units)" :
			"not valid UTF-8");
		return -EINVAL;
	}
	kvp_req_free(req);
	return 0;
}

/* Items are kept in the order given. */
int kvp_items_add_item(const char *arg)
{
	struct kvp_item *item = calloc(1, sizeof(*item)), **p;
	char *eq;

	if (item)
		item->buf = strdup(arg);
	if (!item || !item->buf) {
		free(item);
		kvp_err("out of memory");
		return -ENOMEM;
	}
	eq = strchr(item->buf, '=');
	if (eq)
		*eq = '\0';
	item->key = item->buf;
	item->value = eq ? eq + 1 : "";
	if (!eq || kvp_item_check(item)) {
		if (!eq)
			kvp_err("bad --item '%s': want KEY=VALUE", arg);
		free(item->buf);
		free(item);
		return -EINVAL;
	}
	for (p = &kvp_items; *p; p = &(*p)->next)
		;
	*p = item;
	return 0;
}

/* The host's canonical name, as resolving its hostname gives it. */
static void kvp_host_fqdn_init(void)
{
	struct addrinfo hints = { .ai_flags = AI_CANONNAME };
	struct addrinfo *ai;

	snprintf(kvp_host_fqdn, sizeof(kvp_host_fqdn), "%s", kvp_host_name);
	if (getaddrinfo(kvp_host_name, NULL, &hints, &ai))
		return;
	if (ai->ai_canonname && ai->ai_canonname[0])
		snprintf(kvp_host_fqdn, sizeof(kvp_host_fqdn), "%s",
			 ai->ai_canonname);
	freeaddrinfo(ai);
}

static void kvp_machine_id_init(void)
{
	FILE *f = fopen(KVP_MACHINE_ID, "r");

	if (!f)
		return;
	if (fgets(kvp_machine_id, sizeof(kvp_machine_id), f))
		kvp_machine_id[strcspn(kvp_machine_id, "\n")] = '\0';
	fclose(f);
}

/*
 * Host names are read once, at start: resolving the FQDN may block, which
 * the event loop must not.
 */
int kvp_items_init(void)
{
	if (gethostname(kvp_host_name, sizeof(kvp_host_name) - 1) < 0)
		return -errno;
	snprintf(kvp_host_short, sizeof(kvp_host_short), "%.*s",
		 (int)strcspn(kvp_host_name, "."), kvp_host_name);
	kvp_host_fqdn_init();
	kvp_machine_id_init();
	kvp_dbg("host %s, short %s, FQDN %s, machine-id '%s'", kvp_host_name,
		kvp_host_short, kvp_host_fqdn, kvp_machine_id);
	return 0;
}

/*
 * A guest's name and VirtualMachineId: from --vm, else "vm-CID" and the
 * version 5 UUID of "MACHINE-ID:CID", stable for this host and CID.
 */
void kvp_items_identify(struct kvp_guest *guest)
{
	struct kvp_vm *vm = kvp_vm_find(guest->cid, NULL);
	char name[KVP_MACHINE_ID_MAX + 16];

	guest->named = vm;
	if (vm)
		snprintf(guest->name, sizeof(guest->name), "%s", vm->name);
	else
		snprintf(guest->name, sizeof(guest->name), "vm-%u", guest->cid);
	if (vm && vm->uuid[0]) {
		memcpy(guest->uuid, vm->uuid, sizeof(guest->uuid));
		return;
	}
	/* Always short enough for kvp_uuid_v5(): at most 64 + 11 bytes. */
	snprintf(name, sizeof(name), "%s:%u", kvp_machine_id, guest->cid);
	kvp_uuid_v5(kvp_vm_id_ns, name, guest->uuid);
}

static void kvp_item_push(struct kvp_guest *guest, const char *key,
			  const char *value)
{
	struct kvp_req *req;
	int status;

	req = kvp_req_new(KVP_OP_SET, KVP_POOL_AUTO_EXTERNAL, key, value,
			  &status);
	if (req)
		kvp_req_queue(guest, req);
	else
		kvp_warn("CID %u: host item %s not sent (status %d)",
			 guest->cid, key, status);
}

/* Queues the host items; an --item of the same key replaces ours. */
void kvp_items_push(struct kvp_guest *guest)
{
	const struct {
		const char *key;
		const char *value;
	} host[] = {
		{ "HostName", kvp_host_name },
		{ "PhysicalHostName", kvp_host_short },
		{ "PhysicalHostNameFullyQualified", kvp_host_fqdn },
		{ "VirtualMachineId", guest->uuid },
		{ "VirtualMachineName", guest->name },
	};
	const struct kvp_item *item;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(host); i++)
		if (!kvp_item_find(host[i].key))
			kvp_item_push(guest, host[i].key, host[i].value);
	for (item = kvp_items; item; item = item->next)
		kvp_item_push(guest, item->key, item->value);
}

void kvp_items_free(void)
{
	struct kvp_item *item;
	struct kvp_vm *vm;

	while ((vm = kvp_vms)) {
		kvp_vms = vm->next;
		free(vm->buf);
		free(vm);
	}
	while ((item = kvp_items)) {
		kvp_items = item->next;
		free(item->buf);
		free(item);
	}
}
