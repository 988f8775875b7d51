/* idmap.h: maps 64-bit ids to dense indices without storing the ids twice: the slots hold
 * indices into a keys array the caller owns (open addressing, linear probing). When the ids of a
 * known key set are dense, as a producer's counter makes them, the map is a plain array indexed
 * by id - base instead: one memory access a lookup, no hashing. */
#ifndef HD_IDMAP_H
#define HD_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hd__idmap {
    uint32_t *slots; /* index + 1; 0 = empty */
    uint32_t mask, used;
    bool direct;     /* slots[id - base] for ids in [base, base + mask] */
    uint64_t base;
} hd__idmap;

/* Sized for n keys up front; hd__idmap_insert grows as needed. */
int hd__idmap_init(hd__idmap *m, uint32_t n);
/* Sized for the n keys to come, which are keys[0..n): direct when their range is at most 2n. */
int hd__idmap_init_for(hd__idmap *m, const uint64_t *keys, uint32_t n);
void hd__idmap_free(hd__idmap *m);
/* Returns UINT32_MAX when absent. */
uint32_t hd__idmap_find(const hd__idmap *m, const uint64_t *keys, uint64_t id);
/* Hints the cache about a later find(id): resolution loops probe far ahead of their use. */
void hd__idmap_prefetch(const hd__idmap *m, uint64_t id);
/* Inserts index idx (whose key is keys[idx]); returns the index already holding that key, idx
 * when it was new, or UINT32_MAX - 1 when out of memory. */
uint32_t hd__idmap_insert(hd__idmap *m, const uint64_t *keys, uint32_t idx);

#endif
