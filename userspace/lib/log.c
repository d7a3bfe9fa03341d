// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static const char *kvp_log_ident = "kvp";
static int kvp_log_syslog;
static int kvp_log_debug;

void kvp_log_init(const char *ident, int use_syslog, int debug)
{
	kvp_log_ident = ident;
	kvp_log_syslog = use_syslog;
	kvp_log_debug = debug;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void kvp_log(int priority, const char *fmt, ...)
{
	va_list ap;

	if (priority == LOG_DEBUG && !kvp_log_debug)
		return;
	va_start(ap, fmt);
	if (kvp_log_syslog) {
		vsyslog(priority, fmt, ap);
	} else {
		fprintf(stderr, "%s: ", kvp_log_ident);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
