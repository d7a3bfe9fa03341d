// SPDX-License-Identifier: GPL-2.0
/*
 * IC framing and version negotiation, as a Hyper-V host expects them.
 * Shared by kvp.ko (guest end) and kvp-hostd (host end).
 */
#include "ic.h"

#define KVP_PIPE_TYPE_DATA	1

/*
 * The IC framework versions the guest speaks, newest first; every service
 * shares them.  Each service has its own list of message versions.
 */
static const u32 kvp_fw_version_list[] = {
	KVP_VERSION(3, 0), KVP_VERSION(1, 0),
};

static const struct kvp_ic_versions kvp_fw_versions = {
	.list = kvp_fw_version_list,
	.count = ARRAY_SIZE(kvp_fw_version_list),
};

static u32 kvp_get_version(const u8 *p)
{
	return KVP_VERSION(kvp_get_le16(p), kvp_get_le16(p + 2));
}

static void kvp_put_version(u8 *p, u32 version)
{
	kvp_put_le16(p, KVP_VERSION_MAJOR(version));
	kvp_put_le16(p + 2, KVP_VERSION_MINOR(version));
}

/*
 * Decodes the IC header of a packet of len bytes.  Returns -EINVAL when the
 * packet is shorter than the headers or its payload size overruns it.  The
 * pipe header is not checked: hosts differ in what they put there.
 */
int kvp_ic_parse(const u8 *pkt, size_t len, struct kvp_ic_hdr *hdr)
{
	if (len < KVP_ICMSG_HDR_LEN)
		return -EINVAL;
	hdr->fw_version = kvp_get_version(pkt + KVP_IC_OFF_FW_VER);
	hdr->type = kvp_get_le16(pkt + KVP_IC_OFF_TYPE);
	hdr->msg_version = kvp_get_version(pkt + KVP_IC_OFF_MSG_VER);
	hdr->size = kvp_get_le16(pkt + KVP_IC_OFF_SIZE);
	hdr->status = kvp_get_le32(pkt + KVP_IC_OFF_STATUS);
	hdr->txid = pkt[KVP_IC_OFF_TXID];
	hdr->flags = pkt[KVP_IC_OFF_FLAGS];
	if (hdr->size > len - KVP_ICMSG_HDR_LEN)
		return -EINVAL;
	return 0;
}

/* Writes the pipe header and the IC header (the host end's requests). */
void kvp_ic_build(u8 *pkt, const struct kvp_ic_hdr *hdr)
{
	kvp_put_le32(pkt + KVP_IC_OFF_PIPE_FLAGS, KVP_PIPE_TYPE_DATA);
	kvp_put_le32(pkt + KVP_IC_OFF_PIPE_SIZE, KVP_IC_HDR_LEN + hdr->size);
	kvp_put_version(pkt + KVP_IC_OFF_FW_VER, hdr->fw_version);
	kvp_put_le16(pkt + KVP_IC_OFF_TYPE, hdr->type);
	kvp_put_version(pkt + KVP_IC_OFF_MSG_VER, hdr->msg_version);
	kvp_put_le16(pkt + KVP_IC_OFF_SIZE, hdr->size);
	kvp_put_le32(pkt + KVP_IC_OFF_STATUS, hdr->status);
	pkt[KVP_IC_OFF_TXID] = hdr->txid;
	pkt[KVP_IC_OFF_FLAGS] = hdr->flags;
	kvp_put_le16(pkt + KVP_IC_OFF_RESERVED, 0);
}

/* Turns a received request into its reply, in place (the guest end). */
void kvp_ic_set_reply(u8 *pkt, u32 status)
{
	kvp_put_le32(pkt + KVP_IC_OFF_STATUS, status);
	pkt[KVP_IC_OFF_FLAGS] = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE;
}

/* The first of ours, in our order, that the host offers exactly. */
static int kvp_ic_pick(const u8 *offer, u16 count,
		       const struct kvp_ic_versions *ours, u32 *chosen)
{
	size_t i, j;

	for (i = 0; i < ours->count; i++)
		for (j = 0; j < count; j++)
			if (kvp_get_version(offer + 4 * j) == ours->list[i]) {
				*chosen = ours->list[i];
				return 0;
			}
	return -EPROTO;
}

/*
 * Answers a NEGOTIATE packet in place, the way Hyper-V hosts expect from a
 * Linux guest: one framework and one message version, chosen from what the
 * host offers (the message version from the service's list `ours`), and an
 * IC payload size of 16.  When nothing matches, the reply carries zero
 * counts (the host then gives up on the channel) and -EPROTO is returned;
 * -EINVAL means the packet was malformed: it is left as it was, to be
 * refused.  The caller still sets the reply flags and status.
 */
