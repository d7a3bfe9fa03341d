/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer for `-j` output: commas and nesting are
 * tracked here, so callers only say what comes next.
 */
#ifndef _KVP_JSON_H
#define _KVP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define KVP_JSON_DEPTH 8

struct kvp_json {
	FILE *out;
	int depth;
	bool need_comma[KVP_JSON_DEPTH];
};

void kvp_json_init(struct kvp_json *json, FILE *out);
void kvp_json_open(struct kvp_json *json, const char *name, char bracket);
void kvp_json_close(struct kvp_json *json, char bracket);
void kvp_json_str(struct kvp_json *json, const char *name, const char *value);
void kvp_json_uint(struct kvp_json *json, const char *name, uint64_t value);
void kvp_json_bool(struct kvp_json *json, const char *name, bool value);

#endif /* _KVP_JSON_H */
