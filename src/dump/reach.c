/* reach.c: reachability from the roots as a breadth-first forest.
 *
 * Invariant: an object's state is set exactly once, when it is first discovered; objects are
 * discovered in order of depth within each phase (live roots, then garbage roots), so parent and
 * via describe a shortest path among those the phase can use. The queue holds each object once.
 */
#include "analysis.h"

#include <stdlib.h>

void hd__bfs(const hd_dump *d, uint32_t target, uint8_t *state, uint32_t *depth, uint32_t *parent,
             uint32_t *via, uint32_t *queue)
{
    uint32_t n = hd_object_count(d), nroots = hd_root_count(d);
    const uint32_t *off = hd_edge_offsets(d), *dst = hd_edge_targets(d);
    for (uint32_t o = 0; o < n; o++)
        state[o] = HD_REACH_UNREACHABLE;
    uint32_t head = 0, tail = 0;
    for (int phase = 0; phase < 2; phase++) {
        uint8_t mark = phase ? HD_REACH_UNCOLLECTABLE : HD_REACH_LIVE;
        for (uint32_t r = 0; r < nroots; r++) {
            if ((hd_root_kind(d, r) == HD_ROOT_GARBAGE) != (phase == 1))
                continue;
            uint32_t o = hd_root_object(d, r);
            if (o >= n || state[o] != HD_REACH_UNREACHABLE)
                continue;
            state[o] = mark;
            parent[o] = HD_NONE;
            via[o] = r;
            if (depth)
                depth[o] = 0;
            queue[tail++] = o;
            if (o == target)
                return;
        }
        while (head < tail) {
            /* In a big heap nearly every step is a cache miss: fetch ahead down the queue, first
             * a vertex's edge range, then its targets, then (a few of) their states. */
            if (head + 16 < tail)
                __builtin_prefetch(&off[queue[head + 16]]);
            if (head + 8 < tail)
                __builtin_prefetch(&dst[off[queue[head + 8]]]);
            if (head + 4 < tail) {
                uint32_t u = queue[head + 4];
                for (uint32_t e = off[u]; e < off[u + 1] && e < off[u] + 16; e++)
                    __builtin_prefetch(&state[dst[e]]);
            }
            uint32_t v = queue[head++];
            for (uint32_t e = off[v]; e < off[v + 1]; e++) {
                uint32_t w = dst[e];
                if (state[w] != HD_REACH_UNREACHABLE)
                    continue;
                state[w] = mark;
                parent[w] = v;
                via[w] = e;
                if (depth)
                    depth[w] = depth[v] + 1;
                queue[tail++] = w;
                if (w == target)
                    return;
            }
        }
    }
}

void hd_reach_free(hd_reach *r)
{
    if (!r)
        return;
    free(r->state);
    free(r->depth);
    free(r->parent);
    free(r->via);
    free(r);
}

int hd_reach_compute(const hd_dump *d, hd_reach **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d)
        return HD_EINVAL;
    uint32_t n = hd_object_count(d);
    size_t cells = n ? n : 1;
    hd_reach *r = calloc(1, sizeof *r);
    uint32_t *queue = malloc(cells * sizeof *queue);
    if (r) {
        r->nobjects = n;
        r->state = malloc(cells);
        r->depth = malloc(cells * sizeof *r->depth);
        r->parent = malloc(cells * sizeof *r->parent);
        r->via = malloc(cells * sizeof *r->via);
    }
    if (!r || !queue || !r->state || !r->depth || !r->parent || !r->via) {
        free(queue);
        hd_reach_free(r);
        return HD_ENOMEM;
    }
    hd__bfs(d, HD_NONE, r->state, r->depth, r->parent, r->via, queue);
    free(queue);
    for (uint32_t o = 0; o < n; o++) {
        switch (r->state[o]) {
        case HD_REACH_LIVE: r->nlive++; break;
        case HD_REACH_UNCOLLECTABLE: r->nuncollectable++; break;
        default:
            r->nunreachable++;
            r->depth[o] = HD_NONE;
            r->parent[o] = HD_NONE;
            r->via[o] = HD_NONE;
        }
    }
    *out = r;
    return HD_OK;
}
