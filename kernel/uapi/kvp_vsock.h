/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kvp vsock framing, versions 1 to 3: how kvp_vsock.ko (guest) and a host
 * daemon carry Hyper-V IC packets over an AF_VSOCK stream.  The
 * authoritative, byte-exact description is Documentation/protocol.rst; this
 * header only names its constants.
 *
 * The guest connects to (host CID, port).  Every frame is a 24-byte header,
 * all fields little endian, followed by `length` payload bytes:
 *
 *   offset 0   u32 magic    KVP_VSOCK_MAGIC, the bytes "KVPF"
 *   offset 4   u16 version  see below
 *   offset 6   u16 type     enum kvp_vsock_type
 *   offset 8   u32 length   payload bytes, at most KVP_VSOCK_MAX_PAYLOAD
 *   offset 12  u16 service  enum kvp_vsock_service; 0 in version 1
 *   offset 14  u16 flags    zero
 *   offset 16  u64 id       request id (PACKET); zero otherwise
 *
 * (Version 1 defined offsets 12-15 as one u32 flags that had to be zero: a
 * version-1 frame is a version-2 frame of service 0.)
 *
 * HELLO (guest -> host, first frame, service 0, id 0) carries in `version`
 * the highest version the guest speaks; in versions 1 and 2 it is empty
 * (the guest speaks the KVP exchange only), from version 3 on it holds a
 * u32 bit mask of the services the guest speaks (bit N: service N; bit 0
 * always set).  Later versions may only append to it, so a host reads the
 * first 4 bytes of a HELLO above its own version as the mask.  A version-1
 * or -2 host refuses a HELLO with a payload: a guest whose version-3 HELLO
 * was closed without an answer offers version 2 on its next attempt.
 *
 * WELCOME (host -> guest, service 0, id 0) carries the version the host
 * chose, the lower of the guest's and its own highest.  A version-1
 * WELCOME is empty; from version 2 on it holds a u32 bit mask of the
 * services of the connection: in version 2 those the host serves (a
 * version-3 host announces only bit 0 to a guest whose HELLO is of version
 * 1 or 2), from version 3 on those the host serves that the HELLO named.
 * Then PACKET frames, each holding one IC packet (the bytes of a VMBus
 * in-band packet's payload: pipe header, IC header, body), flow on each
 * announced service in the direction it defines: the requester picks the
 * ids, per service and direction, and the other side answers each with a
 * PACKET of the same id.  Anything else, a PACKET on a service not
 * announced included, closes the connection.
 */
#ifndef _UAPI_KVP_VSOCK_H
#define _UAPI_KVP_VSOCK_H

#define KVP_VSOCK_MAGIC		0x4650564bU	/* "KVPF" */
#define KVP_VSOCK_VERSION_MAX	3	/* the highest version defined here */
#define KVP_VSOCK_HDR_LEN	24
#define KVP_VSOCK_MAX_PAYLOAD	16384
#define KVP_VSOCK_HELLO_LEN	4	/* version 3: u32 services */
#define KVP_VSOCK_WELCOME_LEN	4	/* version 2 on: u32 services */
#define KVP_VSOCK_PORT		5462
#define KVP_VSOCK_HOST_CID	2

#define KVP_VSOCK_OFF_MAGIC	0
#define KVP_VSOCK_OFF_VERSION	4
#define KVP_VSOCK_OFF_TYPE	6
#define KVP_VSOCK_OFF_LENGTH	8
#define KVP_VSOCK_OFF_SERVICE	12
#define KVP_VSOCK_OFF_FLAGS	14
#define KVP_VSOCK_OFF_ID	16

enum kvp_vsock_type {
	KVP_VSOCK_HELLO = 1,
	KVP_VSOCK_WELCOME = 2,
	KVP_VSOCK_PACKET = 3,
};

enum kvp_vsock_service {
	KVP_VSOCK_SERVICE_KVP = 0,	/* host requests, guest replies */
	KVP_VSOCK_SERVICE_ACTIVATION = 1,	/* guest requests, host replies */
};

#endif /* _UAPI_KVP_VSOCK_H */
