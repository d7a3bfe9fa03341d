// SPDX-License-Identifier: GPL-2.0
/*
 * kvpd's activation thread (Documentation/avma.rst section "Guest").
 *
 * An attempt is due when an AVMA key appears (at start, or installed by
 * kvpctl), when a host connects (the main loop pokes us on the activation
 * service's NEGOTIATED event: every host the VM meets re-validates it),
 * and when less than half of the lease is left.  A failed attempt is
 * tried again after 5 s, doubling up to an hour, but never later than the
 * end of a lease still running; at that end the state becomes
 * Notification, recorded once.
 *
 * kvpctl changes the state file behind our back: the thread stat()s it at
 * least every KVPD_STAT_SECS (a new file each write: rename), which is
 * simpler than inotify and costs nothing worth counting.  The catalog is
 * read again for each attempt, as kvpctl reads it for each command, so a
 * vendor's drop-in file needs no restart.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "activation.h"
#include "license.h"
#include "log.h"

#define KVPD_STAT_SECS		2
#define KVPD_BACKOFF_FIRST	5
#define KVPD_BACKOFF_MAX	3600
/* Attempts are at least this far apart, whatever a host says or does. */
#define KVPD_ATTEMPT_GAP	5

/* What the thread knows of the state file, and when to act next. */
struct kvpd_schedule {
	struct stat st;			/* the state file's, last seen */
	bool exists;
	char key[KVP_KEY_TEXT_LEN + 1];
	bool avma;
	uint64_t expires;		/* of the grant held, 0: none */
	uint64_t ended;			/* lease whose end is recorded */
	uint64_t next;			/* next attempt, 0: none due */
	uint64_t last;			/* the last attempt */
	uint64_t backoff;
	char error[256];		/* the last one said, not repeated */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running;
	bool poked;
	bool stop;
	const char *const *catalog_dirs;
	struct kvp_guest_activation act;
} kvpd_act = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void kvpd_say_once(struct kvpd_schedule *s, const char *error)
{
	if (!strcmp(s->error, error))
		return;
	snprintf(s->error, sizeof(s->error), "%s", error);
	if (*error)
		kvp_warn("licence: %s", error);
}

static bool kvpd_state_changed(struct kvpd_schedule *s)
{
	char path[4096];
	struct stat st;
	bool exists;

	snprintf(path, sizeof(path), "%s/license", kvpd_act.act.dir);
	exists = !stat(path, &st);
	if (exists == s->exists &&
	    (!exists || (st.st_ino == s->st.st_ino &&
			 st.st_size == s->st.st_size &&
			 st.st_mtim.tv_sec == s->st.st_mtim.tv_sec &&
			 st.st_mtim.tv_nsec == s->st.st_mtim.tv_nsec)))
		return false;
	s->exists = exists;
	if (exists)
		s->st = st;
	return true;
}

/* A new key is activated at once; any change updates the lease's end. */
static void kvpd_reload(struct kvpd_schedule *s, uint64_t now)
{
	char error[256] = "";
	struct kvp_guest g;
	bool new_key;

	kvp_guest_load(kvpd_act.act.dir, &g, error, sizeof(error));
	kvpd_say_once(s, error);
	new_key = strcmp(s->key, g.key) || s->avma != g.avma;
	snprintf(s->key, sizeof(s->key), "%s", g.key);
	s->avma = g.avma;
	s->expires = g.grant_len ? g.decoded.expires : 0;
	if (!new_key)
		return;
	s->next = g.avma ? now : 0;
	s->backoff = 0;
	if (g.avma)
		kvp_info("licence: AVMA key of %s %s %s installed", g.product,
			 g.version, g.edition);
}

static void kvpd_after_failure(struct kvpd_schedule *s, uint64_t now)
{
	s->backoff = s->backoff ? s->backoff * 2 : KVPD_BACKOFF_FIRST;
	if (s->backoff > KVPD_BACKOFF_MAX)
		s->backoff = KVPD_BACKOFF_MAX;
	s->next = now + s->backoff;
	if (s->expires > now && s->next > s->expires)
		s->next = s->expires;
}

