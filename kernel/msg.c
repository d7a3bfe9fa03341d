// SPDX-License-Identifier: GPL-2.0
/*
 * The KVP exchange message: one decoder and one encoder for every operation
 * and both directions, so the guest (kvp.ko) and the host end (kvp-hostd)
 * read and write the same bytes through the same code.
 */
#include "msg.h"
#include "utf16.h"

/* Offsets of a kvp_exchg_msg_value, relative to its start. */
#define KVP_VAL_OFF_TYPE	0
#define KVP_VAL_OFF_KEY_SIZE	4
#define KVP_VAL_OFF_VALUE_SIZE	8
#define KVP_VAL_OFF_KEY		12
#define KVP_VAL_OFF_VALUE	(12 + KVP_KEY_BYTES)

/* Where an operation keeps its fields, relative to the KVP payload. */
struct kvp_msg_layout {
	size_t index;		/* 0: none */
	size_t value_hdr;	/* 0: no value_type/key_size/value_size */
	size_t key_size;
	size_t key;
	size_t value;		/* 0: no value */
};

static int kvp_msg_layout(u8 op, struct kvp_msg_layout *lay)
{
	size_t base;

	switch (op) {
	case KVP_OP_GET:
	case KVP_OP_SET:
	case KVP_OP_ENUMERATE:
		base = KVP_MSG_OFF_BODY + (op == KVP_OP_ENUMERATE ? 4 : 0);
		lay->index = op == KVP_OP_ENUMERATE ? KVP_MSG_OFF_BODY : 0;
		lay->value_hdr = base;
		lay->key_size = base + KVP_VAL_OFF_KEY_SIZE;
		lay->key = base + KVP_VAL_OFF_KEY;
		lay->value = base + KVP_VAL_OFF_VALUE;
		return 0;
	case KVP_OP_DELETE:
		lay->index = 0;
		lay->value_hdr = 0;
		lay->key_size = KVP_MSG_OFF_BODY;
		lay->key = KVP_MSG_OFF_BODY + 4;
		lay->value = 0;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

size_t kvp_msg_len(u8 op)
{
	switch (op) {
	case KVP_OP_GET:
	case KVP_OP_SET:
		return KVP_MSG_GETSET_LEN;
	case KVP_OP_DELETE:
		return KVP_MSG_DELETE_LEN;
	case KVP_OP_ENUMERATE:
		return KVP_MSG_ENUM_LEN;
	default:
		return 0;
	}
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

/*
 * Decodes the KVP payload (packet offset 28, len bytes) of any operation, in
 * either direction: what the operation does not carry is left empty.  Never
 * reads past len.  Returns -EOPNOTSUPP for operations this version does not
 * handle (IP info), -EINVAL for a malformed message, -EMSGSIZE for a key or
 * value whose UTF-8 form does not fit a pool record.
 */
int kvp_msg_decode(const u8 *payload, size_t len, struct kvp_msg *msg)
{
	struct kvp_msg_layout lay;
	u32 key_size, value_size = 0;
	int err;

	if (len < KVP_MSG_OFF_BODY)
		return -EINVAL;
	msg->op = payload[KVP_MSG_OFF_OP];
	msg->pool = payload[KVP_MSG_OFF_POOL];
	msg->index = 0;
	msg->value_type = KVP_REG_SZ;
	msg->key[0] = '\0';
	msg->value[0] = '\0';
	msg->key_len = 0;
	msg->value_len = 0;
	err = kvp_msg_layout(msg->op, &lay);
	if (err)
		return err;
	/* Every fixed field lies before the key. */
	if (msg->pool >= KVP_POOL_COUNT || len < lay.key)
		return -EINVAL;
	if (lay.index)
		msg->index = kvp_get_le32(payload + lay.index);
	if (lay.value_hdr) {
		msg->value_type = kvp_get_le32(payload + lay.value_hdr);
		value_size = kvp_get_le32(payload + lay.value_hdr +
					  KVP_VAL_OFF_VALUE_SIZE);
	}
	key_size = kvp_get_le32(payload + lay.key_size);
	err = kvp_msg_get_str(payload, len, lay.key, key_size, KVP_KEY_BYTES,
			      msg->key, sizeof(msg->key), &msg->key_len);
	if (err)
		return err;
	if (!lay.value || (value_size == 0 && msg->value_type == KVP_REG_SZ))
		return 0;
	return kvp_msg_get_value(payload, len, lay.value, value_size, msg);
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
	struct kvp_msg_layout lay;
	int cut, err;

	err = kvp_msg_layout(msg->op, &lay);
	if (err)
		return err;
	if (len < kvp_msg_len(msg->op))
		return -EINVAL;
	payload[KVP_MSG_OFF_OP] = msg->op;
	payload[KVP_MSG_OFF_POOL] = msg->pool;
	kvp_put_le16(payload + 2, 0);
	if (lay.index)
		kvp_put_le32(payload + lay.index, msg->index);
	cut = kvp_msg_put_str(payload, lay.key_size, lay.key, KVP_KEY_BYTES,
			      msg->key, msg->key_len);
	if (cut < 0 || !lay.value)
		return cut;
	kvp_put_le32(payload + lay.value_hdr + KVP_VAL_OFF_TYPE, KVP_REG_SZ);
	err = kvp_msg_put_str(payload, lay.value_hdr + KVP_VAL_OFF_VALUE_SIZE,
			      lay.value, KVP_VALUE_BYTES, msg->value,
			      msg->value_len);
	if (err < 0)
		return err;
	return cut | err;
}
