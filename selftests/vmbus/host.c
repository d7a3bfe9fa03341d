// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmbus-standin, the host end of the stand-in's channels (ABI:
 * vmbus_standin.h and Documentation/vmbus-standin.rst).  Each open file
 * offers at most one device at a time and exchanges its packets as kvp's
 * vsock PACKET frames, so that the tests' vsock host code runs on it
 * unchanged.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "frame.h"
#include "standin.h"
#include "vmbus_standin.h"

/* Offers a device of the host's GUIDs.  offer_lock held, none offered. */
static int standin_offer(struct standin_host *host)
{
	struct standin_device *dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	int err;

	if (!dev)
		return -ENOMEM;
	dev->host = host;
	dev->hv.dev_type = host->class_id;
	dev->hv.dev_instance = host->instance_id;
	standin_channel_init(dev);
	standin_device_init(dev);

	spin_lock_irq(&host->lock);
	host->dev = dev;
	spin_unlock_irq(&host->lock);
	/* Drivers may probe (and send) before this returns. */
	err = standin_device_add(dev);
	if (err) {
		spin_lock_irq(&host->lock);
		host->dev = NULL;
		standin_flush(dev);	/* what the host wrote meanwhile */
		spin_unlock_irq(&host->lock);
		put_device(&dev->hv.device);
	}
	return err;
}

/*
 * The host rescinds the device, as vmbus_onoffer_rescind() handles it: the
 * channel is marked rescinded (sends fail from now on), the device goes
 * away and with it its driver (remove runs, and closes the channel).
 * offer_lock held, a device offered.
 */
static void standin_rescind(struct standin_host *host)
{
	struct standin_device *dev = host->dev;

	spin_lock_irq(&host->lock);
	dev->channel.rescind = true;
	host->dev = NULL;
	spin_unlock_irq(&host->lock);

	get_device(&dev->hv.device);
	device_unregister(&dev->hv.device);
	/* A driver that did not close the channel: no callback after this. */
	spin_lock_irq(&host->lock);
	WRITE_ONCE(dev->channel.onchannel_callback, NULL);
	standin_flush(dev);
	spin_unlock_irq(&host->lock);
	tasklet_kill(&dev->channel.callback_event);
	put_device(&dev->hv.device);
}

static long standin_host_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct standin_host *host = file->private_data;
	struct vmbus_standin_offer offer;
	long err;

	if (cmd == VMBUS_STANDIN_OFFER &&
	    copy_from_user(&offer, (void __user *)arg, sizeof(offer)))
		return -EFAULT;

	mutex_lock(&host->offer_lock);
	switch (cmd) {
	case VMBUS_STANDIN_OFFER:
		if (host->dev) {
			err = -EBUSY;
			break;
		}
		import_guid(&host->class_id, offer.class_guid);
		import_guid(&host->instance_id, offer.instance_guid);
		host->offered_once = true;
		err = standin_offer(host);
		break;
	case VMBUS_STANDIN_REOFFER:
		if (!host->offered_once)
			err = -EINVAL;
		else
			err = host->dev ? -EBUSY : standin_offer(host);
		break;
	case VMBUS_STANDIN_RESCIND:
		err = host->dev ? 0 : -ENODEV;
		if (host->dev)
			standin_rescind(host);
		break;
	default:
		err = -ENOTTY;
	}
	mutex_unlock(&host->offer_lock);
	return err;
}

/* Takes the guest's next frame off the queue, waiting unless nonblock. */
static int standin_next_frame(struct standin_host *host, bool nonblock)
{
	struct standin_packet *pkt;

	for (;;) {
		spin_lock_irq(&host->lock);
		pkt = list_first_entry_or_null(&host->to_host,
					       struct standin_packet, node);
		if (pkt) {
			list_del(&pkt->node);
			host->to_host_bytes -= pkt->ring_bytes;
		}
		spin_unlock_irq(&host->lock);
		if (pkt) {
			WRITE_ONCE(host->reading, pkt);
			host->read_off = 0;
			return 0;
		}
		if (nonblock)
			return -EAGAIN;
		if (wait_event_interruptible(host->wait,
					     !list_empty(&host->to_host)))
			return -ERESTARTSYS;
	}
}

