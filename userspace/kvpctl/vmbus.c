// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl vmbus claim | release | status: hand the Hyper-V KVP device
 * between hv_utils, which binds it on distro kernels, and kvp_vmbus, in
 * sysfs as an admin would (Documentation/hyperv.rst): driver_override,
 * unbind, bind.  Only the KVP device moves; hv_utils keeps the other
 * integration services.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libkmod.h>

#include "json.h"
#include "kvpctl.h"
#include "nl.h"
#include "uapi/kvp.h"

/* How long a module being loaded may take to register its driver. */
#define VMBUS_DRIVER_WAIT_MS	5000
#define VMBUS_DRIVER_TICK_MS	50

#define VMBUS_BUS		"/sys/bus/vmbus"
#define VMBUS_DEVICES		VMBUS_BUS "/devices"
#define VMBUS_DRIVERS		VMBUS_BUS "/drivers"
/* The KVP IC's interface GUID, as vmbus prints class_id. */
#define VMBUS_KVP_CLASS		"{a9a0f4e7-5a45-4d96-b827-8a841e8c03e6}"
#define VMBUS_KVP_DRIVER	"kvp_vmbus"
#define VMBUS_HV_UTILS		"hv_utils"
/* The stock daemon's device: a misc device, whoever registers it. */
#define HV_KVP_MISC		"/sys/class/misc/vmbus!hv_kvp"
#define HV_KVP_NODE		"/dev/vmbus/hv_kvp"

/* The KVP device as sysfs shows it; "" for no driver, no override. */
struct vmbus_kvp {
	char name[NAME_MAX + 1];	/* instance GUID, its name on the bus */
	char driver[NAME_MAX + 1];
	char override[NAME_MAX + 1];
};

/* One line of a sysfs attribute, without its newline. */
static int vmbus_read_attr(const char *path, char *buf, size_t size)
{
	ssize_t len;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, size - 1);
	if (len < 0)
		len = -errno;
	close(fd);
	if (len < 0)
		return len;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * One write, as sysfs takes it: the store method's error (ENODEV, EBUSY,
 * a probe's error, ...) comes back from write(2).  O_TRUNC, as a shell's
 * `echo >FILE`: sysfs ignores it, a file in a test's tmpfs needs it.
 */
static int vmbus_write_attr(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t done;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	done = write(fd, value, len);
	if (done < 0)
		err = -errno;
	else if ((size_t)done != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static bool vmbus_driver_registered(const char *driver)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), VMBUS_DRIVERS "/%s", driver);
	return !access(path, F_OK);
}

/* Fills in kvp->driver and kvp->override for the device kvp->name. */
static void vmbus_kvp_state(struct vmbus_kvp *kvp)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t len;

	/* driver is a link to ../../../bus/vmbus/drivers/NAME, if bound. */
	snprintf(path, sizeof(path), VMBUS_DEVICES "/%s/driver", kvp->name);
	len = readlink(path, link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = '\0';
	base = strrchr(link, '/');
	snprintf(kvp->driver, sizeof(kvp->driver), "%.*s",
		 (int)sizeof(kvp->driver) - 1, base ? base + 1 : link);

	/* A kernel without driver_override for vmbus: none set. */
	snprintf(path, sizeof(path), VMBUS_DEVICES "/%s/driver_override",
		 kvp->name);
	if (vmbus_read_attr(path, kvp->override, sizeof(kvp->override)) ||
	    !strcmp(kvp->override, "(null)"))
		kvp->override[0] = '\0';
}

static bool vmbus_is_kvp(const char *name)
{
	char path[PATH_MAX], class[64];

	snprintf(path, sizeof(path), VMBUS_DEVICES "/%s/class_id", name);
	return !vmbus_read_attr(path, class, sizeof(class)) &&
	       !strcasecmp(class, VMBUS_KVP_CLASS);
}

/*
 * Finds the KVP device (Hyper-V offers one) and reads its state.
 * Returns KVPCTL_OK, or says why not and returns the exit code.
 */
