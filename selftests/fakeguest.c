// SPDX-License-Identifier: GPL-2.0
/*
 * A guest of kvp-hostd without vsock: see fakeguest.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakeguest.h"
#include "msg.h"

static const u32 act_msg_list[] = { KVP_VERSION(1, 0) };
static const struct kvp_ic_versions act_msg_versions = {
	.list = act_msg_list, .count = 1,
};

const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && v[0] ? v : def;
}

int try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void hostd_exec(char *const args[], const char *log)
{
	char *argv[64];
	char *wrapper = strdup(env_or("KVP_HOSTD_WRAPPER",
				      env_or("KVP_TEST_WRAPPER", "")));
	char *tok, *save = NULL;
	int n = 0, fd;

	for (tok = strtok_r(wrapper, " ", &save); tok && n < 16;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n++] = (char *)env_or("KVP_HOSTD",
				   "../userspace/kvp-hostd/kvp-hostd");
	while (*args && n < (int)ARRAY_SIZE(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			0600) : -1;
	if (fd >= 0)
		dup2(fd, 2);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	execvp(argv[0], argv);
	_exit(127);
}

pid_t hostd_start(char *const args[], const char *log, const char *ctl_sock)
{
	pid_t pid = fork();
	int i, fd;

	if (pid < 0)
		return -1;
	if (pid == 0)
		hostd_exec(args, log);
	for (i = 0; i < GUEST_WAIT_MS / 10; i++) {
		fd = try_connect(ctl_sock);
		if (fd >= 0) {
			close(fd);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

int hostd_stop(pid_t pid)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int frame_write(int fd, const struct kvp_frame *f, u16 flags, const u8 *p)
{
	static u8 buf[KVP_VSOCK_HDR_LEN + KVP_VSOCK_MAX_PAYLOAD];
	size_t len = KVP_VSOCK_HDR_LEN + f->length;

	kvp_frame_build(buf, f);
	kvp_put_le16(buf + KVP_VSOCK_OFF_FLAGS, flags);
	if (f->length)
		memcpy(buf + KVP_VSOCK_HDR_LEN, p, f->length);
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

int send_frame(struct guest *g, u16 type, u16 service, u64 id, const u8 *p,
	       size_t len)
{
	struct kvp_frame f = { .version = g->version, .type = type,
			       .service = service, .length = (u32)len,
			       .id = id };

	return frame_write(g->fd, &f, 0, p);
}

int read_full(int fd, u8 *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (len) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf, len);
		if (n <= 0)
			return -ECONNRESET;
		buf += n;
		len -= n;
	}
	return 0;
}

int frame_read(int fd, struct kvp_frame *f, u8 *pkt, int timeout_ms)
{
	u8 hdr[KVP_VSOCK_HDR_LEN];
	int err = read_full(fd, hdr, sizeof(hdr), timeout_ms);

	if (err)
		return err;
	if (kvp_frame_parse(hdr, f))
		return -EPROTO;
	return read_full(fd, pkt, f->length, timeout_ms);
}

int recv_frame(struct guest *g)
{
	return frame_read(g->fd, &g->frame, g->pkt, GUEST_WAIT_MS);
}

int guest_answer(struct guest *g)
{
	const struct kvp_ic_versions *ours;
	struct kvp_ic_hdr hdr;
	u32 fw, msg;

	if (g->frame.type != KVP_VSOCK_PACKET ||
	    kvp_ic_parse(g->pkt, g->frame.length, &hdr))
		return -EPROTO;
	if (g->frame.service == KVP_VSOCK_SERVICE_ACTIVATION &&
	    hdr.type == KVP_IC_TYPE_AVMA)
		return 0;
	if (hdr.type == KVP_IC_TYPE_NEGOTIATE) {
		ours = g->frame.service ? &act_msg_versions :
			&kvp_msg_versions;
		if (kvp_ic_negotiate(g->pkt, g->frame.length, ours, &fw, &msg))
			return -EPROTO;
		kvp_ic_parse(g->pkt, g->frame.length, &hdr);
		g->frame.length = KVP_ICMSG_HDR_LEN + hdr.size;
		if (g->frame.service)
			g->act_negotiated = true;
	}
	kvp_ic_set_reply(g->pkt, KVP_S_OK);
	if (send_frame(g, KVP_VSOCK_PACKET, g->frame.service, g->frame.id,
		       g->pkt, g->frame.length))
		return -EIO;
	return hdr.type == KVP_IC_TYPE_NEGOTIATE && g->frame.service ? 2 : 1;
}

int guest_pump(struct guest *g)
{
	int ret;

	do {
		ret = recv_frame(g);
		if (ret)
			return ret;
		ret = guest_answer(g);
	} while (ret == 1);
	return ret == 2 ? 1 : ret;
}

long long hello_exchange(int fd, u16 *version, u32 spoken,
			 struct kvp_frame *f, u8 *pkt)
{
	u8 hello[KVP_VSOCK_HELLO_LEN];
	struct kvp_frame h = { .version = *version, .type = KVP_VSOCK_HELLO };
	u32 services;

	h.length = kvp_frame_hello_build(hello, *version, spoken);
	if (frame_write(fd, &h, 0, hello) ||
	    frame_read(fd, f, pkt, GUEST_WAIT_MS) ||
	    f->type != KVP_VSOCK_WELCOME ||
	    kvp_frame_welcome_parse(f, pkt, *version, spoken, &services))
		return -1;
	*version = f->version;
	return services;
}

long long guest_hello(struct guest *g, const char *path, u16 version,
		      u32 spoken)
{
	memset(g, 0, sizeof(*g));
	g->next_id = 1;
	g->version = version;
	g->fd = try_connect(path);
	if (g->fd < 0)
		return -1;
	return hello_exchange(g->fd, &g->version, spoken, &g->frame, g->pkt);
}

int guest_connect(struct guest *g, const char *path)
{
	if (guest_hello(g, path, KVP_VSOCK_VERSION_MAX, GUEST_BOTH) !=
	    GUEST_BOTH)
		return -1;
	/* Until the NEGOTIATE on service 1 is answered. */
	return guest_pump(g) == 1 ? 0 : -1;
}

