/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Times as people and pool items write them: unix seconds, or ISO 8601
 * (what `kvpctl host history --since` takes and what the guest's
 * KvpLicense* time items hold).
 */
#ifndef _KVP_ISOTIME_H
#define _KVP_ISOTIME_H

#include <stdint.h>

/*
 * "1795954095" (unix seconds), "2026-12-02", "2026-12-02T13:00",
 * "2026-12-02T13:00:00", a space for the T, and after the time "Z" or an
 * offset "+01:00" / "-0500"; without one the time is UTC.  0 and *t, or
 * -EINVAL.
 */
int kvp_iso_time_parse(const char *s, int64_t *t);

#define KVP_TIME_TEXT_LEN	20	/* "2026-12-02T13:00:00Z" */

/* The one way times are written: "2026-12-02T13:00:00Z"; "" for 0. */
void kvp_time_text(uint64_t t, char out[KVP_TIME_TEXT_LEN + 1]);

#endif /* _KVP_ISOTIME_H */
