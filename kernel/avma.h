/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The activation service's messages (IC message type KVP_IC_TYPE_AVMA),
 * Documentation/protocol.rst section 4: building and parsing the guest's
 * request and the host's reply bodies.  Pure code, shared with userspace
 * (see wire.h): kvp.ko checks every reply with it before relaying it, kvpd
 * builds requests and reads replies, kvp-hostd does the reverse.
 *
 * The guest starts every exchange: it sends one request, the host answers
 * it with one reply.  Both sit after the 28-byte IC header, all integers
 * little endian, every text field a fixed-size byte array padded with NULs
 * that holds at least one NUL.
 */
#ifndef _KVP_AVMA_H
#define _KVP_AVMA_H

#include "wire.h"

#define KVP_IC_TYPE_AVMA	0x0041	/* 'A': the activation message */

#define KVP_AVMA_OP_ACTIVATE	1	/* the one operation of 1.0 */

#define KVP_AVMA_NONCE_LEN	16
#define KVP_AVMA_UUID_LEN	16
#define KVP_AVMA_PRODUCT_LEN	32
#define KVP_AVMA_VERSION_LEN	16
#define KVP_AVMA_EDITION_LEN	32
#define KVP_AVMA_KEY_LEN	32	/* "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" */
#define KVP_AVMA_NAME_LEN	64

/* The request body, guest -> host. */
#define KVP_AVMA_REQ_OFF_OP		0	/* u16 */
#define KVP_AVMA_REQ_OFF_RESERVED	2	/* u16, zero */
#define KVP_AVMA_REQ_OFF_NONCE		4
#define KVP_AVMA_REQ_OFF_VM_ID		20
#define KVP_AVMA_REQ_OFF_PRODUCT	36
#define KVP_AVMA_REQ_OFF_VERSION	68
#define KVP_AVMA_REQ_OFF_EDITION	84
#define KVP_AVMA_REQ_OFF_KEY		116
#define KVP_AVMA_REQ_OFF_VM_NAME	148
#define KVP_AVMA_REQUEST_LEN		212

/* The reply body, host -> guest. */
#define KVP_AVMA_REP_OFF_OP		0	/* u16, the request's */
#define KVP_AVMA_REP_OFF_OUTCOME	2	/* u16, enum kvp_avma_outcome */
#define KVP_AVMA_REP_OFF_REASON		4	/* u32, enum kvp_avma_reason */
#define KVP_AVMA_REP_OFF_NONCE		8	/* the request's */
#define KVP_AVMA_REP_OFF_GRANT_LEN	24	/* u16 */
#define KVP_AVMA_REP_OFF_RESERVED	26	/* u16, zero */
#define KVP_AVMA_REP_OFF_GRANT		28
#define KVP_AVMA_REPLY_HDR_LEN		28
#define KVP_AVMA_GRANT_MAX		1024
#define KVP_AVMA_REPLY_MAX	(KVP_AVMA_REPLY_HDR_LEN + KVP_AVMA_GRANT_MAX)

/* What the guest logs (event 12309), after Hyper-V's four outcomes. */
enum kvp_avma_outcome {
	KVP_AVMA_SUCCESS = 0,
	KVP_AVMA_INVALID_HOST = 1,	/* no licensed host answered */
	KVP_AVMA_INVALID_DATA = 2,	/* the exchange itself was wrong */
	KVP_AVMA_DENIED = 3,		/* the host will not lend this one */
	KVP_AVMA_OUTCOME_COUNT,
};

/*
 * Why, in more detail.  Values below 64 go over the wire (the host's
 * decision); 64 and up are only ever the guest's own findings, recorded in
 * its licence state and events, never sent.
 */
