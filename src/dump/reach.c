/* reach.c: reachability from the roots as a breadth-first forest.
 *
 * Invariant: an object's state is set exactly once, when it is first discovered; objects are
 * discovered in order of depth within each phase (live roots, then garbage roots), so parent and
 * via describe a shortest path among those the phase can use. The queue holds each object once.
 */
#include "analysis.h"
#include "binary.h"

#include <stddef.h>
#include <stdlib.h>

/* Every hd_reach is made here, inside one of these, so that hd_reach_free knows whether its
 * arrays are its own or a binary index's (which callers only read). */
typedef struct reach_box {
    hd_reach r;
    bool borrowed;
} reach_box;

static reach_box *box_of(hd_reach *r) { return (reach_box *)(void *)((char *)r - offsetof(reach_box, r)); }

static int from_index(const hd__index *ix, uint32_t n, hd_reach **out)
{
    reach_box *b = calloc(1, sizeof *b);
    if (!b)
        return HD_ENOMEM;
    b->borrowed = true;
    hd__index_need(ix, HDX_REACH_STATE); /* the counts hold against the arrays */
    hd_reach *r = &b->r;
    r->nobjects = n;
    r->nlive = ix->nlive;
    r->nuncollectable = ix->nuncollectable;
    r->nunreachable = ix->nunreachable;
    r->state = (uint8_t *)(uintptr_t)ix->reach_state;
    r->depth = (uint32_t *)(uintptr_t)ix->reach_depth;
    r->parent = (uint32_t *)(uintptr_t)ix->reach_parent;
    r->via = (uint32_t *)(uintptr_t)ix->reach_via;
    *out = r;
    return HD_OK;
}

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
            hd__bfs_prefetch(queue, head, tail, off, dst, state, sizeof *state);
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
    reach_box *b = box_of(r);
    if (!b->borrowed) {
        hd__big_free(r->state);
        hd__big_free(r->depth);
        hd__big_free(r->parent);
        hd__big_free(r->via);
    }
    free(b);
}

int hd_reach_compute(const hd_dump *d, hd_reach **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d)
        return HD_EINVAL;
    uint32_t n = hd_object_count(d);
    const hd__index *ix = hd__dump_index(d);
    if (ix && ix->reach_state)
        return from_index(ix, n, out);
    size_t cells = n ? n : 1;
    reach_box *box = calloc(1, sizeof *box);
    hd_reach *r = box ? &box->r : NULL;
    uint32_t *queue = hd__big_alloc(cells * sizeof *queue); /* walked in order */
    if (r) {
        r->nobjects = n;
        r->state = hd__ram_alloc(cells);
        r->depth = hd__ram_alloc(cells * sizeof *r->depth);
        r->parent = hd__ram_alloc(cells * sizeof *r->parent);
        r->via = hd__ram_alloc(cells * sizeof *r->via);
    }
    if (!r || !queue || !r->state || !r->depth || !r->parent || !r->via) {
        hd__big_free(queue);
        hd_reach_free(r);
        return HD_ENOMEM;
    }
    hd__bfs(d, HD_NONE, r->state, r->depth, r->parent, r->via, queue);
    hd__big_free(queue);
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
    /* Out of core, the results wait for the index writer in scratch files, not in memory. */
    r->state = hd__spill(r->state, cells);
    r->depth = hd__spill(r->depth, cells * sizeof *r->depth);
    r->parent = hd__spill(r->parent, cells * sizeof *r->parent);
    r->via = hd__spill(r->via, cells * sizeof *r->via);
    *out = r;
    return HD_OK;
}
