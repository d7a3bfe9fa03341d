// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>

#include "json.h"

void kvp_json_init(struct kvp_json *json, FILE *out)
{
	json->out = out;
	json->depth = 0;
	json->need_comma[0] = false;
}

static void kvp_json_string(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* Separator and, inside an object, the member name. */
static void kvp_json_member(struct kvp_json *json, const char *name)
{
	if (json->need_comma[json->depth])
		fputc(',', json->out);
	json->need_comma[json->depth] = true;
	if (name) {
		kvp_json_string(json->out, name);
		fputc(':', json->out);
	}
}

/* Opens an object ('{') or an array ('['); name is NULL inside arrays. */
void kvp_json_open(struct kvp_json *json, const char *name, char bracket)
{
	kvp_json_member(json, name);
	fputc(bracket, json->out);
	if (json->depth < KVP_JSON_DEPTH - 1)
		json->depth++;
	json->need_comma[json->depth] = false;
}

void kvp_json_close(struct kvp_json *json, char bracket)
{
	fputc(bracket, json->out);
	if (json->depth > 0)
		json->depth--;
	if (json->depth == 0)
		fputc('\n', json->out);
}

void kvp_json_str(struct kvp_json *json, const char *name, const char *value)
{
	kvp_json_member(json, name);
	kvp_json_string(json->out, value);
}

void kvp_json_uint(struct kvp_json *json, const char *name, uint64_t value)
{
	kvp_json_member(json, name);
	fprintf(json->out, "%" PRIu64, value);
}

void kvp_json_bool(struct kvp_json *json, const char *name, bool value)
{
	kvp_json_member(json, name);
	fputs(value ? "true" : "false", json->out);
}
