// SPDX-License-Identifier: GPL-2.0
/*
 * kvp_vsock.ko: carries the KVP channel's IC packets over an AF_VSOCK stream
 * to a host daemon (KVM hosts with vhost-vsock; vsock loopback in tests).
 * Framing: uapi/kvp_vsock.h and Documentation/protocol.rst.
 *
 * One kernel thread owns the connection: it connects, says HELLO, reads
 * frames and hands IC packets to kvp.ko, and reconnects with back-off when
 * the connection fails.  Module load only starts the thread, so a host that
 * is not there never delays boot.  One connection carries every service the
 * host announces in WELCOME (framing version 2 on), each frame naming its
 * service; from version 3 on the HELLO names the services we speak.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/ratelimit.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/vm_sockets.h>
#include <linux/wait.h>
#include <net/sock.h>

#include "frame.h"
#include "transport.h"

#define KVP_VSOCK_BACKOFF_MIN_MS	100
#define KVP_VSOCK_BACKOFF_MAX_MS	3600000
#define KVP_VSOCK_HANDSHAKE_TIMEOUT	(5 * HZ)
#define KVP_VSOCK_NOMEM_RETRY_MS	10
#define KVP_VSOCK_HELLO_REFUSALS	2	/* in a row, before version 2 */

static unsigned int kvp_vsock_host_cid = KVP_VSOCK_HOST_CID;
module_param_named(host_cid, kvp_vsock_host_cid, uint, 0444);
MODULE_PARM_DESC(host_cid, "CID of the host daemon (default 2, the host)");

static unsigned int kvp_vsock_port = KVP_VSOCK_PORT;
module_param_named(port, kvp_vsock_port, uint, 0444);
MODULE_PARM_DESC(port, "vsock port of the host daemon (default 5462)");

static unsigned int kvp_vsock_backoff_max_ms = 10000;
module_param_named(backoff_max_ms, kvp_vsock_backoff_max_ms, uint, 0644);
MODULE_PARM_DESC(backoff_max_ms,
		 "Longest wait between connection attempts, in ms (100-3600000, default 10000)");

struct kvp_vsock {
	struct kvp_transport transport;
	struct task_struct *thread;
	struct mutex lock;		/* protects sock against send/stop */
	struct socket *sock;
	u16 version;			/* of the connection */
	unsigned int hello_refused;	/* v3 HELLOs closed unanswered, in a row */
	unsigned long services;		/* connected services, by core id */
	bool stopping;
	wait_queue_head_t wait;		/* the back-off sleep */
	u8 rx[KVP_VSOCK_HDR_LEN + KVP_VSOCK_MAX_PAYLOAD];
};

static struct kvp_vsock *kvp_vsock;

/* The wire's service numbers, by the core's service id: it carries all. */
static const u16 kvp_vsock_wire_service[KVP_SERVICE_COUNT] = {
	[KVP_SERVICE_EXCHANGE] = KVP_VSOCK_SERVICE_KVP,
	[KVP_SERVICE_AVMA] = KVP_VSOCK_SERVICE_ACTIVATION,
};

#define KVP_VSOCK_SERVICES	(BIT(KVP_SERVICE_COUNT) - 1)

/* The wire's services bit mask of every service we speak. */
static u32 kvp_vsock_spoken(void)
{
	u32 spoken = 0;
	int i;

	for (i = 0; i < KVP_SERVICE_COUNT; i++)
		spoken |= BIT(kvp_vsock_wire_service[i]);
	return spoken;
}

/* The core's service for a wire service number; false if we have none. */
static bool kvp_vsock_core_service(u16 wire, enum kvp_service_id *service)
{
	int i;

	for (i = 0; i < KVP_SERVICE_COUNT; i++) {
		if (kvp_vsock_wire_service[i] == wire) {
			*service = i;
			return true;
		}
	}
	return false;
}

