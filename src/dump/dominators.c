/* dominators.c: the dominator tree of the strong-reference graph and retained sizes.
 *
 * Invariant: nodes are numbered in DFS preorder from a virtual root (number 0) whose children
 * are the dump's roots, so a node's immediate dominator always has a smaller number than the
 * node. Semi-NCA (Georgiadis): semidominators from the predecessors with an iterative
 * link-eval forest (semidominators.c), then each idom is the nearest ancestor on the DFS tree
 * path whose number is at most the semidominator. Retained sizes then fold up in decreasing
 * preorder. Weak references are not edges, so they never retain. Out of core (budget.h) the
 * predecessors come from an external sort (semidominators_external.c); the rest is the same.
 */
#include "analysis.h"
#include "binary.h"
#include "budget.h"
#include "semidominators.h"

#include <stdlib.h>
#include <string.h>

struct hd_dominators {
    uint32_t nobjects, reachable;
    uint32_t *idom;     /* per object: object index, HD_DOM_ROOT, or HD_NONE (unreachable) */
    uint64_t *retained; /* per object; 0 when unreachable */
    bool borrowed;      /* the arrays are a binary index's (hd__dominators_from_index) */
    const uint32_t *top; /* the index's first ntop of hd_dominators_top's ranking, or NULL */
    uint32_t ntop;
};

const uint32_t *hd__dominators_idom(const hd_dominators *dom) { return dom->idom; }
const uint64_t *hd__dominators_retained(const hd_dominators *dom) { return dom->retained; }

/* An index's arrays are never written through a borrowed hd_dominators: every function below
 * only reads them. */
static int from_index(const hd__index *ix, uint32_t nobjects, hd_dominators **out)
{
    hd_dominators *dom = calloc(1, sizeof *dom);
    if (!dom)
        return HD_ENOMEM;
    dom->nobjects = nobjects;
    /* META's count, held against DOM_IDOM once that is read whole (as total_size against
     * OBJ_SIZE): nothing here sizes memory by it, so a question about a few objects verifies
     * only the chunks of DOM_IDOM it reads. */
    dom->reachable = ix->dom_reachable;
    dom->idom = (uint32_t *)(uintptr_t)ix->dom_idom;
    dom->retained = (uint64_t *)(uintptr_t)ix->dom_retained;
    dom->top = ix->dom_top;
    dom->ntop = ix->ndom_top;
    dom->borrowed = true;
    *out = dom;
    return HD_OK;
}


/* The late predecessors as the DFS walks them: (to, from) number pairs, appended. */
typedef struct late_pairs {
    uint32_t (*pair)[2];
    uint64_t count;
} late_pairs;

static void append_late(void *ctx, uint32_t from, uint32_t to)
{
    late_pairs *late = ctx;
    late->pair[late->count][0] = to;
    late->pair[late->count][1] = from;
    late->count++;
}

/* The late predecessors grouped by target (CSR in number space, a counting sort): pred_off[w]
 * .. pred_off[w + 1] in preds for node w. */
static int group_late(const late_pairs *late, uint32_t n, uint32_t **pred_off_out, uint32_t **preds_out)
{
    uint32_t *pred_off = hd__big_calloc((size_t)n + 2, sizeof *pred_off);
    uint32_t *preds = hd__big_alloc((late->count ? late->count : 1) * sizeof *preds);
    if (!pred_off || !preds) {
        hd__big_free(pred_off);
        hd__big_free(preds);
        return HD_ENOMEM;
    }
    /* Counts land two slots up, so that after the prefix sum pred_off[x + 1] is x's start and
     * serves as its fill cursor, ending as x's end = (x + 1)'s start. */
    for (uint64_t i = 0; i < late->count; i++)
        pred_off[late->pair[i][0] + 2]++;
    for (uint32_t k = 2; k <= n; k++)
        pred_off[k] += pred_off[k - 1];
    for (uint64_t i = 0; i < late->count; i++)
        preds[pred_off[late->pair[i][0] + 1]++] = late->pair[i][1];
    *pred_off_out = pred_off;
    *preds_out = preds;
    return HD_OK;
}

/* In memory: numbers the nodes (vertex, *n), makes *nodes (n + 1 of them) and runs the
 * semidominator pass over the late predecessors, grouped by a counting sort. The nodes are made
 * once the DFS's stack and pairs are done with, so that they take those arrays' pages. */
