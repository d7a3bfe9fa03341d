// SPDX-License-Identifier: GPL-2.0
/*
 * The KVP exchange message: one decoder and one encoder for every operation
 * and both directions, so the guest (kvp.ko) and the host end (kvp-hostd)
 * read and write the same bytes through the same code.
 */
#include "ic.h"
#include "msg.h"
#include "utf16.h"

/* Offsets of a kvp_exchg_msg_value, relative to its start. */
#define KVP_VAL_OFF_TYPE	0
#define KVP_VAL_OFF_KEY_SIZE	4
#define KVP_VAL_OFF_VALUE_SIZE	8
#define KVP_VAL_OFF_KEY		12
#define KVP_VAL_OFF_VALUE	(12 + KVP_KEY_BYTES)

/* The KVP exchange versions the guest speaks, newest first. */
static const u32 kvp_msg_version_list[] = {
	KVP_VERSION(4, 0), KVP_VERSION(3, 0),
};

const struct kvp_ic_versions kvp_msg_versions = {
	.list = kvp_msg_version_list,
	.count = ARRAY_SIZE(kvp_msg_version_list),
};

/*
 * The message kinds, one row per operation this version handles: where its
 * fields lie (offsets relative to the KVP payload, 0 for a field it does not
 * have) and which of them each direction carries.  A new kind of message is
 * a new row here and, for the daemon, its fields in netlink.c's table.
 */
static const struct kvp_msg_kind kvp_msg_kinds[] = {
	{
		.op = KVP_OP_GET, .name = "GET", .len = KVP_MSG_GETSET_LEN,
		.value_hdr = KVP_MSG_OFF_BODY,
		.key_size = KVP_MSG_OFF_BODY + KVP_VAL_OFF_KEY_SIZE,
		.key = KVP_MSG_OFF_BODY + KVP_VAL_OFF_KEY,
		.value = KVP_MSG_OFF_BODY + KVP_VAL_OFF_VALUE,
		.request = KVP_FIELD_KEY,
		.reply = KVP_FIELD_VALUE,
	},
	{
		.op = KVP_OP_SET, .name = "SET", .len = KVP_MSG_GETSET_LEN,
		.value_hdr = KVP_MSG_OFF_BODY,
		.key_size = KVP_MSG_OFF_BODY + KVP_VAL_OFF_KEY_SIZE,
		.key = KVP_MSG_OFF_BODY + KVP_VAL_OFF_KEY,
		.value = KVP_MSG_OFF_BODY + KVP_VAL_OFF_VALUE,
		.request = KVP_FIELD_KEY | KVP_FIELD_VALUE,
		.reply = 0,
	},
	{
		.op = KVP_OP_DELETE, .name = "DELETE", .len = KVP_MSG_DELETE_LEN,
		.key_size = KVP_MSG_OFF_BODY,
		.key = KVP_MSG_OFF_BODY + 4,
		.request = KVP_FIELD_KEY,
		.reply = 0,
	},
	{
		.op = KVP_OP_ENUMERATE, .name = "ENUMERATE",
		.len = KVP_MSG_ENUM_LEN,
		.index = KVP_MSG_OFF_BODY,
		.value_hdr = KVP_MSG_OFF_BODY + 4,
		.key_size = KVP_MSG_OFF_BODY + 4 + KVP_VAL_OFF_KEY_SIZE,
		.key = KVP_MSG_OFF_BODY + 4 + KVP_VAL_OFF_KEY,
		.value = KVP_MSG_OFF_BODY + 4 + KVP_VAL_OFF_VALUE,
		.request = KVP_FIELD_INDEX,
		.reply = KVP_FIELD_KEY | KVP_FIELD_VALUE,
	},
};

/* The row of an operation, or NULL for one this version does not handle. */
const struct kvp_msg_kind *kvp_msg_kind(u8 op)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kvp_msg_kinds); i++)
		if (kvp_msg_kinds[i].op == op)
			return &kvp_msg_kinds[i];
	return NULL;
}

size_t kvp_msg_len(u8 op)
{
	const struct kvp_msg_kind *kind = kvp_msg_kind(op);

	return kind ? kind->len : 0;
}

/*
 * A wire string: `size` bytes of UTF-16LE at payload offset `off`, terminator
 * included.  Size 0 is the empty string; otherwise it must be even, within the
 * field (`max` bytes) and within the packet, and hold a NUL unit.
 */
static int kvp_msg_get_str(const u8 *payload, size_t len, size_t off,
			   u32 size, size_t max, char *out, size_t out_size,
			   u32 *out_len)
{
	size_t units = size / 2, i;
	int n;

	if (size == 0) {
		out[0] = '\0';
		*out_len = 0;
		return 0;
	}
	if (size % 2 || size > max || off + size > len)
		return -EINVAL;
	for (i = 0; i < units; i++)
		if (kvp_get_le16(payload + off + 2 * i) == 0)
			break;
	if (i == units)
		return -EINVAL;
	n = kvp_utf16_to_utf8(payload + off, units, out, out_size);
	if (n == -ENOSPC)
		return -EMSGSIZE;
	if (n < 0)
		return n;
	*out_len = n;
	return 0;
}

