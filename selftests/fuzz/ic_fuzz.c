// SPDX-License-Identifier: GPL-2.0
/*
 * A host packet through what kvp.ko does with it (kernel/transport.c,
 * service.c): kvp_ic_parse; a NEGOTIATE answered in place; a KVP request
 * checked (kvp_msg_check_request), refused or answered, for a GET or
 * ENUMERATE with the daemon's key and value written into the packet in
 * place (kvp_msg_answer), as kernel/exchange.c does.  Each
 * reply is then read back as a host reads it, and so is the input itself,
 * as if it were a guest's reply.
 *
 * Input: the packet, whole, as a transport hands it over.  The bytes after
 * its IC payload (offset 28 + icmsgsize), which the module never reads, are
 * the daemon's answer: "KEY\0VALUE\0", each at most the 511 and 2047 bytes
 * the netlink policy lets through.  Without them the daemon answers with the
 * request's own key and value.
 */
#include "fuzz.h"
#include "ic.h"
#include "msg.h"
#include "utf16.h"

#define REPLY_FLAGS	(KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE)

/* The only calls of kvp_msg_decode: a request, and a reply read by a host. */
static int decode_request(const u8 *payload, size_t len, struct kvp_msg *msg)
{
	return kvp_msg_decode(payload, len, msg);
}

static int decode_reply(const u8 *payload, size_t len, struct kvp_msg *msg)
{
	return kvp_msg_decode_reply(payload, len, msg);
}

/*
 * A reply keeps the request's length, pipe header, versions, type, txid
 * and reserved bytes; only status, flags and (negotiation) size change.
 */
static void check_reply_header(const u8 *pkt, const u8 *req, size_t len,
			       u32 status, u16 size)
{
	struct kvp_ic_hdr hdr, orig;

	FUZZ_CHECK(kvp_ic_parse(pkt, len, &hdr) == 0);
	FUZZ_CHECK(kvp_ic_parse(req, len, &orig) == 0);
	FUZZ_CHECK(!memcmp(pkt, req, KVP_IC_OFF_SIZE));
	FUZZ_CHECK(hdr.size == size);
	FUZZ_CHECK(hdr.status == status);
	FUZZ_CHECK(hdr.txid == orig.txid);
	FUZZ_CHECK(hdr.flags == REPLY_FLAGS);
	FUZZ_CHECK(!memcmp(pkt + KVP_IC_OFF_RESERVED, req + KVP_IC_OFF_RESERVED,
			   KVP_ICMSG_HDR_LEN - KVP_IC_OFF_RESERVED));
}

/* Nothing after the first `changed` payload bytes was touched. */
static void check_payload_kept(const u8 *pkt, const u8 *req, size_t len,
			       size_t changed)
{
	size_t from = KVP_ICMSG_HDR_LEN + changed;

	if (from < len)
		FUZZ_CHECK(!memcmp(pkt + from, req + from, len - from));
}

static bool offered(const u8 *list, u16 count, u32 version)
{
	u16 i;

	for (i = 0; i < count; i++)
		if (KVP_VERSION(kvp_get_le16(list + 4 * i),
				kvp_get_le16(list + 4 * i + 2)) == version)
			return true;
	return false;
}

static void check_negotiate(u8 *pkt, const u8 *req, size_t len)
{
	const u8 *offer = req + KVP_ICMSG_HDR_LEN;
	u32 fw, msg, got_fw, got_msg;
	u16 nr_fw;
	int err;

	err = kvp_ic_negotiate(pkt, len, &kvp_msg_versions, &fw, &msg);
	if (err == -EINVAL) {
		/* Dropped unanswered: nothing written. */
		FUZZ_CHECK(!memcmp(pkt, req, len));
		return;
	}
	FUZZ_CHECK(err == 0 || err == -EPROTO);
	kvp_ic_set_reply(pkt, err ? KVP_E_FAIL : KVP_S_OK);
	if (err) {
		check_reply_header(pkt, req, len, KVP_E_FAIL,
				   kvp_get_le16(req + KVP_IC_OFF_SIZE));
		FUZZ_CHECK(kvp_get_le32(pkt + KVP_ICMSG_HDR_LEN) == 0);
		check_payload_kept(pkt, req, len, 4);
		return;
	}
	check_reply_header(pkt, req, len, KVP_S_OK, KVP_NEGO_REPLY_LEN);
	check_payload_kept(pkt, req, len, KVP_NEGO_REPLY_LEN);
	/* The version lists, known to be within the packet now. */
	nr_fw = kvp_get_le16(offer);
	FUZZ_CHECK(offered(offer + KVP_NEGO_HDR_LEN, nr_fw, fw));
	FUZZ_CHECK(offered(offer + KVP_NEGO_HDR_LEN + 4 * nr_fw,
			   kvp_get_le16(offer + 2), msg));
	FUZZ_CHECK(kvp_ic_parse_negotiate_reply(pkt, len, &got_fw,
						&got_msg) == 0);
	FUZZ_CHECK(got_fw == fw && got_msg == msg);
}

