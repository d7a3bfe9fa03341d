/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging for the tools: stderr by default, syslog for a daemon that asks.
 * The library reports what it finds (a corrupt pool record, say) through
 * these, so each tool decides where such reports go.
 */
#ifndef _KVP_LOG_H
#define _KVP_LOG_H

#include <syslog.h>

void kvp_log_init(const char *ident, int use_syslog, int debug);
void kvp_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define kvp_err(...)	kvp_log(LOG_ERR, __VA_ARGS__)
#define kvp_warn(...)	kvp_log(LOG_WARNING, __VA_ARGS__)
#define kvp_info(...)	kvp_log(LOG_INFO, __VA_ARGS__)
#define kvp_dbg(...)	kvp_log(LOG_DEBUG, __VA_ARGS__)

#endif /* _KVP_LOG_H */