/* Decimal text of a REG_U32, REG_U64 or REG_QWORD value, as pools hold it. */
static u32 kvp_msg_put_decimal(char *out, u64 v)
{
	char digits[20];
	u32 n = 0, i;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	out[n] = '\0';
	return n;
}

static int kvp_msg_get_value(const u8 *payload, size_t len, size_t off,
			     u32 size, struct kvp_msg *msg)
{
	size_t width;

	switch (msg->value_type) {
	case KVP_REG_U32:
		width = 4;
		break;
	case KVP_REG_U64:
	case KVP_REG_QWORD:
		width = 8;
		break;
	default:
		return kvp_msg_get_str(payload, len, off, size, KVP_VALUE_BYTES,
				       msg->value, sizeof(msg->value),
				       &msg->value_len);
	}
	if (off + width > len)
		return -EINVAL;
	msg->value_len = kvp_msg_put_decimal(msg->value, width == 4 ?
					     kvp_get_le32(payload + off) :
					     kvp_get_le64(payload + off));
	return 0;
}

static void kvp_msg_reset(struct kvp_msg *msg, const u8 *payload)
{
	msg->op = payload[KVP_MSG_OFF_OP];
	msg->pool = payload[KVP_MSG_OFF_POOL];
	msg->index = 0;
	msg->value_type = KVP_REG_SZ;
	msg->key[0] = '\0';
	msg->value[0] = '\0';
	msg->key_len = 0;
	msg->value_len = 0;
}

/* Decodes the value field: its type and size first, then its bytes. */
static int kvp_msg_decode_value(const u8 *payload, size_t len,
				const struct kvp_msg_kind *kind,
				struct kvp_msg *msg)
{
	u32 value_size;

	msg->value_type = kvp_get_le32(payload + kind->value_hdr +
				       KVP_VAL_OFF_TYPE);
	value_size = kvp_get_le32(payload + kind->value_hdr +
				  KVP_VAL_OFF_VALUE_SIZE);
	if (value_size == 0 && msg->value_type == KVP_REG_SZ)
		return 0;
	return kvp_msg_get_value(payload, len, kind->value, value_size, msg);
}

/*
 * Decodes the KVP payload (packet offset 28, len bytes) of any operation:
 * only the fields the given direction carries (kind->request or
 * kind->reply); the others are left empty and their bytes are not looked
 * at, since the sender may leave anything there.  Never reads past len.
 * Returns -EOPNOTSUPP for operations this version does not handle (IP
 * info), -EINVAL for a malformed message, -EMSGSIZE for a key or value
 * whose UTF-8 form does not fit a pool record.
 */
static int kvp_msg_decode_dir(const u8 *payload, size_t len, bool reply,
			      struct kvp_msg *msg)
{
	const struct kvp_msg_kind *kind;
	u8 fields;
	int err;

	if (len < KVP_MSG_OFF_BODY)
		return -EINVAL;
	kvp_msg_reset(msg, payload);
	kind = kvp_msg_kind(msg->op);
	if (!kind)
		return -EOPNOTSUPP;
	fields = reply ? kind->reply : kind->request;
	/* Every fixed field lies before the key. */
	if (msg->pool >= KVP_POOL_COUNT || (fields && len < kind->key))
		return -EINVAL;
	if (fields & KVP_FIELD_INDEX)
		msg->index = kvp_get_le32(payload + kind->index);
	if (fields & KVP_FIELD_KEY) {
		err = kvp_msg_get_str(payload, len, kind->key,
				      kvp_get_le32(payload + kind->key_size),
				      KVP_KEY_BYTES, msg->key,
				      sizeof(msg->key), &msg->key_len);
		if (err)
			return err;
	}
	if (fields & KVP_FIELD_VALUE)
		return kvp_msg_decode_value(payload, len, kind, msg);
	return 0;
}

/* A host request, as the guest reads it. */
int kvp_msg_decode(const u8 *payload, size_t len, struct kvp_msg *msg)
{
	return kvp_msg_decode_dir(payload, len, false, msg);
}

/* A guest reply, as the host reads it. */
int kvp_msg_decode_reply(const u8 *payload, size_t len, struct kvp_msg *msg)
{
	return kvp_msg_decode_dir(payload, len, true, msg);
}

/*
 * Writes a string into a `max`-byte field, zero-padded, and its byte size
 * (terminator included) at size_off.  Returns 1 if it had to be cut.
 */
static int kvp_msg_put_str(u8 *payload, size_t size_off, size_t off,
			   size_t max, const char *s, size_t s_len)
{
	bool truncated;
	int units;

	memset(payload + off, 0, max);
	units = kvp_utf8_to_utf16(s, s_len, payload + off, max / 2,
				  &truncated);
	if (units < 0)
		return units;
	kvp_put_le32(payload + size_off, 2 * (units + 1));
	return truncated;
}

