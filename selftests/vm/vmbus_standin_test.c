// SPDX-License-Identifier: GPL-2.0
/*
 * The VMBus stand-in itself, in the test VM (selftests/vmbus,
 * Documentation/vmbus-standin.rst): its bus as sysfs shows it,
 * hvutils_standin binding the KVP device, unbind and bind, driver_override,
 * rescind and re-offer, the host end's ioctl()s and writes, packets both ways
 * through vmbus_echo.ko.  Both drivers are built against the kernel's own
 * symbols: that they load at all shows the stand-in exports hv_vmbus's
 * functions under the kernel's CRCs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "fakehost.h"
#include "vmtest.h"
#include "vmbushost.h"
#include "../vmbus/vmbus_standin.h"

#define KVP_DEVICE	VMBUSHOST_SYSFS_DEVICES VMBUSHOST_KVP_INSTANCE
#define HV_UTILS	"/sys/bus/vmbus/drivers/hv_utils"
#define HV_KVP_NODE	"/dev/vmbus/hv_kvp"
/* Another class, for driver_override: no driver has it in its table. */
#define OTHER_CLASS	"0e0b6031-5213-4934-818b-38d90ced39db"
#define OTHER_INSTANCE	"b6650ff7-33bc-4840-8048-e0676786f393"
/* vmbus_echo.ko's class (selftests/vmbus/echo). */
#define ECHO_CLASS	"3c4a6d8e-0f42-4a4b-9d8f-6a1e5b7c2d90"
#define ECHO_INSTANCE	"d1a3c0de-5e7a-4d1e-8c6f-0b3e2a9f4c17"
#define ECHO_DEVICE	VMBUSHOST_SYSFS_DEVICES ECHO_INSTANCE
#define ECHO_DRIVER	"/sys/bus/vmbus/drivers/vmbus_echo"
#define WAIT_MS		3000

/* Writes a sysfs file: 0 or -errno. */
static int sysfs_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Reads a device attribute into buf ("" if there is none). */
static const char *attr(const char *instance, const char *name, char *buf,
			size_t size)
{
	char path[PATH_MAX];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), VMBUSHOST_SYSFS_DEVICES "%s/%s",
		 instance, name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The name of the driver bound to a device, "" if none (in buf). */
static const char *driver_of(const char *instance, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), VMBUSHOST_SYSFS_DEVICES "%s/driver",
		 instance);
	n = readlink(path, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	return strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
}