int kvp_ic_negotiate(u8 *pkt, size_t len, const struct kvp_ic_versions *ours,
		     u32 *fw_version, u32 *msg_version)
{
	u8 *nego = pkt + KVP_ICMSG_HDR_LEN;
	struct kvp_ic_hdr hdr;
	u16 nr_fw, nr_msg;
	int err;

	err = kvp_ic_parse(pkt, len, &hdr);
	if (err)
		return err;
	if (hdr.size < KVP_NEGO_HDR_LEN)
		return -EINVAL;
	nr_fw = kvp_get_le16(nego);
	nr_msg = kvp_get_le16(nego + 2);
	if (nr_fw > KVP_NEGO_MAX_COUNT || nr_msg > KVP_NEGO_MAX_COUNT ||
	    KVP_NEGO_HDR_LEN + 4u * (nr_fw + nr_msg) > hdr.size)
		return -EINVAL;

	err = kvp_ic_pick(nego + KVP_NEGO_HDR_LEN, nr_fw, &kvp_fw_versions,
			  fw_version);
	if (!err)
		err = kvp_ic_pick(nego + KVP_NEGO_HDR_LEN + 4 * nr_fw, nr_msg,
				  ours, msg_version);
	if (err) {
		kvp_put_le16(nego, 0);
		kvp_put_le16(nego + 2, 0);
		return err;
	}
	/* The reply fits: 16 bytes <= 8 + 4 * (nr_fw + nr_msg) checked above. */
	kvp_put_le16(nego, 1);
	kvp_put_le16(nego + 2, 1);
	kvp_put_version(nego + KVP_NEGO_HDR_LEN, *fw_version);
	kvp_put_version(nego + KVP_NEGO_HDR_LEN + 4, *msg_version);
	kvp_put_le16(pkt + KVP_IC_OFF_SIZE, KVP_NEGO_REPLY_LEN);
	return 0;
}

/*
 * Builds a whole NEGOTIATE request offering the given versions (the host
 * end).  Returns the packet length, or 0 if it does not fit cap bytes.
 */
size_t kvp_ic_build_negotiate(u8 *pkt, size_t cap,
			      const u32 *fw, u16 nr_fw,
			      const u32 *msg, u16 nr_msg)
{
	size_t size = KVP_NEGO_HDR_LEN + 4u * (nr_fw + nr_msg);
	struct kvp_ic_hdr hdr = {
		.fw_version = KVP_VERSION(1, 0),
		.type = KVP_IC_TYPE_NEGOTIATE,
		.msg_version = KVP_VERSION(1, 0),
		.size = (u16)size,
		.flags = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST,
	};
	u8 *nego = pkt + KVP_ICMSG_HDR_LEN;
	u16 i;

	if (KVP_ICMSG_HDR_LEN + size > cap)
		return 0;
	kvp_ic_build(pkt, &hdr);
	kvp_put_le16(nego, nr_fw);
	kvp_put_le16(nego + 2, nr_msg);
	kvp_put_le32(nego + 4, 0);
	for (i = 0; i < nr_fw; i++)
		kvp_put_version(nego + KVP_NEGO_HDR_LEN + 4 * i, fw[i]);
	for (i = 0; i < nr_msg; i++)
		kvp_put_version(nego + KVP_NEGO_HDR_LEN + 4 * (nr_fw + i),
				msg[i]);
	return KVP_ICMSG_HDR_LEN + size;
}

/*
 * Checks a guest's NEGOTIATE reply as a Hyper-V host does: a response, with
 * status S_OK and exactly one framework and one message version.
 */
int kvp_ic_parse_negotiate_reply(const u8 *pkt, size_t len,
				 u32 *fw_version, u32 *msg_version)
{
	const u8 *nego = pkt + KVP_ICMSG_HDR_LEN;
	struct kvp_ic_hdr hdr;

	if (kvp_ic_parse(pkt, len, &hdr) || hdr.type != KVP_IC_TYPE_NEGOTIATE ||
	    hdr.size < KVP_NEGO_REPLY_LEN)
		return -EINVAL;
	if (!(hdr.flags & KVP_IC_FLAG_TRANSACTION) ||
	    !(hdr.flags & KVP_IC_FLAG_RESPONSE) || hdr.status != KVP_S_OK)
		return -EPROTO;
	if (kvp_get_le16(nego) != 1 || kvp_get_le16(nego + 2) != 1)
		return -EPROTO;
	*fw_version = kvp_get_version(nego + KVP_NEGO_HDR_LEN);
	*msg_version = kvp_get_version(nego + KVP_NEGO_HDR_LEN + 4);
	return 0;
}