/*
 * Encodes msg into the KVP payload at `payload`, which must hold
 * kvp_msg_len(msg->op) bytes: the header, and every field the operation
 * carries (value type REG_SZ).  Used for host requests and, in place, for
 * guest replies.  Returns 0, 1 if a key or value was cut to the wire limit
 * (255 or 1023 UTF-16 units), or a negative errno (-EINVAL: bad UTF-8 or a
 * short buffer; -EOPNOTSUPP: operation not handled).
 */
int kvp_msg_encode(u8 *payload, size_t len, const struct kvp_msg *msg)
{
	const struct kvp_msg_kind *kind = kvp_msg_kind(msg->op);
	int cut, err;

	if (!kind)
		return -EOPNOTSUPP;
	if (len < kind->len)
		return -EINVAL;
	payload[KVP_MSG_OFF_OP] = msg->op;
	payload[KVP_MSG_OFF_POOL] = msg->pool;
	kvp_put_le16(payload + 2, 0);
	if (kind->index)
		kvp_put_le32(payload + kind->index, msg->index);
	cut = kvp_msg_put_str(payload, kind->key_size, kind->key,
			      KVP_KEY_BYTES, msg->key, msg->key_len);
	if (cut < 0 || !kind->value)
		return cut;
	kvp_put_le32(payload + kind->value_hdr + KVP_VAL_OFF_TYPE, KVP_REG_SZ);
	err = kvp_msg_put_str(payload, kind->value_hdr + KVP_VAL_OFF_VALUE_SIZE,
			      kind->value, KVP_VALUE_BYTES, msg->value,
			      msg->value_len);
	if (err < 0)
		return err;
	return cut | err;
}

/*
 * Pool 2 holds what the guest reports of itself (its intrinsic items): the
 * host reads it but may not change it.
 */
static bool kvp_msg_forbidden(const struct kvp_msg *msg)
{
	return msg->pool == KVP_POOL_AUTO &&
	       (msg->op == KVP_OP_SET || msg->op == KVP_OP_DELETE);
}

/*
 * What the guest makes of a host request's KVP payload (size bytes): 0 for
 * a request to pass to its daemon, decoded into msg; otherwise the error
 * kvp_msg_refusal() turns into the answer: the decoder's errors, -EINVAL
 * for a GET or ENUMERATE without room for its reply in place, -EACCES for a
 * change of pool 2.
 */
int kvp_msg_check_request(const u8 *payload, size_t size, struct kvp_msg *msg)
{
	const struct kvp_msg_kind *kind;
	int err;

	err = kvp_msg_decode(payload, size, msg);
	if (err)
		return err;
	kind = kvp_msg_kind(msg->op);
	if (kind->reply && size < kind->len)
		return -EINVAL;
	if (kvp_msg_forbidden(msg))
		return -EACCES;
	return 0;
}

/* The HRESULT for a request kvp_msg_check_request() refused. */
u32 kvp_msg_refusal(int err)
{
	switch (err) {
	case -EOPNOTSUPP:
		return KVP_E_NOT_SUPPORTED;
	case -EACCES:
		return KVP_E_ACCESSDENIED;
	default:
		return KVP_E_FAIL;
	}
}

/* A daemon's string into a field of msg; -EINVAL if it does not fit. */
static int kvp_msg_take(char *field, size_t size, u32 *field_len,
			const char *s)
{
	size_t len = strnlen(s, size);

	if (len == size)
		return -EINVAL;
	memcpy(field, s, len + 1);
	*field_len = len;
	return 0;
}

/*
 * Writes the daemon's answer to a request (msg, as kvp_msg_check_request()
 * left it) into its payload in place: the fields its kind of reply carries,
 * which `fields` (KVP_FIELD_*) says the daemon gave.  A SET or DELETE
 * reply is the request itself: nothing is written.  Returns 0, 1 if a key
 * or value was cut to the wire limit, or -EINVAL (a field missing or too
 * long, text that is not UTF-8).
 */
int kvp_msg_answer(u8 *payload, size_t len, struct kvp_msg *msg, u8 fields,
		   const char *key, const char *value)
{
	const struct kvp_msg_kind *kind = kvp_msg_kind(msg->op);
	int err;

	if (!kind || !kind->reply)
		return 0;
	if ((fields & kind->reply) != kind->reply)
		return -EINVAL;
	if (kind->reply & KVP_FIELD_KEY) {
		err = kvp_msg_take(msg->key, sizeof(msg->key), &msg->key_len,
				   key);
		if (err)
			return err;
	}
	if (kind->reply & KVP_FIELD_VALUE) {
		err = kvp_msg_take(msg->value, sizeof(msg->value),
				   &msg->value_len, value);
		if (err)
			return err;
	}
	return kvp_msg_encode(payload, len, msg);
}
