/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Activation events: 12309 (the guest's outcome of one activation) and
 * 12310 (one request as the host decided it).  Each goes to journald as a
 * native entry with a MESSAGE_ID and structured fields when journald runs
 * (its socket exists), else to syslog as one line with the same fields.
 * Field names and MESSAGE_IDs: Documentation/avma.rst section "Events".
 */
#ifndef _KVP_EVENT_H
#define _KVP_EVENT_H

#define KVP_EVENT_GUEST		12309
#define KVP_EVENT_HOST		12310
#define KVP_EVENT_GUEST_ID	"6f3d2c8a1b4e4f0a9c7d5e2b8a1f0c39"
#define KVP_EVENT_HOST_ID	"a4c1e7b2d9f84e6b8c3a5d7f1e2b9c40"
#define KVP_JOURNAL_SOCKET	"/run/systemd/journal/socket"

struct kvp_event_field {
	const char *name;	/* upper case, journald field rules */
	const char *value;	/* UTF-8, may be "" */
};

/*
 * Logs event `id` with `message` (the human line) and the fields; the
 * socket path is a parameter for the tests (NULL: the default).  Returns
 * 0, or -errno when neither journald nor syslog took it.
 */
int kvp_event_log(const char *socket_path, int id, int priority,
		  const char *message, const struct kvp_event_field *fields,
		  unsigned int nr_fields);

#endif /* _KVP_EVENT_H */
