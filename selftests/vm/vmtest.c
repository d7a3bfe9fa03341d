// SPDX-License-Identifier: GPL-2.0
/* What the VM test programs share (vmtest.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmtest.h"

const char *const vm_intrinsic_keys[VM_INTRINSIC_KEYS] = {
	"FullyQualifiedDomainName", "IntegrationServicesVersion",
	"NetworkAddressIPv4", "NetworkAddressIPv6", "OSBuildNumber",
	"OSName", "OSMajorVersion", "OSMinorVersion", "OSVersion",
	"ProcessorArchitecture",
};

int vm_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

void vm_set_param(const char *name, unsigned int value)
{
	vm_sh("echo %u > /sys/module/kvp/parameters/%s", value, name);
}

int vm_service_status(uint32_t service, struct kvp_nl_status *st)
{
	struct kvp_nl *nl;
	int err;

	err = kvp_nl_open(&nl);
	if (err)
		return err;
	err = kvp_nl_service_status(nl, service, st);
	kvp_nl_close(nl);
	return err;
}

int vm_status(struct kvp_nl_status *st)
{
	return vm_service_status(KVP_SERVICE_KVP, st);
}
