// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmbus/hv_kvp: the stock daemon's endpoint.  hv_kvp_daemon, as every
 * distribution ships it, runs on kvp.ko unchanged: the misc device speaks
 * the ABI of hv_utils (struct hv_kvp_msg both ways, stock.c), one message
 * at a time.
 *
 * An open file is the daemon: it attaches to the service at open (one
 * daemon at a time, netlink or chardev: -EBUSY), registers with its first
 * write (REGISTER1 or REGISTER), and is ready once it has read the answer.
 * Then each request it reads it owes an answer for; the service offers it
 * the next only after that answer is written, so an answer that comes after
 * its request timed out is refused (-EINVAL, as hv_utils refuses it) and is
 * never taken for the next request's.  Its release is the daemon's end:
 * what it held is failed to the host.
 *
 * The node exists while a transport is bound, as hv_utils' exists while
 * its KVP device is, so that the two can take turns on a Hyper-V guest.
 * The state of an open file is kvp.ko's, not the node's: it stays usable
 * when the node goes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/namei.h>
#include <linux/poll.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <uapi/linux/hyperv.h>

#include "kvp.h"
#include "stock.h"
#include "uapi/kvp.h"

#define KVP_CHARDEV_NAME	"vmbus/hv_kvp"

/* stock.c's layout is the daemon's struct, byte for byte. */
static_assert(sizeof(struct hv_kvp_msg) == KVP_STOCK_MSG_LEN);
static_assert(offsetof(struct hv_kvp_msg, error) == KVP_STOCK_OFF_ERROR);
static_assert(offsetof(struct hv_kvp_msg, body.kvp_register.version) ==
	      KVP_STOCK_OFF_VERSION);

/*
 * One open file.  Lock order: the service's lock, then `lock` (deliver()
 * is called under the former); `write_lock` and `read_lock` are taken
 * before both, so that a write can bring its answer to the service, and a
 * read can copy to the daemon, which may fault and sleep, without `lock`.
 */
struct kvp_chardev {
	struct kvp_daemon daemon;
	struct mutex write_lock;	/* one write at a time; `in` */
	struct mutex read_lock;		/* one read at a time */
	struct mutex lock;		/* everything below */
	wait_queue_head_t wait;		/* readers and pollers */
	u8 reg;				/* the register op accepted, or 0 */
	bool registered;		/* it read the handshake answer */
	bool queued;			/* `out` waits to be read */
	bool reading;			/* `out` is being copied to it */
	bool owed;			/* it read request `owed_id` */
	u32 out_id, owed_id;
	u8 out_op, owed_op;
	u8 out[KVP_STOCK_MSG_LEN];
	u8 in[KVP_STOCK_MSG_LEN];
};

static struct kvp_chardev *kvp_chardev_of(struct kvp_daemon *daemon)
{
	return container_of(daemon, struct kvp_chardev, daemon);
}

/* A request for the daemon, if it can take one now (service lock held). */
static int kvp_chardev_deliver(struct kvp_daemon *daemon,
			       const struct kvp_request *req)
{
	struct kvp_chardev *cd = kvp_chardev_of(daemon);
	int err = -ENOTCONN;

	mutex_lock(&cd->lock);
	if (cd->registered && !cd->queued && !cd->owed && !cd->reading) {
		err = kvp_stock_request(cd->out, &req->msg);
		if (!err) {
			cd->queued = true;
			cd->out_id = req->id;
			cd->out_op = req->msg.op;
		}
	}
	mutex_unlock(&cd->lock);
	if (!err)
		wake_up_interruptible(&cd->wait);
	return err;
}

/*
 * A request that ended before the daemon read it is withdrawn: the daemon
 * never acts on a request the host was already answered for.
 */
static void kvp_chardev_cancel(struct kvp_daemon *daemon,
			       const struct kvp_request *req)
{
	struct kvp_chardev *cd = kvp_chardev_of(daemon);

	mutex_lock(&cd->lock);
	if (cd->registered && cd->queued && cd->out_id == req->id)
		cd->queued = false;
	mutex_unlock(&cd->lock);
}

static const struct kvp_daemon_ops kvp_chardev_daemon_ops = {
	.kind = "chardev",
	.deliver = kvp_chardev_deliver,
	.cancel = kvp_chardev_cancel,
};

static int kvp_chardev_open(struct inode *inode, struct file *file)
{
	struct kvp_chardev *cd;
	int err;

	cd = kzalloc(sizeof(*cd), GFP_KERNEL);
	if (!cd)
		return -ENOMEM;
	cd->daemon.ops = &kvp_chardev_daemon_ops;
	cd->daemon.pid = task_tgid_vnr(current);
	mutex_init(&cd->write_lock);
	mutex_init(&cd->read_lock);
	mutex_init(&cd->lock);
	init_waitqueue_head(&cd->wait);
	err = kvp_service_attach(&kvp_exchange, &cd->daemon);
	if (err) {
		kfree(cd);
		return err;
	}
	file->private_data = cd;
	return nonseekable_open(inode, file);
}

