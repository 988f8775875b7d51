/* graph.c: the subgraph objgraph would draw: breadth-first from start objects over references
 * (or referrers), bounded by depth, per-object fan-out and a node budget.
 *
 * Invariant: nodes[] is the queue. A node is appended once (the object-to-node map says so),
 * with a depth one more than the node that found it, so depths never decrease along nodes[]
 * and a node is expanded exactly once, when the scan reaches it.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

void hd_graph_options_init(hd_graph_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->direction = HD_GRAPH_REFERENTS;
    opts->max_depth = 3;
    opts->too_many = 10;
}

void hd_graph_free(hd_graph *g)
{
    if (!g)
        return;
    free(g->nodes);
    free(g->edges);
    free(g);
}

/* --- object index -> node index: open addressing, linear probing, power-of-two size ---------- */
typedef struct nodemap {
    uint32_t *keys, *vals; /* keys: object index + 1, 0 = empty */
    uint32_t cap, used;
} nodemap;

static uint32_t slot_of(uint32_t key, uint32_t cap) { return (uint32_t)((key * 0x9e3779b1u) >> 7) & (cap - 1); }

static uint32_t map_get(const nodemap *m, uint32_t o)
{
    if (!m->cap)
        return HD_NONE;
    for (uint32_t i = slot_of(o + 1, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == 0)
            return HD_NONE;
        if (m->keys[i] == o + 1)
            return m->vals[i];
    }
}

static int map_put(nodemap *m, uint32_t o, uint32_t v)
{
    if ((m->used + 1) * 2 > m->cap) {
        uint32_t ncap = m->cap ? m->cap * 2 : 64;
        uint32_t *nk = calloc(ncap, sizeof *nk), *nv = malloc(ncap * sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return HD_ENOMEM;
        }
        for (uint32_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                uint32_t j = slot_of(m->keys[i], ncap);
                while (nk[j])
                    j = (j + 1) & (ncap - 1);
                nk[j] = m->keys[i];
                nv[j] = m->vals[i];
            }
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
    }
    uint32_t i = slot_of(o + 1, m->cap);
    while (m->keys[i])
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = o + 1;
    m->vals[i] = v;
    m->used++;
    return HD_OK;
}

/* --- (object, index) pairs sorted by object, for roots and weakrefs by either end ------------- */
typedef struct pair {
    uint32_t object, index;
} pair;

static int pair_cmp(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->object != y->object)
        return x->object < y->object ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The first entry for object o, or n. */
static uint32_t pair_find(const pair *p, uint32_t n, uint32_t o)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p[mid].object < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && p[lo].object == o ? lo : n;
}

/* --- the builder ------------------------------------------------------------------------------ */
typedef struct builder {
    const hd_dump *d;
    const hd_graph_options *opts;
    hd_graph *g;
    uint32_t node_cap, edge_cap;
    nodemap map;
    pair *roots;
    uint32_t nroots;
    pair *weak_by_object, *weak_by_referent;
    uint32_t nweak;
} builder;

static void builder_free(builder *b)
{
    free(b->map.keys);
    free(b->map.vals);
    free(b->roots);
    free(b->weak_by_object);
    free(b->weak_by_referent);
}

static int pairs_build(const hd_dump *d, builder *b, int weak)
{
    uint32_t nr = hd_root_count(d);
    b->roots = malloc((nr ? nr : 1) * sizeof *b->roots);
    if (!b->roots)
        return HD_ENOMEM;
    for (uint32_t r = 0; r < nr; r++)
        b->roots[r] = (pair){hd_root_object(d, r), r};
    qsort(b->roots, nr, sizeof *b->roots, pair_cmp);
    b->nroots = nr;
    if (!weak)
        return HD_OK;
    uint32_t nw = hd_weakref_count(d);
    b->weak_by_object = malloc((nw ? nw : 1) * sizeof *b->weak_by_object);
    b->weak_by_referent = malloc((nw ? nw : 1) * sizeof *b->weak_by_referent);
    if (!b->weak_by_object || !b->weak_by_referent)
        return HD_ENOMEM;
    uint32_t n = 0;
    for (uint32_t w = 0; w < nw; w++) {
        uint32_t referent = hd_weakref_referent(d, w);
        if (referent == HD_NONE)
            continue; /* a dead weakref points nowhere */
        b->weak_by_object[n] = (pair){hd_weakref_object(d, w), w};
        b->weak_by_referent[n] = (pair){referent, w};
        n++;
    }
    qsort(b->weak_by_object, n, sizeof *b->weak_by_object, pair_cmp);
    qsort(b->weak_by_referent, n, sizeof *b->weak_by_referent, pair_cmp);
    b->nweak = n;
    return HD_OK;
}

