// SPDX-License-Identifier: GPL-2.0
/* Reading times written by people or by kvpd (isotime.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isotime.h"

/* Exactly n digits at *p, advancing it; -1 if not. */
static int kvp_iso_digits(const char **p, int n)
{
	int v = 0;

	while (n--) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	return v;
}

/* "Z", "+HH:MM", "+HHMM", "+HH" (or '-'), or nothing; seconds east. */
static int kvp_iso_offset(const char *p, long *offset)
{
	int sign, h, m = 0;

	*offset = 0;
	if (!*p || (p[0] == 'Z' && !p[1]))
		return 0;
	if (*p != '+' && *p != '-')
		return -EINVAL;
	sign = *p++ == '-' ? -1 : 1;
	h = kvp_iso_digits(&p, 2);
	if (*p == ':')
		p++;
	if (*p)
		m = kvp_iso_digits(&p, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59 || *p)
		return -EINVAL;
	*offset = sign * (h * 3600L + m * 60L);
	return 0;
}

static int kvp_iso_time(const char *p, struct tm *tm, long *offset)
{
	int year = kvp_iso_digits(&p, 4);

	if (year < 0 || *p++ != '-')
		return -EINVAL;
	tm->tm_year = year - 1900;
	tm->tm_mon = kvp_iso_digits(&p, 2) - 1;
	if (*p++ != '-')
		return -EINVAL;
	tm->tm_mday = kvp_iso_digits(&p, 2);
	if (!*p)
		return 0;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	tm->tm_hour = kvp_iso_digits(&p, 2);
	if (*p++ != ':')
		return -EINVAL;
	tm->tm_min = kvp_iso_digits(&p, 2);
	if (*p == ':') {
		p++;
		tm->tm_sec = kvp_iso_digits(&p, 2);
	}
	if (tm->tm_hour < 0 || tm->tm_min < 0 || tm->tm_sec < 0)
		return -EINVAL;
	return kvp_iso_offset(p, offset);
}

int kvp_iso_time_parse(const char *s, int64_t *t)
{
	struct tm tm = { 0 }, check;
	long offset = 0;
	char *end;
	time_t tt;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		*t = strtoll(s, &end, 10);
		return errno ? -EINVAL : 0;
	}
	if (kvp_iso_time(s, &tm, &offset))
		return -EINVAL;
	check = tm;
	tt = timegm(&tm);
	/* timegm() normalises 2026-02-30 into March: refuse such dates. */
	if (tt == (time_t)-1 || tm.tm_mday != check.tm_mday ||
	    tm.tm_mon != check.tm_mon || tm.tm_hour != check.tm_hour ||
	    tm.tm_min != check.tm_min || tm.tm_sec != check.tm_sec)
		return -EINVAL;
	*t = (int64_t)tt - offset;
	return 0;
}

void kvp_time_text(uint64_t t, char out[KVP_TIME_TEXT_LEN + 1])
{
	time_t tt = (time_t)t;
	struct tm tm;

	out[0] = '\0';
	if (t && gmtime_r(&tt, &tm))
		strftime(out, KVP_TIME_TEXT_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
