// SPDX-License-Identifier: GPL-2.0
/*
 * lib/event.c: the exact datagram a journald socket receives (a socket of
 * the test's own in a fresh directory under /tmp), the length-prefixed
 * form for values holding a newline, and the syslog line used when no
 * journald listens (seen through LOG_PERROR on a captured stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "event.h"

FIXTURE(journal)
{
	char dir[64];
	char path[96];
	int fd;
};

FIXTURE_SETUP(journal)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	strcpy(self->dir, "/tmp/kvp-event-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/socket", self->dir);
	strcpy(addr.sun_path, self->path);
	self->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, bind(self->fd, (struct sockaddr *)&addr, sizeof(addr)));
}

FIXTURE_TEARDOWN(journal)
{
	close(self->fd);
	unlink(self->path);
	rmdir(self->dir);
}

/* The datagram waiting on the socket, or -1 when none is. */
static ssize_t receive(int fd, char *buf, size_t cap)
{
	return recv(fd, buf, cap, MSG_DONTWAIT);
}

static const struct kvp_event_field fields[] = {
	{ "KVP_OUTCOME", "Success" },
	{ "KVP_HOST_NAME", "host one" },
	{ "KVP_GRANT_ID", "" },
};

TEST_F(journal, datagram_is_exact)
{
	char want[512], got[1024];
	ssize_t n;
	int len;

	ASSERT_EQ(0, kvp_event_log(self->path, KVP_EVENT_GUEST, LOG_INFO,
				   "Activation succeeded", fields, 3));
	len = snprintf(want, sizeof(want),
		       "MESSAGE_ID=" KVP_EVENT_GUEST_ID "\n"
		       "PRIORITY=6\n"
		       "MESSAGE=Activation succeeded\n"
		       "SYSLOG_IDENTIFIER=%s\n"
		       "KVP_EVENT_ID=12309\n"
		       "KVP_OUTCOME=Success\n"
		       "KVP_HOST_NAME=host one\n"
		       "KVP_GRANT_ID=\n", program_invocation_short_name);
	n = receive(self->fd, got, sizeof(got));
	ASSERT_EQ(len, n);
	EXPECT_EQ(0, memcmp(want, got, len));
	/* One event, one datagram. */
	EXPECT_EQ(-1, receive(self->fd, got, sizeof(got)));
}

TEST_F(journal, host_event_id)
{
	static const char head[] =
		"MESSAGE_ID=" KVP_EVENT_HOST_ID "\nPRIORITY=4\nMESSAGE=Denied\n";
	char got[1024];
	ssize_t n;

	ASSERT_EQ(0, kvp_event_log(self->path, KVP_EVENT_HOST, LOG_WARNING,
				   "Denied", NULL, 0));
	n = receive(self->fd, got, sizeof(got) - 1);
	ASSERT_LT(0, n);
	got[n] = '\0';
	EXPECT_EQ(0, strncmp(got, head, strlen(head)));
	EXPECT_NE(NULL, strstr(got, "\nKVP_EVENT_ID=12310\n"));
}

TEST_F(journal, newline_values_are_length_prefixed)
{
	static const struct kvp_event_field multi[] = {
		{ "KVP_REASON", "first\nsecond" },
	};
	static const char tail[] =
		"KVP_EVENT_ID=12310\n"
		"KVP_REASON\n\x0c\0\0\0\0\0\0\0first\nsecond\n";
	char got[1024], *p;
	ssize_t n;

	ASSERT_EQ(0, kvp_event_log(self->path, KVP_EVENT_HOST, LOG_ERR,
				   "two\nlines", multi, 1));
	n = receive(self->fd, got, sizeof(got));
	ASSERT_LT(0, n);
	EXPECT_EQ(0, memcmp(got + n - (sizeof(tail) - 1), tail,
			    sizeof(tail) - 1));
	p = memmem(got, n, "MESSAGE\n\x09\0\0\0\0\0\0\0two\nlines\n", 26);
	EXPECT_NE(NULL, p);
}

TEST_F(journal, bad_input_sends_nothing)
{
	static const char *const names[] = {
		"", "kvp_outcome", "_KVP", "1KVP", "KVP-OUTCOME", "KVP OUTCOME",
		"KK" "012345678901234567890123456789012345678901234567890123456789012",
	};
	struct kvp_event_field f = { NULL, "x" };
	char got[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		f.name = names[i];
		EXPECT_EQ(-EINVAL, kvp_event_log(self->path, KVP_EVENT_GUEST,
						 LOG_INFO, "m", &f, 1))
			TH_LOG("name %u accepted", i);
	}
	EXPECT_EQ(-EINVAL, kvp_event_log(self->path, 12311, LOG_INFO, "m",
					 NULL, 0));
	EXPECT_EQ(-1, receive(self->fd, got, sizeof(got)));
	/* 64 characters is journald's limit, and allowed. */
	f.name = names[ARRAY_SIZE(names) - 1] + 1;
	EXPECT_EQ(0, kvp_event_log(self->path, KVP_EVENT_GUEST, LOG_INFO, "m",
				   &f, 1));
}

/* Runs one event with no journald at `path`; returns what syslog printed. */
static char *syslog_line(const char *path, int *ret)
{
	char file[] = "/tmp/kvp-event-log-XXXXXX", *text;
	int fd = mkstemp(file), saved;
	FILE *f;
	long len;

	if (fd < 0)
		abort();
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	openlog("kvp-test", LOG_PERROR, LOG_USER);
	*ret = kvp_event_log(path, KVP_EVENT_GUEST, LOG_NOTICE,
			     "Activation: \"done\"", fields, 3);
	closelog();
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, len + 1);
	if (!text || fread(text, 1, len, f) != (size_t)len)
		abort();
	fclose(f);
	unlink(file);
	return text;
}

TEST_F(journal, no_journald_goes_to_syslog)
{
	static const char line[] =
		"event=12309 KVP_OUTCOME=Success KVP_HOST_NAME=\"host one\" "
		"KVP_GRANT_ID=\"\" MESSAGE=\"Activation: \\\"done\\\"\"\n";
	char missing[128], got[64], *text;
	int ret;

	snprintf(missing, sizeof(missing), "%s/none", self->dir);
	text = syslog_line(missing, &ret);
	EXPECT_EQ(0, ret);
	EXPECT_NE(NULL, strstr(text, line)) TH_LOG("syslog printed: %s", text);
	free(text);

	/* A file there, but nobody listening: the same. */
	close(open(missing, O_CREAT | O_WRONLY, 0600));
	text = syslog_line(missing, &ret);
	EXPECT_EQ(0, ret);
	EXPECT_NE(NULL, strstr(text, line));
	free(text);
	unlink(missing);
	EXPECT_EQ(-1, receive(self->fd, got, sizeof(got)));
}

TEST_HARNESS_MAIN