static int semidominators_in_memory(const hd_dump *d, hd__dom_node **nodes, uint32_t *vertex, uint32_t *n)
{
    size_t cap = (size_t)d->nobjects + 1;
    hd__dfs_mark *mark = hd__big_alloc(cap * sizeof *mark);
    uint32_t *parent = hd__big_alloc(cap * sizeof *parent);
    /* At most one pair a reference or root entry; only the late ones are touched. */
    late_pairs late = {hd__big_alloc((d->nedges + d->nroots + 1) * sizeof *late.pair), 0};
    uint32_t *stack = hd__big_alloc(cap * sizeof *stack);
    uint32_t *pred_off = NULL, *preds = NULL;
    int rc = HD_ENOMEM;
    if (mark && parent && late.pair && stack) {
        *n = hd__dfs_number(d, mark, vertex, parent, stack, append_late, &late);
        hd__big_free(stack);
        stack = NULL;
        rc = group_late(&late, *n, &pred_off, &preds);
    }
    hd__big_free(stack);
    hd__big_free(late.pair);
    if (rc == HD_OK && !(*nodes = hd__ram_alloc(((size_t)*n + 1) * sizeof **nodes))) /* + the sentinel */
        rc = HD_ENOMEM;
    if (rc == HD_OK) { /* the marks, done with, serve as the pass's path scratch */
        hd__semi_init(*nodes, *n, parent, mark, vertex);
        hd__big_free(parent);
        parent = NULL;
        for (uint32_t w = *n - 1; w >= 1; w--)
            hd__semi_step(*nodes, *n, w, preds, pred_off[w], pred_off[w + 1], (uint32_t *)mark);
    }
    hd__big_free(parent);
    hd__big_free(mark);
    hd__big_free(pred_off);
    hd__big_free(preds);
    return rc;
}

/* Semi-NCA's second half from the semidominators: each idom the nearest ancestor on the DFS
 * tree path at or above the semidominator; then retained sizes folded up in decreasing number
 * (an idom always has a smaller one), and both scattered to object order into dom. Both are
 * made in the nodes (semidominators.h): a node's parent and semi are read before its idom is
 * written, and every idom is written before the first retained size. Frees nodes. */
static int dominators_from_semi(const hd_dump *d, hd__dom_node *nodes, const uint32_t *vertex, uint32_t n,
                                hd_dominators *dom)
{
    uint32_t nobj = d->nobjects;
    nodes[0].idom = 0;
    for (uint32_t w = 1; w < n; w++) {
        uint32_t x = nodes[w].parent;
        while (x > nodes[w].semi)
            x = nodes[x].idom;
        nodes[w].idom = x;
    }
    nodes[0].retained = 0;
    for (uint32_t k = 1; k < n; k++)
        nodes[k].retained = d->obj_size[vertex[k]];
    for (uint32_t k = n - 1; k >= 1; k--)
        nodes[nodes[k].idom].retained = hd__add_sat(nodes[nodes[k].idom].retained, nodes[k].retained);
    /* Each result is spilled (out of core) before the next is made: beside the nodes, one
     * result at a time. */
    dom->idom = hd__ram_alloc(((size_t)nobj + 1) * sizeof *dom->idom);
    for (uint32_t o = 0; dom->idom && o < nobj; o++)
        dom->idom[o] = HD_NONE;
    for (uint32_t k = 1; dom->idom && k < n; k++)
        dom->idom[vertex[k]] = nodes[k].idom == 0 ? HD_DOM_ROOT : vertex[nodes[k].idom];
    if (dom->idom)
        dom->idom = hd__spill(dom->idom, ((size_t)nobj + 1) * sizeof *dom->idom);
    dom->retained = dom->idom ? hd__ram_calloc((size_t)nobj + 1, sizeof *dom->retained) : NULL;
    for (uint32_t k = 1; dom->retained && k < n; k++)
        dom->retained[vertex[k]] = nodes[k].retained;
    hd__big_free(nodes);
    if (!dom->retained)
        return HD_ENOMEM;
    /* Out of core, the results wait for the index writer in scratch files, not in memory. */
    dom->retained = hd__spill(dom->retained, ((size_t)nobj + 1) * sizeof *dom->retained);
    return HD_OK;
}