static int kvp_vsock_send_frame(struct kvp_vsock *vs, u16 version, u16 type,
				u16 service, u64 id, const u8 *payload,
				size_t len)
{
	struct kvp_frame frame = {
		.version = version,
		.type = type,
		.length = len,
		.service = service,
		.id = id,
	};
	u8 hdr[KVP_VSOCK_HDR_LEN];
	struct kvec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT };
	int ret = -ENOTCONN;

	kvp_frame_build(hdr, &frame);
	mutex_lock(&vs->lock);
	if (vs->sock) {
		ret = kernel_sendmsg(vs->sock, &msg, iov, len ? 2 : 1,
				     sizeof(hdr) + len);
		/*
		 * Never wait on the host (the core's lock is held), and never
		 * leave half a frame: a host that does not read its replies
		 * loses the connection, and the thread reconnects.
		 */
		if (ret != sizeof(hdr) + len) {
			pr_warn_ratelimited("cannot send to host (%d)\n", ret);
			kernel_sock_shutdown(vs->sock, SHUT_RDWR);
			ret = ret < 0 ? ret : -EIO;
		}
	}
	mutex_unlock(&vs->lock);
	return ret < 0 ? ret : 0;
}

static int kvp_vsock_send(struct kvp_transport *transport,
			  enum kvp_service_id service, const u8 *pkt,
			  size_t len, u64 id)
{
	struct kvp_vsock *vs = container_of(transport, struct kvp_vsock,
					    transport);

	return kvp_vsock_send_frame(vs, READ_ONCE(vs->version),
				    KVP_VSOCK_PACKET,
				    kvp_vsock_wire_service[service], id, pkt,
				    len);
}

static const struct kvp_transport_ops kvp_vsock_ops = {
	.send = kvp_vsock_send,
};

static int kvp_vsock_recv(struct socket *sock, u8 *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};
	int ret;

	ret = kernel_recvmsg(sock, &msg, &iov, 1, len, MSG_WAITALL);
	if (ret < 0)
		return ret;
	/* Closed before a byte came (-ECONNABORTED), or in mid-frame. */
	return ret == len ? 0 : ret ? -EPIPE : -ECONNABORTED;
}

/* Reads one frame into vs->rx; the payload follows the header there. */
static int kvp_vsock_read_frame(struct kvp_vsock *vs, struct socket *sock,
				struct kvp_frame *frame)
{
	int err;

	err = kvp_vsock_recv(sock, vs->rx, KVP_VSOCK_HDR_LEN);
	if (err)
		return err;
	if (kvp_frame_parse(vs->rx, frame)) {
		pr_warn_ratelimited("bad frame header from host\n");
		kvp_transport_malformed(&vs->transport, KVP_SERVICE_EXCHANGE);
		return -EPROTO;
	}
	if (!frame->length)
		return 0;
	return kvp_vsock_recv(sock, vs->rx + KVP_VSOCK_HDR_LEN, frame->length);
}

static struct socket *kvp_vsock_connect(void)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = kvp_vsock_host_cid,
		.svm_port = kvp_vsock_port,
	};
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_VSOCK, SOCK_STREAM, 0, &sock);
	if (err)
		return ERR_PTR(err);
	err = kernel_connect(sock, (struct sockaddr *)&addr, sizeof(addr), 0);
	if (err) {
		sock_release(sock);
		return ERR_PTR(err);
	}
	return sock;
}

/*
 * The host's WELCOME: a version we offered, and from version 2 on the
 * services of the connection.  Returns the services we share with it (core
 * ids), 0 if the WELCOME is not one we accept.
 */
static unsigned long kvp_vsock_welcome(const struct kvp_frame *frame,
				       const u8 *payload, u16 hello_version)
{
	unsigned long services = 0;
	u32 offered;
	int i;

	if (kvp_frame_welcome_parse(frame, payload, hello_version,
				    kvp_vsock_spoken(), &offered))
		return 0;
	for (i = 0; i < KVP_SERVICE_COUNT; i++)
		if (kvp_frame_serves(offered, kvp_vsock_wire_service[i]))
			services |= BIT(i);
	return services;
}

/*
 * HELLO, then the host's WELCOME with a version we speak; a host that
 * accepts but never answers is given up after a while.  Hosts of versions
 * 1 and 2 close the connection on a HELLO with a payload: when ours of
 * version 3 gets that answer twice in a row (once could be a host going
 * away), the next attempt offers version 2, whose HELLO is empty, and the
 * one after it version 3 again.
 */
