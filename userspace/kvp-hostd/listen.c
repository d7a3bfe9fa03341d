// SPDX-License-Identifier: GPL-2.0
/*
 * The guest listener: AF_VSOCK, where a guest's CID is its peer address,
 * or, as a testing aid (--listen-unix), a unix socket whose connections are
 * numbered as CIDs from KVP_HOSTD_FIRST_UNIX_CID up, since this machine's
 * kernel has no vsock.  Both carry the same framing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "hostd.h"
#include "log.h"

static struct {
	struct kvp_watch watch;
	const char *unix_path;	/* set for --listen-unix */
	u32 next_cid;
} kvp_listener = { .watch.fd = -1 };

/* Whether something answers on the unix socket sa: then it is not stale. */
static bool kvp_unix_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return used;
}

/*
 * Makes room for a socket at sa: there is nothing, or a stale socket from an
 * earlier run, which is removed.  A live socket (another daemon's) and
 * anything but a socket (a file given by mistake) are left alone, refused.
 */
static int kvp_unix_clear(const struct sockaddr_un *sa)
{
	const char *path = sa->sun_path;
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		kvp_err("%s exists and is not a socket: not replacing it", path);
		return -EEXIST;
	}
	if (kvp_unix_in_use(sa)) {
		kvp_err("%s: another kvp-hostd is listening there", path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * Binds and listens on a unix stream socket, replacing only a stale one;
 * returns the fd or -errno.
 */
int kvp_unix_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	err = kvp_unix_clear(&sa);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The address buffer is sockaddr_vm-sized: a unix peer's is cut, unused. */
static u32 kvp_peer_cid(const struct sockaddr_vm *sa)
{
	if (kvp_listener.unix_path)
		return kvp_listener.next_cid++;
	return sa->svm_cid;
}

static void kvp_accept(struct kvp_watch *watch, u32 events)
{
	struct sockaddr_vm sa;
	socklen_t len;
	int fd;

	(void)events;
	for (;;) {
		len = sizeof(sa);
		fd = accept4(watch->fd, (struct sockaddr *)&sa, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		kvp_guest_new(fd, kvp_peer_cid(&sa));
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		kvp_warn("accept: %s", strerror(errno));
}

static int kvp_listen_start(int fd)
{
	if (fd < 0)
		return fd;
	kvp_listener.watch.fd = fd;
	kvp_listener.watch.handle = kvp_accept;
	return kvp_loop_add(&kvp_listener.watch, EPOLLIN);
}

int kvp_listen_guests_vsock(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = cid,
		.svm_port = port,
	};
	int fd, err;

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		kvp_err("vsock socket: %s", strerror(errno));
		return err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		err = -errno;
		kvp_err("vsock listen on %u:%u: %s", cid, port, strerror(errno));
		close(fd);
		return err;
	}
	return kvp_listen_start(fd);
}

/* The test transport. */
int kvp_listen_guests_unix(const char *path)
{
	int fd;

	fd = kvp_unix_listen(path);
	if (fd < 0) {
		kvp_err("listen on %s: %s", path, strerror(-fd));
		return fd;
	}
	kvp_listener.unix_path = path;
	kvp_listener.next_cid = KVP_HOSTD_FIRST_UNIX_CID;
	return kvp_listen_start(fd);
}

void kvp_listen_close(void)
{
	if (kvp_listener.watch.fd < 0)
		return;
	close(kvp_listener.watch.fd);
	kvp_listener.watch.fd = -1;
	if (kvp_listener.unix_path)
		unlink(kvp_listener.unix_path);
}