static void check_same_item(const struct kvp_msg *a, const struct kvp_msg *b)
{
	FUZZ_CHECK(a->op == b->op && a->pool == b->pool &&
		   a->index == b->index);
	FUZZ_CHECK(a->key_len == b->key_len && !strcmp(a->key, b->key));
	FUZZ_CHECK(a->value_len == b->value_len &&
		   !strcmp(a->value, b->value));
}

/* A REG_U32 or REG_U64 value decodes to the decimal text of its number. */
static void check_number(const u8 *payload, const struct kvp_msg *msg)
{
	size_t value = KVP_MSG_OFF_BODY + 12 + KVP_KEY_BYTES +
		       (msg->op == KVP_OP_ENUMERATE ? 4 : 0);
	unsigned long long want;

	if (msg->value_type == KVP_REG_U32)
		want = kvp_get_le32(payload + value);
	else if (msg->value_type == KVP_REG_U64 ||
		 msg->value_type == KVP_REG_QWORD)
		want = kvp_get_le64(payload + value);
	else
		return;
	FUZZ_CHECK(strtoull(msg->value, NULL, 10) == want);
	FUZZ_CHECK(msg->value[0] != '0' || msg->value_len == 1);
}

/*
 * What a request decodes to, encoded again (as kvp-hostd sends it), decodes
 * to the same: nothing a decode accepts is cut or refused by the encoder.
 */
static void check_request_reencodes(const struct kvp_msg *req)
{
	size_t len = kvp_msg_len(req->op);
	u8 *buf = malloc(len);
	struct kvp_msg again;

	FUZZ_CHECK(kvp_msg_encode(buf, len, req) == 0);
	FUZZ_CHECK(decode_request(buf, len, &again) == 0);
	check_same_item(req, &again);
	free(buf);
}

/* Copies the string at s (at most n bytes, NUL-ended or not), cut to fit. */
static u32 daemon_string(const u8 *s, size_t n, char *out, size_t out_size)
{
	size_t len = strnlen((const char *)s, n);

	if (len >= out_size)
		len = out_size - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return len;
}

/* The daemon's answer from the bytes after the IC payload: KEY\0VALUE. */
static void daemon_answer(const u8 *tail, size_t n, struct kvp_msg *answer)
{
	size_t key_end = strnlen((const char *)tail, n);

	answer->key_len = daemon_string(tail, n, answer->key,
					sizeof(answer->key));
	answer->value_len = 0;
	answer->value[0] = '\0';
	if (key_end < n)
		answer->value_len = daemon_string(tail + key_end + 1,
						  n - key_end - 1,
						  answer->value,
						  sizeof(answer->value));
}

/* What kvp_exchange_reply() does with the daemon's S_OK answer. */
static int fill_reply(u8 *pkt, size_t len, struct kvp_msg *msg,
		      const struct kvp_msg *answer)
{
	return kvp_msg_answer(pkt + KVP_ICMSG_HDR_LEN, len - KVP_ICMSG_HDR_LEN,
			      msg, KVP_FIELD_KEY | KVP_FIELD_VALUE,
			      answer->key, answer->value);
}

/* A GET or ENUMERATE answered with the daemon's key and value. */
static void check_item_reply(u8 *pkt, const u8 *req, size_t len,
			     const struct kvp_ic_hdr *hdr, struct kvp_msg *msg)
{
	struct kvp_msg answer, back;
	size_t tail = KVP_ICMSG_HDR_LEN + hdr->size;
	bool cut;
	int ret;

	if (tail < len)
		daemon_answer(req + tail, len - tail, &answer);
	else
		answer = *msg;
	ret = fill_reply(pkt, len, msg, &answer);
	check_payload_kept(pkt, req, len, kvp_msg_len(msg->op));
	if (ret < 0) {
		/* Refused only for text that is not UTF-8. */
		FUZZ_CHECK(ret == -EINVAL);
		FUZZ_CHECK(!kvp_utf8_valid(msg->key, msg->key_len) ||
			   !kvp_utf8_valid(msg->value, msg->value_len));
		return;
	}
	kvp_ic_set_reply(pkt, KVP_S_OK);
	check_reply_header(pkt, req, len, KVP_S_OK, hdr->size);
	FUZZ_CHECK(decode_reply(pkt + KVP_ICMSG_HDR_LEN, hdr->size, &back) == 0);
	FUZZ_CHECK(back.op == msg->op && back.pool == msg->pool &&
		   back.value_type == KVP_REG_SZ);
	if (msg->op == KVP_OP_GET) {
		/* A GET reply keeps the request's key: read it as a request. */
		struct kvp_msg asked;

		FUZZ_CHECK(decode_request(pkt + KVP_ICMSG_HDR_LEN, hdr->size,
					  &asked) == 0);
		memcpy(back.key, asked.key, asked.key_len + 1);
		back.key_len = asked.key_len;
	}
	cut = fuzz_check_cut(msg->key, msg->key_len, back.key, back.key_len,
			     KVP_KEY_BYTES / 2 - 1);
	cut |= fuzz_check_cut(msg->value, msg->value_len, back.value,
			      back.value_len, KVP_VALUE_BYTES / 2 - 1);
	FUZZ_CHECK(ret == cut);
}

