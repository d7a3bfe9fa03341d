// SPDX-License-Identifier: GPL-2.0
/*
 * Activation events through journald's native protocol (one datagram per
 * entry on its socket: FIELD=value lines, and for a value holding a
 * newline the field name, a newline, the value's length as 64-bit little
 * endian, the value and a newline), written here rather than with
 * libsystemd so that the tools need no more libraries.  Without journald,
 * one syslog line of key=value pairs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "event.h"
#include "wire.h"

/* A growing buffer; a failed allocation shows as buf NULL at the end. */
struct ev_buf {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void ev_add(struct ev_buf *b, const void *data, size_t len)
{
	char *p;

	if (b->failed)
		return;
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		p = realloc(b->buf, b->cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->buf = p;
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
}

static void ev_str(struct ev_buf *b, const char *s)
{
	ev_add(b, s, strlen(s));
}

/* journald's rules: A-Z, 0-9 and _, not first _ or a digit, 64 at most. */
static bool field_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > 64 || name[0] == '_' ||
	    (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return true;
}

static void journal_field(struct ev_buf *b, const char *name,
			  const char *value)
{
	u8 len[8];

	ev_str(b, name);
	if (strchr(value, '\n')) {
		ev_str(b, "\n");
		kvp_put_le64(len, strlen(value));
		ev_add(b, len, sizeof(len));
	} else {
		ev_str(b, "=");
	}
	ev_str(b, value);
	ev_str(b, "\n");
}

/* Plain when it can be, else in double quotes with C-like escapes. */
static void syslog_value(struct ev_buf *b, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	char esc[8];

	if (*s && !strpbrk(value, " \t\n\r\"\\=")) {
		for (; *s && *s >= 0x20 && *s != 0x7f; s++)
			;
		if (!*s) {
			ev_str(b, value);
			return;
		}
		s = (const unsigned char *)value;
	}
	ev_str(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *s);
		else if (*s == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (*s < 0x20 || *s == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", *s);
		else
			snprintf(esc, sizeof(esc), "%c", *s);
		ev_str(b, esc);
	}
	ev_str(b, "\"");
}

static int journal_send(const char *path, const struct ev_buf *b)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ret = 0;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, b->buf, b->len, MSG_NOSIGNAL,
		   (struct sockaddr *)&addr, sizeof(addr)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void syslog_send(int id, int priority, const char *message,
			const struct kvp_event_field *fields,
			unsigned int nr_fields, struct ev_buf *b)
{
	char num[16];
	unsigned int i;

	snprintf(num, sizeof(num), "event=%d", id);
	ev_str(b, num);
	for (i = 0; i < nr_fields; i++) {
		ev_str(b, " ");
		ev_str(b, fields[i].name);
		ev_str(b, "=");
		syslog_value(b, fields[i].value);
	}
	ev_str(b, " MESSAGE=");
	syslog_value(b, message);
	ev_add(b, "", 1);
	if (!b->failed)
		syslog(priority, "%s", b->buf);
}

int kvp_event_log(const char *socket_path, int id, int priority,
		  const char *message, const struct kvp_event_field *fields,
		  unsigned int nr_fields)
{
	struct ev_buf b = { 0 };
	char num[16];
	unsigned int i;
	int ret;

	for (i = 0; i < nr_fields; i++)
		if (!field_name_ok(fields[i].name))
			return -EINVAL;
	if (id == KVP_EVENT_GUEST)
		journal_field(&b, "MESSAGE_ID", KVP_EVENT_GUEST_ID);
	else if (id == KVP_EVENT_HOST)
		journal_field(&b, "MESSAGE_ID", KVP_EVENT_HOST_ID);
	else
		return -EINVAL;
	snprintf(num, sizeof(num), "%d", priority & LOG_PRIMASK);
	journal_field(&b, "PRIORITY", num);
	journal_field(&b, "MESSAGE", message);
	journal_field(&b, "SYSLOG_IDENTIFIER", program_invocation_short_name);
	snprintf(num, sizeof(num), "%d", id);
	journal_field(&b, "KVP_EVENT_ID", num);
	for (i = 0; i < nr_fields; i++)
		journal_field(&b, fields[i].name, fields[i].value);
	ret = b.failed ? -ENOMEM :
	      journal_send(socket_path ?: KVP_JOURNAL_SOCKET, &b);
	/* No journald listening there: syslog has it. */
	if (ret && ret != -ENOMEM) {
		b.len = 0;
		syslog_send(id, priority, message, fields, nr_fields, &b);
		ret = b.failed ? -ENOMEM : 0;
	}
	free(b.buf);
	return ret;
}
