// SPDX-License-Identifier: GPL-2.0
/*
 * The "vmbus" bus of the stand-in: matching, probe and remove, the sysfs
 * attributes and the uevent of drivers/hv/vmbus_drv.c, and the driver
 * registration functions of hv_vmbus.  Devices come from host.c.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "standin.h"

static ssize_t class_id_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "{%pUl}\n", &device_to_hv_device(dev)->dev_type);
}
static DEVICE_ATTR_RO(class_id);

static ssize_t device_id_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "{%pUl}\n",
			  &device_to_hv_device(dev)->dev_instance);
}
static DEVICE_ATTR_RO(device_id);

/* vmbus:<the 16 bytes of the class GUID in hex>, as vmbus_drv.c makes it. */
#define STANDIN_MODALIAS_FMT "vmbus:%*phN"

static ssize_t modalias_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, STANDIN_MODALIAS_FMT "\n", UUID_SIZE,
			  device_to_hv_device(dev)->dev_type.b);
}
static DEVICE_ATTR_RO(modalias);

#ifdef KVP_HAVE_CORE_DRIVER_OVERRIDE
/*
 * This kernel's driver core keeps driver_override (its sysfs file too) for
 * the buses that ask for it, vmbus among them; hv_device has none.
 */
#define STANDIN_OVERRIDE_ATTR

/*
 * device_match_driver_override() spelled out: sparse cannot follow the
 * guard() it takes the lock with.
 */
static int standin_override_match(struct hv_device *hv,
				  const struct hv_driver *drv)
{
	struct device *dev = &hv->device;
	int match = -1;

	spin_lock(&dev->driver_override.lock);
	if (dev->driver_override.name)
		match = !strcmp(dev->driver_override.name, drv->name);
	spin_unlock(&dev->driver_override.lock);
	return match;
}

static void standin_override_free(struct hv_device *hv)
{
}
#else
static ssize_t driver_override_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	int err = driver_set_override(dev,
				      &device_to_hv_device(dev)->driver_override,
				      buf, count);

	return err ? err : count;
}

static ssize_t driver_override_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	ssize_t len;

	device_lock(dev);
	len = sysfs_emit(buf, "%s\n", device_to_hv_device(dev)->driver_override);
	device_unlock(dev);
	return len;
}
static DEVICE_ATTR_RW(driver_override);
#define STANDIN_OVERRIDE_ATTR	(&dev_attr_driver_override.attr),

/* As device_match_driver_override(): > 0 it names drv, 0 another, < 0 unset */
static int standin_override_match(struct hv_device *hv,
				  const struct hv_driver *drv)
{
	if (!hv->driver_override)
		return -1;
	return !strcmp(hv->driver_override, drv->name);
}

static void standin_override_free(struct hv_device *hv)
{
	kfree(hv->driver_override);
}
#endif

static struct attribute *standin_dev_attrs[] = {
	&dev_attr_class_id.attr,
	&dev_attr_device_id.attr,
	&dev_attr_modalias.attr,
	STANDIN_OVERRIDE_ATTR
	NULL,
};
ATTRIBUTE_GROUPS(standin_dev);

/* A driver_override that names the driver matches it whatever its ids. */
static const struct hv_vmbus_device_id standin_override_id;

/* hv_vmbus_get_id(): the driver's id for the device, or NULL. */
static const struct hv_vmbus_device_id *
standin_get_id(const struct hv_driver *drv, struct hv_device *hv)
{
	const struct hv_vmbus_device_id *id = drv->id_table;
	int override = standin_override_match(hv, drv);

	if (!override)
		return NULL;
	for (; id && !guid_is_null(&id->guid); id++)
		if (guid_equal(&id->guid, &hv->dev_type))
			return id;
	return override > 0 ? &standin_override_id : NULL;
}

