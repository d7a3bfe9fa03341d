// SPDX-License-Identifier: GPL-2.0
/*
 * Activation in the test VM (`make bench`), every piece real: a kvp-hostd
 * (a declared Windows Server 2022 Datacenter licence, the rate limit
 * lifted as far as the config allows, the history on, all in this
 * directory) over vsock loopback, kvp.ko and kvp_vsock.ko, and a key
 * installed with `kvpctl license install-key`.  No kvpd: it would activate
 * on its own and add to the counts.
 *
 *   activation vm_ms=T          the median time of one whole activation as
 *                               the guest does it: kvp_guest_activate()
 *                               with kvp_guest_nl_exchange(), in this
 *                               process (request, netlink, kvp.ko, vsock,
 *                               the host's decision, the grant checked,
 *                               state file and event written).
 *                               vm_ms_kvpctl: `kvpctl license activate`,
 *                               its exec included.
 *   activation round_trips=N    activation requests kvp.ko sent to the
 *                               host (its activation service's request
 *                               counter) per activation, measured; the
 *                               host's history rows per activation
 *                               (`kvpctl host history -j`) would show a
 *                               hidden extra exchange too.
 *
 * Exit status 1 when the setup failed or an activation was not Success.
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "license.h"
#include "nl.h"
#include "vmtest.h"

#define PORT		"5996"
#define KEY		"W3GNR-8DDXR-2TFRP-H8P33-DV9BG"	/* 2022 datacenter */
#define VM_ID		"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define WARM_UP		3
#define RUNS		200
#define KVPCTL_RUNS	50

static char dir[256], state[300], ctl[300];
static pid_t hostd;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int write_config(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "[host]\nname = bench-host\nstate-dir = %s/hostd\n\n"
		"[activation]\nlease = 7d\nrate-burst = 1000\n"
		"rate-interval = 1s\nhistory = %s/hostd/history.db\n\n"
		"[license]\nproduct = windows-server\nversion = 2022\n"
		"edition = datacenter\nactivated = yes\n", dir, dir);
	return fclose(f);
}

static u64 requests_sent(void)
{
	struct kvp_nl_status st;

	if (vm_service_status(KVP_SERVICE_ACTIVATION, &st))
		return 0;
	return st.stats[KVP_NL_STAT_REQUESTS];
}

/* The host's history rows: the lines of `kvpctl host history` but its
 * header (each row is one line, far shorter than buf). */
static long history_rows(void)
{
	char cmd[400], buf[4096];
	long rows = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "kvpctl --socket %s host history", ctl);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f))
		if (strncmp(buf, "TIME ", 5))
			rows++;
	return pclose(f) ? -1 : rows;
}