static int vmbus_find_kvp(struct vmbus_kvp *kvp)
{
	struct dirent *de;
	DIR *dir;

	dir = opendir(VMBUS_DEVICES);
	if (!dir) {
		fprintf(stderr,
			"kvpctl: no VMBus (%s: %s): not a Hyper-V guest, or hv_vmbus is not loaded\n",
			VMBUS_DEVICES, strerror(errno));
		return KVPCTL_NO_VMBUS;
	}
	kvp->name[0] = '\0';
	while ((de = readdir(dir))) {
		if (de->d_name[0] != '.' && vmbus_is_kvp(de->d_name)) {
			snprintf(kvp->name, sizeof(kvp->name), "%s",
				 de->d_name);
			break;
		}
	}
	closedir(dir);
	if (!kvp->name[0]) {
		fprintf(stderr,
			"kvpctl: no KVP device on VMBus (class %s): Data Exchange is off for this VM on the host, or the VM is isolated (confidential), where Hyper-V offers none\n",
			VMBUS_KVP_CLASS);
		return KVPCTL_NO_DEVICE;
	}
	vmbus_kvp_state(kvp);
	return KVPCTL_OK;
}

/* A sysfs write that failed: what it returned, and the exit code. */
static int vmbus_write_failed(const char *path, const char *what, int err,
			      int code)
{
	if (err == -EACCES || err == -EPERM) {
		fprintf(stderr, "kvpctl: %s: %s: %s (needs root)\n", what,
			path, strerror(-err));
		return KVPCTL_PERM;
	}
	fprintf(stderr, "kvpctl: %s: %s: %s\n", what, path, strerror(-err));
	return code;
}

static int vmbus_set_override(const struct vmbus_kvp *kvp, const char *value)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), VMBUS_DEVICES "/%s/driver_override",
		 kvp->name);
	err = vmbus_write_attr(path, value);
	return err ? vmbus_write_failed(path, "driver_override", err,
					KVPCTL_ERR) : KVPCTL_OK;
}

static const char *vmbus_driver_name(const char *driver)
{
	return driver[0] ? driver : "no driver";
}

/*
 * Writes the device's name to drivers/DRIVER/OP, bind or unbind, and
 * checks the result in the driver link rather than trusting the write: a
 * probe elsewhere (a module just loaded, udev) may have got there first.
 */
static int vmbus_driver_op(struct vmbus_kvp *kvp, const char *driver,
			   const char *op)
{
	const char *want = strcmp(op, "bind") ? "" : driver;
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), VMBUS_DRIVERS "/%s/%s", driver, op);
	err = vmbus_write_attr(path, kvp->name);
	vmbus_kvp_state(kvp);
	if (!strcmp(kvp->driver, want))
		return KVPCTL_OK;
	if (err)
		return vmbus_write_failed(path, op, err, KVPCTL_BIND_FAILED);
	fprintf(stderr,
		"kvpctl: %s: sysfs took the write, but device %s has %s\n",
		path, kvp->name, vmbus_driver_name(kvp->driver));
	return KVPCTL_BIND_FAILED;
}

/* Loads the module of a vmbus driver, as modprobe would, if need be. */
/*
 * A module someone else is loading at the same moment (udev, for the
 * device's alias, while its rule runs kvpctl) counts as loaded before its
 * init has registered the driver: give it a few seconds.
 */
static bool vmbus_driver_appears(const char *driver)
{
	const struct timespec tick = { 0, VMBUS_DRIVER_TICK_MS * 1000000L };
	int ms;

	for (ms = 0; ms < VMBUS_DRIVER_WAIT_MS; ms += VMBUS_DRIVER_TICK_MS) {
		if (vmbus_driver_registered(driver))
			return true;
		nanosleep(&tick, NULL);
	}
	return vmbus_driver_registered(driver);
}

