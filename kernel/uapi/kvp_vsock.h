/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kvp vsock framing, version 1: how kvp_vsock.ko (guest) and a host daemon
 * carry Hyper-V IC packets over an AF_VSOCK stream.  The authoritative,
 * byte-exact description is Documentation/protocol.rst; this header only
 * names its constants.
 *
 * The guest connects to (host CID, port).  Every frame is a 24-byte header,
 * all fields little endian, followed by `length` payload bytes:
 *
 *   offset 0   u32 magic    KVP_VSOCK_MAGIC, the bytes "KVPF"
 *   offset 4   u16 version  KVP_VSOCK_VERSION
 *   offset 6   u16 type     enum kvp_vsock_type
 *   offset 8   u32 length   payload bytes, at most KVP_VSOCK_MAX_PAYLOAD
 *   offset 12  u32 flags    zero in version 1
 *   offset 16  u64 id       request id (PACKET); zero otherwise
 *
 * HELLO (guest -> host, first frame, empty) carries in `version` the highest
 * version the guest speaks; WELCOME (host -> guest, empty) carries the one the
 * host chose.  After that the host sends PACKET frames holding one IC packet
 * each (the bytes of a VMBus in-band packet's payload: pipe header, IC header,
 * body) and the guest answers each with a PACKET of the same id.  Anything
 * else closes the connection.
 */
#ifndef _UAPI_KVP_VSOCK_H
#define _UAPI_KVP_VSOCK_H

#define KVP_VSOCK_MAGIC		0x4650564bU	/* "KVPF" */
#define KVP_VSOCK_VERSION	2	/* the highest this header describes */
#define KVP_VSOCK_HDR_LEN	24
#define KVP_VSOCK_MAX_PAYLOAD	16384
#define KVP_VSOCK_PORT		5462
#define KVP_VSOCK_HOST_CID	2

#define KVP_VSOCK_OFF_MAGIC	0
#define KVP_VSOCK_OFF_VERSION	4
#define KVP_VSOCK_OFF_TYPE	6
#define KVP_VSOCK_OFF_LENGTH	8
#define KVP_VSOCK_OFF_SERVICE	12	/* version 2; flags in version 1 */
#define KVP_VSOCK_OFF_FLAGS	14
#define KVP_VSOCK_OFF_ID	16

/* Version 2: WELCOME carries a u32 mask of the services the host serves. */
#define KVP_VSOCK_WELCOME_V2_LEN	4

enum kvp_vsock_service {
	KVP_VSOCK_SERVICE_KVP = 0,		/* the host asks, the guest answers */
	KVP_VSOCK_SERVICE_ACTIVATION = 1,	/* the guest asks, the host answers */
};

enum kvp_vsock_type {
	KVP_VSOCK_HELLO = 1,
	KVP_VSOCK_WELCOME = 2,
	KVP_VSOCK_PACKET = 3,
};

#endif /* _UAPI_KVP_VSOCK_H */
