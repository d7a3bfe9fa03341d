/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VM test programs share: a shell command, a kvp.ko parameter,
 * the module's status, the names of the intrinsic items.
 */
#ifndef _KVP_VMTEST_H
#define _KVP_VMTEST_H

#include "nl.h"

/* system() of a printf-formatted command: its exit status. */
int vm_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets /sys/module/kvp/parameters/NAME. */
void vm_set_param(const char *name, unsigned int value);
/*
 * KVP_CMD_GET_STATUS over a netlink socket of its own, of one service
 * (enum kvp_service) or of the KVP exchange: 0 or -errno.
 */
int vm_service_status(uint32_t service, struct kvp_nl_status *st);
int vm_status(struct kvp_nl_status *st);

/* The ten intrinsic items of pool 2 (kvpd and the stock daemon), in order. */
#define VM_INTRINSIC_KEYS 10
extern const char *const vm_intrinsic_keys[VM_INTRINSIC_KEYS];

#endif /* _KVP_VMTEST_H */