#ifdef KVP_HAVE_CONST_MATCH
static int standin_match(struct device *dev, const struct device_driver *drv)
#else
static int standin_match(struct device *dev, struct device_driver *drv)
#endif
{
	return standin_get_id(drv_to_hv_drv(drv), device_to_hv_device(dev)) !=
	       NULL;
}

static int standin_probe(struct device *dev)
{
	struct hv_driver *drv = drv_to_hv_drv(dev->driver);
	struct hv_device *hv = device_to_hv_device(dev);

	if (!drv->probe)
		return -ENODEV;
	return drv->probe(hv, standin_get_id(drv, hv));
}

/* hv_driver.remove returns int before 6.3, void after: no result used. */
static void standin_remove(struct device *dev)
{
	struct hv_driver *drv = drv_to_hv_drv(dev->driver);

	if (drv->remove)
		drv->remove(device_to_hv_device(dev));
}

#ifdef KVP_HAVE_CONST_UEVENT
static int standin_uevent(const struct device *dev,
			  struct kobj_uevent_env *env)
#else
static int standin_uevent(struct device *dev, struct kobj_uevent_env *env)
#endif
{
	return add_uevent_var(env, "MODALIAS=" STANDIN_MODALIAS_FMT, UUID_SIZE,
			      device_to_hv_device(dev)->dev_type.b);
}

struct bus_type standin_bus = {
	.name = "vmbus",
	.match = standin_match,
	.probe = standin_probe,
	.remove = standin_remove,
	.uevent = standin_uevent,
	.dev_groups = standin_dev_groups,
#ifdef KVP_HAVE_CORE_DRIVER_OVERRIDE
	.driver_override = true,
#endif
};

static void standin_device_release(struct device *device)
{
	struct hv_device *hv = device_to_hv_device(device);

	standin_override_free(hv);
	kfree(container_of(hv, struct standin_device, hv));
}

/*
 * Makes a device of the stand-in out of a filled-in hv_device: from now on
 * put_device() frees it.
 */
void standin_device_init(struct standin_device *dev)
{
	device_initialize(&dev->hv.device);
	dev->hv.device.bus = &standin_bus;
	dev->hv.device.release = standin_device_release;
}

/*
 * Adds it, named after its instance as vmbus_device_register() does: one
 * device per instance (-EEXIST, checked first, as sysfs would complain
 * loudly about a second directory of that name).
 */
int standin_device_add(struct standin_device *dev)
{
	static DEFINE_MUTEX(add_lock);
	struct device *other;
	int err = dev_set_name(&dev->hv.device, "%pUl", &dev->hv.dev_instance);

	if (err)
		return err;
	mutex_lock(&add_lock);
	other = bus_find_device_by_name(&standin_bus, NULL,
					dev_name(&dev->hv.device));
	if (other) {
		put_device(other);
		err = -EEXIST;
	} else {
		err = device_add(&dev->hv.device);
	}
	mutex_unlock(&add_lock);
	return err;
}

int __vmbus_driver_register(struct hv_driver *hv_driver, struct module *owner,
			    const char *mod_name)
{
	hv_driver->driver.name = hv_driver->name;
	hv_driver->driver.owner = owner;
	hv_driver->driver.mod_name = mod_name;
	hv_driver->driver.bus = &standin_bus;
	spin_lock_init(&hv_driver->dynids.lock);
	INIT_LIST_HEAD(&hv_driver->dynids.list);
	return driver_register(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(__vmbus_driver_register);

void vmbus_driver_unregister(struct hv_driver *hv_driver)
{
	driver_unregister(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(vmbus_driver_unregister);

static int __init standin_init(void)
{
	int err = bus_register(&standin_bus);

	if (err)
		return err;
	err = standin_host_init();
	if (err)
		bus_unregister(&standin_bus);
	return err;
}

static void __exit standin_exit(void)
{
	standin_host_exit();
	bus_unregister(&standin_bus);
}

module_init(standin_init);
module_exit(standin_exit);
MODULE_DESCRIPTION("VMBus stand-in for the kvp tests (not for production)");
MODULE_LICENSE("GPL");