static int kvp_vsock_handshake(struct kvp_vsock *vs, struct socket *sock)
{
	u16 version = vs->hello_refused >= KVP_VSOCK_HELLO_REFUSALS ?
		      2 : KVP_VSOCK_VERSION_MAX;
	u8 hello[KVP_VSOCK_HELLO_LEN];
	struct kvp_frame frame;
	int err;

	err = kvp_vsock_send_frame(vs, version, KVP_VSOCK_HELLO, 0, 0, hello,
				   kvp_frame_hello_build(hello, version,
							 kvp_vsock_spoken()));
	if (err)
		return err;
	sock->sk->sk_rcvtimeo = KVP_VSOCK_HANDSHAKE_TIMEOUT;
	err = kvp_vsock_read_frame(vs, sock, &frame);
	sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	/* Refused: closed or reset before the answer's first byte. */
	if (version > 2 && (err == -ECONNABORTED || err == -ECONNRESET))
		vs->hello_refused++;
	else
		vs->hello_refused = 0;
	if (vs->hello_refused >= KVP_VSOCK_HELLO_REFUSALS)
		pr_info_ratelimited("host closed the connection on our version-%u HELLO %u times: offering version 2\n",
				    version, vs->hello_refused);
	if (err)
		return err;
	vs->services = kvp_vsock_welcome(&frame, vs->rx + KVP_VSOCK_HDR_LEN,
					 version);
	if (!vs->services) {
		pr_warn_ratelimited("host did not welcome us (type %u, version %u, length %u)\n",
				    frame.type, frame.version, frame.length);
		kvp_transport_malformed(&vs->transport, KVP_SERVICE_EXCHANGE);
		return -EPROTO;
	}
	WRITE_ONCE(vs->version, frame.version);
	return 0;
}

/*
 * The services the host announced are connected, the others not carried
 * while the connection lasts: no request of the guest's waits on a host
 * that does not serve it.  Once it ends, the transport carries them all
 * again, waiting for the next host.
 */
static void kvp_vsock_set_connected(struct kvp_vsock *vs, bool connected)
{
	int i;

	if (connected)
		kvp_transport_carry(&vs->transport, vs->services);
	for (i = 0; i < KVP_SERVICE_COUNT; i++)
		if (vs->services & BIT(i))
			kvp_transport_set_connected(&vs->transport, i,
						    connected);
	if (!connected)
		kvp_transport_carry(&vs->transport, KVP_VSOCK_SERVICES);
}

/*
 * Hands one PACKET to the core.  When memory is short the core says so,
 * and the packet is handed over again a little later: never dropped.  A
 * PACKET on a service the WELCOME did not announce ends the connection:
 * the host knows what we speak (HELLO, version 3) or took what we do from
 * its own mask (version 2), so it is no longer in step with us.
 */
static int kvp_vsock_packet(struct kvp_vsock *vs, const struct kvp_frame *frame)
{
	enum kvp_service_id service;
	int err;

	if (frame->type != KVP_VSOCK_PACKET || frame->version != vs->version ||
	    !kvp_vsock_core_service(frame->service, &service) ||
	    !(vs->services & BIT(service))) {
		pr_warn_ratelimited("unexpected frame (type %u, version %u, service %u) from host\n",
				    frame->type, frame->version,
				    frame->service);
		kvp_transport_malformed(&vs->transport, KVP_SERVICE_EXCHANGE);
		return -EPROTO;
	}
	for (;;) {
		err = kvp_transport_receive(&vs->transport, service,
					    vs->rx + KVP_VSOCK_HDR_LEN,
					    frame->length, frame->id);
		if (err != -ENOMEM || READ_ONCE(vs->stopping))
			break;
		msleep_interruptible(KVP_VSOCK_NOMEM_RETRY_MS);
	}
	if (err == -EPROTO) {
		pr_warn_ratelimited("packet of %u bytes is no IC packet\n",
				    frame->length);
		kvp_transport_malformed(&vs->transport, service);
	}
	return err;
}

/*
 * Serves one connection until it fails or the module is unloading.
 * Returns whether the host welcomed us, the error in *err.
 */
