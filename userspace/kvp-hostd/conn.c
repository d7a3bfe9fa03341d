// SPDX-License-Identifier: GPL-2.0
/*
 * Non-blocking connections: an input buffer the owner parses frames from,
 * and an output buffer holding what the peer has not taken yet, so that a
 * slow peer never blocks the loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostd.h"

static int kvp_buf_reserve(struct kvp_buf *buf, size_t room)
{
	size_t cap = buf->cap ? buf->cap : 4096;
	u8 *data;

	if (buf->cap - buf->len >= room)
		return 0;
	while (cap - buf->len < room)
		cap *= 2;
	data = realloc(buf->data, cap);
	if (!data)
		return -ENOMEM;
	buf->data = data;
	buf->cap = cap;
	return 0;
}

void kvp_buf_consume(struct kvp_buf *buf, size_t len)
{
	memmove(buf->data, buf->data + len, buf->len - len);
	buf->len -= len;
}

static void kvp_conn_update(struct kvp_conn *conn)
{
	u32 events = (conn->want_in ? EPOLLIN : 0) |
			  (conn->out.len ? EPOLLOUT : 0);

	if (events != conn->events) {
		conn->events = events;
		kvp_loop_mod(&conn->watch, events);
	}
}

int kvp_conn_init(struct kvp_conn *conn, int fd,
		  void (*handle)(struct kvp_watch *, u32))
{
	memset(conn, 0, sizeof(*conn));
	conn->watch.fd = fd;
	conn->watch.handle = handle;
	conn->want_in = true;
	conn->events = EPOLLIN;
	return kvp_loop_add(&conn->watch, EPOLLIN);
}

/*
 * Reads what fits below max bytes of input.  Returns the bytes read, 0 at
 * end of stream, -EAGAIN when there is nothing more for now, -ENOBUFS when
 * the buffer already holds max bytes, or another -errno.
 */
ssize_t kvp_conn_read(struct kvp_conn *conn, size_t max)
{
	ssize_t n;

	if (conn->in.len >= max)
		return -ENOBUFS;
	if (kvp_buf_reserve(&conn->in, max - conn->in.len))
		return -ENOMEM;
	do {
		n = read(conn->watch.fd, conn->in.data + conn->in.len,
			 max - conn->in.len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	conn->in.len += n;
	return n;
}

/* Writes out what the peer takes now; the rest waits for EPOLLOUT. */
int kvp_conn_flush(struct kvp_conn *conn)
{
	ssize_t n;

	while (conn->out.len) {
		n = send(conn->watch.fd, conn->out.data, conn->out.len,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -errno;
		kvp_buf_consume(&conn->out, n);
	}
	kvp_conn_update(conn);
	return 0;
}

/*
 * Adds to the output without sending, so that a message built in parts
 * goes out in one send: kvp_conn_flush() then.
 */
int kvp_conn_queue(struct kvp_conn *conn, const void *data, size_t len)
{
	if (kvp_buf_reserve(&conn->out, len))
		return -ENOMEM;
	memcpy(conn->out.data + conn->out.len, data, len);
	conn->out.len += len;
	return 0;
}

int kvp_conn_send(struct kvp_conn *conn, const void *data, size_t len)
{
	int err = kvp_conn_queue(conn, data, len);

	return err ? err : kvp_conn_flush(conn);
}

void kvp_conn_want_input(struct kvp_conn *conn, bool want)
{
	conn->want_in = want;
	kvp_conn_update(conn);
}

void kvp_conn_close(struct kvp_conn *conn)
{
	kvp_loop_del(&conn->watch);
	close(conn->watch.fd);
	free(conn->in.data);
	free(conn->out.data);
}