/* Waits until path exists (or, with !present, is gone). */
static bool wait_path(const char *path, bool present)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int ms;

	for (ms = 0; ms < WAIT_MS; ms += 10) {
		if ((access(path, F_OK) == 0) == present)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

/* Waits until the KVP device is bound to hv_utils and its node is there. */
static bool wait_hv_utils(void)
{
	return wait_path(KVP_DEVICE "/driver", true) &&
	       wait_path(HV_KVP_NODE, true);
}

FIXTURE(standin) {
	int fd;
	char buf[PATH_MAX];
};

FIXTURE_SETUP(standin)
{
	/* kvp_vmbus would compete for the device. */
	vm_sh("rmmod kvp_vmbus 2>/dev/null");
	ASSERT_EQ(0, vm_sh("modprobe vmbus_standin"));
	ASSERT_EQ(0, vm_sh("modprobe hvutils_standin"));
	self->fd = vmbushost_offer(VMBUSHOST_KVP_CLASS, VMBUSHOST_KVP_INSTANCE);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(standin)
{
	close(self->fd);
	EXPECT_EQ(0, vm_sh("rmmod hvutils_standin vmbus_standin"));
}

TEST_F(standin, kvp_device_as_vmbus_shows_it)
{
	ASSERT_TRUE(wait_hv_utils());
	EXPECT_STREQ("hv_utils", driver_of(VMBUSHOST_KVP_INSTANCE, self->buf,
					   sizeof(self->buf)));
	EXPECT_STREQ("{" VMBUSHOST_KVP_CLASS "}\n",
		     attr(VMBUSHOST_KVP_INSTANCE, "class_id", self->buf,
			  sizeof(self->buf)));
	EXPECT_STREQ("{" VMBUSHOST_KVP_INSTANCE "}\n",
		     attr(VMBUSHOST_KVP_INSTANCE, "device_id", self->buf,
			  sizeof(self->buf)));
	EXPECT_STREQ("vmbus:e7f4a0a9455a964db8278a841e8c03e6\n",
		     attr(VMBUSHOST_KVP_INSTANCE, "modalias", self->buf,
			  sizeof(self->buf)));
	EXPECT_NE(NULL, strstr(attr(VMBUSHOST_KVP_INSTANCE, "uevent",
				    self->buf, sizeof(self->buf)),
			       "MODALIAS=vmbus:e7f4a0a9455a964db8278a841e8c03e6\n"));
	EXPECT_STREQ("(null)\n", attr(VMBUSHOST_KVP_INSTANCE,
				      "driver_override", self->buf,
				      sizeof(self->buf)));
}

TEST_F(standin, unbind_and_bind)
{
	ASSERT_TRUE(wait_hv_utils());
	ASSERT_EQ(0, sysfs_write(HV_UTILS "/unbind", VMBUSHOST_KVP_INSTANCE));
	EXPECT_STREQ("", driver_of(VMBUSHOST_KVP_INSTANCE, self->buf,
				   sizeof(self->buf)));
	EXPECT_TRUE(wait_path(HV_KVP_NODE, false));
	ASSERT_EQ(0, sysfs_write(HV_UTILS "/bind", VMBUSHOST_KVP_INSTANCE));
	EXPECT_TRUE(wait_hv_utils());
}

/* With driver_override set only that driver binds, whatever its table. */
TEST_F(standin, driver_override)
{
	int other;

	ASSERT_TRUE(wait_hv_utils());
	ASSERT_EQ(0, sysfs_write(KVP_DEVICE "/driver_override", "kvp_vmbus"));
	EXPECT_STREQ("kvp_vmbus\n", attr(VMBUSHOST_KVP_INSTANCE,
					 "driver_override", self->buf,
					 sizeof(self->buf)));
	/* Set, it does not unbind the driver bound... */
	EXPECT_STREQ("hv_utils", driver_of(VMBUSHOST_KVP_INSTANCE, self->buf,
					   sizeof(self->buf)));
	ASSERT_EQ(0, sysfs_write(HV_UTILS "/unbind", VMBUSHOST_KVP_INSTANCE));
	/* ...but hv_utils can no longer bind. */
	EXPECT_EQ(-ENODEV, sysfs_write(HV_UTILS "/bind",
				       VMBUSHOST_KVP_INSTANCE));
	EXPECT_STREQ("", driver_of(VMBUSHOST_KVP_INSTANCE, self->buf,
				   sizeof(self->buf)));

	/* A device of a class hv_utils does not have binds when named. */
	other = vmbushost_offer(OTHER_CLASS, OTHER_INSTANCE);
	ASSERT_LE(0, other);
	EXPECT_EQ(-ENODEV, sysfs_write(HV_UTILS "/bind", OTHER_INSTANCE));
	ASSERT_EQ(0, sysfs_write(VMBUSHOST_SYSFS_DEVICES OTHER_INSTANCE
				 "/driver_override", "hv_utils"));
	EXPECT_EQ(0, sysfs_write(HV_UTILS "/bind", OTHER_INSTANCE));
	EXPECT_STREQ("hv_utils", driver_of(OTHER_INSTANCE, self->buf,
					   sizeof(self->buf)));
	EXPECT_TRUE(wait_path(HV_KVP_NODE, true));
	close(other);
	EXPECT_TRUE(wait_path(HV_KVP_NODE, false));

	/* Cleared ("\n", as echo writes it), the table matches again. */
	ASSERT_EQ(0, sysfs_write(KVP_DEVICE "/driver_override", "\n"));
	EXPECT_EQ(0, sysfs_write(HV_UTILS "/bind", VMBUSHOST_KVP_INSTANCE));
	EXPECT_TRUE(wait_hv_utils());
}

/* Microsoft's KVP test turns the service off and on 20 times. */
TEST_F(standin, rescind_and_reoffer)
{
	int round;

	for (round = 0; round < 20; round++) {
		ASSERT_TRUE(wait_hv_utils());
		ASSERT_EQ(0, vmbushost_rescind(self->fd));
		/* The device and the driver's node are gone at once. */
		EXPECT_NE(0, access(KVP_DEVICE, F_OK));
		EXPECT_TRUE(wait_path(HV_KVP_NODE, false));
		ASSERT_EQ(0, vmbushost_reoffer(self->fd));
	}
	EXPECT_TRUE(wait_hv_utils());
}

TEST_F(standin, closing_the_host_rescinds)
{
	ASSERT_TRUE(wait_hv_utils());
	close(self->fd);
	EXPECT_NE(0, access(KVP_DEVICE, F_OK));
	EXPECT_TRUE(wait_path(HV_KVP_NODE, false));
	self->fd = vmbushost_offer(VMBUSHOST_KVP_CLASS, VMBUSHOST_KVP_INSTANCE);
	ASSERT_LE(0, self->fd);
	EXPECT_TRUE(wait_hv_utils());
}

TEST_F(standin, host_ioctl_errors)
{
	int fd;

	EXPECT_EQ(-1, ioctl(self->fd, VMBUS_STANDIN_REOFFER));
	EXPECT_EQ(EBUSY, errno);
	/* One instance, one device. */
	EXPECT_EQ(-EEXIST, vmbushost_offer(VMBUSHOST_KVP_CLASS,
					   VMBUSHOST_KVP_INSTANCE));
	EXPECT_EQ(-EINVAL, vmbushost_offer("a9a0f4e7-5a45-4d96-b827",
					   VMBUSHOST_KVP_INSTANCE));
	ASSERT_EQ(0, vmbushost_rescind(self->fd));
	EXPECT_EQ(-ENODEV, vmbushost_rescind(self->fd));

	fd = open(VMBUS_STANDIN_DEVICE, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, vmbushost_reoffer(fd));
	EXPECT_EQ(-ENODEV, vmbushost_rescind(fd));
	EXPECT_EQ(-1, ioctl(fd, _IO(VMBUS_STANDIN_IOC_TYPE, 99)));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

static ssize_t write_frame(int fd, u16 version, u16 type, u16 service,
			   u32 length, size_t payload)
{
	struct kvp_frame frame = {
		.version = version, .type = type, .length = length,
		.service = service, .id = 7,
	};
	static u8 buf[KVP_VSOCK_HDR_LEN + 64];

	kvp_frame_build(buf, &frame);
	return write(fd, buf, KVP_VSOCK_HDR_LEN + payload);
}

TEST_F(standin, host_writes_whole_packet_frames)
{
	static u8 pkt[KVP_IC_MAX_PACKET];
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLOUT };
	size_t len;
	int i;

	ASSERT_TRUE(wait_hv_utils());
	EXPECT_EQ(-1, write(self->fd, pkt, KVP_VSOCK_HDR_LEN - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, pkt, KVP_VSOCK_HDR_LEN)); /* magic 0 */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write_frame(self->fd, 2, KVP_VSOCK_HELLO, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write_frame(self->fd, KVP_VSOCK_VERSION_MAX + 1,
				  KVP_VSOCK_PACKET, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write_frame(self->fd, 2, KVP_VSOCK_PACKET,
				  KVP_VSOCK_SERVICE_ACTIVATION, 8, 8));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write_frame(self->fd, 2, KVP_VSOCK_PACKET, 0, 8, 16));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(KVP_VSOCK_HDR_LEN + 8,
		  write_frame(self->fd, 2, KVP_VSOCK_PACKET, 0, 8, 8));
	EXPECT_EQ(KVP_VSOCK_HDR_LEN + 8,
		  write_frame(self->fd, 1, KVP_VSOCK_PACKET, 0, 8, 8));

	/*
	 * hvutils_standin reads nothing: its ring (12288 bytes of data) takes
	 * four KVP requests (2632 bytes each in the ring, 32 each for the
	 * small packets above), then the host must wait.
	 */
	len = fakehost_kvp_request(pkt, 0, 0, "key", "", 0);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, i, pkt,
					   len));
	EXPECT_EQ(-EIO, fakehost_send(self->fd, KVP_VSOCK_PACKET, 9, pkt, len));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));	/* no room, nothing to read */
	ASSERT_EQ(0, sysfs_write(HV_UTILS "/unbind", VMBUSHOST_KVP_INSTANCE));
	/* The closed ring is empty again. */
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);

	ASSERT_EQ(0, vmbushost_rescind(self->fd));
	EXPECT_EQ(-EIO, fakehost_send(self->fd, KVP_VSOCK_PACKET, 9, pkt, len));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, pkt, sizeof(pkt)));
	EXPECT_EQ(EAGAIN, errno);
}