static void kvpd_attempt(struct kvpd_schedule *s, uint64_t now)
{
	char error[512] = "", until[KVP_TIME_TEXT_LEN + 1];
	struct kvp_catalog *catalog;
	uint32_t outcome, reason;
	struct kvp_guest g;
	uint64_t lease, left;
	int err;

	s->last = now;
	err = kvp_catalog_load(&catalog, kvpd_act.catalog_dirs, error,
			       sizeof(error));
	if (err) {
		kvp_err("licence: catalog: %s", *error ? error :
			strerror(-err));
		kvpd_after_failure(s, now);
		return;
	}
	kvpd_act.act.catalog = catalog;
	err = kvp_guest_activate(&kvpd_act.act, &outcome, &reason, &g, error,
				 sizeof(error));
	kvp_catalog_free(catalog);
	if (err == -ENOKEY) {
		kvpd_say_once(s, error);
		s->next = 0;	/* until the state file changes */
		return;
	}
	if (err) {
		kvp_warn("licence: activation: %s", *error ? error :
			 strerror(-err));
		kvpd_after_failure(s, now);
		return;
	}
	if (outcome != KVP_AVMA_SUCCESS) {
		kvp_warn("licence: activation: %s (%s)",
			 kvp_avma_outcome_name(outcome),
			 kvp_avma_reason_name(reason));
		/*
		 * No activation channel, or no host on it: asking again
		 * changes nothing until a host negotiates it, and that event
		 * wakes us (on VMBus, where there is none, we never ask again).
		 */
		if (reason == KVP_AVMA_R_NO_SERVICE ||
		    reason == KVP_AVMA_R_NO_HOST)
			s->next = 0;
		else
			kvpd_after_failure(s, now);
		return;
	}
	/*
	 * Renew when half the lease has passed since it came, its length as
	 * the grant states it (both its times are the host's clock), or at
	 * its end by ours if that comes first; and never sooner than the
	 * gap between attempts, so that a host whose clock is behind ours
	 * cannot make us ask again and again.
	 */
	lease = g.decoded.expires - g.decoded.activated;
	left = g.decoded.expires > now ? g.decoded.expires - now : 0;
	s->expires = g.decoded.expires;
	s->next = now + (lease / 2 < left ? lease / 2 : left);
	if (s->next < now + KVPD_ATTEMPT_GAP)
		s->next = now + KVPD_ATTEMPT_GAP;
	s->backoff = 0;
	kvp_time_text(g.decoded.expires, until);
	kvp_info("licence: activated by host %s, lease until %s",
		 g.decoded.host_name, until);
}

/* Wait until the first of: a poke, the next attempt, the lease's end. */
static bool kvpd_wait(const struct kvpd_schedule *s, uint64_t now)
{
	uint64_t until = now + KVPD_STAT_SECS;
	struct timespec ts = { 0 };
	bool poked;

	if (s->next && s->next < until)
		until = s->next;
	if (s->expires > now && s->expires < until)
		until = s->expires;
	ts.tv_sec = until;
	pthread_mutex_lock(&kvpd_act.lock);
	while (!kvpd_act.poked && !kvpd_act.stop &&
	       until > (uint64_t)time(NULL))
		if (pthread_cond_timedwait(&kvpd_act.cond, &kvpd_act.lock,
					   &ts) == ETIMEDOUT)
			break;
	poked = kvpd_act.poked;
	kvpd_act.poked = false;
	pthread_mutex_unlock(&kvpd_act.lock);
	return poked;
}

static void *kvpd_activation_main(void *arg)
{
	struct kvpd_schedule s = { 0 };
	uint64_t now = time(NULL);
	bool poked = false;

	(void)arg;
	kvpd_state_changed(&s);
	kvpd_reload(&s, now);
	for (;;) {
		now = time(NULL);
		if (kvpd_state_changed(&s))
			kvpd_reload(&s, now);
		/* A host negotiated: at once, unless we just asked. */
		if (poked && s.avma) {
			s.next = s.last && now < s.last + KVPD_ATTEMPT_GAP ?
				 s.last + KVPD_ATTEMPT_GAP : now;
			s.backoff = 0;
		}
		if (s.expires && now >= s.expires && s.ended != s.expires) {
			s.ended = s.expires;
			if (kvp_guest_expire(kvpd_act.act.dir, NULL, now) == 1)
				kvp_warn("licence: the lease ended and no host renewed it: Notification");
		}
		if (s.avma && s.next && now >= s.next)
			kvpd_attempt(&s, now);
		poked = kvpd_wait(&s, time(NULL));
		pthread_mutex_lock(&kvpd_act.lock);
		if (kvpd_act.stop) {
			pthread_mutex_unlock(&kvpd_act.lock);
			return NULL;
		}
		pthread_mutex_unlock(&kvpd_act.lock);
	}
}

int kvpd_activation_start(const struct kvpd_activation_opts *opts)
{
	int err;

	kvpd_act.act.dir = opts->state_dir;
	kvpd_act.act.exchange = kvp_guest_nl_exchange;
	if (opts->vm_id_set) {
		memcpy(kvpd_act.act.vm_id, opts->vm_id, KVP_AVMA_UUID_LEN);
	} else if (kvp_guest_vm_id(kvpd_act.act.vm_id)) {
		kvp_err("licence: no VM id (neither /sys/class/dmi/id/product_uuid nor /etc/machine-id; --vm-id sets one): no activation");
		return -ENOENT;
	}
	kvpd_act.catalog_dirs = opts->catalog_dirs;
	err = pthread_create(&kvpd_act.thread, NULL, kvpd_activation_main,
			     NULL);
	if (err) {
		kvp_err("licence: cannot start its thread: %s", strerror(err));
		return -err;
	}
	kvpd_act.running = true;
	return 0;
}

static void kvpd_activation_signal(bool stop)
{
	pthread_mutex_lock(&kvpd_act.lock);
	if (stop)
		kvpd_act.stop = true;
	else
		kvpd_act.poked = true;
	pthread_cond_signal(&kvpd_act.cond);
	pthread_mutex_unlock(&kvpd_act.lock);
}

void kvpd_activation_poke(void)
{
	kvpd_activation_signal(false);
}

/* Waits for an attempt under way: at most the kernel's request timeout. */
void kvpd_activation_stop(void)
{
	if (!kvpd_act.running)
		return;
	kvpd_activation_signal(true);
	pthread_join(kvpd_act.thread, NULL);
	kvpd_act.running = false;
}