static int vmbus_load_driver(const char *driver)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int err;

	if (vmbus_driver_registered(driver))
		return KVPCTL_OK;
	ctx = kmod_new(NULL, NULL);
	if (ctx)	/* its own messages would repeat ours */
		kmod_set_log_priority(ctx, LOG_EMERG);
	err = ctx ? kmod_module_new_from_name(ctx, driver, &mod) : -ENOMEM;
	if (!err)
		err = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL,
						      NULL);
	kmod_module_unref(mod);
	kmod_unref(ctx);
	if (!err && vmbus_driver_appears(driver))
		return KVPCTL_OK;
	if (err == -EPERM || err == -EACCES) {
		fprintf(stderr,
			"kvpctl: driver %s is not loaded, and loading it needs root\n",
			driver);
		return KVPCTL_PERM;
	}
	if (err)
		fprintf(stderr,
			"kvpctl: driver %s is not loaded, and modprobe %s failed: %s\n",
			driver, driver, strerror(-err));
	else
		fprintf(stderr,
			"kvpctl: module %s is loaded, but no vmbus driver %s\n",
			driver, driver);
	return KVPCTL_NO_DRIVER;
}

/*
 * Who serves /dev/vmbus/hv_kvp.  kvp.ko knows whether the node is its own
 * (KVP_CHARDEV_READY) or the name was taken when it tried (BUSY); without
 * kvp.ko, or when the name is not kvp's, it is hv_utils' when hv_utils
 * holds the KVP device.
 */
static const char *vmbus_hv_kvp_owner(const struct vmbus_kvp *kvp)
{
	struct kvp_nl_status st;
	struct kvp_nl *nl;
	bool kvp_owns = false;

	if (access(HV_KVP_MISC, F_OK) && access(HV_KVP_NODE, F_OK))
		return "absent";
	if (!kvp_nl_open(&nl)) {
		kvp_owns = !kvp_nl_status(nl, &st) &&
			   st.chardev == KVP_CHARDEV_READY;
		kvp_nl_close(nl);
	}
	if (kvp_owns)
		return "kvp";
	if (!strcmp(kvp->driver, VMBUS_HV_UTILS))
		return VMBUS_HV_UTILS;
	return "unknown";
}

/*
 * Clears driver_override and gives the device, which has no driver, to
 * hv_utils, loading it if need be (its probe may then take the device).
 */
static int vmbus_hand_back(struct vmbus_kvp *kvp)
{
	int ret;

	ret = vmbus_set_override(kvp, "\n");
	if (!ret)
		ret = vmbus_load_driver(VMBUS_HV_UTILS);
	if (ret)
		return ret;
	vmbus_kvp_state(kvp);
	if (!strcmp(kvp->driver, VMBUS_HV_UTILS))
		return KVPCTL_OK;
	ret = vmbus_driver_op(kvp, VMBUS_HV_UTILS, "bind");
	if (ret && !strcmp(vmbus_hv_kvp_owner(kvp), "kvp"))
		fprintf(stderr,
			"kvpctl: %s is served by kvp, and hv_utils cannot bind the KVP device without it: unload kvp (modprobe -r kvp_vmbus kvp), then release again\n",
			HV_KVP_NODE);
	return ret;
}

/*
 * A claim that failed half-way leaves neither a device without a driver
 * nor an override that would send it to kvp_vmbus at the next probe.
 */
static void vmbus_undo_claim(struct vmbus_kvp *kvp)
{
	if (kvp->driver[0]) {
		vmbus_set_override(kvp, "\n");
		return;
	}
	if (!vmbus_hand_back(kvp))
		fprintf(stderr, "kvpctl: %s: handed back, now on %s\n",
			kvp->name, kvp->driver);
}

