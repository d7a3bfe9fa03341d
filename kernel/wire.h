/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Byte helpers shared by the module and by userspace.
 *
 * The protocol files (ic.c, msg.c, utf16.c) compile unchanged in kvp.ko and
 * in the userspace tools, tests and fuzzers, so that those exercise the very
 * code the module runs.  They include only this header for their types and
 * read or write every multi-byte field through the helpers below: the wire is
 * little endian and packed, so no structure is ever overlaid on a buffer.
 */
#ifndef _KVP_WIRE_H
#define _KVP_WIRE_H

#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <linux/types.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#endif

static inline u16 kvp_get_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static inline u32 kvp_get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static inline u64 kvp_get_le64(const u8 *p)
{
	return (u64)kvp_get_le32(p) | (u64)kvp_get_le32(p + 4) << 32;
}

static inline void kvp_put_le16(u8 *p, u16 v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static inline void kvp_put_le32(u8 *p, u32 v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static inline void kvp_put_le64(u8 *p, u64 v)
{
	kvp_put_le32(p, (u32)v);
	kvp_put_le32(p + 4, (u32)(v >> 32));
}

#endif /* _KVP_WIRE_H */
