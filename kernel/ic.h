/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hyper-V integration-component (IC) framing: the 8-byte pipe header, the
 * 20-byte IC message header and version negotiation.  Pure code, shared with
 * userspace (see wire.h).  Byte layout: Documentation/protocol.rst.
 */
#ifndef _KVP_IC_H
#define _KVP_IC_H

#include "wire.h"

#define KVP_PIPE_HDR_LEN	8
#define KVP_IC_HDR_LEN		20
#define KVP_ICMSG_HDR_LEN	(KVP_PIPE_HDR_LEN + KVP_IC_HDR_LEN)

/* Largest IC packet either side handles: one VMBus pipe packet. */
#define KVP_IC_MAX_PACKET	16384

/* Offsets inside a packet (pipe header first). */
#define KVP_IC_OFF_PIPE_FLAGS	0
#define KVP_IC_OFF_PIPE_SIZE	4
#define KVP_IC_OFF_FW_VER	8
#define KVP_IC_OFF_TYPE		12
#define KVP_IC_OFF_MSG_VER	14
#define KVP_IC_OFF_SIZE		18
#define KVP_IC_OFF_STATUS	20
#define KVP_IC_OFF_TXID		24
#define KVP_IC_OFF_FLAGS	25
#define KVP_IC_OFF_RESERVED	26

#define KVP_IC_TYPE_NEGOTIATE	0
#define KVP_IC_TYPE_HEARTBEAT	1
#define KVP_IC_TYPE_KVP		2

#define KVP_IC_FLAG_TRANSACTION	0x01
#define KVP_IC_FLAG_REQUEST	0x02
#define KVP_IC_FLAG_RESPONSE	0x04

/* HRESULT status codes carried in the IC header. */
#define KVP_S_OK		0x00000000u
#define KVP_E_FAIL		0x80004005u
#define KVP_S_CONT		0x80070103u
#define KVP_E_NOT_SUPPORTED	0x80070032u
#define KVP_E_INVALIDARG	0x80070057u
#define KVP_E_ACCESSDENIED	0x80070005u

/* Versions are encoded major << 16 | minor, as on the wire. */
#define KVP_VERSION(major, minor)	((u32)(major) << 16 | (minor))
#define KVP_VERSION_MAJOR(v)		((v) >> 16)
#define KVP_VERSION_MINOR(v)		((v) & 0xffff)

/* Negotiation payload: counts, reserved word, then the version list. */
#define KVP_NEGO_HDR_LEN	8
#define KVP_NEGO_REPLY_LEN	(KVP_NEGO_HDR_LEN + 2 * 4)
#define KVP_NEGO_MAX_COUNT	100

/* The fields of an IC message header, decoded to host order. */
struct kvp_ic_hdr {
	u32 fw_version;
	u16 type;
	u32 msg_version;
	u16 size;	/* payload bytes after the 28-byte header */
	u32 status;
	u8 txid;
	u8 flags;
};

/* Versions one side speaks, in order of preference. */
struct kvp_ic_versions {
	const u32 *list;
	u16 count;
};

int kvp_ic_parse(const u8 *pkt, size_t len, struct kvp_ic_hdr *hdr);
void kvp_ic_build(u8 *pkt, const struct kvp_ic_hdr *hdr);
void kvp_ic_set_reply(u8 *pkt, u32 status);

int kvp_ic_negotiate(u8 *pkt, size_t len, const struct kvp_ic_versions *ours,
		     u32 *fw_version, u32 *msg_version);
size_t kvp_ic_build_negotiate(u8 *pkt, size_t cap,
			      const u32 *fw, u16 nr_fw,
			      const u32 *msg, u16 nr_msg);
int kvp_ic_parse_negotiate_reply(const u8 *pkt, size_t len,
				 u32 *fw_version, u32 *msg_version);

#endif /* _KVP_IC_H */
