/* root_distance.c: every object's distance from the nearest root, as Chrome DevTools shows it.
 *
 * Invariant: one breadth-first search from all root objects at once (any root kind, garbage roots
 * too), level by level, so an object's distance is the length of its shortest path from any root
 * plus one: root objects are at 1, the way DevTools puts the synthetic root at 0 and what it holds
 * at 1. Whether an object was reached is a bit (the whole map a few MB even at 10M objects, so it
 * stays in cache) rather than its entry in the distances, which every reference would otherwise
 * read from memory at random. A wide level is put in object order before it is searched, so
 * that its edge ranges are read in order rather than at random.
 */
#include "analysis.h"
#include "dump_internal.h"

#include <stdlib.h>

#define FETCH_AHEAD 16 /* vertices ahead whose edge range, then targets, are fetched */

static bool seen_before(uint64_t *seen, uint32_t o)
{
    uint64_t bit = 1ull << (o & 63);
    if (seen[o >> 6] & bit)
        return true;
    seen[o >> 6] |= bit;
    return false;
}

/* Puts q[0..k) (distinct objects below n) in increasing order through the bitmap bits, all
 * zero before and after: a pass over n / 64 words, worth it for a level of more than that. */
static void sort_level(uint32_t *q, uint32_t k, uint64_t *bits, uint32_t n)
{
    for (uint32_t i = 0; i < k; i++)
        bits[q[i] >> 6] |= 1ull << (q[i] & 63);
    uint32_t j = 0;
    for (uint32_t w = 0; w <= (n - 1) / 64 && j < k; w++)
        for (; bits[w]; bits[w] &= bits[w] - 1)
            q[j++] = 64 * w + (uint32_t)__builtin_ctzll(bits[w]);
}

int hd_root_distance(const hd_dump *d, uint32_t **out)
{
    if (!d || !out)
        return HD_EINVAL;
    *out = NULL;
    uint32_t n = hd_object_count(d), nroots = hd_root_count(d);
    size_t words = (size_t)n / 64 + 1;
    /* In huge pages: on a 10M-object heap faulting in 4 KiB pages cost as much as the search. */
    uint32_t *dist = hd__ram_alloc(((size_t)n + 1) * sizeof *dist);
    uint32_t *queue = hd__ram_alloc(((size_t)n + 1) * sizeof *queue);
    uint64_t *seen = calloc(words, sizeof *seen), *order = calloc(words, sizeof *order);
    if (!dist || !queue || !seen || !order) {
        free(dist);
        hd__big_free(queue);
        free(seen);
        free(order);
        return HD_ENOMEM;
    }
    for (uint32_t o = 0; o < n; o++)
        dist[o] = HD_NONE;
    uint32_t head = 0, tail = 0;
    for (uint32_t r = 0; r < nroots; r++) {
        uint32_t o = hd_root_object(d, r);
        if (o < n && !seen_before(seen, o)) {
            dist[o] = 1;
            queue[tail++] = o;
        }
    }
    const uint32_t *off = hd_edge_offsets(d), *dst = hd_edge_targets(d);
    for (uint32_t level = 2; head < tail; level++) {
        uint32_t end = tail; /* this level: queue[head, end) */
        if (end - head > n / 64)
            sort_level(queue + head, end - head, order, n);
        for (uint32_t i = head; i < end; i++) {
            if (i + FETCH_AHEAD < end)
                __builtin_prefetch(&off[queue[i + FETCH_AHEAD]]);
            if (i + FETCH_AHEAD / 2 < end)
                __builtin_prefetch(&dst[off[queue[i + FETCH_AHEAD / 2]]]);
            uint32_t v = queue[i];
            for (uint32_t e = off[v]; e < off[v + 1]; e++)
                if (!seen_before(seen, dst[e])) {
                    dist[dst[e]] = level;
                    queue[tail++] = dst[e];
                }
        }
        head = end;
    }
    hd__big_free(queue);
    free(seen);
    free(order);
    *out = dist;
    return HD_OK;
}
