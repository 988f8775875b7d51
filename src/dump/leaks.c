/* leaks.c: objects no root keeps alive (unreachable, or kept only by the garbage list) and
 * objects with no referrer at all (objgraph's get_leaking_objects), in one pass each. */
#include "analysis.h"

#include <stdlib.h>

void hd_leaks_free(hd_leaks *l)
{
    if (!l)
        return;
    free(l->unreachable);
    free(l->uncollectable);
    free(l->unreferenced);
    free(l);
}

int hd_leaks_find(const hd_dump *d, const hd_reach *reach, hd_leaks **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d || (reach && reach->nobjects != hd_object_count(d)))
        return HD_EINVAL;
    hd_reach *own = NULL;
    if (!reach) {
        int rc = hd_reach_compute(d, &own);
        if (rc)
            return rc;
        reach = own;
    }
    uint32_t n = hd_object_count(d);
    uint64_t m = hd_edge_count(d);
    const uint32_t *dst = hd_edge_targets(d);
    hd_leaks *l = calloc(1, sizeof *l);
    uint8_t *referred = calloc(n ? n : 1, 1);
    int rc = HD_ENOMEM;
    if (!l || !referred)
        goto done;
    for (uint64_t e = 0; e < m; e++)
        referred[dst[e]] = 1;
    for (uint32_t r = 0; r < hd_root_count(d); r++)
        referred[hd_root_object(d, r)] = 1; /* a root refers to it from outside the heap */
    for (uint32_t o = 0; o < n; o++)
        l->nunreferenced += !referred[o];
    l->nunreachable = reach->nunreachable;
    l->nuncollectable = reach->nuncollectable;
    l->unreachable = malloc(((size_t)l->nunreachable + 1) * sizeof(uint32_t));
    l->uncollectable = malloc(((size_t)l->nuncollectable + 1) * sizeof(uint32_t));
    l->unreferenced = malloc(((size_t)l->nunreferenced + 1) * sizeof(uint32_t));
    if (!l->unreachable || !l->uncollectable || !l->unreferenced)
        goto done;
    uint32_t a = 0, b = 0, c = 0;
    for (uint32_t o = 0; o < n; o++) {
        uint64_t size = hd_object_size(d, o);
        if (reach->state[o] == HD_REACH_UNREACHABLE) {
            l->unreachable[a++] = o;
            l->unreachable_size = hd__add_sat(l->unreachable_size, size);
        } else if (reach->state[o] == HD_REACH_UNCOLLECTABLE) {
            l->uncollectable[b++] = o;
            l->uncollectable_size = hd__add_sat(l->uncollectable_size, size);
        }
        if (!referred[o]) {
            l->unreferenced[c++] = o;
            l->unreferenced_size = hd__add_sat(l->unreferenced_size, size);
        }
    }
    rc = HD_OK;
done:
    free(referred);
    hd_reach_free(own);
    if (rc)
        hd_leaks_free(l);
    else
        *out = l;
    return rc;
}