static int vmbus_claim(struct vmbus_kvp *kvp)
{
	char was[NAME_MAX + 1];
	int ret;

	snprintf(was, sizeof(was), "%s", vmbus_driver_name(kvp->driver));
	if (!strcmp(kvp->driver, VMBUS_KVP_DRIVER)) {
		ret = strcmp(kvp->override, VMBUS_KVP_DRIVER) ?
		      vmbus_set_override(kvp, VMBUS_KVP_DRIVER) : KVPCTL_OK;
		if (!ret)
			printf("%s: already claimed, on %s\n", kvp->name,
			       VMBUS_KVP_DRIVER);
		return ret;
	}
	/* The driver first: a device taken from hv_utils must land. */
	ret = vmbus_load_driver(VMBUS_KVP_DRIVER);
	if (!ret)
		ret = vmbus_set_override(kvp, VMBUS_KVP_DRIVER);
	if (ret)
		return ret;
	if (kvp->driver[0])
		ret = vmbus_driver_op(kvp, kvp->driver, "unbind");
	if (!ret)
		ret = vmbus_driver_op(kvp, VMBUS_KVP_DRIVER, "bind");
	if (!ret) {
		printf("%s: claimed, now on %s (was on %s)\n", kvp->name,
		       VMBUS_KVP_DRIVER, was);
		return KVPCTL_OK;
	}
	vmbus_undo_claim(kvp);
	return ret;
}

static int vmbus_release(struct vmbus_kvp *kvp)
{
	int ret = KVPCTL_OK;

	if (!strcmp(kvp->driver, VMBUS_HV_UTILS) && !kvp->override[0]) {
		printf("%s: not claimed, on %s\n", kvp->name, VMBUS_HV_UTILS);
		return KVPCTL_OK;
	}
	if (!strcmp(kvp->driver, VMBUS_KVP_DRIVER))
		ret = vmbus_driver_op(kvp, VMBUS_KVP_DRIVER, "unbind");
	if (!ret && kvp->driver[0])
		ret = vmbus_set_override(kvp, "\n");
	else if (!ret)
		ret = vmbus_hand_back(kvp);
	if (!ret)
		printf("%s: released, now on %s\n", kvp->name, kvp->driver);
	return ret;
}

static const char *vmbus_driver_state(const char *driver)
{
	return vmbus_driver_registered(driver) ? "registered" : "not loaded";
}

static void vmbus_status_text(const struct vmbus_kvp *kvp)
{
	printf("device:          %s\n", kvp->name);
	printf("driver:          %s\n", vmbus_driver_name(kvp->driver));
	printf("driver_override: %s\n", kvp->override[0] ? kvp->override :
							    "none");
	printf("kvp_vmbus:       %s\n", vmbus_driver_state(VMBUS_KVP_DRIVER));
	printf("hv_utils:        %s\n", vmbus_driver_state(VMBUS_HV_UTILS));
	printf("hv_kvp:          %s\n", vmbus_hv_kvp_owner(kvp));
}

static void vmbus_status_json(const struct vmbus_kvp *kvp)
{
	struct kvp_json json;

	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "device", kvp->name);
	kvp_json_str(&json, "driver", kvp->driver);
	kvp_json_str(&json, "driver_override", kvp->override);
	kvp_json_bool(&json, "kvp_vmbus",
		      vmbus_driver_registered(VMBUS_KVP_DRIVER));
	kvp_json_bool(&json, "hv_utils",
		      vmbus_driver_registered(VMBUS_HV_UTILS));
	kvp_json_str(&json, "hv_kvp", vmbus_hv_kvp_owner(kvp));
	kvp_json_close(&json, '}');
}

int kvpctl_vmbus(int argc, char **argv)
{
	struct vmbus_kvp kvp;
	int ret;

	if (argc != 2 || (strcmp(argv[1], "claim") &&
			  strcmp(argv[1], "release") &&
			  strcmp(argv[1], "status"))) {
		fprintf(stderr, "usage: kvpctl vmbus claim|release|status\n");
		return KVPCTL_USAGE;
	}
	ret = vmbus_find_kvp(&kvp);
	if (ret)
		return ret;
	if (!strcmp(argv[1], "claim"))
		return vmbus_claim(&kvp);
	if (!strcmp(argv[1], "release"))
		return vmbus_release(&kvp);
	if (kvpctl_opts.json)
		vmbus_status_json(&kvp);
	else
		vmbus_status_text(&kvp);
	return KVPCTL_OK;
}