FIXTURE(echo) {
	int fd;
	u8 pkt[KVP_IC_MAX_PACKET];
	u8 reply[KVP_IC_MAX_PACKET];
};

FIXTURE_SETUP(echo)
{
	ASSERT_EQ(0, vm_sh("modprobe vmbus_standin"));
	ASSERT_EQ(0, vm_sh("modprobe vmbus_echo"));
	self->fd = vmbushost_offer(ECHO_CLASS, ECHO_INSTANCE);
	ASSERT_LE(0, self->fd);
	ASSERT_TRUE(wait_path(ECHO_DEVICE "/driver", true));
}

FIXTURE_TEARDOWN(echo)
{
	close(self->fd);
	EXPECT_EQ(0, vm_sh("rmmod vmbus_echo vmbus_standin"));
}

/* Fills pkt with len bytes of a pattern of seed. */
static void pattern(u8 *pkt, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		pkt[i] = seed + i * 7;
}

/* Reads one frame and checks it is the echo of pkt (len bytes) for id. */
static bool echoed(int fd, u64 id, const u8 *pkt, size_t len, u8 *reply)
{
	struct kvp_frame frame;
	int n = fakehost_recv(fd, &frame, reply, FAKEHOST_WAIT_MS);

	return n == (int)len && frame.version == 2 &&
	       frame.type == KVP_VSOCK_PACKET &&
	       frame.service == KVP_VSOCK_SERVICE_KVP && frame.id == id &&
	       !memcmp(pkt, reply, len);
}

