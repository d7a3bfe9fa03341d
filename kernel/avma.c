// SPDX-License-Identifier: GPL-2.0
/*
 * The activation message: the guest's request and the host's reply bodies
 * (avma.h, Documentation/protocol.rst section 4).  One parser and one
 * builder per direction, so that kvp.ko, kvpd and kvp-hostd read and write
 * the same bytes through the same code.  A parsed body builds back to the
 * very same bytes: every field has one encoding.
 */
#include "avma.h"

/*
 * A text field of `size` bytes: its text, then at least one NUL, and only
 * NULs after it.  Returns the text's length, or -EINVAL.
 */
static int kvp_avma_get_text(const u8 *p, size_t size, char *out)
{
	size_t len, i;

	for (len = 0; len < size && p[len]; len++)
		;
	if (len == size)
		return -EINVAL;
	for (i = len; i < size; i++)
		if (p[i])
			return -EINVAL;
	memcpy(out, p, size);
	return (int)len;
}

/* Writes a NUL-terminated text into its field, padded with NULs. */
static int kvp_avma_put_text(u8 *p, size_t size, const char *text)
{
	size_t len;

	for (len = 0; len < size && text[len]; len++)
		;
	if (len == size)
		return -EINVAL;
	memcpy(p, text, len);
	memset(p + len, 0, size - len);
	return (int)len;
}

/* The request's text fields: where on the wire, where in the structure. */
static const struct {
	size_t wire;
	size_t field;
	size_t size;
	bool may_be_empty;
} kvp_avma_req_texts[] = {
	{ KVP_AVMA_REQ_OFF_PRODUCT, offsetof(struct kvp_avma_request, product),
	  KVP_AVMA_PRODUCT_LEN, false },
	{ KVP_AVMA_REQ_OFF_VERSION, offsetof(struct kvp_avma_request, version),
	  KVP_AVMA_VERSION_LEN, false },
	{ KVP_AVMA_REQ_OFF_EDITION, offsetof(struct kvp_avma_request, edition),
	  KVP_AVMA_EDITION_LEN, false },
	{ KVP_AVMA_REQ_OFF_KEY, offsetof(struct kvp_avma_request, key),
	  KVP_AVMA_KEY_LEN, false },
	{ KVP_AVMA_REQ_OFF_VM_NAME, offsetof(struct kvp_avma_request, vm_name),
	  KVP_AVMA_NAME_LEN, true },
};

int kvp_avma_request_parse(const u8 *body, size_t len,
			   struct kvp_avma_request *req)
{
	size_t i;
	int n;

	if (len != KVP_AVMA_REQUEST_LEN)
		return -EINVAL;
	req->op = kvp_get_le16(body + KVP_AVMA_REQ_OFF_OP);
	if (req->op != KVP_AVMA_OP_ACTIVATE ||
	    kvp_get_le16(body + KVP_AVMA_REQ_OFF_RESERVED))
		return -EINVAL;
	memcpy(req->nonce, body + KVP_AVMA_REQ_OFF_NONCE, KVP_AVMA_NONCE_LEN);
	memcpy(req->vm_id, body + KVP_AVMA_REQ_OFF_VM_ID, KVP_AVMA_UUID_LEN);
	for (i = 0; i < ARRAY_SIZE(kvp_avma_req_texts); i++) {
		n = kvp_avma_get_text(body + kvp_avma_req_texts[i].wire,
				      kvp_avma_req_texts[i].size,
				      (char *)req + kvp_avma_req_texts[i].field);
		if (n < 0 || (!n && !kvp_avma_req_texts[i].may_be_empty))
			return -EINVAL;
	}
	return 0;
}

/* Writes the 212-byte request body; -EINVAL if a field cannot be sent. */
int kvp_avma_request_build(u8 *body, const struct kvp_avma_request *req)
{
	size_t i;
	int n;

	if (req->op != KVP_AVMA_OP_ACTIVATE)
		return -EINVAL;
	kvp_put_le16(body + KVP_AVMA_REQ_OFF_OP, req->op);
	kvp_put_le16(body + KVP_AVMA_REQ_OFF_RESERVED, 0);
	memcpy(body + KVP_AVMA_REQ_OFF_NONCE, req->nonce, KVP_AVMA_NONCE_LEN);
	memcpy(body + KVP_AVMA_REQ_OFF_VM_ID, req->vm_id, KVP_AVMA_UUID_LEN);
	for (i = 0; i < ARRAY_SIZE(kvp_avma_req_texts); i++) {
		n = kvp_avma_put_text(body + kvp_avma_req_texts[i].wire,
				      kvp_avma_req_texts[i].size,
				      (const char *)req +
				      kvp_avma_req_texts[i].field);
		if (n < 0 || (!n && !kvp_avma_req_texts[i].may_be_empty))
			return -EINVAL;
	}
	return KVP_AVMA_REQUEST_LEN;
}

/*
 * What a reply may say: a known outcome, a reason the wire carries (below
 * 64), none with Success, and a grant with Success only (and always).
 */