enum kvp_avma_reason {
	KVP_AVMA_R_NONE = 0,		/* Success */
	/* Invalid Host */
	KVP_AVMA_R_NO_LICENCE = 1,	/* the host holds no licence for it */
	KVP_AVMA_R_NOT_ACTIVATED = 2,	/* its licence is not activated */
	KVP_AVMA_R_LICENCE_INVALID = 3,	/* bad signature, other host, expired */
	KVP_AVMA_R_HOST_EDITION = 4,	/* e.g. Standard: cannot lend */
	KVP_AVMA_R_HOST_BUSY = 5,	/* rate limit, or history unwritable */
	/* Activation Denied */
	KVP_AVMA_R_VERSION = 16,	/* guest newer than the host's licence */
	KVP_AVMA_R_KEY = 17,		/* not the catalog's key for it */
	KVP_AVMA_R_PRODUCT = 18,	/* product or edition unknown */
	/* Invalid Data */
	KVP_AVMA_R_MALFORMED = 32,	/* request fields not well formed */
	KVP_AVMA_R_REPLAY = 33,		/* nonce seen before */
	/* Guest-side only */
	KVP_AVMA_R_NO_SERVICE = 64,	/* transport has no activation channel */
	KVP_AVMA_R_NO_HOST = 65,	/* channel not up: no host connected */
	KVP_AVMA_R_TIMEOUT = 66,	/* no reply in time */
	KVP_AVMA_R_BAD_REPLY = 67,	/* reply or grant malformed */
	KVP_AVMA_R_NONCE = 68,		/* reply for another request: replay */
	KVP_AVMA_R_OTHER_VM = 69,	/* grant names another VM */
	KVP_AVMA_R_SIGNATURE = 70,	/* grant or licence signature wrong */
	KVP_AVMA_R_MISMATCH = 71,	/* grant is not for what we asked */
	KVP_AVMA_R_EXPIRED = 72,	/* lease ended, no host renewed it */
	KVP_AVMA_R_NO_KEY = 73,		/* no AVMA key installed */
};

struct kvp_avma_request {
	u16 op;
	u8 nonce[KVP_AVMA_NONCE_LEN];
	u8 vm_id[KVP_AVMA_UUID_LEN];
	char product[KVP_AVMA_PRODUCT_LEN];
	char version[KVP_AVMA_VERSION_LEN];
	char edition[KVP_AVMA_EDITION_LEN];
	char key[KVP_AVMA_KEY_LEN];
	char vm_name[KVP_AVMA_NAME_LEN];
};

struct kvp_avma_reply {
	u16 op;
	u16 outcome;
	u32 reason;
	u8 nonce[KVP_AVMA_NONCE_LEN];
	u16 grant_len;
	const u8 *grant;	/* into the parsed buffer */
};

/*
 * Body only (no IC header).  parse returns -EINVAL for a body of the wrong
 * length, an unknown op, a nonzero reserved field, a text field without a
 * NUL or with anything but NULs after its first NUL (product, version,
 * edition and key must also be non-empty), an unknown outcome, a reason of
 * 64 or more, or an outcome/grant/reason combination that is not allowed
 * (Success always with a grant and reason 0; any other outcome never with
 * a grant and always with a reason), or a grant over KVP_AVMA_GRANT_MAX.
 * A body parse accepts builds back to the same bytes.  build returns the
 * body length, or -EINVAL if the fields cannot be encoded by those rules
 * (strings that do not fit with their NUL, ...); it writes at most
 * KVP_AVMA_REPLY_MAX bytes.
 */
int kvp_avma_request_parse(const u8 *body, size_t len,
			   struct kvp_avma_request *req);
int kvp_avma_request_build(u8 *body, const struct kvp_avma_request *req);
int kvp_avma_reply_parse(const u8 *body, size_t len,
			 struct kvp_avma_reply *rep);
int kvp_avma_reply_build(u8 *body, const struct kvp_avma_reply *rep);

const char *kvp_avma_outcome_name(u32 outcome);	/* "Success", ... */
const char *kvp_avma_reason_name(u32 reason);	/* short, lower case */

#endif /* _KVP_AVMA_H */
