// SPDX-License-Identifier: GPL-2.0
/*
 * kvp.ko: the Hyper-V KVP (Data Exchange) protocol engine, and the guest
 * end of the activation channel.  Transports (kvp_vmbus.ko, kvp_vsock.ko)
 * bind to it; the daemon talks to it over the generic-netlink family "kvp"
 * (kvpd) or /dev/vmbus/hv_kvp (the stock hv_kvp_daemon).  Layout of the
 * core: kvp.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "kvp.h"

unsigned int kvp_daemon_wait_ms = 5000;
module_param_named(daemon_wait_ms, kvp_daemon_wait_ms, uint, 0644);
MODULE_PARM_DESC(daemon_wait_ms,
		 "How long a host request waits for a daemon to register, in ms (1-600000, default 5000)");

unsigned int kvp_request_timeout_ms = 5000;
module_param_named(request_timeout_ms, kvp_request_timeout_ms, uint, 0644);
MODULE_PARM_DESC(request_timeout_ms,
		 "How long the daemon has to answer a host request, and the host an activation request, in ms (1-600000, default 5000)");

static void kvp_services_init(void)
{
	int i;

	for (i = 0; i < KVP_SERVICE_COUNT; i++)
		kvp_service_init(kvp_service_get(i));
}

static void kvp_services_uninit(void)
{
	int i;

	for (i = 0; i < KVP_SERVICE_COUNT; i++)
		kvp_service_uninit(kvp_service_get(i));
}

static int __init kvp_init(void)
{
	int err;

	err = kvp_request_init();
	if (err)
		return err;
	kvp_services_init();
	err = kvp_netlink_init();
	if (err)
		goto err_services;
	pr_info("Hyper-V KVP exchange engine loaded\n");
	return 0;

err_services:
	kvp_services_uninit();
	kvp_request_uninit();
	return err;
}

static void __exit kvp_exit(void)
{
	kvp_chardev_uninit();
	kvp_netlink_uninit();
	kvp_services_uninit();
	kvp_request_uninit();
}

module_init(kvp_init);
module_exit(kvp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hyper-V KVP (Data Exchange) protocol engine");
MODULE_AUTHOR("The kvp developers");
