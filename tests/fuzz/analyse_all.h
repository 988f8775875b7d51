/* analyse_all.h: every analysis of libheapdump run on a dump the fuzzers loaded, so hostile
 * graphs reach them all; a stack that does not end or names a frame out of range aborts. */
#ifndef FUZZ_ANALYSE_ALL_H
#define FUZZ_ANALYSE_ALL_H

#include "heapdump.h"

#include <stdlib.h>

static inline void analyse(const hd_dump *d)
{
    hd_type_stat *st = malloc(((size_t)hd_type_count(d) + 1) * sizeof *st);
    if (st)
        hd_stats_by_type(d, HD_SORT_SIZE, st);
    hd_dominators *dom = NULL;
    if (hd_dominators_compute(d, &dom) == HD_OK) {
        uint32_t top[8], n = 0;
        hd_dominators_top(dom, 8, top);
        if (st)
            hd_stats_retained_by_type(d, dom, st, &n);
    }
    hd_dominators_free(dom);
    free(st);
    hd_reach *reach = NULL;
    if (hd_reach_compute(d, &reach) == HD_OK && hd_object_count(d) > 0) {
        hd_path *path = NULL;
        hd_path_from_reach(d, reach, hd_object_count(d) - 1, &path);
        hd_path_free(path);
    }
    hd_cycles *cycles = NULL;
    hd_cycles_find(d, reach, &cycles);
    hd_cycles_free(cycles);
    uint32_t *sources, *edges;
    uint64_t nrefs;
    if (hd_object_count(d) > 0 && hd_referrers_of(d, hd_object_count(d) - 1, &sources, &edges, &nrefs) == HD_OK)
        free(sources);
    hd_leaks *leaks = NULL;
    hd_leaks_find(d, reach, &leaks);
    hd_leaks_free(leaks);
    hd_reach_free(reach);
    hd_diff *diff = NULL;
    hd_diff_compute(d, d, HD_DIFF_BY_TYPE, &diff);
    hd_diff_free(diff);
    hd_leak_kinds *kinds = NULL;
    hd_leak_kinds_compute(d, &kinds);
    hd_leak_kinds_free(kinds);
    for (uint32_t s = 0; s < hd_site_count(d); s++) /* stacks end, even in hostile dumps */
        for (uint32_t n = hd_site_stack(d, s); n != HD_NONE; n = hd_stack_parent(d, n))
            if (hd_stack_frame(d, n) >= hd_frame_count(d))
                abort();
    for (uint64_t e = 0; e < hd_edge_count(d); e++)
        hd_edge_interior_offset(d, e);
}

#endif