static int add_node(builder *b, uint32_t o, uint32_t depth, unsigned flags, uint32_t *index)
{
    hd_graph *g = b->g;
    if (g->nnodes == b->node_cap) {
        uint32_t ncap = b->node_cap ? b->node_cap * 2 : 32;
        hd_graph_node *nn = realloc(g->nodes, ncap * sizeof *nn);
        if (!nn)
            return HD_ENOMEM;
        g->nodes = nn;
        b->node_cap = ncap;
    }
    hd_graph_node *n = &g->nodes[g->nnodes];
    memset(n, 0, sizeof *n);
    n->object = o;
    n->depth = depth;
    n->root = HD_NONE;
    n->flags = flags;
    if (o != HD_NONE) {
        const hd_dump *d = b->d;
        uint32_t r = pair_find(b->roots, b->nroots, o);
        if (r < b->nroots) {
            n->root = b->roots[r].index;
            n->flags |= HD_GNODE_ROOT;
        }
        unsigned tf = hd_type_flags(d, hd_object_type(d, o));
        if (tf & HD_TYPE_FINALIZER)
            n->flags |= HD_GNODE_FINALIZER;
        if (tf & HD_TYPE_LEGACY_FINALIZER)
            n->flags |= HD_GNODE_FINALIZER | HD_GNODE_LEGACY_FINALIZER;
        if (b->opts->highlight && b->opts->highlight(d, o, b->opts->highlight_user))
            n->flags |= HD_GNODE_HIGHLIGHT;
        int rc = map_put(&b->map, o, g->nnodes);
        if (rc)
            return rc;
        g->nobjects++;
    }
    *index = g->nnodes++;
    return HD_OK;
}

static int add_edge(builder *b, uint32_t from, uint32_t to, enum hd_graph_edge_kind kind, uint64_t ref)
{
    hd_graph *g = b->g;
    if (g->nedges == b->edge_cap) {
        uint32_t ncap = b->edge_cap ? b->edge_cap * 2 : 32;
        hd_graph_edge *ne = realloc(g->edges, ncap * sizeof *ne);
        if (!ne)
            return HD_ENOMEM;
        g->edges = ne;
        b->edge_cap = ncap;
    }
    hd_graph_edge *e = &g->edges[g->nedges++];
    e->from = from;
    e->to = to;
    e->kind = kind;
    e->ref = ref;
    e->in_cycle = 0; /* hd__graph_mark_cycles decides, once the graph is whole */
    return HD_OK;
}

/* Expansion state of one node: references drawn so far and those left out. */
typedef struct fan {
    uint32_t node, drawn;
    uint64_t skipped;
} fan;

/* One neighbour of the node being expanded, reached by a strong (ref = edge index) or weak
 * (ref = weakref index) reference. */
static int visit(builder *b, fan *f, uint32_t neighbour, enum hd_graph_edge_kind kind, uint64_t ref)
{
    const hd_graph_options *opts = b->opts;
    hd_graph *g = b->g;
    uint32_t idx = map_get(&b->map, neighbour);
    if (idx == HD_NONE && opts->filter && !opts->filter(b->d, neighbour, opts->filter_user))
        return HD_OK; /* filtered out: neither drawn nor counted */
    if (opts->too_many && f->drawn >= opts->too_many) {
        f->skipped++;
        return HD_OK;
    }
    if (idx == HD_NONE) {
        if (opts->max_nodes && g->nobjects >= opts->max_nodes) {
            f->skipped++;
            g->truncated = 1;
            return HD_OK;
        }
        int rc = add_node(b, neighbour, g->nodes[f->node].depth + 1, 0, &idx);
        if (rc)
            return rc;
    }
    f->drawn++;
    if (g->direction == HD_GRAPH_REFERENTS)
        return add_edge(b, f->node, idx, kind, ref);
    return add_edge(b, idx, f->node, kind, ref);
}

static int expand(builder *b, const hd_referrers *rev, uint32_t node)
{
    const hd_dump *d = b->d;
    hd_graph *g = b->g;
    uint32_t o = g->nodes[node].object;
    fan f = {node, 0, 0};
    int rc = HD_OK;
    if (g->direction == HD_GRAPH_REFERENTS) {
        uint64_t first, end;
        hd_object_edges(d, o, &first, &end);
        for (uint64_t e = first; e < end && !rc; e++)
            rc = visit(b, &f, hd_edge_target(d, e), HD_GEDGE_STRONG, e);
        for (uint32_t i = pair_find(b->weak_by_object, b->nweak, o);
             i < b->nweak && b->weak_by_object[i].object == o && !rc; i++) {
            uint32_t w = b->weak_by_object[i].index;
            rc = visit(b, &f, hd_weakref_referent(d, w), HD_GEDGE_WEAK, w);
        }
    } else {
        for (uint32_t k = rev->offsets[o]; k < rev->offsets[o + 1] && !rc; k++)
            rc = visit(b, &f, rev->sources[k], HD_GEDGE_STRONG, rev->edges[k]);
        for (uint32_t i = pair_find(b->weak_by_referent, b->nweak, o);
             i < b->nweak && b->weak_by_referent[i].object == o && !rc; i++) {
            uint32_t w = b->weak_by_referent[i].index;
            rc = visit(b, &f, hd_weakref_object(d, w), HD_GEDGE_WEAK, w);
        }
    }
    if (rc || !f.skipped)
        return rc;
    uint32_t more;
    if ((rc = add_node(b, HD_NONE, g->nodes[node].depth + 1, HD_GNODE_MORE, &more)))
        return rc;
    g->nodes[more].more = f.skipped > UINT32_MAX ? UINT32_MAX : (uint32_t)f.skipped;
    g->omitted += f.skipped;
    if (g->direction == HD_GRAPH_REFERENTS)
        return add_edge(b, node, more, HD_GEDGE_MORE, 0);
    return add_edge(b, more, node, HD_GEDGE_MORE, 0);
}

