// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl vmbus claim / release / status on a real vmbus bus in the test
 * VM: the stand-in's (selftests/vmbus/), with hvutils_standin.ko playing
 * hv_utils (a vmbus driver named "hv_utils" that binds the KVP class and
 * creates /dev/vmbus/hv_kvp) and the kvp_vmbus.ko that `make` built.
 *
 * Each test starts from vmbus_standin and hvutils_standin loaded and the
 * KVP device offered through the stand-in's host end, so on hv_utils, and
 * ends with every module it loaded unloaded again.  What the udev rule
 * (userspace/udev/90-kvp-vmbus-claim.rules) does is played here by hand:
 * there is no udevd in the VM.
 *
 * Skips (exit 4) when the stand-in is not there: no vm/vmbushost.h in the
 * tree, or its modules cannot be loaded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "vmbushost.h"

/* The KVP device offered, for as long as the descriptor stays open. */
static int claim_offer_kvp(void)
{
	return vmbushost_offer(VMBUSHOST_KVP_CLASS, VMBUSHOST_KVP_INSTANCE);
}

#define KVP_CLASS	"{a9a0f4e7-5a45-4d96-b827-8a841e8c03e6}"
#define DEVICES		"/sys/bus/vmbus/devices"
#define HV_KVP_MISC	"/sys/class/misc/vmbus!hv_kvp"
#define NOBODY		65534
#define WAIT_MS		5000

