/* stats_sites.c: objects per allocation site (tracemalloc's statistics('lineno')) and per type
 * over an arbitrary set of objects. */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

typedef struct sort_ctx {
    const hd_dump *d;
    enum hd_stat_sort by;
} sort_ctx;

static int by_measure(uint64_t ca, uint64_t sa, uint64_t cb, uint64_t sb, enum hd_stat_sort by)
{
    uint64_t ka = by == HD_SORT_SIZE ? sa : ca, kb = by == HD_SORT_SIZE ? sb : cb;
    if (ka != kb)
        return ka > kb ? -1 : 1;
    ka = by == HD_SORT_SIZE ? ca : sa;
    kb = by == HD_SORT_SIZE ? cb : sb;
    return ka != kb ? (ka > kb ? -1 : 1) : 0;
}

/* Where a site is: file, line, function (HD_NONE, "no site", last). */
static int compare_places(const hd_dump *d, uint32_t a, uint32_t b)
{
    if (a == HD_NONE || b == HD_NONE)
        return (a == HD_NONE) - (b == HD_NONE);
    int r = strcmp(hd_site_file(d, a), hd_site_file(d, b));
    if (r)
        return r;
    uint32_t la = hd_site_line(d, a), lb = hd_site_line(d, b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(hd_site_function(d, a), hd_site_function(d, b));
}

static int compare_sites(const void *pa, const void *pb, void *pc)
{
    const hd_site_stat *a = pa, *b = pb;
    const sort_ctx *c = pc;
    int r = by_measure(a->count, a->size, b->count, b->size, c->by);
    if (r)
        return r;
    if ((r = compare_places(c->d, a->site, b->site)))
        return r;
    return (a->site > b->site) - (a->site < b->site);
}

static int compare_sites_by_place(const void *pa, const void *pb, void *pc)
{
    const hd_site_stat *a = pa, *b = pb;
    const sort_ctx *c = pc;
    int r = compare_places(c->d, a->site, b->site);
    return r ? r : (a->site > b->site) - (a->site < b->site);
}

uint32_t hd_stats_by_site(const hd_dump *d, enum hd_stat_sort sort, hd_site_stat *out)
{
    uint32_t nsites = hd_site_count(d), n = hd_object_count(d);
    for (uint32_t s = 0; s <= nsites; s++)
        out[s] = (hd_site_stat){s < nsites ? s : HD_NONE, 0, 0};
    for (uint32_t o = 0; o < n; o++) {
        uint32_t s = hd_object_site(d, o);
        hd_site_stat *st = &out[s == HD_NONE || s >= nsites ? nsites : s];
        st->count++;
        st->size = hd__add_sat(st->size, hd_object_size(d, o));
    }
    uint32_t k = 0;
    for (uint32_t s = 0; s <= nsites; s++)
        if (out[s].count)
            out[k++] = out[s];
    /* Sites at one place (a line reached by different call stacks, each its own site) count
     * as one, as statistics('lineno') groups by the innermost frame; the first site stands
     * for them. */
    sort_ctx ctx = {d, sort};
    qsort_r(out, k, sizeof *out, compare_sites_by_place, &ctx);
    uint32_t places = 0;
    for (uint32_t i = 0; i < k; i++) {
        if (places && compare_places(d, out[places - 1].site, out[i].site) == 0) {
            out[places - 1].count += out[i].count;
            out[places - 1].size = hd__add_sat(out[places - 1].size, out[i].size);
        } else {
            out[places++] = out[i];
        }
    }
    qsort_r(out, places, sizeof *out, compare_sites, &ctx);
    return places;
}

static int compare_type_index(const void *pa, const void *pb)
{
    const hd_type_stat *a = pa, *b = pb;
    return (a->type > b->type) - (a->type < b->type);
}

static int compare_types(const void *pa, const void *pb, void *pc)
{
    const hd_type_stat *a = pa, *b = pb;
    const sort_ctx *c = pc;
    int r = by_measure(a->count, a->size, b->count, b->size, c->by);
    if (r)
        return r;
    if ((r = strcmp(hd_type_name(c->d, a->type), hd_type_name(c->d, b->type))))
        return r;
    return (a->type > b->type) - (a->type < b->type);
}

uint32_t hd_stats_of_objects(const hd_dump *d, const uint32_t *objects, uint32_t n,
                             enum hd_stat_sort sort, hd_type_stat *out)
{
    if (!n)
        return 0;
    uint32_t k = 0, ntypes = hd_type_count(d);
    if (ntypes <= n) { /* the usual case, a big set: count into out[type], then close the gaps */
        for (uint32_t t = 0; t < ntypes; t++)
            out[t] = (hd_type_stat){t, 0, 0, 0};
        for (uint32_t i = 0; i < n; i++) {
            hd_type_stat *st = &out[hd_object_type(d, objects[i])];
            st->count++;
            st->size = hd__add_sat(st->size, hd_object_size(d, objects[i]));
        }
        for (uint32_t t = 0; t < ntypes; t++)
            if (out[t].count)
                out[k++] = out[t];
    } else { /* more types than objects: out has no room for a slot per type */
        for (uint32_t i = 0; i < n; i++)
            out[i] = (hd_type_stat){hd_object_type(d, objects[i]), 1, hd_object_size(d, objects[i]), 0};
        qsort(out, n, sizeof *out, compare_type_index);
        for (uint32_t i = 1; i < n; i++) {
            if (out[i].type == out[k].type) {
                out[k].count++;
                out[k].size = hd__add_sat(out[k].size, out[i].size);
            } else {
                out[++k] = out[i];
            }
        }
        k++;
    }
    sort_ctx ctx = {d, sort};
    qsort_r(out, k, sizeof *out, compare_types, &ctx);
    return k;
}