/* The guest's frames as a byte stream: any read size is fine. */
static ssize_t standin_host_read(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct standin_host *host = file->private_data;
	struct standin_packet *pkt;
	ssize_t n;
	int err;

	if (mutex_lock_interruptible(&host->read_lock))
		return -ERESTARTSYS;
	err = host->reading ? 0 :
	      standin_next_frame(host, file->f_flags & O_NONBLOCK);
	if (err) {
		mutex_unlock(&host->read_lock);
		return err;
	}
	pkt = host->reading;
	n = min_t(size_t, count, pkt->len - host->read_off);
	if (copy_to_user(buf, pkt->data + host->read_off, n)) {
		n = -EFAULT;
	} else {
		host->read_off += n;
		if (host->read_off == pkt->len) {
			WRITE_ONCE(host->reading, NULL);
			kfree(pkt);
		}
	}
	mutex_unlock(&host->read_lock);
	return n;
}

/*
 * One write, one whole PACKET frame of the KVP service (of a framing
 * version kvp_vsock.ko speaks), one packet for the guest: its payload,
 * with the frame's id as the VMBus request id.  Never blocks: -EAGAIN when
 * the guest's ring is full.
 */
static ssize_t standin_host_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct standin_host *host = file->private_data;
	u8 hdr[KVP_VSOCK_HDR_LEN];
	struct standin_packet *pkt;
	struct kvp_frame frame;
	int err;

	if (count < sizeof(hdr))
		return -EINVAL;
	if (copy_from_user(hdr, buf, sizeof(hdr)))
		return -EFAULT;
	if (kvp_frame_parse(hdr, &frame) || frame.type != KVP_VSOCK_PACKET ||
	    frame.version > KVP_VSOCK_VERSION_MAX ||
	    frame.service != KVP_VSOCK_SERVICE_KVP ||
	    frame.length != count - sizeof(hdr))
		return -EINVAL;

	/* The ring carries whole 8-byte units: the guest reads the padding. */
	pkt = standin_packet_alloc(ALIGN(frame.length, 8), frame.length,
				   GFP_KERNEL);
	if (!pkt)
		return -ENOMEM;
	pkt->request_id = frame.id;
	err = copy_from_user(pkt->data, buf + sizeof(hdr), frame.length) ?
	      -EFAULT : standin_deliver(host, pkt);
	if (err) {
		kfree(pkt);
		return err;
	}
	return count;
}

static __poll_t standin_host_poll(struct file *file, poll_table *wait)
{
	struct standin_host *host = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &host->wait, wait);
	if (READ_ONCE(host->reading) || !list_empty(&host->to_host))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (standin_guest_has_room(host))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int standin_host_open(struct inode *inode, struct file *file)
{
	struct standin_host *host = kzalloc(sizeof(*host), GFP_KERNEL);

	if (!host)
		return -ENOMEM;
	mutex_init(&host->offer_lock);
	spin_lock_init(&host->lock);
	INIT_LIST_HEAD(&host->to_host);
	init_waitqueue_head(&host->wait);
	mutex_init(&host->read_lock);
	file->private_data = host;
	return nonseekable_open(inode, file);
}

/* Closing the host end rescinds its device. */
static int standin_host_release(struct inode *inode, struct file *file)
{
	struct standin_host *host = file->private_data;

	mutex_lock(&host->offer_lock);
	if (host->dev)
		standin_rescind(host);
	mutex_unlock(&host->offer_lock);
	kfree(host->reading);
	kfree(host);
	return 0;
}

static const struct file_operations standin_host_fops = {
	.owner = THIS_MODULE,
	.open = standin_host_open,
	.release = standin_host_release,
	.read = standin_host_read,
	.write = standin_host_write,
	.poll = standin_host_poll,
	.unlocked_ioctl = standin_host_ioctl,
};

static struct miscdevice standin_host_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmbus-standin",
	.fops = &standin_host_fops,
};

int standin_host_init(void)
{
	return misc_register(&standin_host_misc);
}

void standin_host_exit(void)
{
	misc_deregister(&standin_host_misc);
}