/* Runs argv (PATH searched) as uid; its stdout and stderr in out. */
static int run_as(uid_t uid, char *out, size_t size, const char *const argv[])
{
	size_t len = 0;
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		if (uid && (setgid(uid) || setuid(uid)))
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (len + 1 < size &&
	       (n = read(pipefd[0], out + len, size - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

#define RUN(out, ...) \
	run_as(0, out, sizeof(out), (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_NOBODY(out, ...) \
	run_as(NOBODY, out, sizeof(out), \
	       (const char *const[]){ __VA_ARGS__, NULL })

static int modprobe(const char *module)
{
	char out[1024];

	return RUN(out, "modprobe", module);
}

/* Unloads what may be loaded, in dependency order; absent ones are fine. */
static void unload_all(void)
{
	static const char *const modules[] = {
		"kvp_vmbus", "kvp_vsock", "kvp", "hvutils_standin",
		"vmbus_standin",
	};
	char out[1024];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modules); i++)
		RUN(out, "rmmod", modules[i]);
}

static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, size, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
}

/* The KVP device's name on the bus, "" if there is none. */
static void find_kvp(char *name, size_t size)
{
	char path[PATH_MAX], class[64];
	struct dirent *de;
	DIR *dir = opendir(DEVICES);

	name[0] = '\0';
	while (dir && (de = readdir(dir))) {
		snprintf(path, sizeof(path), DEVICES "/%s/class_id",
			 de->d_name);
		read_line(path, class, sizeof(class));
		if (!strcmp(class, KVP_CLASS)) {
			snprintf(name, size, "%s", de->d_name);
			break;
		}
	}
	if (dir)
		closedir(dir);
}

/* The device's driver, "" if none: the basename of its driver link. */
static void device_driver(const char *dev, char *driver, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t len;

	snprintf(path, sizeof(path), DEVICES "/%s/driver", dev);
	len = readlink(path, link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = '\0';
	base = strrchr(link, '/');
	snprintf(driver, size, "%.*s", (int)size - 1, base ? base + 1 : link);
}

/*
 * The device's driver_override, "" if unset: vmbus' own attribute reads
 * "(null)" then, the driver core's (6.12) an empty line.
 */
static void device_override(const char *dev, char *buf, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DEVICES "/%s/driver_override", dev);
	read_line(path, buf, size);
	if (!strcmp(buf, "(null)"))
		buf[0] = '\0';
}

static int write_override(const char *dev, const char *value)
{
	char path[PATH_MAX];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), DEVICES "/%s/driver_override", dev);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	err = fputs(value, f) < 0;
	return fclose(f) || err ? -EIO : 0;
}

/* Waits until the device is on driver ("" for none); 0 or -ETIMEDOUT. */
static int wait_driver(const char *dev, const char *driver)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	char now[NAME_MAX + 1];
	int ms;

	for (ms = 0; ms < WAIT_MS; ms += 20) {
		device_driver(dev, now, sizeof(now));
		if (!strcmp(now, driver))
			return 0;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}

FIXTURE(claim) {
	int host;
	char dev[NAME_MAX + 1];
	char driver[NAME_MAX + 1];
	char override[NAME_MAX + 1];
	char out[4096];
};

FIXTURE_SETUP(claim)
{
	int ms;

	unload_all();
	ASSERT_EQ(0, modprobe("vmbus_standin"));
	ASSERT_EQ(0, modprobe("hvutils_standin"));
	self->host = claim_offer_kvp();
	ASSERT_LE(0, self->host) TH_LOG("offer: %s", strerror(-self->host));
	for (ms = 0; ms < WAIT_MS && !self->dev[0]; ms += 20) {
		find_kvp(self->dev, sizeof(self->dev));
		usleep(20 * 1000);
	}
	ASSERT_NE(0, self->dev[0]) TH_LOG("no device of class %s in "
					  DEVICES " after the offer",
					  KVP_CLASS);
	ASSERT_EQ(0, wait_driver(self->dev, "hv_utils"));
}

FIXTURE_TEARDOWN(claim)
{
	if (self->host >= 0)
		close(self->host);
	unload_all();
}

/* Claim from hv_utils, with kvp_vmbus not loaded: kvpctl loads it. */
TEST_F(claim, from_hv_utils)
{
	ASSERT_EQ(0, access(HV_KVP_MISC, F_OK));
	ASSERT_EQ(0, RUN(self->out, "kvpctl", "vmbus", "status"));
	EXPECT_NE(NULL, strstr(self->out, "hv_kvp:          hv_utils"))
		TH_LOG("%s", self->out);

	ASSERT_EQ(0, RUN(self->out, "kvpctl", "vmbus", "claim"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "claimed, now on kvp_vmbus (was on hv_utils)"))
		TH_LOG("%s", self->out);
	device_driver(self->dev, self->driver, sizeof(self->driver));
	EXPECT_STREQ("kvp_vmbus", self->driver);
	device_override(self->dev, self->override, sizeof(self->override));
	EXPECT_STREQ("kvp_vmbus", self->override);
	EXPECT_EQ(0, access("/sys/module/kvp_vmbus", F_OK));

	/* hv_utils let go of its /dev/vmbus/hv_kvp with the device. */
	ASSERT_EQ(0, RUN(self->out, "kvpctl", "vmbus", "status"));
	EXPECT_EQ(NULL, strstr(self->out, "hv_kvp:          hv_utils"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "driver:          kvp_vmbus"))
		TH_LOG("%s", self->out);

	/* kvp.ko has its VMBus transport. */
	ASSERT_EQ(0, RUN(self->out, "kvpctl", "-j", "status"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"transport\":\"vmbus\""))
		TH_LOG("%s", self->out);

	ASSERT_EQ(0, RUN(self->out, "kvpctl", "vmbus", "claim"));
	EXPECT_NE(NULL, strstr(self->out, "already claimed, on kvp_vmbus"))
		TH_LOG("%s", self->out);
}

/*
 * Release with kvp loaded.  hv_utils' probe needs the name vmbus/hv_kvp:
 * if kvp.ko still serves /dev/vmbus/hv_kvp, the bind fails (exit 13, and
 * kvpctl says why), and a release after unloading kvp succeeds.
 */
TEST_F(claim, release)
{
	int ret;

	ASSERT_EQ(0, RUN(self->out, "kvpctl", "vmbus", "claim"));
	ret = RUN(self->out, "kvpctl", "vmbus", "release");
	if (ret == 13) {
		EXPECT_NE(NULL, strstr(self->out, "/dev/vmbus/hv_kvp is served by kvp"))
			TH_LOG("%s", self->out);
		device_driver(self->dev, self->driver, sizeof(self->driver));
		EXPECT_STREQ("", self->driver);
		ASSERT_EQ(0, RUN(self->out, "rmmod", "kvp_vmbus"));
		ASSERT_EQ(0, RUN(self->out, "rmmod", "kvp"));
		ret = RUN(self->out, "kvpctl", "vmbus", "release");
	}
	ASSERT_EQ(0, ret) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "released, now on hv_utils"))
		TH_LOG("%s", self->out);
	device_driver(self->dev, self->driver, sizeof(self->driver));
	EXPECT_STREQ("hv_utils", self->driver);
	device_override(self->dev, self->override, sizeof(self->override));
	EXPECT_STREQ("", self->override);
	EXPECT_EQ(0, access(HV_KVP_MISC, F_OK));

	ASSERT_EQ(0, RUN(self->out, "kvpctl", "vmbus", "release"));
	EXPECT_NE(NULL, strstr(self->out, "not claimed, on hv_utils"))
		TH_LOG("%s", self->out);
}

/*
 * The udev rule's add step: driver_override set while the device has no
 * driver keeps it from hv_utils, whichever of the two modules loads first.
 */