static bool kvp_vsock_serve(struct kvp_vsock *vs, struct socket *sock,
			    int *err)
{
	struct kvp_frame frame;

	*err = kvp_vsock_handshake(vs, sock);
	if (*err)
		return false;
	pr_info("connected to host %u port %u (framing version %u)\n",
		kvp_vsock_host_cid, kvp_vsock_port, vs->version);
	kvp_vsock_set_connected(vs, true);
	do {
		*err = kvp_vsock_read_frame(vs, sock, &frame);
		if (!*err)
			*err = kvp_vsock_packet(vs, &frame);
	} while (!*err);
	kvp_vsock_set_connected(vs, false);
	return true;
}

static void kvp_vsock_set_sock(struct kvp_vsock *vs, struct socket *sock)
{
	mutex_lock(&vs->lock);
	vs->sock = sock;
	if (sock && vs->stopping)
		kernel_sock_shutdown(sock, SHUT_RDWR);
	mutex_unlock(&vs->lock);
}

static int kvp_vsock_thread(void *data)
{
	struct kvp_vsock *vs = data;
	unsigned int backoff = KVP_VSOCK_BACKOFF_MIN_MS, max;
	struct socket *sock;
	bool served;
	int err;

	allow_signal(SIGKILL);
	while (!READ_ONCE(vs->stopping)) {
		sock = kvp_vsock_connect();
		if (!IS_ERR(sock)) {
			kvp_vsock_set_sock(vs, sock);
			served = kvp_vsock_serve(vs, sock, &err);
			kvp_vsock_set_sock(vs, NULL);
			sock_release(sock);
			pr_info_ratelimited("disconnected from host (%d)\n",
					    err);
			/* Only a host that welcomed us is retried at once. */
			if (served)
				backoff = KVP_VSOCK_BACKOFF_MIN_MS;
		}
		if (READ_ONCE(vs->stopping))
			break;
		if (signal_pending(current))
			flush_signals(current);
		wait_event_interruptible_timeout(vs->wait,
						 READ_ONCE(vs->stopping),
						 msecs_to_jiffies(backoff));
		max = clamp_t(unsigned int, READ_ONCE(kvp_vsock_backoff_max_ms),
			      KVP_VSOCK_BACKOFF_MIN_MS, KVP_VSOCK_BACKOFF_MAX_MS);
		backoff = backoff < max / 2 ? backoff * 2 : max;
	}
	return 0;
}

static int __init kvp_vsock_init(void)
{
	struct kvp_vsock *vs;
	int err;

	vs = kzalloc(sizeof(*vs), GFP_KERNEL);
	if (!vs)
		return -ENOMEM;
	mutex_init(&vs->lock);
	init_waitqueue_head(&vs->wait);
	vs->transport.name = "vsock";
	vs->transport.ops = &kvp_vsock_ops;
	vs->transport.services = KVP_VSOCK_SERVICES;
	err = kvp_transport_register(&vs->transport);
	if (err)
		goto err_free;
	vs->thread = kthread_run(kvp_vsock_thread, vs, "kvp_vsock");
	if (IS_ERR(vs->thread)) {
		err = PTR_ERR(vs->thread);
		goto err_unregister;
	}
	/* The thread may end on its own before kvp_vsock_exit() stops it. */
	get_task_struct(vs->thread);
	kvp_vsock = vs;
	return 0;

err_unregister:
	kvp_transport_unregister(&vs->transport);
err_free:
	kfree(vs);
	return err;
}

static void __exit kvp_vsock_exit(void)
{
	struct kvp_vsock *vs = kvp_vsock;

	/* Wake the thread from connect, recv or its back-off sleep. */
	mutex_lock(&vs->lock);
	vs->stopping = true;
	if (vs->sock)
		kernel_sock_shutdown(vs->sock, SHUT_RDWR);
	mutex_unlock(&vs->lock);
	wake_up(&vs->wait);
	send_sig(SIGKILL, vs->thread, 1);
	kthread_stop(vs->thread);
	put_task_struct(vs->thread);
	kvp_transport_unregister(&vs->transport);
	kfree(vs);
}

module_init(kvp_vsock_init);
module_exit(kvp_vsock_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vsock transport for the Hyper-V KVP exchange engine");
MODULE_AUTHOR("The kvp developers");
MODULE_SOFTDEP("pre: kvp");