static int begin(builder *b, const hd_dump *d, const hd_graph_options *opts, hd_graph_options *defaults,
                 int weak, hd_graph **out)
{
    memset(b, 0, sizeof *b);
    if (!opts) {
        hd_graph_options_init(defaults);
        opts = defaults;
    }
    b->d = d;
    b->opts = opts;
    b->g = calloc(1, sizeof *b->g);
    if (!b->g)
        return HD_ENOMEM;
    b->g->direction = opts->direction;
    b->g->max_depth = opts->max_depth;
    b->g->chain_root = HD_NONE;
    *out = NULL;
    return pairs_build(d, b, weak);
}

static int finish(builder *b, int rc, hd_graph **out)
{
    builder_free(b);
    if (!rc)
        rc = hd__graph_mark_cycles(b->d, b->g);
    if (rc) {
        hd_graph_free(b->g);
        return rc;
    }
    *out = b->g;
    return HD_OK;
}

int hd_graph_build(const hd_dump *d, const uint32_t *start, uint32_t nstart, const hd_graph_options *opts,
                   hd_graph **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d || !start || !nstart)
        return HD_EINVAL;
    uint32_t n = hd_object_count(d);
    for (uint32_t i = 0; i < nstart; i++)
        if (start[i] >= n)
            return HD_EINVAL;
    if (opts && opts->direction != HD_GRAPH_REFERENTS && opts->direction != HD_GRAPH_REFERRERS)
        return HD_EINVAL;
    builder b;
    hd_graph_options defaults;
    int rc = begin(&b, d, opts, &defaults, !(opts && opts->no_weak), out);
    hd_referrers *rev = NULL;
    if (!rc && b.opts->direction == HD_GRAPH_REFERRERS)
        rc = hd_referrers_build(d, &rev);
    for (uint32_t i = 0; i < nstart && !rc; i++) {
        uint32_t idx;
        if (map_get(&b.map, start[i]) == HD_NONE)
            rc = add_node(&b, start[i], 0, HD_GNODE_START, &idx);
    }
    /* nodes[] grows while it is scanned: that is the breadth-first queue. */
    for (uint32_t i = 0; i < b.g->nnodes && !rc; i++) {
        const hd_graph_node *node = &b.g->nodes[i];
        if (node->object == HD_NONE || node->depth >= b.opts->max_depth)
            continue;
        /* show_backrefs stops at modules; here a root explains itself, so it ends the walk. */
        if (b.opts->direction == HD_GRAPH_REFERRERS && (node->flags & HD_GNODE_ROOT) &&
            !(node->flags & HD_GNODE_START))
            continue;
        rc = expand(&b, rev, i);
    }
    hd_referrers_free(rev);
    return finish(&b, rc, out);
}

int hd_graph_chain(const hd_dump *d, uint32_t o, const hd_graph_options *opts, hd_graph **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d || o >= hd_object_count(d))
        return HD_EINVAL;
    hd_path *p = NULL;
    int rc = hd_path_find(d, o, &p);
    if (rc)
        return rc;
    builder b;
    hd_graph_options defaults;
    rc = begin(&b, d, opts, &defaults, 0, out);
    if (!rc) {
        /* Drawn as show_backrefs of the chain: the target is the start, the root deepest. */
        b.g->direction = HD_GRAPH_REFERRERS;
        b.g->max_depth = p->nhops ? p->nhops - 1 : 0;
        b.g->chain_root = p->root;
    }
    uint32_t prev = HD_NONE;
    if (!rc && !p->nhops) {
        rc = add_node(&b, o, 0, HD_GNODE_START, &prev);
    }
    /* A shortest path visits no object twice, so each hop is a new node. */
    for (uint32_t i = p->nhops; i-- > 0 && !rc;) {
        uint32_t idx;
        rc = add_node(&b, p->hops[i].object, p->nhops - 1 - i, i == p->nhops - 1 ? HD_GNODE_START : 0, &idx);
        if (!rc && prev != HD_NONE)
            rc = add_edge(&b, idx, prev, HD_GEDGE_STRONG, p->hops[i + 1].edge);
        prev = idx;
    }
    hd_path_free(p);
    return finish(&b, rc, out);
}
