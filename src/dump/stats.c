/* stats.c: per-type object counts and shallow sizes, one pass over the objects. */
#include "analysis.h"
#include "binary.h"
#include "dump_internal.h"

#include <stdlib.h>
#include <string.h>


typedef struct sort_ctx {
    const hd_dump *d;
    enum hd_stat_sort by;
} sort_ctx;

static uint64_t key(const hd_type_stat *s, enum hd_stat_sort by)
{
    return by == HD_SORT_SIZE ? s->size : by == HD_SORT_RETAINED ? s->retained : s->count;
}

/* Largest first by the chosen measure, then by count (or size when sorting by count). */
static int compare(const hd_type_stat *a, const hd_type_stat *b, const sort_ctx *c)
{
    uint64_t ka = key(a, c->by), kb = key(b, c->by);
    if (ka != kb)
        return ka > kb ? -1 : 1;
    enum hd_stat_sort then = c->by == HD_SORT_COUNT ? HD_SORT_SIZE : HD_SORT_COUNT;
    ka = key(a, then);
    kb = key(b, then);
    if (ka != kb)
        return ka > kb ? -1 : 1;
    int byname = strcmp(hd_type_name(c->d, a->type), hd_type_name(c->d, b->type));
    return byname ? byname : (a->type > b->type) - (a->type < b->type);
}

static int compare_r(const void *a, const void *b, void *ctx) { return compare(a, b, ctx); }

void hd__stats_sort(const hd_dump *d, enum hd_stat_sort sort, hd_type_stat *st, uint32_t n)
{
    sort_ctx ctx = {d, sort};
    qsort_r(st, n, sizeof *st, compare_r, &ctx);
}

uint32_t hd_stats_by_type(const hd_dump *d, enum hd_stat_sort sort, hd_type_stat *out)
{
    uint32_t ntypes = d->ntypes;
    const hd__index *ix = hd__dump_index(d);
    if (ix && ix->type_objects) { /* the same sums, made when the index was written */
        for (uint32_t t = 0; t < ntypes; t++)
            out[t] = (hd_type_stat){t, ix->type_objects[t], ix->type_bytes[t], 0};
    } else {
        for (uint32_t t = 0; t < ntypes; t++)
            out[t] = (hd_type_stat){t, 0, 0, 0};
        for (uint32_t o = 0; o < d->nobjects; o++) {
            hd_type_stat *s = &out[d->obj_type[o]];
            s->count++;
            s->size = hd__add_sat(s->size, d->obj_size[o]);
        }
    }
    uint32_t n = 0;
    for (uint32_t t = 0; t < ntypes; t++)
        if (out[t].count)
            out[n++] = out[t];
    hd__stats_sort(d, sort, out, n);
    return n;
}