int hd_dominators_compute(const hd_dump *d, hd_dominators **out)
{
    if (!d || !out)
        return HD_EINVAL;
    *out = NULL;
    const hd__index *ix = hd__dump_index(d);
    if (ix && ix->dom_idom)
        return from_index(ix, d->nobjects, out);
    hd_dominators *dom = calloc(1, sizeof *dom);
    uint32_t *vertex = hd__big_alloc(((size_t)d->nobjects + 1) * sizeof *vertex);
    hd__dom_node *nodes = NULL; /* walked at random: in memory even out of core */
    int rc = HD_ENOMEM;
    if (dom && vertex) {
        dom->nobjects = d->nobjects;
        uint32_t n = 0;
        rc = hd__budget_on() ? hd__semidominators_external(d, &nodes, vertex, &n)
                             : semidominators_in_memory(d, &nodes, vertex, &n);
        dom->reachable = n - 1;
        if (rc == HD_OK)
            rc = dominators_from_semi(d, nodes, vertex, n, dom);
        else
            hd__big_free(nodes);
    }
    hd__big_free(vertex);
    if (rc != HD_OK) {
        hd_dominators_free(dom);
        return rc;
    }
    *out = dom;
    return HD_OK;
}

void hd_dominators_free(hd_dominators *dom)
{
    if (!dom)
        return;
    if (!dom->borrowed) {
        hd__big_free(dom->idom);
        hd__big_free(dom->retained);
    }
    free(dom);
}

uint32_t hd_dominator_of(const hd_dominators *dom, uint32_t o) { return dom->idom[o]; }
uint64_t hd_retained_size(const hd_dominators *dom, uint32_t o) { return dom->retained[o]; }
uint32_t hd_dominators_reachable(const hd_dominators *dom) { return dom->reachable; }

/* The dominator tree's children in CSR form, over objects; first[] has nobjects + 2 entries,
 * the last slot being the virtual root's list. */
int hd_dominator_children(const hd_dominators *dom, uint32_t **first_out, uint32_t **child_out)
{
    uint32_t n = dom->nobjects, vroot = n;
    /* In huge pages (which free() releases): 4 KiB pages faulted in cost more than the counting.
     * One entry more than the nobjects + 2 the lists use: counts land two slots up, so that after
     * the prefix sum first[p + 1] is p's start and serves as its fill cursor, ending as p's end =
     * (p + 1)'s start. */
    uint32_t *first = hd__ram_calloc((size_t)n + 3, sizeof *first);
    if (!first)
        return HD_ENOMEM;
    for (uint32_t o = 0; o < n; o++) {
        uint32_t p = dom->idom[o];
        if (p != HD_NONE)
            first[(size_t)(p == HD_DOM_ROOT ? vroot : p) + 2]++;
    }
    for (size_t i = 2; i <= (size_t)n + 2; i++)
        first[i] += first[i - 1];
    /* Sized by the count just made, not by dom->reachable (an index's META, not yet held
     * against DOM_IDOM when only part of it has been read). */
    uint32_t *child = hd__ram_alloc(((size_t)first[(size_t)n + 2] + 1) * sizeof *child);
    if (!child) {
        free(first);
        return HD_ENOMEM;
    }
    for (uint32_t o = 0; o < n; o++) {
        uint32_t p = dom->idom[o];
        if (p != HD_NONE)
            child[first[(size_t)(p == HD_DOM_ROOT ? vroot : p) + 1]++] = o;
    }
    *first_out = first;
    *child_out = child;
    return HD_OK;
}

