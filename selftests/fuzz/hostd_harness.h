/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kvp-hostd fuzz harnesses share: the daemon's state set up once,
 * and socket pairs standing in for a guest's or a client's connection, so
 * that the bytes reach the daemon through its own handlers.
 */
#ifndef _HOSTD_HARNESS_H
#define _HOSTD_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "../../userspace/kvp-hostd/hostd.h"

/* The --vm every harness names: a guest on this CID is "alpha". */
#define HOSTD_FUZZ_CID	1000

void hostd_fuzz_init(void);
int hostd_fuzz_pair(int sv[2]);
size_t hostd_fuzz_feed(int fd, const uint8_t *data, size_t len);
void hostd_fuzz_drain(int fd);
struct kvp_guest *hostd_fuzz_guest(int sv[2]);

#endif /* _HOSTD_HARNESS_H */
