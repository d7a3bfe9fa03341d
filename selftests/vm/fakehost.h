/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A host end for the VM tests and benchmarks: listens on vsock, greets
 * kvp_vsock.ko, and sends IC packets built with the module's own protocol
 * code (frame.c, ic.c, msg.c).
 */
#ifndef _KVP_FAKEHOST_H
#define _KVP_FAKEHOST_H

#include <stddef.h>

#include "frame.h"
#include "ic.h"
#include "msg.h"

#define FAKEHOST_WAIT_MS 5000

extern u16 fakehost_version;

int fakehost_listen(unsigned int port);
int fakehost_accept_hello(int lfd, u16 *offered, u32 *spoken);
int fakehost_accept_version(int lfd, u16 version, u32 services);
int fakehost_accept(int lfd);
int fakehost_send_frame(int fd, u16 version, u16 type, u16 service, u64 id,
			const void *payload, size_t len);
int fakehost_read_full(int fd, void *buf, size_t len, int timeout_ms);
int fakehost_send(int fd, u16 type, u64 id, const void *payload, size_t len);
int fakehost_recv(int fd, struct kvp_frame *frame, u8 *payload,
		  int timeout_ms);
int fakehost_transact(int fd, u64 id, u8 *pkt, size_t len, int timeout_ms);
u32 fakehost_await_status(int fd, u64 id, u8 *pkt, size_t len);
int fakehost_negotiate(int fd, u64 id, u32 *fw, u32 *msg);
int fakehost_negotiate_activation(int fd, u64 id, u32 *fw, u32 *msg);
size_t fakehost_kvp_request(u8 *pkt, u8 op, u8 pool, const char *key,
			    const char *value, u32 index);
u32 fakehost_kvp_call(int fd, u64 id, u8 *pkt, u8 op, u8 pool,
		      const char *key, const char *value, u32 index,
		      struct kvp_msg *out);

#endif /* _KVP_FAKEHOST_H */