/* The daemon is gone: what it held is failed to the host. */
static int kvp_chardev_release(struct inode *inode, struct file *file)
{
	struct kvp_chardev *cd = file->private_data;

	kvp_service_detach(&kvp_exchange, &cd->daemon);
	mutex_destroy(&cd->lock);
	mutex_destroy(&cd->read_lock);
	mutex_destroy(&cd->write_lock);
	kfree(cd);
	return 0;
}

/* Lock held on success: waits for a message to read. */
static int kvp_chardev_wait_queued(struct kvp_chardev *cd, bool nonblock)
{
	int err;

	for (;;) {
		mutex_lock(&cd->lock);
		if (cd->queued)
			return 0;
		mutex_unlock(&cd->lock);
		if (nonblock)
			return -EAGAIN;
		err = wait_event_interruptible(cd->wait, READ_ONCE(cd->queued));
		if (err)
			return err;
	}
}

/*
 * Whole messages only.  Reading the handshake answer makes the daemon
 * ready; reading a request makes it owe that request's answer.
 */
static ssize_t kvp_chardev_read(struct file *file, char __user *buf,
				size_t count, loff_t *ppos)
{
	struct kvp_chardev *cd = file->private_data;
	bool nonblock = file->f_flags & O_NONBLOCK;
	bool ready;
	int err;

	if (count < KVP_STOCK_MSG_LEN)
		return -EINVAL;
	if (nonblock ? !mutex_trylock(&cd->read_lock) :
	    mutex_lock_interruptible(&cd->read_lock))
		return nonblock ? -EAGAIN : -ERESTARTSYS;
	err = kvp_chardev_wait_queued(cd, nonblock);
	if (err)
		goto out;
	/*
	 * `out` is copied without `lock`, which deliver() takes under the
	 * service's lock: `reading` keeps deliver() from filling it
	 * meanwhile.  A fault leaves the message queued.  A message
	 * withdrawn meanwhile (cancel) counts as read: its answer will be
	 * refused.
	 */
	cd->reading = true;
	mutex_unlock(&cd->lock);
	err = copy_to_user(buf, cd->out, KVP_STOCK_MSG_LEN) ? -EFAULT : 0;
	mutex_lock(&cd->lock);
	cd->reading = false;
	if (err) {
		/* Withdrawn meanwhile: the next request may come. */
		ready = cd->registered && !cd->queued;
		mutex_unlock(&cd->lock);
		if (ready)
			kvp_service_ready(&kvp_exchange, &cd->daemon);
		goto out;
	}
	cd->queued = false;
	ready = !cd->registered;
	if (ready) {
		cd->registered = true;
	} else {
		cd->owed = true;
		cd->owed_id = cd->out_id;
		cd->owed_op = cd->out_op;
	}
	mutex_unlock(&cd->lock);
	if (ready)
		kvp_service_ready(&kvp_exchange, &cd->daemon);
	err = KVP_STOCK_MSG_LEN;
out:
	mutex_unlock(&cd->read_lock);
	return err;
}

/* The first write: REGISTER1 or the legacy REGISTER, answered with "3.1". */
static int kvp_chardev_register(struct kvp_chardev *cd)
{
	int reg = kvp_stock_register(cd->in);

	if (reg < 0) {
		pr_notice("/dev/vmbus/hv_kvp: incompatible daemon %u (operation %u, not %u or %u)\n",
			  cd->daemon.pid, cd->in[KVP_MSG_OFF_OP],
			  KVP_STOCK_OP_REGISTER1, KVP_STOCK_OP_REGISTER);
		return reg;
	}
	pr_info("/dev/vmbus/hv_kvp: daemon %u registered (%s)\n",
		cd->daemon.pid,
		reg == KVP_STOCK_OP_REGISTER1 ? "REGISTER1" : "legacy REGISTER");
	mutex_lock(&cd->lock);
	cd->reg = reg;
	kvp_stock_register_reply(cd->out, reg);
	cd->queued = true;
	mutex_unlock(&cd->lock);
	wake_up_interruptible(&cd->wait);
	return 0;
}

/*
 * The answer to the request the daemon read.  One that was not asked for,
 * or whose request already ended, is refused with -EINVAL as hv_utils
 * refuses it; a malformed one fails the request and is refused too.
 * Either way the daemon then owes nothing and gets the next request.
 */
