/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KVP exchange message (IC type 2): decoding a packet's KVP payload into
 * UTF-8 strings and encoding one back, for both directions.  Pure code,
 * shared with userspace (see wire.h).  Byte layout: Documentation/protocol.rst.
 */
#ifndef _KVP_MSG_H
#define _KVP_MSG_H

#include "ic.h"

/* Operations (u8 at payload offset 0). */
#define KVP_OP_GET		0
#define KVP_OP_SET		1
#define KVP_OP_DELETE		2
#define KVP_OP_ENUMERATE	3
#define KVP_OP_GET_IP_INFO	4
#define KVP_OP_SET_IP_INFO	5

/* Pools (u8 at payload offset 1). */
#define KVP_POOL_EXTERNAL	0
#define KVP_POOL_GUEST		1
#define KVP_POOL_AUTO		2
#define KVP_POOL_AUTO_EXTERNAL	3
#define KVP_POOL_AUTO_INTERNAL	4
#define KVP_POOL_COUNT		5

/* Value types. */
#define KVP_REG_SZ		1
#define KVP_REG_U32		4
#define KVP_REG_U64		8
#define KVP_REG_QWORD		11

/*
 * Size limits in bytes, terminator included: on the wire (UTF-16LE, so at
 * most 255 and 1023 code units before the terminator) and in the pool file
 * records (UTF-8).
 */
#define KVP_KEY_BYTES		512
#define KVP_VALUE_BYTES		2048

/* Payload offsets, relative to the KVP payload (packet offset 28). */
#define KVP_MSG_OFF_OP		0
#define KVP_MSG_OFF_POOL	1
#define KVP_MSG_OFF_BODY	4
#define KVP_MSG_VALUE_LEN	(12 + KVP_KEY_BYTES + KVP_VALUE_BYTES)
#define KVP_MSG_GETSET_LEN	(KVP_MSG_OFF_BODY + KVP_MSG_VALUE_LEN)
#define KVP_MSG_DELETE_LEN	(KVP_MSG_OFF_BODY + 4 + KVP_KEY_BYTES)
#define KVP_MSG_ENUM_LEN	(KVP_MSG_OFF_BODY + 4 + KVP_MSG_VALUE_LEN)
#define KVP_MSG_IP_LEN		7428

/* A KVP message decoded: NUL-terminated UTF-8, lengths without the NUL. */
struct kvp_msg {
	u8 op;
	u8 pool;
	u32 index;		/* ENUMERATE only */
	u32 value_type;		/* as received; replies are always REG_SZ */
	u32 key_len;
	u32 value_len;
	char key[KVP_KEY_BYTES];
	char value[KVP_VALUE_BYTES];
};

/* The fields a message kind carries in one direction. */
#define KVP_FIELD_KEY		0x01
#define KVP_FIELD_VALUE		0x02
#define KVP_FIELD_INDEX		0x04

/*
 * One kind of KVP message: its wire size and where its fields lie (offsets
 * in the KVP payload; 0 for a field the kind does not have), and which
 * fields the host's request and the guest's reply carry.
 */
struct kvp_msg_kind {
	u8 op;
	const char *name;
	u32 len;
	u32 index;
	u32 value_hdr;		/* value_type, key_size, value_size */
	u32 key_size;
	u32 key;
	u32 value;
	u8 request;		/* KVP_FIELD_* the guest reads */
	u8 reply;		/* KVP_FIELD_* the guest writes back */
};

/*
 * A daemon's answer to a request, as its endpoint read it (netlink
 * attributes, the stock daemon's message): kvp_exchange_reply() takes it.
 */
struct kvp_exchange_answer {
	u32 status;		/* HRESULT for the host */
	u8 fields;		/* KVP_FIELD_* given below */
	const char *key;	/* UTF-8, NUL-terminated */
	const char *value;
};

extern const struct kvp_ic_versions kvp_msg_versions;

const struct kvp_msg_kind *kvp_msg_kind(u8 op);
int kvp_msg_decode(const u8 *payload, size_t len, struct kvp_msg *msg);
int kvp_msg_decode_reply(const u8 *payload, size_t len, struct kvp_msg *msg);
int kvp_msg_encode(u8 *payload, size_t len, const struct kvp_msg *msg);
int kvp_msg_check_request(const u8 *payload, size_t size, struct kvp_msg *msg);
u32 kvp_msg_refusal(int err);
int kvp_msg_answer(u8 *payload, size_t len, struct kvp_msg *msg, u8 fields,
		   const char *key, const char *value);
size_t kvp_msg_len(u8 op);

#endif /* _KVP_MSG_H */
