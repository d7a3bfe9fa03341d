/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the pool engine's tests share (pool_helpers.c): files made byte by
 * byte as other writers make them, and the engine's view of them.
 */
#ifndef _KVP_POOL_HELPERS_H
#define _KVP_POOL_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

#include "pool.h"

#define REC	KVP_POOL_RECORD

void record(char *rec, const char *key, const char *value);
int append_flock(const char *path, const void *buf, size_t len);
int write_file(const char *path, const void *buf, size_t len);
ssize_t read_file(const char *path, void *buf, size_t len);
off_t file_size(const char *path);
int dump(struct kvp_pool *pool, char *out, size_t size);
void make_value(char *value, size_t len, const char *tag, int n);
/* A fresh directory (dir: 64 bytes) and the path of pool 1 in it (96). */
int pool_dir_make(char *dir, char *path);
void pool_dir_remove(const char *dir);

#endif /* _KVP_POOL_HELPERS_H */
