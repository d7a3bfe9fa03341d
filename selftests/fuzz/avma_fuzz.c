// SPDX-License-Identifier: GPL-2.0
/*
 * The activation message bodies (kernel/avma.c).  Input: one byte that
 * says which body the rest is (even: a guest's request, odd: a host's
 * reply), then the body.
 *
 * Properties: a body a parser accepts is the one its builder writes for
 * the parsed fields, byte for byte (every field has one encoding, nothing
 * is ignored); what is accepted holds the promises of avma.h (NUL-ended
 * non-empty texts, a grant with Success only, a wire reason); and the
 * parsers never read past the body (ASan).
 */
#include "fuzz.h"
#include "avma.h"

static void check_request(const u8 *body, size_t len)
{
	struct kvp_avma_request req;
	u8 built[KVP_AVMA_REQUEST_LEN];

	if (kvp_avma_request_parse(body, len, &req))
		return;
	FUZZ_CHECK(len == KVP_AVMA_REQUEST_LEN);
	FUZZ_CHECK(req.op == KVP_AVMA_OP_ACTIVATE);
	FUZZ_CHECK(req.product[0] && req.version[0] && req.edition[0] &&
		   req.key[0]);
	FUZZ_CHECK(strnlen(req.vm_name, sizeof(req.vm_name)) <
		   sizeof(req.vm_name));
	FUZZ_CHECK(kvp_avma_request_build(built, &req) ==
		   KVP_AVMA_REQUEST_LEN);
	FUZZ_CHECK(!memcmp(built, body, len));
}

static void check_reply(const u8 *body, size_t len)
{
	struct kvp_avma_reply rep;
	u8 *built;

	if (kvp_avma_reply_parse(body, len, &rep))
		return;
	FUZZ_CHECK(len == KVP_AVMA_REPLY_HDR_LEN + rep.grant_len);
	FUZZ_CHECK(rep.grant_len <= KVP_AVMA_GRANT_MAX);
	FUZZ_CHECK(rep.outcome < KVP_AVMA_OUTCOME_COUNT);
	FUZZ_CHECK(rep.reason < KVP_AVMA_R_NO_SERVICE);
	FUZZ_CHECK((rep.outcome == KVP_AVMA_SUCCESS) == (rep.grant_len > 0));
	FUZZ_CHECK(strcmp(kvp_avma_outcome_name(rep.outcome), "unknown"));
	built = malloc(KVP_AVMA_REPLY_MAX);
	FUZZ_CHECK(built);
	FUZZ_CHECK(kvp_avma_reply_build(built, &rep) == (int)len);
	FUZZ_CHECK(!memcmp(built, body, len));
	free(built);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *body;

	if (size < 1)
		return 0;
	/* A copy of its own size, so that ASan sees any read past it. */
	body = malloc(size - 1 ? size - 1 : 1);
	FUZZ_CHECK(body);
	memcpy(body, data + 1, size - 1);
	if (data[0] & 1)
		check_reply(body, size - 1);
	else
		check_request(body, size - 1);
	free(body);
	return 0;
}
