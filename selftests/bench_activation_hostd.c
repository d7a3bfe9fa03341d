// SPDX-License-Identifier: GPL-2.0
/*
 * kvp-hostd's activations per second (`make bench`): the real daemon, with
 * the history on (SQLite, in a temporary directory), a declared Windows
 * Server 2022 Datacenter licence and the rate limit lifted as far as the
 * config allows (1000 at once per VM), takes 100 simulated guests at once
 * on --listen-unix (fakeguest.c: framing version 3, both services
 * negotiated).  Each guest keeps one activation request in flight (a
 * fresh nonce each, the AVMA keys of the shipped catalog for versions the
 * licence covers) until GUESTS * PER_GUEST are answered.  per_sec is the
 * Success replies per second of wall time from the first request to the
 * last reply.  Every reply is checked (Success, nonce, frame id) and the
 * failures are printed; the history rows and 12310 events are counted
 * against the requests.  Exit status 1 when the setup or a reply failed.
 *
 * Paths are relative to selftests/ (the program moves there: it is
 * selftests/out/native/bench_activation_hostd); KVP_HOSTD names another
 * daemon.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "fakeguest.h"
#include "history.h"
#include "sign.h"

#define GUESTS		100
#define PER_GUEST	50
#define SHOW_FAILURES	10

struct bench_guest {
	struct guest g;
	struct kvp_avma_request req;	/* the one in flight */
	u64 id;
	double sent;
	unsigned int done;
};

