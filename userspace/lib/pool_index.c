// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine's index of a file: key -> slot (a hash table with
 * linear probing) and enumeration order -> slot, keys but never values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool_priv.h"

/* FNV-1a: short keys, no adversary worth a keyed hash. */
uint32_t kvp_hash(const char *key)
{
	uint32_t hash = 2166136261u;

	while (*key) {
		hash ^= (unsigned char)*key++;
		hash *= 16777619u;
	}
	return hash;
}

/* The table position holding key, or the free one where it would go. */
unsigned int kvp_pool_probe(const struct kvp_pool *pool, const char *key,
			    uint32_t hash)
{
	unsigned int pos = hash & pool->mask;
	unsigned int slot;

	for (;; pos = (pos + 1) & pool->mask) {
		slot = pool->table[pos];
		if (slot == KVP_POOL_NONE ||
		    (pool->slots[slot].hash == hash &&
		     !strcmp(pool->slots[slot].key, key)))
			return pos;
	}
}

unsigned int kvp_pool_find(const struct kvp_pool *pool, const char *key)
{
	return pool->table[kvp_pool_probe(pool, key, kvp_hash(key))];
}

/* Backward-shift deletion: linear probing then needs no tombstones. */
static void kvp_pool_unhash(struct kvp_pool *pool, unsigned int pos)
{
	unsigned int next = pos, home, slot;

	for (;;) {
		pool->table[pos] = KVP_POOL_NONE;
		do {
			next = (next + 1) & pool->mask;
			slot = pool->table[next];
			if (slot == KVP_POOL_NONE)
				return;
			home = pool->slots[slot].hash & pool->mask;
			/* stays put while its home lies in (pos, next] */
		} while (pos <= next ? pos < home && home <= next :
			 pos < home || home <= next);
		pool->table[pos] = slot;
		pos = next;
	}
}

int kvp_pool_rehash(struct kvp_pool *pool, unsigned int size)
{
	unsigned int *table = malloc(size * sizeof(*table));
	unsigned int i, slot;

	if (!table)
		return -ENOMEM;
	free(pool->table);
	pool->table = table;
	pool->mask = size - 1;
	memset(table, 0xff, size * sizeof(*table));
	for (i = 0; i < pool->ngood; i++) {
		slot = pool->good[i];
		table[kvp_pool_probe(pool, pool->slots[slot].key,
				     pool->slots[slot].hash)] = slot;
	}
	return 0;
}

/*
 * Makes room for one more served record at slot nr.  Called before anything
 * is written, so that a record on disk never lacks its index entry.
 */
int kvp_pool_room(struct kvp_pool *pool, unsigned int nr)
{
	unsigned int cap = pool->cap ? pool->cap : KVP_POOL_MIN;
	struct kvp_slot *slots;
	unsigned int *good;

	if (nr >= pool->cap) {
		while (cap <= nr)
			cap *= 2;
		slots = realloc(pool->slots, cap * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		pool->slots = slots;
		good = realloc(pool->good, cap * sizeof(*good));
		if (!good)
			return -ENOMEM;
		pool->good = good;
		pool->cap = cap;
	}
	/* at most half full, so that probes stay short */
	if ((pool->ngood + 1) * 2 > pool->mask + 1)
		return kvp_pool_rehash(pool, (pool->mask + 1) * 2);
	return 0;
}

/*
 * Makes room for rec's key at slot nr (kvp_pool_room()) and a copy of it
 * for kvp_pool_index() in *key.
 */
int kvp_pool_room_key(struct kvp_pool *pool, unsigned int nr, const char *rec,
		      char **key)
{
	int ret = kvp_pool_room(pool, nr);

	if (ret)
		return ret;
	*key = strdup(rec);
	return *key ? 0 : -ENOMEM;
}

/* Serves key (a copy we own) from slot nr, which kvp_pool_room() made. */
void kvp_pool_index(struct kvp_pool *pool, unsigned int nr, char *key,
		    uint32_t hash)
{
	struct kvp_slot *slot = &pool->slots[nr];

	slot->key = key;
	slot->hash = hash;
	slot->repeats = 0;
	slot->leftover = false;
	pool->good[pool->ngood++] = nr;
	pool->table[kvp_pool_probe(pool, key, hash)] = nr;
}

void kvp_pool_forget(struct kvp_pool *pool)
{
	unsigned int i;

	for (i = 0; i < pool->nslots; i++)
		free(pool->slots[i].key);
	pool->nslots = 0;
	pool->ngood = 0;
	pool->bad = 0;
	pool->torn = 0;
	pool->leftovers = 0;
	memset(pool->table, 0xff, (pool->mask + 1) * sizeof(*pool->table));
}

/*
 * The served record of the last slot, last in good[], moved into the
 * skipped slot nr: it takes its place in the order of the file.
 */
static void kvp_pool_reorder(struct kvp_pool *pool, unsigned int nr)
{
	unsigned int i;

	for (i = pool->ngood - 1; i && pool->good[i - 1] > nr; i--)
		pool->good[i] = pool->good[i - 1];
	pool->good[i] = nr;
}

/* Slot nr, served, leaves good[] (a skipped record took its place). */
static void kvp_pool_unorder(struct kvp_pool *pool, unsigned int nr)
{
	unsigned int lo = 0, hi = pool->ngood - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pool->good[mid] < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&pool->good[lo], &pool->good[lo + 1],
		(--pool->ngood - lo) * sizeof(*pool->good));
}

/*
 * The record at slot is gone and the last record has taken its place (or
 * was the one gone).  Either may be served or skipped.
 */
void kvp_pool_unindex(struct kvp_pool *pool, unsigned int slot)
{
	struct kvp_slot *gone = &pool->slots[slot];
	struct kvp_slot *moved = &pool->slots[--pool->nslots];

	if (gone->key) {
		kvp_pool_unhash(pool, kvp_pool_probe(pool, gone->key,
						     gone->hash));
		free(gone->key);
		/* a served last record, last in good[], takes gone's index */
		if (gone == moved || moved->key)
			pool->ngood--;
		else
			kvp_pool_unorder(pool, slot);
	} else {
		pool->bad--;
		pool->leftovers -= gone->leftover;
		if (gone != moved && moved->key)
			kvp_pool_reorder(pool, slot);
	}
	if (gone == moved)
		return;
	if (moved->key)
		pool->table[kvp_pool_probe(pool, moved->key, moved->hash)] =
			slot;
	*gone = *moved;
}