TEST_F(claim, override_beats_load_order)
{
	ASSERT_EQ(0, RUN(self->out, "rmmod", "hvutils_standin"));
	ASSERT_EQ(0, wait_driver(self->dev, ""));
	ASSERT_EQ(0, write_override(self->dev, "kvp_vmbus"));

	/* hv_utils first, then kvp_vmbus. */
	ASSERT_EQ(0, modprobe("hvutils_standin"));
	device_driver(self->dev, self->driver, sizeof(self->driver));
	EXPECT_STREQ("", self->driver);
	ASSERT_EQ(0, modprobe("kvp_vmbus"));
	EXPECT_EQ(0, wait_driver(self->dev, "kvp_vmbus"));

	/* kvp_vmbus first, then hv_utils. */
	ASSERT_EQ(0, RUN(self->out, "rmmod", "kvp_vmbus"));
	ASSERT_EQ(0, RUN(self->out, "rmmod", "hvutils_standin"));
	ASSERT_EQ(0, wait_driver(self->dev, ""));
	ASSERT_EQ(0, modprobe("kvp_vmbus"));
	EXPECT_EQ(0, wait_driver(self->dev, "kvp_vmbus"));
	ASSERT_EQ(0, modprobe("hvutils_standin"));
	device_driver(self->dev, self->driver, sizeof(self->driver));
	EXPECT_STREQ("kvp_vmbus", self->driver);
}

/*
 * The udev rule's bind step: hv_utils got the device before the add rule
 * set driver_override; kvpctl vmbus claim then moves it.
 */
TEST_F(claim, override_after_hv_utils_bound)
{
	ASSERT_EQ(0, write_override(self->dev, "kvp_vmbus"));
	device_driver(self->dev, self->driver, sizeof(self->driver));
	ASSERT_STREQ("hv_utils", self->driver);
	ASSERT_EQ(0, RUN(self->out, "kvpctl", "vmbus", "claim"))
		TH_LOG("%s", self->out);
	device_driver(self->dev, self->driver, sizeof(self->driver));
	EXPECT_STREQ("kvp_vmbus", self->driver);
}

/*
 * A bind the kernel refuses: kvp.ko has its vsock transport, so kvp_vmbus'
 * probe fails with EBUSY.  Exit 13 with sysfs's error, and the device is
 * not left without a driver: back on hv_utils, driver_override cleared.
 */
TEST_F(claim, bind_refused)
{
	ASSERT_EQ(0, RUN(self->out, "modprobe", "kvp_vsock", "host_cid=1",
			 "port=1"));
	ASSERT_EQ(13, RUN(self->out, "kvpctl", "vmbus", "claim"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "kvp_vmbus/bind: Device or resource busy"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "handed back, now on hv_utils"))
		TH_LOG("%s", self->out);
	device_driver(self->dev, self->driver, sizeof(self->driver));
	EXPECT_STREQ("hv_utils", self->driver);
	device_override(self->dev, self->override, sizeof(self->override));
	EXPECT_STREQ("", self->override);
}

TEST_F(claim, status_json)
{
	char want[512];

	snprintf(want, sizeof(want),
		 "{\"device\":\"%s\",\"driver\":\"hv_utils\",\"driver_override\":\"\",\"kvp_vmbus\":false,\"hv_utils\":true,\"hv_kvp\":\"hv_utils\"}\n",
		 self->dev);
	ASSERT_EQ(0, RUN(self->out, "kvpctl", "-j", "vmbus", "status"));
	EXPECT_STREQ(want, self->out);
}

/* Not root: exit 6, and the device stays where it was. */
TEST_F(claim, not_root)
{
	/* kvp_vmbus not loaded: loading it is refused. */
	ASSERT_EQ(6, RUN_NOBODY(self->out, "kvpctl", "vmbus", "claim"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "needs root")) TH_LOG("%s", self->out);
	/* Loaded: writing driver_override is refused. */
	ASSERT_EQ(0, modprobe("kvp_vmbus"));
	ASSERT_EQ(6, RUN_NOBODY(self->out, "kvpctl", "vmbus", "claim"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "driver_override: "))
		TH_LOG("%s", self->out);
	/* Nothing to release, nothing written: no privilege needed. */
	ASSERT_EQ(0, RUN_NOBODY(self->out, "kvpctl", "vmbus", "release"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "not claimed, on hv_utils"))
		TH_LOG("%s", self->out);
	/* Nor does status. */
	ASSERT_EQ(0, RUN_NOBODY(self->out, "kvpctl", "vmbus", "status"))
		TH_LOG("%s", self->out);
	device_driver(self->dev, self->driver, sizeof(self->driver));
	EXPECT_STREQ("hv_utils", self->driver);
	device_override(self->dev, self->override, sizeof(self->override));
	EXPECT_STREQ("", self->override);
}


