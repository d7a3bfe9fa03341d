/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's intrinsic items: pool 2 (auto), made up on request rather
 * than read from .kvp_pool_2, in the index order Hyper-V hosts know.
 */
#ifndef _KVPD_INTRINSIC_H
#define _KVPD_INTRINSIC_H

#include "pool.h"

/* state_dir: the licence state's (lib/license.h), for the licence items. */
void kvp_intrinsic_init(const char *state_dir);
int kvp_intrinsic_enumerate(unsigned int index, char key[KVP_POOL_KEY],
			    char value[KVP_POOL_VALUE]);
int kvp_intrinsic_get(const char *key, char value[KVP_POOL_VALUE]);

#endif /* _KVPD_INTRINSIC_H */