static int kvp_avma_reply_check(const struct kvp_avma_reply *rep)
{
	bool success = rep->outcome == KVP_AVMA_SUCCESS;

	if (rep->op != KVP_AVMA_OP_ACTIVATE ||
	    rep->outcome >= KVP_AVMA_OUTCOME_COUNT ||
	    rep->reason >= KVP_AVMA_R_NO_SERVICE ||
	    rep->grant_len > KVP_AVMA_GRANT_MAX)
		return -EINVAL;
	if (success == !!rep->reason || success != !!rep->grant_len)
		return -EINVAL;
	return 0;
}

int kvp_avma_reply_parse(const u8 *body, size_t len,
			 struct kvp_avma_reply *rep)
{
	if (len < KVP_AVMA_REPLY_HDR_LEN)
		return -EINVAL;
	rep->op = kvp_get_le16(body + KVP_AVMA_REP_OFF_OP);
	rep->outcome = kvp_get_le16(body + KVP_AVMA_REP_OFF_OUTCOME);
	rep->reason = kvp_get_le32(body + KVP_AVMA_REP_OFF_REASON);
	memcpy(rep->nonce, body + KVP_AVMA_REP_OFF_NONCE, KVP_AVMA_NONCE_LEN);
	rep->grant_len = kvp_get_le16(body + KVP_AVMA_REP_OFF_GRANT_LEN);
	rep->grant = body + KVP_AVMA_REP_OFF_GRANT;
	if (kvp_get_le16(body + KVP_AVMA_REP_OFF_RESERVED) ||
	    len != KVP_AVMA_REPLY_HDR_LEN + (size_t)rep->grant_len)
		return -EINVAL;
	return kvp_avma_reply_check(rep);
}

/* Writes the reply body (28 + grant_len bytes); -EINVAL if not allowed. */
int kvp_avma_reply_build(u8 *body, const struct kvp_avma_reply *rep)
{
	if (kvp_avma_reply_check(rep))
		return -EINVAL;
	kvp_put_le16(body + KVP_AVMA_REP_OFF_OP, rep->op);
	kvp_put_le16(body + KVP_AVMA_REP_OFF_OUTCOME, rep->outcome);
	kvp_put_le32(body + KVP_AVMA_REP_OFF_REASON, rep->reason);
	memcpy(body + KVP_AVMA_REP_OFF_NONCE, rep->nonce, KVP_AVMA_NONCE_LEN);
	kvp_put_le16(body + KVP_AVMA_REP_OFF_GRANT_LEN, rep->grant_len);
	kvp_put_le16(body + KVP_AVMA_REP_OFF_RESERVED, 0);
	if (rep->grant_len)
		memmove(body + KVP_AVMA_REP_OFF_GRANT, rep->grant,
			rep->grant_len);
	return KVP_AVMA_REPLY_HDR_LEN + rep->grant_len;
}

/* Hyper-V's names for the four outcomes (its event 12309). */
const char *kvp_avma_outcome_name(u32 outcome)
{
	static const char *const names[KVP_AVMA_OUTCOME_COUNT] = {
		[KVP_AVMA_SUCCESS] = "Success",
		[KVP_AVMA_INVALID_HOST] = "Invalid Host",
		[KVP_AVMA_INVALID_DATA] = "Invalid Data",
		[KVP_AVMA_DENIED] = "Activation Denied",
	};

	return outcome < ARRAY_SIZE(names) ? names[outcome] : "unknown";
}

const char *kvp_avma_reason_name(u32 reason)
{
	static const struct {
		u32 reason;
		const char *name;
	} names[] = {
		{ KVP_AVMA_R_NONE, "none" },
		{ KVP_AVMA_R_NO_LICENCE, "no-licence" },
		{ KVP_AVMA_R_NOT_ACTIVATED, "not-activated" },
		{ KVP_AVMA_R_LICENCE_INVALID, "licence-invalid" },
		{ KVP_AVMA_R_HOST_EDITION, "host-edition" },
		{ KVP_AVMA_R_HOST_BUSY, "host-busy" },
		{ KVP_AVMA_R_VERSION, "version" },
		{ KVP_AVMA_R_KEY, "key" },
		{ KVP_AVMA_R_PRODUCT, "product" },
		{ KVP_AVMA_R_MALFORMED, "malformed" },
		{ KVP_AVMA_R_REPLAY, "replay" },
		{ KVP_AVMA_R_NO_SERVICE, "no-service" },
		{ KVP_AVMA_R_NO_HOST, "no-host" },
		{ KVP_AVMA_R_TIMEOUT, "timeout" },
		{ KVP_AVMA_R_BAD_REPLY, "bad-reply" },
		{ KVP_AVMA_R_NONCE, "nonce" },
		{ KVP_AVMA_R_OTHER_VM, "other-vm" },
		{ KVP_AVMA_R_SIGNATURE, "signature" },
		{ KVP_AVMA_R_MISMATCH, "mismatch" },
		{ KVP_AVMA_R_EXPIRED, "expired" },
		{ KVP_AVMA_R_NO_KEY, "no-key" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].reason == reason)
			return names[i].name;
	return "unknown";
}
