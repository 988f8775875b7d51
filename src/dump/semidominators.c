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

uint32_t hd__dfs_number(const hd_dump *d, hd__dfs_mark *mark, uint32_t *vertex, hd__dom_node *nodes,
                        hd__dfs_frame *stack, hd__dfs_walked *walked, void *ctx)
{
    const uint32_t *off = d->edge_offset, *tgt = d->edge_target;
    for (uint32_t o = 0; o < d->nobjects; o++)
        mark[o].number = HD__NOT_SEEN;
    uint32_t n = 1;
    nodes[0].parent = 0;
    nodes[0].semi = 0;
    for (uint32_t r = 0; r < d->nroots; r++) {
        uint32_t start = d->root_object[r];
        if (mark[start].number != HD__NOT_SEEN) {
            walk(&mark[start], 0, walked, ctx);
            continue;
        }
        mark[start] = (hd__dfs_mark){n, 0};
        vertex[n] = start;
        nodes[n].parent = 0;
        n++;
        uint32_t top = 0;
        stack[0] = (hd__dfs_frame){start, off[start]};
        for (;;) {
            hd__dfs_frame *f = &stack[top];
            if (f->edge == off[f->object + 1]) {
                if (top == 0)
                    break;
                top--;
                if (top >= HD__DFS_AHEAD)
                    hd__dfs_prefetch(tgt, stack[top - HD__DFS_AHEAD].edge, d->nedges, mark, sizeof *mark);
                continue;
            }
            uint32_t e = f->edge++, w = tgt[e], from = mark[f->object].number;
            if (mark[w].number != HD__NOT_SEEN) {
                walk(&mark[w], from, walked, ctx);
                continue;
            }
            mark[w] = (hd__dfs_mark){n, from};
            vertex[n] = w;
            nodes[n].parent = from;
            n++;
            stack[++top] = (hd__dfs_frame){w, off[w]};
        }
    }
    for (uint32_t k = 1; k < n; k++) {
        if (k + PREFETCH_NODES < n)
            __builtin_prefetch(&mark[vertex[k + PREFETCH_NODES]]);
        nodes[k].semi = mark[vertex[k]].early;
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

void hd__semi_init(hd__dom_node *nodes, uint32_t n)
{
    uint32_t none = n;
    for (uint32_t k = 0; k <= n; k++) {
        nodes[k].label = k;
        nodes[k].ancestor = HD__NOT_SEEN;
        nodes[k].child = none;
        nodes[k].size = 1;
    }
    nodes[none].semi = 0;
    nodes[none].size = 0;
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
