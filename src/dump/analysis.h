/* analysis.h: pieces the analyses share inside libheapdump (not part of the public API). */
#ifndef HD_ANALYSIS_H
#define HD_ANALYSIS_H

#include "heapdump.h"

#include <stdbool.h>

/* Breadth-first search from the roots, live roots first, then garbage roots (see hd_reach).
 * state (nobjects bytes), parent, via and queue (nobjects entries each) are the caller's;
 * depth may be NULL. When target is not HD_NONE the search stops as soon as it is reached. */
void hd__bfs(const hd_dump *d, uint32_t target, uint8_t *state, uint32_t *depth, uint32_t *parent,
             uint32_t *via, uint32_t *queue);

/* In a big heap nearly every step of a breadth-first search is a cache miss: fetches ahead
 * down queue[head, tail), first a vertex's edge range, then its targets, then (a few of) their
 * marks, elem bytes each at mark (a state or a distance). A step takes a few nanoseconds and a
 * miss (with its page walk, in a virtual machine) a hundred or more: on a 10M-object heap
 * fetching 64, 32 and 16 vertices ahead took a search from 1.1 s to 0.7 s, where 16, 8 and 4
 * left it waiting. (The distances' search, root_distance.c, now keeps its marks in a bitmap
 * that stays in cache instead.) */
static inline void hd__bfs_prefetch(const uint32_t *queue, uint32_t head, uint32_t tail, const uint32_t *off,
                                    const uint32_t *dst, const void *mark, size_t elem)
{
    if (head + 64 < tail)
        __builtin_prefetch(&off[queue[head + 64]]);
    if (head + 32 < tail)
        __builtin_prefetch(&dst[off[queue[head + 32]]]);
    if (head + 16 < tail) {
        uint32_t u = queue[head + 16];
        for (uint32_t e = off[u]; e < off[u + 1] && e < off[u] + 16; e++)
            __builtin_prefetch((const char *)mark + (size_t)dst[e] * elem);
    }
}

/* A depth-first search of a heap goes deep and finishes most of its frames on the way back up,
 * each then reading its next targets' marks at random: a frame below the top (HD__DFS_AHEAD
 * below in cycles.c; half that in semidominators.c, whose frames keep their next edge in their
 * marks, fetched HD__DFS_AHEAD below), whose next edge is edge, has the marks (elem bytes each
 * at mark) of its next two targets fetched. */
#define HD__DFS_AHEAD 8
static inline void hd__dfs_prefetch(const uint32_t *dst, uint64_t edge, uint64_t nedges, const void *mark,
                                    size_t elem)
{
    for (uint64_t e = edge; e < edge + 2 && e < nedges; e++)
        __builtin_prefetch((const char *)mark + (size_t)dst[e] * elem);
}

/* Sets HD_GNODE_CYCLE and in_cycle in a whole graph of d: the cycles through its start objects
 * among the objects drawn (graph_cycles.c). HD_OK or HD_ENOMEM. */
int hd__graph_mark_cycles(const hd_dump *d, hd_graph *g);

/* Walks the dominator tree (children from hd_dominator_children) depth first from its virtual
 * root, calling visit on each object at min_depth or deeper (1: the objects the roots hold
 * themselves) on the way down. outermost: no ancestor at min_depth or deeper has the object's
 * type, so sums over outermost objects count nothing twice (DevTools' retained size by type).
 * HD_OK or HD_ENOMEM. */
typedef void hd__type_visit(void *ctx, uint32_t object, bool outermost);
int hd__dominator_walk_types(const hd_dump *d, const uint32_t *first, const uint32_t *child,
                             uint32_t min_depth, hd__type_visit *visit, void *ctx);

/* a + b, or UINT64_MAX when that does not fit: sizes summed over a heap never wrap. */
static inline uint64_t hd__add_sat(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

/* FNV-1a over a string, continuing from h. */
static inline uint64_t hd__hash_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}
static inline uint64_t hd__hash_u64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    return h * 0xbf58476d1ce4e5b9ull;
}
#define HD__HASH_SEED 0xcbf29ce484222325ull

#endif
