/* stats.c: per-type object counts and shallow sizes, one pass over the objects. */
#include "dump_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t add_sat(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

typedef struct sort_ctx {
    const hd_dump *d;
    enum hd_stat_sort by;
} sort_ctx;

static int compare(const hd_type_stat *a, const hd_type_stat *b, const sort_ctx *c)
{
    uint64_t ka = c->by == HD_SORT_SIZE ? a->size : a->count;
    uint64_t kb = c->by == HD_SORT_SIZE ? b->size : b->count;
    if (ka != kb)
        return ka > kb ? -1 : 1;
    ka = c->by == HD_SORT_SIZE ? a->count : a->size;
    kb = c->by == HD_SORT_SIZE ? b->count : b->size;
    if (ka != kb)
        return ka > kb ? -1 : 1;
    int byname = strcmp(hd_type_name(c->d, a->type), hd_type_name(c->d, b->type));
    return byname ? byname : (a->type > b->type) - (a->type < b->type);
}

static int compare_r(const void *a, const void *b, void *ctx) { return compare(a, b, ctx); }

uint32_t hd_stats_by_type(const hd_dump *d, enum hd_stat_sort sort, hd_type_stat *out)
{
    uint32_t ntypes = d->ntypes;
    for (uint32_t t = 0; t < ntypes; t++)
        out[t] = (hd_type_stat){t, 0, 0};
    for (uint32_t o = 0; o < d->nobjects; o++) {
        hd_type_stat *s = &out[d->obj_type[o]];
        s->count++;
        s->size = add_sat(s->size, d->obj_size[o]);
    }
    uint32_t n = 0;
    for (uint32_t t = 0; t < ntypes; t++)
        if (out[t].count)
            out[n++] = out[t];
    sort_ctx ctx = {d, sort};
    qsort_r(out, n, sizeof *out, compare_r, &ctx);
    return n;
}