struct bench {
	char dir[64];
	char config[96];
	char guest_sock[96];
	char ctl_sock[96];
	char journal[96];
	char history[96];
	char log[96];
	int journal_fd;
	pid_t pid;
	/* The catalog keys the licence covers. */
	const struct kvp_product_key *keys[64];
	unsigned int nr_keys;
	struct kvp_catalog *catalog;
	/* Results. */
	unsigned int success, failed, events;
	double *latency;
	unsigned int nr_latency;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* To selftests/, where the paths of the build start. */
static int to_selftests(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -1;
	exe[n] = '\0';
	return chdir(dirname(exe)) || chdir("../..") ? -1 : 0;
}

/* Windows Server keys of 2022 and older, every edition. */
static int load_keys(struct bench *b)
{
	static const char *const dirs[] = { "../userspace/catalog", NULL };
	const struct kvp_product *p;
	char error[256];
	unsigned int i;
	int top;

	if (kvp_catalog_load(&b->catalog, dirs, error, sizeof(error))) {
		fprintf(stderr, "bench: catalog: %s\n", error);
		return -1;
	}
	p = kvp_catalog_product(b->catalog, "windows-server");
	top = p ? kvp_product_version_rank(p, "2022") : -1;
	for (i = 0; top >= 0 && i < p->nr_keys && b->nr_keys < 64; i++)
		if (kvp_product_version_rank(p, p->keys[i].version) <= top)
			b->keys[b->nr_keys++] = &p->keys[i];
	if (!b->nr_keys) {
		fprintf(stderr, "bench: no windows-server 2022 key in the catalog\n");
		return -1;
	}
	return 0;
}

static int write_config(const struct bench *b)
{
	char cwd[PATH_MAX];
	FILE *f;

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	f = fopen(b->config, "w");
	if (!f)
		return -1;
	fprintf(f, "[host]\nname = bench-host\nstate-dir = %s/state\n\n"
		"[activation]\nlease = 7d\nrate-burst = 1000\n"
		"rate-interval = 1s\nhistory = %s\ncatalog = %s/../userspace/catalog\n"
		"journal-socket = %s\n\n"
		"[license]\nproduct = windows-server\nversion = 2022\n"
		"edition = datacenter\nactivated = yes\n",
		b->dir, b->history, cwd, b->journal);
	return fclose(f);
}

/* The events' socket, standing in for journald's: read and counted. */
static int journal_open(struct bench *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int size = 4 << 20;

	b->journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
			       SOCK_NONBLOCK, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b->journal);
	if (b->journal_fd < 0 ||
	    bind(b->journal_fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	setsockopt(b->journal_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

static void journal_drain(struct bench *b)
{
	static char buf[65536];

	while (recv(b->journal_fd, buf, sizeof(buf), 0) > 0)
		b->events++;
}

static int setup(struct bench *b)
{
	char *const args[] = {
		"-f", "--config", b->config, "--listen-unix", b->guest_sock,
		"--socket", b->ctl_sock, NULL,
	};

	snprintf(b->dir, sizeof(b->dir), "/tmp/bench_activation.XXXXXX");
	if (!mkdtemp(b->dir))
		return -1;
	snprintf(b->config, sizeof(b->config), "%s/hostd.conf", b->dir);
	snprintf(b->guest_sock, sizeof(b->guest_sock), "%s/guest.sock", b->dir);
	snprintf(b->ctl_sock, sizeof(b->ctl_sock), "%s/ctl.sock", b->dir);
	snprintf(b->journal, sizeof(b->journal), "%s/journal.sock", b->dir);
	snprintf(b->history, sizeof(b->history), "%s/history.db", b->dir);
	snprintf(b->log, sizeof(b->log), "%s/log", b->dir);
	if (load_keys(b) || write_config(b) || journal_open(b))
		return -1;
	b->pid = hostd_start(args, b->log, b->ctl_sock);
	if (b->pid <= 0) {
		fprintf(stderr, "bench: kvp-hostd did not start (log: %s)\n",
			b->log);
		return -1;
	}
	return 0;
}

/* Guest i's next request: a fresh nonce, one of the keys in turn. */
static int send_next(struct bench *b, struct bench_guest *bg, unsigned int i)
{
	const struct kvp_product_key *k =
		b->keys[(i + bg->done) % b->nr_keys];
	struct kvp_avma_request *r = &bg->req;

	memset(r, 0, sizeof(*r));
	r->op = KVP_AVMA_OP_ACTIVATE;
	if (kvp_random(r->nonce, sizeof(r->nonce)))
		return -1;
	memset(r->vm_id, 0, sizeof(r->vm_id));
	r->vm_id[0] = (u8)i;
	r->vm_id[15] = 0xbe;
	snprintf(r->product, sizeof(r->product), "windows-server");
	snprintf(r->version, sizeof(r->version), "%s", k->version);
	snprintf(r->edition, sizeof(r->edition), "%s", k->edition);
	snprintf(r->key, sizeof(r->key), "%s", k->key);
	snprintf(r->vm_name, sizeof(r->vm_name), "bench-%u", i);
	bg->sent = now();
	bg->id = guest_send_avma(&bg->g, r);
	return bg->id ? 0 : -1;
}

/* A frame from guest i's connection: the host's item or our reply. */
static int on_frame(struct bench *b, struct bench_guest *bg, unsigned int i)
{
	static u8 body[KVP_AVMA_REPLY_MAX];
	struct kvp_avma_reply rep;
	int ret = recv_frame(&bg->g);

	if (!ret)
		ret = guest_answer(&bg->g);
	if (ret)
		return ret < 0 ? ret : 0;
	b->latency[b->nr_latency++] = now() - bg->sent;
	bg->done++;
	if (guest_avma_reply(&bg->g, bg->id, bg->req.nonce, &rep, body)) {
		if (b->failed++ < SHOW_FAILURES)
			printf("# guest %u: reply %llu does not match its request\n",
			       i, (unsigned long long)bg->id);
	} else if (rep.outcome != KVP_AVMA_SUCCESS) {
		if (b->failed++ < SHOW_FAILURES)
			printf("# guest %u: %s %s: outcome %u reason %u\n", i,
			       bg->req.version, bg->req.edition, rep.outcome,
			       rep.reason);
	} else {
		b->success++;
	}
	return bg->done < PER_GUEST ? send_next(b, bg, i) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int count_row(const struct kvp_history_row *row, void *arg)
{
	(void)row;
	++*(unsigned int *)arg;
	return 0;
}

static unsigned int history_rows(const struct bench *b)
{
	struct kvp_history *h;
	unsigned int rows = 0;
	char error[256];

	if (kvp_history_open(&h, b->history, error, sizeof(error))) {
		printf("# history: %s\n", error);
		return 0;
	}
	kvp_history_each(h, NULL, 0, count_row, &rows);
	kvp_history_close(h);
	return rows;
}

static int run(struct bench *b, struct bench_guest *bgs)
{
	struct pollfd pfd[GUESTS + 1];
	unsigned int i, busy = GUESTS;
	double start, secs;

	for (i = 0; i < GUESTS; i++)
		if (guest_connect(&bgs[i].g, b->guest_sock)) {
			fprintf(stderr, "bench: guest %u: no handshake\n", i);
			return -1;
		}
	start = now();
	for (i = 0; i < GUESTS; i++) {
		pfd[i].fd = bgs[i].g.fd;
		pfd[i].events = POLLIN;
		if (send_next(b, &bgs[i], i))
			return -1;
	}
	pfd[GUESTS].fd = b->journal_fd;
	pfd[GUESTS].events = POLLIN;
	while (busy) {
		if (poll(pfd, GUESTS + 1, GUEST_WAIT_MS) <= 0) {
			fprintf(stderr, "bench: no reply in %d ms\n",
				GUEST_WAIT_MS);
			return -1;
		}
		for (i = 0; i < GUESTS; i++) {
			/* A guest that is done is no longer heard. */
			if (!pfd[i].revents || !pfd[i].events)
				continue;
			if (on_frame(b, &bgs[i], i)) {
				fprintf(stderr, "bench: guest %u: connection failed\n",
					i);
				return -1;
			}
			if (bgs[i].done == PER_GUEST) {
				pfd[i].events = 0;
				busy--;
			}
		}
		if (pfd[GUESTS].revents)
			journal_drain(b);
	}
	secs = now() - start;
	qsort(b->latency, b->nr_latency, sizeof(double), cmp_double);
	printf("activation hostd guests=%u requests=%u success=%u failed=%u seconds=%.2f\n",
	       GUESTS, b->nr_latency, b->success, b->failed, secs);
	printf("activation hostd reply_ms p50=%.2f p95=%.2f p99=%.2f\n",
	       b->latency[b->nr_latency / 2] * 1e3,
	       b->latency[b->nr_latency * 95 / 100] * 1e3,
	       b->latency[b->nr_latency * 99 / 100] * 1e3);
	printf("activation guests=%u per_sec=%.0f\n", GUESTS,
	       b->success / secs);
	return 0;
}

int main(void)
{
	struct bench b = { .journal_fd = -1 };
	struct bench_guest *bgs = calloc(GUESTS, sizeof(*bgs));
	unsigned int i, rows;
	int err, status;
	char cmd[128];

	b.latency = calloc(GUESTS * PER_GUEST, sizeof(double));
	if (!bgs || !b.latency || to_selftests() || setup(&b)) {
		fprintf(stderr, "bench: setup failed\n");
		return 1;
	}
	err = run(&b, bgs);
	for (i = 0; i < GUESTS; i++)
		if (bgs[i].g.fd > 0)
			close(bgs[i].g.fd);
	status = hostd_stop(b.pid);
	journal_drain(&b);
	rows = history_rows(&b);
	/* One row and one event per request that parsed. */
	printf("activation hostd history_rows=%u events=%u exit=%d\n", rows,
	       b.events, status);
	/* A request the history or the journal missed is a failure too. */
	if (rows != b.nr_latency || b.events != b.nr_latency)
		err = -1;
	if (err || b.failed)
		printf("# kept for a look: %s\n", b.dir);
	else if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b.dir) &&
		 system(cmd))
		fprintf(stderr, "bench: could not remove %s\n", b.dir);
	close(b.journal_fd);
	kvp_catalog_free(b.catalog);
	free(b.latency);
	free(bgs);
	return err || b.failed || status ? 1 : 0;
}