size_t avma_request_packet(const struct kvp_avma_request *req, u8 *pkt)
{
	struct kvp_ic_hdr hdr = {
		.fw_version = KVP_VERSION(3, 0),
		.type = KVP_IC_TYPE_AVMA,
		.msg_version = KVP_VERSION(1, 0),
		.size = KVP_AVMA_REQUEST_LEN,
		.flags = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST,
	};

	kvp_ic_build(pkt, &hdr);
	kvp_avma_request_build(pkt + KVP_ICMSG_HDR_LEN, req);
	return KVP_ICMSG_HDR_LEN + KVP_AVMA_REQUEST_LEN;
}

u64 guest_send_avma(struct guest *g, const struct kvp_avma_request *req)
{
	u8 pkt[KVP_ICMSG_HDR_LEN + KVP_AVMA_REQUEST_LEN];
	u64 id = g->next_id++;

	if (send_frame(g, KVP_VSOCK_PACKET, KVP_VSOCK_SERVICE_ACTIVATION, id,
		       pkt, avma_request_packet(req, pkt)))
		return 0;
	return id;
}

int guest_avma_reply(const struct guest *g, u64 id, const u8 *nonce,
		     struct kvp_avma_reply *rep, u8 *body)
{
	struct kvp_ic_hdr hdr;

	if (g->frame.id != id ||
	    kvp_ic_parse(g->pkt, g->frame.length, &hdr) ||
	    hdr.flags != (KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE) ||
	    hdr.status != KVP_S_OK || hdr.fw_version != KVP_VERSION(3, 0) ||
	    hdr.msg_version != KVP_VERSION(1, 0) ||
	    hdr.size > KVP_AVMA_REPLY_MAX)
		return -1;
	memcpy(body, g->pkt + KVP_ICMSG_HDR_LEN, hdr.size);
	if (kvp_avma_reply_parse(body, hdr.size, rep) ||
	    memcmp(rep->nonce, nonce, KVP_AVMA_NONCE_LEN))
		return -1;
	return 0;
}