/*
 * Unclaimed, the device is hv_utils' whichever driver probes first, and
 * kvp_vmbus' only while hv_utils is not there.  kvp_vmbus registered
 * first (so the bus offers it each new device first), then hv_utils: a
 * re-offered device (Data Exchange turned off and on) goes to hv_utils.
 * A claim survives a re-offer only through driver_override, which the
 * udev rule sets on every new device.
 */
TEST_F(claim, unclaimed_device_left_to_hv_utils)
{
	ASSERT_EQ(0, RUN(self->out, "rmmod", "hvutils_standin"));
	ASSERT_EQ(0, modprobe("kvp_vmbus"));
	ASSERT_EQ(0, wait_driver(self->dev, "kvp_vmbus"));
	ASSERT_EQ(0, modprobe("hvutils_standin"));
	ASSERT_EQ(0, vmbushost_rescind(self->host));
	ASSERT_EQ(0, vmbushost_reoffer(self->host));
	ASSERT_EQ(0, wait_driver(self->dev, "hv_utils"));
	/* Unbound and probed again: the same. */
	ASSERT_EQ(0, RUN(self->out, "sh", "-c",
			 "echo " VMBUSHOST_KVP_INSTANCE
			 " > /sys/bus/vmbus/drivers/hv_utils/unbind && echo "
			 VMBUSHOST_KVP_INSTANCE " > /sys/bus/vmbus/drivers_probe"));
	EXPECT_EQ(0, wait_driver(self->dev, "hv_utils"));
}

/* driver_override can send any device to kvp_vmbus: only KVP's is taken. */
TEST_F(claim, other_class_refused)
{
	static const char other[] = "b6650ff7-33bc-4840-8048-e0676786f393";
	char bind[128];
	int fd;

	ASSERT_EQ(0, modprobe("kvp_vmbus"));
	fd = vmbushost_offer("0e0b6031-5213-4934-818b-38d90ced39db", other);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_override(other, "kvp_vmbus"));
	snprintf(bind, sizeof(bind),
		 "echo %s > /sys/bus/vmbus/drivers/kvp_vmbus/bind", other);
	EXPECT_NE(0, RUN(self->out, "sh", "-c", bind));
	device_driver(other, self->driver, sizeof(self->driver));
	EXPECT_STREQ("", self->driver);
	/* kvp.ko got no transport from it. */
	ASSERT_EQ(0, RUN(self->out, "kvpctl", "-j", "status"));
	EXPECT_EQ(NULL, strstr(self->out, "\"transport\":\"vmbus\""))
		TH_LOG("%s", self->out);
	close(fd);
}

/*
 * hv_utils has /dev/vmbus/hv_kvp and kvp binds another transport: kvp says
 * the name is taken and serves its netlink daemon all the same.
 */
TEST_F(claim, chardev_name_taken)
{
	ASSERT_EQ(0, modprobe("kvp_vsock"));
	ASSERT_EQ(0, RUN(self->out, "kvpctl", "status"));
	EXPECT_NE(NULL, strstr(self->out, "busy"))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, RUN(self->out, "kvpctl", "vmbus", "status"));
	EXPECT_NE(NULL, strstr(self->out, "hv_kvp:          hv_utils"))
		TH_LOG("%s", self->out);
	/* Found out before sysfs could complain (with a stack trace). */
	EXPECT_NE(0, RUN(self->out, "sh", "-c",
			 "dmesg | grep 'duplicate filename'"))
		TH_LOG("%s", self->out);
}

/* A bus without the KVP device (exit 11), then no bus at all (exit 10). */
TEST(no_device_no_bus)
{
	char out[1024];

	unload_all();
	ASSERT_EQ(0, modprobe("vmbus_standin"));
	EXPECT_EQ(11, RUN(out, "kvpctl", "vmbus", "claim")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "no KVP device on VMBus")) TH_LOG("%s", out);
	EXPECT_EQ(11, RUN(out, "kvpctl", "vmbus", "status")) TH_LOG("%s", out);
	ASSERT_EQ(0, RUN(out, "rmmod", "vmbus_standin"));
	EXPECT_EQ(10, RUN(out, "kvpctl", "vmbus", "release")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "no VMBus")) TH_LOG("%s", out);
}

int main(int argc, char **argv)
{
	/* The rig always builds the stand-in: its absence is a failure. */
	if (modprobe("vmbus_standin") || modprobe("hvutils_standin")) {
		printf("the VMBus stand-in's modules cannot be loaded\n");
		return 1;
	}
	unload_all();
	return test_harness_run(argc, argv);
}
