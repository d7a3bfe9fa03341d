// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's licence state files (userspace/lib/license.c), which a
 * crash, a full disk or a hand edit may leave in any shape.  Input: byte 0
 * picks the file (even: the state file, license; odd: license.events) and,
 * for the events, after how many the callback stops the walk (byte 0 >> 1,
 * 0: never); the rest is the file, written to a folder of the harness's
 * own.
 *
 * Properties: the state loads as 0 or -EBADMSG; on an error it is
 * the empty state and the message names the file; a state that loads holds
 * its texts' NULs, a key kept whole (AVMA) or by its last group, and a
 * grant, if any, of at most KVP_GRANT_MAX_LEN bytes that decodes to what
 * the state says it is, for the key's product.  The events walk returns 0,
 * or the callback's error when it stops it, and hands over only events
 * whose names and texts the file format can hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "license.h"

static char lic_dir[] = "/tmp/license_fuzz.XXXXXX";
static char state_path[64], events_path[64];

static void remove_dir(void)
{
	unlink(state_path);
	unlink(events_path);
	rmdir(lic_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(lic_dir))
		abort();
	snprintf(state_path, sizeof(state_path), "%s/license", lic_dir);
	snprintf(events_path, sizeof(events_path), "%s/license.events",
		 lic_dir);
	atexit(remove_dir);
	return 0;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
}

/* A text field of `size` bytes holds its NUL. */
#define FUZZ_TEXT(field)	FUZZ_CHECK(strnlen(field, sizeof(field)) < \
					   sizeof(field))

static void check_loaded(const struct kvp_guest *g)
{
	struct kvp_grant d;

	FUZZ_TEXT(g->key);
	FUZZ_TEXT(g->product);
	FUZZ_TEXT(g->version);
	FUZZ_TEXT(g->edition);
	if (!g->key[0])
		return;		/* an empty file: nothing else to hold */
	FUZZ_CHECK(strlen(g->key) == (g->avma ? KVP_KEY_TEXT_LEN : 5));
	FUZZ_CHECK(g->avma == !!g->product[0]);
	FUZZ_CHECK(!g->tried || g->outcome < KVP_AVMA_OUTCOME_COUNT);
	if (!g->grant_len)
		return;
	FUZZ_CHECK(g->avma && g->grant_len <= KVP_GRANT_MAX_LEN);
	FUZZ_CHECK(!kvp_grant_decode(g->grant, g->grant_len, &d));
	FUZZ_CHECK(!memcmp(d.id, g->decoded.id, sizeof(d.id)));
	FUZZ_CHECK(d.expires == g->decoded.expires);
	FUZZ_CHECK(!strcmp(g->decoded.product, g->product));
	FUZZ_CHECK(!strcmp(g->decoded.version, g->version));
	FUZZ_CHECK(!strcmp(g->decoded.edition, g->edition));
	FUZZ_CHECK(!strcmp(d.product, g->product));
}

static void check_state(void)
{
	static const struct kvp_guest empty;
	struct kvp_guest g, again;
	char error[512];
	int ret;

	memset(&g, 0xa5, sizeof(g));
	error[0] = '\0';
	ret = kvp_guest_load(lic_dir, &g, error, sizeof(error));
	/* The file is there and readable: only its content can fail it. */
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG);
	if (ret) {
		FUZZ_CHECK(!memcmp(&g, &empty, sizeof(g)));
		FUZZ_CHECK(!strncmp(error, state_path, strlen(state_path)));
	} else {
		check_loaded(&g);
	}
	kvp_guest_state(&g, 0, NULL);
	/* Loading again reads the same. */
	FUZZ_CHECK(kvp_guest_load(lic_dir, &again, NULL, 0) == ret);
	FUZZ_CHECK(again.grant_len == g.grant_len &&
		   !strcmp(again.key, g.key));
}

struct walk {
	unsigned int seen, stop_after;
};

static int on_event(const struct kvp_guest_event *ev, void *arg)
{
	struct walk *w = arg;

	FUZZ_CHECK(ev->outcome < KVP_AVMA_OUTCOME_COUNT);
	FUZZ_TEXT(ev->product);
	FUZZ_TEXT(ev->version);
	FUZZ_TEXT(ev->edition);
	FUZZ_TEXT(ev->host_name);
	FUZZ_TEXT(ev->host_id);
	FUZZ_TEXT(ev->grant_id);
	FUZZ_CHECK(!strpbrk(ev->host_name, "\t\n"));
	w->seen++;
	return w->seen == w->stop_after ? -ECANCELED : 0;
}

static void check_events(const uint8_t *data, size_t size,
			 unsigned int stop_after)
{
	struct walk w = { .stop_after = stop_after };
	size_t i, lines = 0;
	int ret;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	ret = kvp_guest_events(lic_dir, on_event, &w);
	if (stop_after && w.seen == stop_after)
		FUZZ_CHECK(ret == -ECANCELED);
	else
		FUZZ_CHECK(ret == 0);
	/* No more events than lines (a last one may lack its newline). */
	FUZZ_CHECK(w.seen <= lines + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1) {
		unlink(state_path);
		write_file(events_path, data + 1, size - 1);
		check_events(data + 1, size - 1, data[0] >> 1);
	} else {
		unlink(events_path);
		write_file(state_path, data + 1, size - 1);
		check_state();
	}
	return 0;
}
