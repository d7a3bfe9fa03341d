/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvpd's activation: a thread of its own runs the activation procedure
 * (lib/license.h) when it is due, so that the KVP requests the main loop
 * answers never wait for a host's reply.
 */
#ifndef _KVPD_ACTIVATION_H
#define _KVPD_ACTIVATION_H

#include <stdbool.h>
#include <stdint.h>

#include "avma.h"

struct kvpd_activation_opts {
	const char *state_dir;
	const char *const *catalog_dirs;	/* NULL: the defaults */
	bool vm_id_set;
	uint8_t vm_id[KVP_AVMA_UUID_LEN];	/* when vm_id_set */
};

/* After daemon(): 0, or -errno (the daemon then runs without it). */
int kvpd_activation_start(const struct kvpd_activation_opts *opts);
/* A host connected (activation service negotiated): activate now. */
void kvpd_activation_poke(void);
void kvpd_activation_stop(void);

#endif /* _KVPD_ACTIVATION_H */