static int setup(void)
{
	char config[300], cmd[400];
	struct kvp_nl_status st;
	int i;

	if (!getcwd(dir, sizeof(dir)))
		return -1;
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(ctl, sizeof(ctl), "%s/hostd.sock", dir);
	snprintf(config, sizeof(config), "%s/hostd.conf", dir);
	/*
	 * No daemon: the host's KVP items (HostName...) fail at once rather
	 * than queue on the connection for 5 s each.
	 */
	if (write_config(config) || system("modprobe kvp daemon_wait_ms=1"))
		return -1;
	hostd = fork();
	if (hostd == 0) {
		/* A line per activation: kept in hostd.log. */
		if (!freopen("hostd.log", "w", stderr))
			_exit(126);
		execl("/usr/sbin/kvp-hostd", "kvp-hostd", "-f", "--config",
		      config, "--socket", ctl, "--port", PORT, "--vm",
		      "1=bench-guest", NULL);
		_exit(127);
	}
	if (hostd < 0 || system("modprobe kvp_vsock host_cid=1 port=" PORT))
		return -1;
	for (i = 0; i < 200; i++) {
		if (!vm_service_status(KVP_SERVICE_ACTIVATION, &st) &&
		    st.state == KVP_STATE_NEGOTIATED)
			break;
		usleep(100000);
	}
	if (i == 200) {
		fprintf(stderr, "bench: the activation service was not negotiated\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd),
		 "kvpctl --state-dir %s license install-key " KEY " >/dev/null",
		 state);
	return system(cmd) ? -1 : 0;
}

/* The daemon stopped, the modules unloaded; its log shown on a failure. */
static void cleanup(bool failed)
{
	if (failed && system("tail -n 20 hostd.log"))
		fprintf(stderr, "bench: no kvp-hostd log\n");
	if (hostd > 0) {
		kill(hostd, SIGTERM);
		waitpid(hostd, NULL, 0);
	}
	if (system("rmmod kvp_vsock; rmmod kvp"))
		fprintf(stderr, "bench: rmmod failed\n");
}

/* One activation through the library; its time in ms, or -1. */
static double activate(const struct kvp_guest_activation *act)
{
	u32 outcome, reason;
	char error[256] = "";
	struct kvp_guest g;
	double start = now();
	int err = kvp_guest_activate(act, &outcome, &reason, &g, error,
				     sizeof(error));

	if (err || outcome != KVP_AVMA_SUCCESS) {
		printf("# activation failed: %d (%s), outcome %u reason %u\n",
		       err, error, err ? 0 : outcome, err ? 0 : reason);
		return -1;
	}
	return (now() - start) * 1e3;
}

/* One `kvpctl license activate`, exec included; its time in ms, or -1. */
static double activate_kvpctl(void)
{
	double start = now();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execlp("kvpctl", "kvpctl", "--state-dir", state, "license",
		       "activate", "--vm-id", VM_ID, NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status) {
		printf("# kvpctl license activate failed (%s %d)\n",
		       pid < 0 ? "fork, errno" : "exit status",
		       pid < 0 ? errno : WEXITSTATUS(status));
		return -1;
	}
	return (now() - start) * 1e3;
}

/*
 * n activations, by the library or kvpctl: their median time, and what
 * kvp.ko sent and the host recorded per activation.  The number failed.
 */
static int measure(const char *what, const struct kvp_guest_activation *act,
		   int n)
{
	static double ms[RUNS];
	u64 sent = requests_sent();
	long rows = history_rows(), after;
	int i, ok = 0, failed = 0;
	double t;

	for (i = 0; i < n; i++) {
		t = act ? activate(act) : activate_kvpctl();
		if (t < 0)
			failed++;
		else
			ms[ok++] = t;
	}
	sent = requests_sent() - sent;
	after = history_rows();
	if (rows < 0 || after < 0) {
		printf("# cannot read the host's history\n");
		return failed + 1;
	}
	rows = after - rows;
	if (!ok)
		return failed;
	qsort(ms, ok, sizeof(ms[0]), cmp_double);
	printf("activation%s runs=%d failed=%d ms p50=%.2f p95=%.2f min=%.2f requests_sent=%llu history_rows=%ld\n",
	       what, n, failed, ms[ok / 2], ms[ok * 95 / 100], ms[0],
	       (unsigned long long)sent, rows);
	if (act) {
		printf("activation round_trips=%g\n", (double)sent / n);
		printf("activation history_rows_per_activation=%g\n",
		       (double)rows / n);
		printf("activation vm_ms=%.2f\n", ms[ok / 2]);
	} else {
		printf("activation round_trips_kvpctl=%g\n", (double)sent / n);
		printf("activation vm_ms_kvpctl=%.2f\n", ms[ok / 2]);
	}
	return failed;
}

int main(void)
{
	struct kvp_guest_activation act = { .exchange = kvp_guest_nl_exchange };
	struct kvp_catalog *catalog = NULL;
	char error[256];
	int i, failed = 0;

	if (setup() ||
	    kvp_catalog_load(&catalog, NULL, error, sizeof(error)) ||
	    kvp_uuid_parse(VM_ID, act.vm_id)) {
		fprintf(stderr, "bench: setup failed\n");
		cleanup(true);
		return 1;
	}
	act.dir = state;
	act.catalog = catalog;
	for (i = 0; i < WARM_UP; i++)
		failed += activate(&act) < 0;
	failed += measure("", &act, RUNS);
	failed += measure(" kvpctl", NULL, KVPCTL_RUNS);
	kvp_catalog_free(catalog);
	cleanup(failed);
	return failed ? 1 : 0;
}
