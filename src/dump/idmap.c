/* idmap.c: id -> index hash over a caller's key array. Fibonacci hashing spreads the sequential
 * ids most producers use. */
#include "idmap.h"
#include "dump_internal.h"

#include <stdlib.h>

static inline uint32_t slot_of(uint64_t id, uint32_t mask)
{
    return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

int hd__idmap_init(hd__idmap *m, uint32_t n)
{
    m->direct = false;
    m->base = 0;
    uint64_t cap = 16;
    while (cap * 7 / 10 < n)
        cap *= 2;
    m->slots = hd__big_calloc(cap, sizeof *m->slots);
    m->mask = (uint32_t)(cap - 1);
    m->used = 0;
    return m->slots ? 0 : -1;
}

int hd__idmap_init_for(hd__idmap *m, const uint64_t *keys, uint32_t n)
{
    if (n == 0)
        return hd__idmap_init(m, 0);
    uint64_t lo = keys[0], hi = keys[0];
    for (uint32_t i = 1; i < n; i++) {
        lo = keys[i] < lo ? keys[i] : lo;
        hi = keys[i] > hi ? keys[i] : hi;
    }
    if (hi - lo >= 2 * (uint64_t)n || hi - lo >= UINT32_MAX)
        return hd__idmap_init(m, n);
    m->slots = hd__big_calloc(hi - lo + 1, sizeof *m->slots);
    m->mask = (uint32_t)(hi - lo); /* the last valid offset */
    m->used = 0;
    m->direct = true;
    m->base = lo;
    return m->slots ? 0 : -1;
}

void hd__idmap_free(hd__idmap *m)
{
    hd__big_free(m->slots);
    m->slots = NULL;
}

uint32_t hd__idmap_find(const hd__idmap *m, const uint64_t *keys, uint64_t id)
{
    if (m->direct) {
        uint64_t at = id - m->base; /* ids below base wrap around to a huge offset */
        return at <= m->mask && m->slots[at] ? m->slots[at] - 1 : UINT32_MAX;
    }
    /* At most every slot once: a map from an index need not keep an empty slot to end the probe. */
    for (uint64_t j = slot_of(id, m->mask), probes = 0; probes <= m->mask; j = (j + 1) & m->mask, probes++) {
        uint32_t s = m->slots[j];
        if (s == 0)
            return UINT32_MAX;
        if (keys[s - 1] == id)
            return s - 1;
    }
    return UINT32_MAX;
}

void hd__idmap_prefetch(const hd__idmap *m, uint64_t id)
{
    if (m->direct) {
        if (id - m->base <= m->mask)
            __builtin_prefetch(&m->slots[id - m->base]);
        return;
    }
    __builtin_prefetch(&m->slots[slot_of(id, m->mask)]);
}

static int grow(hd__idmap *m, const uint64_t *keys)
{
    uint64_t cap = ((uint64_t)m->mask + 1) * 2;
    uint32_t *slots = hd__big_calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    uint32_t mask = (uint32_t)(cap - 1);
    for (uint32_t i = 0; i <= m->mask; i++) {
        uint32_t s = m->slots[i];
        if (!s)
            continue;
        uint32_t j = slot_of(keys[s - 1], mask);
        while (slots[j])
            j = (j + 1) & mask;
        slots[j] = s;
    }
    hd__big_free(m->slots);
    m->slots = slots;
    m->mask = mask;
    return 0;
}

uint32_t hd__idmap_insert(hd__idmap *m, const uint64_t *keys, uint32_t idx)
{
    if (m->direct) { /* sized by hd__idmap_init_for for exactly these keys: never grows */
        uint32_t *slot = &m->slots[keys[idx] - m->base];
        if (*slot)
            return *slot - 1;
        *slot = idx + 1;
        m->used++;
        return idx;
    }
    if ((uint64_t)(m->used + 1) * 10 > ((uint64_t)m->mask + 1) * 7 && grow(m, keys) != 0)
        return UINT32_MAX - 1;
    uint64_t id = keys[idx];
    uint32_t j = slot_of(id, m->mask);
    for (uint32_t s; (s = m->slots[j]) != 0; j = (j + 1) & m->mask)
        if (keys[s - 1] == id)
            return s - 1;
    m->slots[j] = idx + 1;
    m->used++;
    return idx;
}
