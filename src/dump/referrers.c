/* referrers.c: the reverse of the strong-reference CSR, built by a counting sort over the edges
 * so each object's referrers come out in increasing source order. */
#include "analysis.h"

#include <stdlib.h>

void hd_referrers_free(hd_referrers *r)
{
    if (!r)
        return;
    free(r->offsets);
    free(r->sources);
    free(r->edges);
    free(r);
}

int hd_referrers_build(const hd_dump *d, hd_referrers **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d)
        return HD_EINVAL;
    uint32_t n = hd_object_count(d);
    uint64_t m = hd_edge_count(d);
    const uint32_t *off = hd_edge_offsets(d), *dst = hd_edge_targets(d);
    hd_referrers *r = calloc(1, sizeof *r);
    if (!r)
        return HD_ENOMEM;
    r->nobjects = n;
    r->nedges = m;
    r->offsets = calloc((size_t)n + 1, sizeof *r->offsets);
    r->sources = malloc((m ? m : 1) * sizeof *r->sources);
    r->edges = malloc((m ? m : 1) * sizeof *r->edges);
    if (!r->offsets || !r->sources || !r->edges) {
        hd_referrers_free(r);
        return HD_ENOMEM;
    }
    /* offsets[t + 1] counts t's referrers, then prefix sums make offsets[t] the end of the slots
     * before t; filling advances offsets[t] to t's end, so a shift restores the starts. */
    for (uint64_t e = 0; e < m; e++)
        r->offsets[dst[e] + 1]++;
    for (uint32_t t = 0; t < n; t++)
        r->offsets[t + 1] += r->offsets[t];
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t e = off[s]; e < off[s + 1]; e++) {
            uint32_t slot = r->offsets[dst[e]]++;
            r->sources[slot] = s;
            r->edges[slot] = e;
        }
    for (uint32_t t = n; t > 0; t--)
        r->offsets[t] = r->offsets[t - 1];
    r->offsets[0] = 0;
    *out = r;
    return HD_OK;
}
