// SPDX-License-Identifier: GPL-2.0
/*
 * hvutils_standin.ko: a driver named "hv_utils", as the kernel's is, for the
 * KVP device class only.  It opens the channel and then registers
 * /dev/vmbus/hv_kvp, as hv_utils does, and answers nothing: it exists so
 * that the tests can hand the KVP device from it to kvp_vmbus and back
 * (driver_override, unbind, bind) and see kvp notice its device node.
 *
 * Built like kvp_vmbus.ko, against the kernel's Module.symvers and not the
 * stand-in's: that it loads on top of vmbus_standin.ko shows the stand-in
 * exports hv_vmbus's functions under the kernel's CRCs.
 */
#include <linux/hyperv.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "compat.h"

/* hv_utils' rings: VMBUS_RING_SIZE(3 * HV_HYP_PAGE_SIZE) each way. */
#define HVUTILS_RING_SIZE	VMBUS_RING_SIZE(3 * HV_HYP_PAGE_SIZE)

static const struct file_operations hvutils_kvp_fops = {
	.owner = THIS_MODULE,
};

/* hv_utils answers the host here; the tests only need the binding. */
static void hvutils_on_channel(void *context)
{
}

static int hvutils_probe(struct hv_device *dev,
			 const struct hv_vmbus_device_id *id)
{
	struct miscdevice *misc;
	int err;

	misc = devm_kzalloc(&dev->device, sizeof(*misc), GFP_KERNEL);
	if (!misc)
		return -ENOMEM;
	misc->minor = MISC_DYNAMIC_MINOR;
	misc->name = "vmbus/hv_kvp";
	misc->fops = &hvutils_kvp_fops;
	hv_set_drvdata(dev, misc);

	set_channel_read_mode(dev->channel, HV_CALL_DIRECT);
	err = vmbus_open(dev->channel, HVUTILS_RING_SIZE, HVUTILS_RING_SIZE,
			 NULL, 0, hvutils_on_channel, dev);
	if (err)
		return err;
	err = misc_register(misc);
	if (err)
		vmbus_close(dev->channel);
	return err;
}

static KVP_HV_REMOVE_RET hvutils_remove(struct hv_device *dev)
{
	misc_deregister(hv_get_drvdata(dev));
	vmbus_close(dev->channel);
	return KVP_HV_REMOVED;
}

static const struct hv_vmbus_device_id hvutils_ids[] = {
	{ HV_KVP_GUID },
	{ },
};
MODULE_DEVICE_TABLE(vmbus, hvutils_ids);

static struct hv_driver hvutils_driver = {
	.name = "hv_utils",
	.id_table = hvutils_ids,
	.probe = hvutils_probe,
	.remove = hvutils_remove,
	.driver = {
		.probe_type = PROBE_PREFER_ASYNCHRONOUS,
	},
};

static int __init hvutils_init(void)
{
	return vmbus_driver_register(&hvutils_driver);
}

static void __exit hvutils_exit(void)
{
	vmbus_driver_unregister(&hvutils_driver);
}

module_init(hvutils_init);
module_exit(hvutils_exit);
MODULE_DESCRIPTION("hv_utils stand-in for the kvp tests (KVP device only)");
MODULE_LICENSE("GPL");