/* kvp_exchange_receive() and, for what reaches the daemon, its reply. */
static void check_exchange(u8 *pkt, const u8 *req, size_t len,
			   const struct kvp_ic_hdr *hdr)
{
	struct kvp_msg msg, back;
	u32 status;
	int err;

	err = kvp_msg_check_request(pkt + KVP_ICMSG_HDR_LEN, hdr->size, &msg);
	FUZZ_CHECK(!memcmp(pkt, req, len));
	if (err) {
		FUZZ_CHECK(err == -EINVAL || err == -EOPNOTSUPP ||
			   err == -EMSGSIZE || err == -EACCES);
		FUZZ_CHECK(err != -EACCES || msg.pool == KVP_POOL_AUTO);
		status = kvp_msg_refusal(err);
		kvp_ic_set_reply(pkt, status);
		check_reply_header(pkt, req, len, status, hdr->size);
		check_payload_kept(pkt, req, len, 0);
		return;
	}
	FUZZ_CHECK(kvp_utf8_valid(msg.key, msg.key_len));
	FUZZ_CHECK(kvp_utf8_valid(msg.value, msg.value_len));
	check_number(pkt + KVP_ICMSG_HDR_LEN, &msg);
	check_request_reencodes(&msg);
	if (msg.op == KVP_OP_GET || msg.op == KVP_OP_ENUMERATE) {
		check_item_reply(pkt, req, len, hdr, &msg);
		return;
	}
	/* SET, DELETE: the reply is the request with a status. */
	kvp_ic_set_reply(pkt, KVP_S_OK);
	check_reply_header(pkt, req, len, KVP_S_OK, hdr->size);
	check_payload_kept(pkt, req, len, 0);
	FUZZ_CHECK(decode_request(pkt + KVP_ICMSG_HDR_LEN, hdr->size,
				  &back) == 0);
	check_same_item(&msg, &back);
}

/*
 * The same bytes as a guest's reply, read by the host end (kvp-hostd): a
 * negotiation reply is accepted only as a sound one, a KVP reply decodes
 * to valid text or is refused.
 */
static void check_host_side(const u8 *pkt, size_t len)
{
	struct kvp_ic_hdr hdr;
	struct kvp_msg msg;
	u32 fw, ver;

	if (kvp_ic_parse_negotiate_reply(pkt, len, &fw, &ver) == 0) {
		FUZZ_CHECK(kvp_ic_parse(pkt, len, &hdr) == 0);
		FUZZ_CHECK(hdr.type == KVP_IC_TYPE_NEGOTIATE &&
			   hdr.status == KVP_S_OK &&
			   (hdr.flags & REPLY_FLAGS) == REPLY_FLAGS);
	}
	if (kvp_ic_parse(pkt, len, &hdr) || hdr.type != KVP_IC_TYPE_KVP ||
	    decode_reply(pkt + KVP_ICMSG_HDR_LEN, hdr.size, &msg))
		return;
	FUZZ_CHECK(kvp_utf8_valid(msg.key, msg.key_len));
	FUZZ_CHECK(kvp_utf8_valid(msg.value, msg.value_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvp_ic_hdr hdr;
	u8 *pkt;

	if (size > KVP_IC_MAX_PACKET)
		return 0;
	check_host_side(data, size);
	/* Exactly the packet's size, so that ASan sees any overrun. */
	pkt = malloc(size);
	memcpy(pkt, data, size);
	if (kvp_ic_parse(pkt, size, &hdr) == 0) {
		FUZZ_CHECK(size >= KVP_ICMSG_HDR_LEN &&
			   hdr.size <= size - KVP_ICMSG_HDR_LEN);
		if (hdr.type == KVP_IC_TYPE_NEGOTIATE)
			check_negotiate(pkt, data, size);
		else if (hdr.type == KVP_IC_TYPE_KVP)
			check_exchange(pkt, data, size, &hdr);
	} else {
		FUZZ_CHECK(size < KVP_ICMSG_HDR_LEN ||
			   kvp_get_le16(data + KVP_IC_OFF_SIZE) >
			   size - KVP_ICMSG_HDR_LEN);
	}
	free(pkt);
	return 0;
}
