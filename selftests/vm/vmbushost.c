// SPDX-License-Identifier: GPL-2.0
/*
 * The host end of a VMBus channel over the stand-in (see vmbushost.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../vmbus/vmbus_standin.h"
#include "vmbushost.h"

/*
 * "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6" to the bytes of a guid_t: the
 * first three groups little endian, the rest as written.
 */
static int vmbushost_parse_guid(const char *text, __u8 guid[16])
{
	unsigned int d1, d2, d3;
	unsigned char b[8];
	int end = 0;

	if (sscanf(text,
		   "%8x-%4x-%4x-%2hhx%2hhx-%2hhx%2hhx%2hhx%2hhx%2hhx%2hhx%n",
		   &d1, &d2, &d3, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &b[6], &b[7], &end) != 11 || end != 36 || text[end])
		return -EINVAL;
	guid[0] = d1;
	guid[1] = d1 >> 8;
	guid[2] = d1 >> 16;
	guid[3] = d1 >> 24;
	guid[4] = d2;
	guid[5] = d2 >> 8;
	guid[6] = d3;
	guid[7] = d3 >> 8;
	memcpy(guid + 8, b, sizeof(b));
	return 0;
}

int vmbushost_offer(const char *class_guid, const char *instance_guid)
{
	struct vmbus_standin_offer offer;
	int fd, err;

	if (vmbushost_parse_guid(class_guid, offer.class_guid) ||
	    vmbushost_parse_guid(instance_guid, offer.instance_guid))
		return -EINVAL;
	fd = open(VMBUS_STANDIN_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, VMBUS_STANDIN_OFFER, &offer)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int vmbushost_rescind(int fd)
{
	return ioctl(fd, VMBUS_STANDIN_RESCIND) ? -errno : 0;
}

int vmbushost_reoffer(int fd)
{
	return ioctl(fd, VMBUS_STANDIN_REOFFER) ? -errno : 0;
}
