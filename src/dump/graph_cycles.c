/* graph_cycles.c: the red edges of a graph picture. An edge is "in a cycle" when it lies on a
 * cycle through a start object among the objects drawn: the strongly connected components are
 * those of the heap's strong references between drawn objects (drawn or not, so a cycle cut by
 * --depth still shows), and only a component holding a start object counts. The heap's own
 * components would not do: in a JavaScript heap the prototype web puts nearly every object in
 * one, and every edge would be red. Tarjan's algorithm, iterative, so a picture of a million-long
 * chain costs memory, not C stack. */
#include "analysis.h"

#include <stdlib.h>

typedef struct frame {
    uint32_t node, pos;
} frame;

typedef struct tarjan {
    uint32_t *off, *adj;        /* per node, the nodes its object refers to (strong references) */
    uint32_t *index, *low, *comp, *stack;
    uint8_t *on_stack;
    frame *calls;
} tarjan;

static void tarjan_free(tarjan *t)
{
    free(t->off);
    free(t->adj);
    free(t->index);
    free(t->low);
    free(t->comp);
    free(t->stack);
    free(t->on_stack);
    free(t->calls);
}

static int counts(const hd_graph_edge *e) { return e->kind == HD_GEDGE_STRONG; }

typedef struct placed {
    uint32_t object, node;
} placed;

static int placed_cmp(const void *a, const void *b)
{
    uint32_t x = ((const placed *)a)->object, y = ((const placed *)b)->object;
    return (x > y) - (x < y);
}

static uint32_t node_of(const placed *p, uint32_t n, uint32_t o)
{
    placed key = {o, 0}, *hit = bsearch(&key, p, n, sizeof *p, placed_cmp);
    return hit ? hit->node : HD_NONE;
}

/* The heap's strong references between drawn objects, as per-node lists (two passes over each
 * drawn object's references: count, then fill). */
static int tarjan_alloc(tarjan *t, const hd_dump *d, const hd_graph *g)
{
    size_t n = (size_t)g->nnodes + 1;
    *t = (tarjan){calloc(n + 1, sizeof(uint32_t)), NULL, malloc(n * sizeof(uint32_t)), malloc(n * sizeof(uint32_t)),
                  malloc(n * sizeof(uint32_t)), malloc(n * sizeof(uint32_t)), calloc(n, 1), malloc(n * sizeof(frame))};
    placed *p = malloc(n * sizeof *p);
    uint32_t np = 0;
    int rc = HD_ENOMEM;
    if (!p || !t->off || !t->index || !t->low || !t->comp || !t->stack || !t->on_stack || !t->calls)
        goto done;
    for (uint32_t v = 0; v < g->nnodes; v++)
        if (g->nodes[v].object != HD_NONE)
            p[np++] = (placed){g->nodes[v].object, v};
    qsort(p, np, sizeof *p, placed_cmp);
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t v = 0; v < g->nnodes; v++) {
            uint64_t first = 0, end = 0;
            if (g->nodes[v].object != HD_NONE)
                hd_object_edges(d, g->nodes[v].object, &first, &end);
            for (uint64_t e = first; e < end; e++) {
                uint32_t w = node_of(p, np, hd_edge_target(d, e));
                if (w != HD_NONE && pass == 0)
                    t->off[v + 1]++;
                else if (w != HD_NONE)
                    t->adj[t->low[v]++] = w; /* low: borrowed as the fill cursor */
            }
        }
        if (pass == 0) {
            for (uint32_t v = 0; v < g->nnodes; v++)
                t->off[v + 1] += t->off[v];
            if (!(t->adj = malloc(((size_t)t->off[g->nnodes] + 1) * sizeof *t->adj)))
                goto done;
            for (uint32_t v = 0; v < g->nnodes; v++)
                t->low[v] = t->off[v];
        }
    }
    for (uint32_t v = 0; v < g->nnodes; v++)
        t->index[v] = HD_NONE;
    rc = HD_OK;
done:
    free(p);
    return rc;
}

/* Numbers the components in t->comp; returns how many. */
static uint32_t components(tarjan *t, const hd_graph *g)
{
    uint32_t counter = 0, ncomp = 0, sp = 0;
    for (uint32_t r = 0; r < g->nnodes; r++) {
        if (t->index[r] != HD_NONE)
            continue;
        uint32_t cp = 0;
        t->calls[cp++] = (frame){r, t->off[r]};
        t->index[r] = t->low[r] = counter++;
        t->stack[sp++] = r;
        t->on_stack[r] = 1;
        while (cp) {
            frame *f = &t->calls[cp - 1];
            uint32_t u = f->node;
            if (f->pos < t->off[u + 1]) {
                uint32_t w = t->adj[f->pos++];
                if (t->index[w] == HD_NONE) {
                    t->index[w] = t->low[w] = counter++;
                    t->stack[sp++] = w;
                    t->on_stack[w] = 1;
                    t->calls[cp++] = (frame){w, t->off[w]};
                } else if (t->on_stack[w] && t->index[w] < t->low[u]) {
                    t->low[u] = t->index[w];
                }
                continue;
            }
            if (t->low[u] == t->index[u]) {
                uint32_t x;
                do {
                    x = t->stack[--sp];
                    t->on_stack[x] = 0;
                    t->comp[x] = ncomp;
                } while (x != u);
                ncomp++;
            }
            if (--cp && t->low[u] < t->low[t->calls[cp - 1].node])
                t->low[t->calls[cp - 1].node] = t->low[u];
        }
    }
    return ncomp;
}

int hd__graph_mark_cycles(const hd_dump *d, hd_graph *g)
{
    tarjan t;
    int rc = tarjan_alloc(&t, d, g);
    uint32_t ncomp = rc ? 0 : components(&t, g);
    /* per component: 1 holds a start object, 2 also has a cycle (two members, or a self-loop) */
    uint8_t *asked = rc ? NULL : calloc((size_t)ncomp + 1, 1);
    if (!rc && !asked)
        rc = HD_ENOMEM;
    for (uint32_t v = 0; !rc && v < g->nnodes; v++)
        if (g->nodes[v].flags & HD_GNODE_START)
            asked[t.comp[v]] |= 1;
    for (uint32_t v = 0; !rc && v < g->nnodes; v++)
        for (uint32_t k = t.off[v]; k < t.off[v + 1]; k++)
            if (t.comp[t.adj[k]] == t.comp[v] && (asked[t.comp[v]] & 1))
                asked[t.comp[v]] |= 2;
    for (uint32_t e = 0; !rc && e < g->nedges; e++) {
        hd_graph_edge *x = &g->edges[e];
        x->in_cycle = counts(x) && t.comp[x->from] == t.comp[x->to] && asked[t.comp[x->from]] == 3;
    }
    for (uint32_t v = 0; !rc && v < g->nnodes; v++)
        if (asked[t.comp[v]] == 3)
            g->nodes[v].flags |= HD_GNODE_CYCLE;
    free(asked);
    tarjan_free(&t);
    return rc;
}