/* Nothing more to read within ms. */
static bool silent(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 0;
}

TEST_F(echo, packets_both_ways_with_their_ids)
{
	size_t len = fakehost_kvp_request(self->pkt, 0, 0, "key", "value", 0);

	ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, 42, self->pkt,
				   len));
	EXPECT_TRUE(echoed(self->fd, 42, self->pkt, len, self->reply));

	/* The ring carries 8-byte units: 13 bytes reach the guest as 16. */
	memset(self->pkt, 0, 16);
	pattern(self->pkt, 13, 1);
	ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, 1ULL << 40,
				   self->pkt, 13));
	EXPECT_TRUE(echoed(self->fd, 1ULL << 40, self->pkt, 16, self->reply));

	/* Its receive ring has 16384 bytes: no room for the largest packet. */
	EXPECT_EQ(-EIO, fakehost_send(self->fd, KVP_VSOCK_PACKET, 7,
				      self->pkt, KVP_IC_MAX_PACKET));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_TRUE(silent(self->fd, 100));
}

/* The guest's frames are a byte stream: reads of any size. */
TEST_F(echo, host_reads_a_byte_stream)
{
	const size_t frame_len = KVP_VSOCK_HDR_LEN + 64, total = 2 * frame_len;
	struct kvp_frame frame;
	size_t i;

	pattern(self->pkt, 64, 3);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, i,
					   self->pkt, 64));
	/* 13 bytes at a time: the pieces straddle headers and frames. */
	for (i = 0; i < total; i += 13)
		ASSERT_EQ(0, fakehost_read_full(self->fd, self->reply + i,
						total - i < 13 ? total - i : 13,
						FAKEHOST_WAIT_MS));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kvp_frame_parse(self->reply + i * frame_len,
					     &frame));
		EXPECT_EQ(i, frame.id);
		EXPECT_EQ(64, frame.length);
		EXPECT_EQ(0, memcmp(self->reply + i * frame_len +
				    KVP_VSOCK_HDR_LEN, self->pkt, 64));
	}
}

/* What the host sends before the open waits for it. */
TEST_F(echo, packets_wait_for_the_open)
{
	int i;

	ASSERT_EQ(0, sysfs_write(ECHO_DRIVER "/unbind", ECHO_INSTANCE));
	pattern(self->pkt, 32, 4);
	for (i = 1; i <= 2; i++)
		ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, i,
					   self->pkt, 32));
	EXPECT_TRUE(silent(self->fd, 100));
	ASSERT_EQ(0, sysfs_write(ECHO_DRIVER "/bind", ECHO_INSTANCE));
	for (i = 1; i <= 2; i++)
		EXPECT_TRUE(echoed(self->fd, i, self->pkt, 32, self->reply));
}

/*
 * vmbus_echo's send ring has 4096 bytes of data; a 1000-byte packet takes
 * 1024: three replies fit, the next ones fail (-EAGAIN; vmbus_echo drops
 * them) until the host reads.
 */
TEST_F(echo, send_ring_full_until_the_host_reads)
{
	int i;

	/*
	 * All five wait for the open, so that the driver answers them in one
	 * go, before the host reads (and makes room): not one by one as they
	 * come, which would race with the host's reads.
	 */
	ASSERT_EQ(0, sysfs_write(ECHO_DRIVER "/unbind", ECHO_INSTANCE));
	pattern(self->pkt, 1000, 5);
	for (i = 1; i <= 5; i++)
		ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, i,
					   self->pkt, 1000));
	ASSERT_EQ(0, sysfs_write(ECHO_DRIVER "/bind", ECHO_INSTANCE));
	usleep(200 * 1000);
	for (i = 1; i <= 3; i++)
		EXPECT_TRUE(echoed(self->fd, i, self->pkt, 1000, self->reply));
	EXPECT_TRUE(silent(self->fd, 200));
	ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, 6, self->pkt,
				   1000));
	EXPECT_TRUE(echoed(self->fd, 6, self->pkt, 1000, self->reply));
}

/* Rescind with packets in flight both ways, 20 times; then it still works. */
TEST_F(echo, rescind_under_traffic)
{
	int round, i;

	pattern(self->pkt, 512, 6);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 4; i++)
			ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET,
						   i, self->pkt, 512));
		ASSERT_EQ(0, vmbushost_rescind(self->fd));
		ASSERT_EQ(0, vmbushost_reoffer(self->fd));
		ASSERT_TRUE(wait_path(ECHO_DEVICE "/driver", true));
		/* Replies left from before the rescind are gone. */
		ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, 100,
					   self->pkt, 512));
		ASSERT_TRUE(echoed(self->fd, 100, self->pkt, 512,
				   self->reply));
	}
}

TEST_HARNESS_MAIN
