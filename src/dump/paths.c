/* paths.c: one shortest chain of strong references from a root to an object (objgraph's
 * find_backref_chain, MAT's "path to GC roots"), read off a breadth-first forest.
 *
 * Invariant: following parent from the target ends at a root object after exactly depth steps,
 * because parents are assigned only when an object is first discovered, from an object already
 * in the forest.
 */
#include "analysis.h"
#include "binary.h"

#include <stdlib.h>

void hd_path_free(hd_path *p)
{
    if (!p)
        return;
    free(p->hops);
    free(p);
}

static int build(const uint8_t *state, const uint32_t *parent, const uint32_t *via, uint32_t o,
                 hd_path **out)
{
    hd_path *p = calloc(1, sizeof *p);
    if (!p)
        return HD_ENOMEM;
    p->state = (enum hd_reach_state)state[o];
    p->root = HD_NONE;
    if (p->state != HD_REACH_UNREACHABLE) {
        uint32_t n = 1;
        for (uint32_t v = o; parent[v] != HD_NONE; v = parent[v])
            n++;
        p->hops = malloc((size_t)n * sizeof *p->hops);
        if (!p->hops) {
            free(p);
            return HD_ENOMEM;
        }
        p->nhops = n;
        uint32_t v = o;
        for (uint32_t i = n; i-- > 0; v = parent[v]) {
            p->hops[i].object = v;
            p->hops[i].edge = i ? via[v] : HD_NONE;
            if (!i)
                p->root = via[v];
        }
    }
    *out = p;
    return HD_OK;
}

int hd_path_from_reach(const hd_dump *d, const hd_reach *r, uint32_t o, hd_path **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d || !r || r->nobjects != hd_object_count(d) || o >= r->nobjects)
        return HD_EINVAL;
    return build(r->state, r->parent, r->via, o, out);
}

int hd_path_find(const hd_dump *d, uint32_t o, hd_path **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d || o >= hd_object_count(d))
        return HD_EINVAL;
    const hd__index *ix = hd__dump_index(d);
    if (ix && ix->reach_state) /* the same forest, searched once when the index was made */
        return build(ix->reach_state, ix->reach_parent, ix->reach_via, o, out);
    size_t n = hd_object_count(d);
    uint8_t *state = malloc(n);
    uint32_t *parent = malloc(n * sizeof *parent), *via = malloc(n * sizeof *via),
             *queue = malloc(n * sizeof *queue);
    int rc = HD_ENOMEM;
    if (state && parent && via && queue) {
        hd__bfs(d, o, state, NULL, parent, via, queue);
        rc = build(state, parent, via, o, out);
    }
    free(state);
    free(parent);
    free(via);
    free(queue);
    return rc;
}