static int kvp_chardev_answer(struct kvp_chardev *cd)
{
	struct kvp_exchange_answer answer;
	int bad, err;
	u32 id;
	u8 op;

	mutex_lock(&cd->lock);
	if (!cd->owed) {
		mutex_unlock(&cd->lock);
		return -EINVAL;
	}
	id = cd->owed_id;
	op = cd->owed_op;
	mutex_unlock(&cd->lock);

	bad = kvp_stock_answer(cd->in, cd->reg, op, &answer);
	if (bad) {
		memset(&answer, 0, sizeof(answer));
		answer.status = KVP_E_FAIL;
	}
	err = kvp_exchange_reply(&cd->daemon, id, &answer);

	mutex_lock(&cd->lock);
	cd->owed = false;
	mutex_unlock(&cd->lock);
	kvp_service_ready(&kvp_exchange, &cd->daemon);

	if (err == -ENOENT)
		pr_notice_ratelimited("/dev/vmbus/hv_kvp: answer to request %u came after it ended; refused\n",
				      id);
	else if (bad || err)
		pr_warn_ratelimited("/dev/vmbus/hv_kvp: malformed answer to request %u; the host gets E_FAIL\n",
				    id);
	return bad || err ? -EINVAL : 0;
}

static ssize_t kvp_chardev_write(struct file *file, const char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct kvp_chardev *cd = file->private_data;
	int err;

	if (count != KVP_STOCK_MSG_LEN)
		return -EINVAL;
	mutex_lock(&cd->write_lock);
	if (copy_from_user(cd->in, buf, count))
		err = -EFAULT;
	else if (!READ_ONCE(cd->reg))
		err = kvp_chardev_register(cd);
	else
		err = kvp_chardev_answer(cd);
	mutex_unlock(&cd->write_lock);
	return err ? err : count;
}

static __poll_t kvp_chardev_poll(struct file *file, poll_table *wait)
{
	struct kvp_chardev *cd = file->private_data;

	poll_wait(file, &cd->wait, wait);
	return READ_ONCE(cd->queued) ? EPOLLIN | EPOLLRDNORM : 0;
}

static const struct file_operations kvp_chardev_fops = {
	.owner = THIS_MODULE,
	.open = kvp_chardev_open,
	.release = kvp_chardev_release,
	.read = kvp_chardev_read,
	.write = kvp_chardev_write,
	.poll = kvp_chardev_poll,
};

static struct miscdevice kvp_chardev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KVP_CHARDEV_NAME,
	.fops = &kvp_chardev_fops,
};

/* The node: kvp_chardev_node_lock protects kvp_chardev_node_state. */
static DEFINE_MUTEX(kvp_chardev_node_lock);
static u32 kvp_chardev_node_state = KVP_CHARDEV_OFF;

/*
 * Whether another driver (hv_utils) has the name.  Asked first because
 * misc_register() of a taken name fails only deep in sysfs, which logs a
 * stack trace; misc_register() stays the judge where sysfs is elsewhere.
 */
static bool kvp_chardev_name_taken(void)
{
	struct path path;

	if (kern_path("/sys/class/misc/vmbus!hv_kvp", 0, &path))
		return false;
	path_put(&path);
	return true;
}

/*
 * Makes the node follow the transport: there while one is bound.  When the
 * name is taken (hv_utils has its own /dev/vmbus/hv_kvp) kvp goes on
 * without it: netlink works, and `kvpctl status` says so.
 */
void kvp_chardev_transport_changed(void)
{
	bool bound;
	int err;

	mutex_lock(&kvp_chardev_node_lock);
	bound = kvp_transport_is_bound();
	if (bound && kvp_chardev_node_state != KVP_CHARDEV_READY) {
		/* A fresh minor each time: not every kernel resets it. */
		kvp_chardev_misc.minor = MISC_DYNAMIC_MINOR;
		err = kvp_chardev_name_taken() ? -EEXIST :
		      misc_register(&kvp_chardev_misc);
		if (!err) {
			kvp_chardev_node_state = KVP_CHARDEV_READY;
		} else if (err == -EEXIST) {
			if (kvp_chardev_node_state != KVP_CHARDEV_BUSY)
				pr_warn("/dev/vmbus/hv_kvp belongs to another driver (hv_utils?): the stock daemon cannot use kvp; kvpd can\n");
			kvp_chardev_node_state = KVP_CHARDEV_BUSY;
		} else {
			pr_warn("cannot create /dev/vmbus/hv_kvp: %d\n", err);
			kvp_chardev_node_state = KVP_CHARDEV_OFF;
		}
	} else if (!bound) {
		if (kvp_chardev_node_state == KVP_CHARDEV_READY)
			misc_deregister(&kvp_chardev_misc);
		kvp_chardev_node_state = KVP_CHARDEV_OFF;
	}
	mutex_unlock(&kvp_chardev_node_lock);
}

u32 kvp_chardev_state(void)
{
	u32 state;

	mutex_lock(&kvp_chardev_node_lock);
	state = kvp_chardev_node_state;
	mutex_unlock(&kvp_chardev_node_lock);
	return state;
}

/* At unload, after the transports (which hold the module) are gone. */
void kvp_chardev_uninit(void)
{
	mutex_lock(&kvp_chardev_node_lock);
	if (kvp_chardev_node_state == KVP_CHARDEV_READY)
		misc_deregister(&kvp_chardev_misc);
	kvp_chardev_node_state = KVP_CHARDEV_OFF;
	mutex_unlock(&kvp_chardev_node_lock);
}
