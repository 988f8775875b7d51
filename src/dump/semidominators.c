/* semidominators.c: DFS numbering and the semidominator pass of Semi-NCA (semidominators.h).
 * The link-eval forest is balanced (Lengauer-Tarjan's sophisticated link) so evaluations stay
 * short on the very deep DFS trees of heaps. No recursion anywhere: a 10M-long chain is fine. */
#include "semidominators.h"
#include "analysis.h"
#include "dump_internal.h"

#define PREFETCH_NODES 16 /* how far ahead the early candidates' copy fetches its objects */

/* A reference from number from to object w, numbered already: a candidate for its
 * semidominator when from is smaller, else a late predecessor for the pass (a reference to
 * itself is neither). */
static inline void walk(hd__dfs_mark *m, uint32_t from, hd__dfs_walked *walked, void *ctx)
{
    if (from < m->number) {
        if (from < m->early)
            m->early = from;
    } else if (from > m->number) {
        walked(ctx, from, m->number);
    }
}

/* The frame at the top of the stack lives in registers: its object v, number from, and next
 * edge e. Deeper frames keep their next edge in their mark's early field, free while an object
 * is on the stack: the references walked meanwhile come from it or its descendants, all
 * numbered after it, so none is an early candidate. Popped, an object gets back its first
 * candidate, its parent's number. */
uint32_t hd__dfs_number(const hd_dump *d, hd__dfs_mark *mark, uint32_t *vertex, uint32_t *parent,
                        uint32_t *stack, hd__dfs_walked *walked, void *ctx)
{
    const uint32_t *off = d->edge_offset, *tgt = d->edge_target;
    for (uint32_t o = 0; o < d->nobjects; o++)
        mark[o].number = HD__NOT_SEEN;
    uint32_t n = 1;
    parent[0] = 0;
    for (uint32_t r = 0; r < d->nroots; r++) {
        uint32_t v = d->root_object[r];
        if (mark[v].number != HD__NOT_SEEN) {
            walk(&mark[v], 0, walked, ctx);
            continue;
        }
        mark[v] = (hd__dfs_mark){n, 0};
        vertex[n] = v;
        parent[n] = 0;
        uint32_t top = 0, from = n++, e = off[v], end = off[v + 1];
        stack[0] = v;
        for (;;) {
            if (e == end) {
                if (top == 0)
                    break;
                uint32_t up = stack[--top];
                if (top >= HD__DFS_AHEAD) {
                    __builtin_prefetch(&mark[stack[top - HD__DFS_AHEAD]]);
                    hd__dfs_prefetch(tgt, mark[stack[top - HD__DFS_AHEAD / 2]].early, d->nedges, mark,
                                     sizeof *mark);
                }
                from = mark[up].number;
                mark[v].early = from;
                v = up, e = mark[up].early, end = off[up + 1];
                continue;
            }
            uint32_t w = tgt[e++];
            if (mark[w].number != HD__NOT_SEEN) {
                walk(&mark[w], from, walked, ctx);
                continue;
            }
            mark[v].early = e;
            mark[w] = (hd__dfs_mark){n, from};
            vertex[n] = w;
            parent[n] = from;
            stack[++top] = w;
            v = w, from = n++, e = off[w], end = off[w + 1];
        }
        mark[v].early = 0; /* a root's candidate: the virtual root */
    }
    return n;
}

/* The link-eval forest: index n (one past the nodes) is the sentinel, with size 0 and semi 0.
 * eval(v) is the node of smallest semi on v's forest path, found with path compression done
 * without recursion (the path is collected on an explicit stack). */
static uint32_t eval(uint32_t v, uint32_t w, hd__dom_node *nodes, uint32_t *path)
{
    if (nodes[v].ancestor == HD__NOT_SEEN)
        return nodes[v].label;
    uint32_t depth = 0;
    for (uint32_t x = v; nodes[nodes[x].ancestor].ancestor != HD__NOT_SEEN; x = nodes[x].ancestor)
        path[depth++] = x;
    while (depth > 0) {
        hd__dom_node *x = &nodes[path[--depth]], *a = &nodes[x->ancestor];
        if (nodes[a->label].semi < nodes[x->label].semi)
            x->label = a->label;
        x->ancestor = a->ancestor;
    }
    /* v's ancestor is now its tree's root. Its label may be a node the pass has not reached
     * (below w), whose candidate is its own number: its semi field still holds the DFS's early
     * candidate, kept for its own turn. Such a label is never returned (the tree path below it
     * starts at a child whose candidate is at most its number), so the pass reads only the
     * semis of nodes it has reached. */
    hd__dom_node *nv = &nodes[v];
    uint32_t la = nodes[nv->ancestor].label;
    uint32_t semi_la = la < w ? la : nodes[la].semi;
    return semi_la >= nodes[nv->label].semi ? nv->label : la;
}

static void link(uint32_t v, uint32_t w, hd__dom_node *nodes, uint32_t none)
{
    uint32_t s = w;
    uint32_t semi_w = nodes[nodes[w].label].semi;
    while (semi_w < nodes[nodes[nodes[s].child].label].semi) {
        uint32_t c = nodes[s].child;
        if (nodes[s].size + nodes[nodes[c].child].size >= 2 * nodes[c].size) {
            nodes[c].ancestor = s;
            nodes[s].child = nodes[c].child;
        } else {
            nodes[c].size = nodes[s].size;
            nodes[s].ancestor = c;
            s = c;
        }
    }
    nodes[s].label = nodes[w].label;
    nodes[v].size += nodes[w].size;
    if (nodes[v].size < 2 * nodes[w].size) {
        uint32_t t = s;
        s = nodes[v].child;
        nodes[v].child = t;
    }
    for (; s != none; s = nodes[s].child)
        nodes[s].ancestor = v;
}

void hd__semi_init(hd__dom_node *nodes, uint32_t n, const uint32_t *parent, const hd__dfs_mark *mark,
                   const uint32_t *vertex)
{
    uint32_t none = n;
    nodes[0] = (hd__dom_node){.ancestor = HD__NOT_SEEN, .label = 0, .child = none, .size = 1};
    for (uint32_t k = 1; k < n; k++) {
        if (k + PREFETCH_NODES < n)
            __builtin_prefetch(&mark[vertex[k + PREFETCH_NODES]]);
        nodes[k] = (hd__dom_node){.parent = parent[k], .semi = mark[vertex[k]].early,
                                  .ancestor = HD__NOT_SEEN, .label = k, .child = none, .size = 1};
    }
    nodes[none] = (hd__dom_node){.ancestor = HD__NOT_SEEN, .label = none, .child = none}; /* semi, size 0 */
}

void hd__semi_step(hd__dom_node *nodes, uint32_t n, uint32_t w, const uint32_t *preds, uint64_t begin,
                   uint64_t end, uint32_t *path)
{
    /* Nodes go in decreasing number, and so does the walk over preds: one sweep, which lets the
     * node of a predecessor a little ahead be fetched while this one is evaluated. */
    uint32_t semi = nodes[w].semi;
    for (uint64_t i = end; i-- > begin;) {
        if (i >= 8)
            __builtin_prefetch(&nodes[preds[i - 8]]);
        uint32_t u = eval(preds[i], w, nodes, path);
        if (nodes[u].semi < semi)
            semi = nodes[u].semi;
    }
    nodes[w].semi = semi;
    link(nodes[w].parent, w, nodes, n);
}