int hd__dominator_walk_types(const hd_dump *d, const uint32_t *first, const uint32_t *child,
                             uint32_t min_depth, hd__type_visit *visit, void *ctx)
{
    uint32_t n = d->nobjects;
    /* active[t]: objects of type t on the current tree path at min_depth or deeper. */
    uint32_t *active = calloc((size_t)d->ntypes + 1, sizeof *active);
    /* The stack and its cursors in one block, borrowed (big_alloc.c): after the dominators it
     * takes their nodes' array, whose pages the cycles' pass that follows in an export needs. */
    uint32_t *stack = hd__ram_borrow(2 * ((size_t)n + 1) * sizeof *stack);
    if (!active || !stack) {
        free(active), hd__big_free(stack);
        return HD_ENOMEM;
    }
    uint32_t *cursor = stack + n + 1;
    uint32_t top = 0; /* the depth of stack[top]: the virtual root is at 0 */
    stack[0] = n;
    cursor[0] = first[n];
    for (;;) {
        uint32_t v = stack[top];
        if (cursor[top] == first[v + 1]) {
            if (top == 0)
                break;
            if (top >= min_depth)
                active[d->obj_type[v]]--;
            top--;
            continue;
        }
        uint32_t c = child[cursor[top]++];
        if (top + 1 >= min_depth)
            visit(ctx, c, active[d->obj_type[c]]++ == 0);
        top++;
        stack[top] = c;
        cursor[top] = first[c];
    }
    free(active), hd__big_free(stack);
    return HD_OK;
}

typedef struct retained_by_type {
    const hd_dump *d;
    const hd_dominators *dom;
    uint64_t *by_type;
} retained_by_type;

static void add_retained(void *ctx, uint32_t o, bool outermost)
{
    retained_by_type *r = ctx;
    uint32_t t = r->d->obj_type[o];
    if (outermost)
        r->by_type[t] = hd__add_sat(r->by_type[t], r->dom->retained[o]);
}

int hd_stats_retained_by_type(const hd_dump *d, const hd_dominators *dom, hd_type_stat *out,
                              uint32_t *count)
{
    uint32_t *first, *child;
    int rc = hd_dominator_children(dom, &first, &child);
    if (rc)
        return rc;
    uint32_t ntotal = hd_stats_by_type(d, HD_SORT_COUNT, out);
    retained_by_type r = {d, dom, calloc((size_t)d->ntypes + 1, sizeof *r.by_type)};
    rc = r.by_type ? hd__dominator_walk_types(d, first, child, 1, add_retained, &r) : HD_ENOMEM;
    if (!rc) {
        for (uint32_t i = 0; i < ntotal; i++)
            out[i].retained = r.by_type[out[i].type];
        hd__stats_sort(d, HD_SORT_RETAINED, out, ntotal);
    }
    *count = ntotal;
    free(r.by_type);
    hd__big_free(first); /* kept for the next analysis */
    hd__big_free(child);
    return rc;
}

/* The k objects that retain the most, by a min-heap of size k over all objects. */
uint32_t hd_dominators_top(const hd_dominators *dom, uint32_t k, uint32_t *out)
{
    if (dom->top && k <= dom->ntop) { /* an index's ranking (binary_check.c holds its order) */
        memcpy(out, dom->top, (size_t)k * sizeof *out);
        return k;
    }
    const uint64_t *r = dom->retained;
    uint32_t size = 0;
#define LESS(a, b) (r[a] < r[b] || (r[a] == r[b] && (a) > (b)))
    for (uint32_t o = 0; o < dom->nobjects && k > 0; o++) {
        if (dom->idom[o] == HD_NONE)
            continue;
        if (size == k && !LESS(out[0], o))
            continue;
        uint32_t i;
        if (size < k) { /* sift up */
            for (i = size++; i > 0 && LESS(o, out[(i - 1) / 2]); i = (i - 1) / 2)
                out[i] = out[(i - 1) / 2];
        } else { /* replace the smallest, sift down */
            for (i = 0;;) {
                uint32_t c = 2 * i + 1;
                if (c >= size)
                    break;
                if (c + 1 < size && LESS(out[c + 1], out[c]))
                    c++;
                if (!LESS(out[c], o))
                    break;
                out[i] = out[c];
                i = c;
            }
        }
        out[i] = o;
    }
    /* Largest first: pop the heap from the back. */
    for (uint32_t end = size; end > 1; end--) {
        uint32_t smallest = out[0], last = out[end - 1], i = 0;
        for (;;) {
            uint32_t c = 2 * i + 1;
            if (c >= end - 1)
                break;
            if (c + 1 < end - 1 && LESS(out[c + 1], out[c]))
                c++;
            if (!LESS(out[c], last))
                break;
            out[i] = out[c];
            i = c;
        }
        out[i] = last;
        out[end - 1] = smallest;
    }
#undef LESS
    return size;
}
