/* root_distance.c: every object's distance from the nearest root, as Chrome DevTools shows it.
 *
 * Invariant: one breadth-first search from all root objects at once (any root kind, garbage roots
 * too), so an object's distance is the length of its shortest path from any root plus one: root
 * objects are at 1, the way DevTools puts the synthetic root at 0 and what it holds at 1.
 */
#include "analysis.h"
#include "dump_internal.h"

#include <stdlib.h>

int hd_root_distance(const hd_dump *d, uint32_t **out)
{
    if (!d || !out)
        return HD_EINVAL;
    *out = NULL;
    uint32_t n = hd_object_count(d), nroots = hd_root_count(d);
    /* In huge pages: on a 10M-object heap faulting in 4 KiB pages cost as much as the search. */
    uint32_t *dist = hd__ram_alloc(((size_t)n + 1) * sizeof *dist);
    uint32_t *queue = hd__ram_alloc(((size_t)n + 1) * sizeof *queue);
    if (!dist || !queue) {
        free(dist);
        free(queue);
        return HD_ENOMEM;
    }
    for (uint32_t o = 0; o < n; o++)
        dist[o] = HD_NONE;
    uint32_t head = 0, tail = 0;
    for (uint32_t r = 0; r < nroots; r++) {
        uint32_t o = hd_root_object(d, r);
        if (o < n && dist[o] == HD_NONE) {
            dist[o] = 1;
            queue[tail++] = o;
        }
    }
    const uint32_t *off = hd_edge_offsets(d), *dst = hd_edge_targets(d);
    while (head < tail) {
        hd__bfs_prefetch(queue, head, tail, off, dst, dist, sizeof *dist);
        uint32_t v = queue[head++], next = dist[v] + 1;
        for (uint32_t e = off[v]; e < off[v + 1]; e++)
            if (dist[dst[e]] == HD_NONE) {
                dist[dst[e]] = next;
                queue[tail++] = dst[e];
            }
    }
    hd__big_free(queue);
    *out = dist;
    return HD_OK;
}
