/* holding_roots.c: the roots that hold a chain top (an object whose only dominator is the
 * virtual root), nearest first (analysis.h, holding_roots).
 *
 * What is computed: for a top x, walking referrers backwards breadth-first from x, never
 * through a root object, finds the root objects that reach x; they are listed in the order
 * that walk meets them: by distance, then by the sequence of referrer positions along the path
 * (the order a breadth-first search with ordered referrers produces). When the caller shows few
 * chains, that walk is done for each top asked about: it costs a pass over much of the heap per
 * top and the referrers (8 bytes a reference). For many chains, or a heap whose referrers do not
 * fit, it is done for every top at once, in one pass per root instead, over the references
 * forwards: some 32 bytes an object at its peak, and 16 for each (top, root) pair.
 *
 * Why one pass per root can: the dominator tree splits the reachable heap into the tops' subtrees, and a
 * reference into an object other than a top comes from the same subtree (else that object's
 * top would not dominate it). So a path from a root to x runs from top to top, entering each
 * top y and leaving its subtree from some referrer v of the next top. Its length is the sum of
 * 1 + depth(v) over the tops passed, depth(v) being v's distance from its own top; that makes
 * a graph of tops with weighted edges (y -> x, weight 1 + depth(v), v's position among x's
 * referrers), and each root's shortest paths in it (Dijkstra) give the distances. Among equal
 * distances the walk from x prefers the referrer met first, and after that referrer v the rest
 * of the path is fixed up to v's top y, so two roots reached through the same v keep the order
 * they have at y: the comparison follows that chain of tops until the roots differ.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct top_edge {
    uint32_t to, weight, slot; /* slot: the referrer's position among to's referrers */
} top_edge;

typedef struct holder {
    uint32_t top, root_object, distance, slot; /* slot of the first step back from top */
    uint32_t via;                              /* the top that step leads to */
} holder;

typedef struct finder {
    const hd_dump *d;
    const hd_dominators *dom;
    const uint32_t *root_of;
    uint32_t *top;      /* per object: the top of its dominator chain, HD_NONE if unreachable */
    uint32_t *depth;    /* per object: its distance from its top */
    uint32_t *first;    /* per top + 1: its outgoing edges in edges (fewer than the references) */
    top_edge *edges;
    holder *found;      /* (top, root) pairs, by top then root object */
    size_t nfound, capfound;
} finder;

static bool is_root(const finder *f, uint32_t o) { return f->root_of[o] != HD_NONE; }
static bool is_top(const finder *f, uint32_t o) { return hd_dominator_of(f->dom, o) == HD_DOM_ROOT; }

/* Each reachable object's top, up the dominator tree with the path remembered in scratch. */
static void find_tops(finder *f, uint32_t *scratch)
{
    uint32_t n = hd_object_count(f->d);
    for (uint32_t o = 0; o < n; o++)
        f->top[o] = is_top(f, o) ? o : HD_NONE;
    for (uint32_t o = 0; o < n; o++) {
        uint32_t k = 0, x = o;
        while (f->top[x] == HD_NONE && hd_dominator_of(f->dom, x) != HD_NONE) {
            scratch[k++] = x;
            x = hd_dominator_of(f->dom, x);
        }
        while (k > 0)
            f->top[scratch[--k]] = f->top[x];
    }
}

/* Breadth-first from every top at once into the objects that are not tops: each is entered
 * only from its own top's subtree, so it gets its distance from its own top. */
static void find_depths(finder *f, uint32_t *queue)
{
    uint32_t n = hd_object_count(f->d), head = 0, tail = 0;
    const uint32_t *off = hd_edge_offsets(f->d), *dst = hd_edge_targets(f->d);
    for (uint32_t o = 0; o < n; o++) {
        f->depth[o] = UINT32_MAX;
        if (f->top[o] == o) {
            f->depth[o] = 0;
            queue[tail++] = o;
        }
    }
    while (head < tail) {
        uint32_t v = queue[head++];
        for (uint32_t e = off[v]; e < off[v + 1]; e++)
            if (f->depth[dst[e]] == UINT32_MAX) {
                f->depth[dst[e]] = f->depth[v] + 1;
                queue[tail++] = dst[e];
            }
    }
}

/* The edges between tops, from each referrer of a top that is not a root (a root holds itself),
 * found forwards: the references in source order meet each object's referrers in the order
 * hd_referrers_build lists them, so counting them (in seen) gives each referrer's slot. */
static void link_tops(finder *f, uint32_t *seen)
{
    uint32_t n = hd_object_count(f->d);
    const uint32_t *off = hd_edge_offsets(f->d), *dst = hd_edge_targets(f->d);
    f->first = xcalloc((size_t)n + 2, sizeof *f->first);
    for (int pass = 0; pass < 2; pass++) {
        memset(seen, 0, (size_t)n * sizeof *seen);
        for (uint32_t v = 0; v < n; v++) {
            uint32_t y = f->top[v];
            for (uint32_t e = off[v]; e < off[v + 1]; e++) {
                uint32_t x = dst[e];
                if (f->top[x] != x)
                    continue;
                uint32_t slot = seen[x]++;
                if (is_root(f, x) || y == HD_NONE || y == x)
                    continue; /* a root, garbage, or x's own subtree: none leads to a root */
                if (pass == 0)
                    f->first[y + 2]++;
                else
                    f->edges[f->first[y + 1]++] = (top_edge){x, 1 + f->depth[v], slot};
            }
        }
        if (pass == 0) {
            for (uint32_t y = 0; y < n; y++)
                f->first[y + 2] += f->first[y + 1];
            f->edges = xmalloc((f->first[n + 1] ? f->first[n + 1] : 1) * sizeof *f->edges);
        }
    }
}

/* A binary heap of (distance, top), smallest distance first. */
typedef struct queue {
    uint64_t *v; /* distance << 32 | top */
    size_t n, cap;
} queue;

static void push(queue *q, uint32_t dist, uint32_t top)
{
    if (q->n == q->cap)
        q->v = xrealloc(q->v, (q->cap = q->cap ? 2 * q->cap : 1024) * sizeof *q->v);
    size_t i = q->n++;
    uint64_t key = (uint64_t)dist << 32 | top;
    for (; i > 0 && q->v[(i - 1) / 2] > key; i = (i - 1) / 2)
        q->v[i] = q->v[(i - 1) / 2];
    q->v[i] = key;
}

static uint64_t pop(queue *q)
{
    uint64_t min = q->v[0], last = q->v[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && q->v[c + 1] < q->v[c])
            c++;
        if (q->v[c] >= last)
            break;
        q->v[i] = q->v[c];
        i = c;
    }
    if (q->n)
        q->v[i] = last;
    return min;
}

enum { NO_EDGE = UINT32_MAX, SETTLED = UINT32_MAX - 1 };

/* The top edge i leaves from: the one whose edges in first hold i. */
static uint32_t edge_source(const finder *f, uint32_t i)
{
    uint32_t lo = 0, hi = hd_object_count(f->d); /* the last y with first[y] <= i */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (f->first[mid] <= i)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Dijkstra from root object r over the tops; among equal distances the edge of the smaller slot
 * wins (best: per top, that edge, or NO_EDGE, or SETTLED). Every top it settles but r gets r as
 * a holder. dist and best are UINT32_MAX outside a pass. */
static void from_root(finder *f, uint32_t r, uint32_t *dist, uint32_t *best, queue *q, uint32_t *touched)
{
    uint32_t ntouched = 0;
    dist[r] = 0;
    touched[ntouched++] = r;
    push(q, 0, r);
    while (q->n) {
        uint64_t key = pop(q);
        uint32_t y = (uint32_t)key, d = (uint32_t)(key >> 32);
        if (d != dist[y] || best[y] == SETTLED)
            continue; /* settled already, or a stale entry */
        if (y != r) {
            if (f->nfound == f->capfound)
                f->found = xrealloc(f->found, (f->capfound = f->capfound ? 2 * f->capfound : 4096) * sizeof *f->found);
            f->found[f->nfound++] = (holder){y, r, d, f->edges[best[y]].slot, edge_source(f, best[y])};
        }
        best[y] = SETTLED;
        for (uint32_t k = f->first[y]; k < f->first[y + 1]; k++) {
            const top_edge *e = &f->edges[k];
            uint32_t nd = d + e->weight, was = best[e->to];
            if (was == SETTLED || nd > dist[e->to] || (nd == dist[e->to] && e->slot >= f->edges[was].slot))
                continue;
            if (dist[e->to] == UINT32_MAX)
                touched[ntouched++] = e->to;
            if (nd < dist[e->to])
                push(q, nd, e->to);
            dist[e->to] = nd;
            best[e->to] = k;
        }
    }
    for (uint32_t i = 0; i < ntouched; i++)
        dist[touched[i]] = best[touched[i]] = UINT32_MAX;
}

/* Top x's entry for root object r (x's entries are sorted by root object). */
static const holder *entry(const finder *f, const uint64_t *at, uint32_t x, uint32_t r)
{
    size_t lo = at[x], hi = at[x + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->found[mid].root_object < r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return &f->found[lo];
}

typedef struct order_ctx {
    const finder *f;
    const uint64_t *at;
    uint32_t x;
} order_ctx;

/* The walk from x meets a before b: nearer, or as near through an earlier referrer, or through
 * the same referrer and so in the order the next top meets them. */
static int nearer(const void *pa, const void *pb, void *ctx)
{
    const order_ctx *c = ctx;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb, x = c->x;
    while (a != b && !is_root(c->f, x)) {
        const holder *ea = entry(c->f, c->at, x, a), *eb = entry(c->f, c->at, x, b);
        if (ea->distance != eb->distance)
            return ea->distance < eb->distance ? -1 : 1;
        if (ea->slot != eb->slot)
            return ea->slot < eb->slot ? -1 : 1;
        x = ea->via;
    }
    return 0;
}

/* Fills held and held_at for every top. */
static void find_all_holders(chains *c)
{
    uint32_t n = hd_object_count(c->d);
    finder f = {c->d, c->dom, c->root_of, xmalloc(((size_t)n + 1) * sizeof *f.top),
                xmalloc(((size_t)n + 1) * sizeof *f.depth), NULL, NULL, NULL, 0, 0};
    uint32_t *scratch = xmalloc(((size_t)n + 1) * sizeof *scratch), *best = xmalloc(((size_t)n + 1) * sizeof *best);
    find_tops(&f, scratch);
    find_depths(&f, scratch);
    free(scratch); /* the peak is the edges between tops: nothing else waits beside them */
    link_tops(&f, best);
    free(f.top); /* the tops are in the edges now, and the depths too */
    f.top = NULL;
    scratch = xmalloc(((size_t)n + 1) * sizeof *scratch);
    uint32_t *dist = f.depth;
    for (uint32_t o = 0; o < n; o++)
        dist[o] = best[o] = UINT32_MAX;
    queue q = {0};
    for (uint32_t r = 0; r < n; r++)
        if (is_root(&f, r))
            from_root(&f, r, dist, best, &q, scratch);
    free(q.v);
    free(f.depth), free(f.first), free(f.edges), free(scratch), free(best);
    /* By top, keeping the root order of the passes (a stable counting sort). */
    uint64_t *at = xcalloc((size_t)n + 2, sizeof *at);
    for (size_t i = 0; i < f.nfound; i++)
        at[f.found[i].top + 2]++;
    for (uint32_t x = 0; x < n; x++)
        at[x + 2] += at[x + 1];
    holder *sorted = xmalloc((f.nfound ? f.nfound : 1) * sizeof *sorted);
    for (size_t i = 0; i < f.nfound; i++)
        sorted[at[f.found[i].top + 1]++] = f.found[i];
    free(f.found);
    f.found = sorted;
    c->held = xmalloc((f.nfound ? f.nfound : 1) * sizeof *c->held);
    for (size_t i = 0; i < f.nfound; i++)
        c->held[i] = f.found[i].root_object;
    for (uint32_t x = 0; x < n; x++) {
        order_ctx ctx = {&f, at, x};
        qsort_r(c->held + at[x], at[x + 1] - at[x], sizeof *c->held, nearer, &ctx);
    }
    for (size_t i = 0; i < f.nfound; i++)
        c->held[i] = c->root_of[c->held[i]];
    c->held_at = at;
    free(f.found);
}

/* A chain shown among few: the walk from x alone, its root records left at the head of queue. */
typedef struct walk {
    hd_referrers *refs;
    uint8_t *seen;
    uint32_t *queue;
    uint32_t top, nfound; /* the top walked last (HD_NONE before any), and its holders */
} walk;

static void walk_back(chains *c, uint32_t x)
{
    uint32_t n = hd_object_count(c->d);
    walk *w = c->walk;
    if (!w) {
        int rc;
        w = c->walk = xcalloc(1, sizeof *w);
        if ((rc = hd_referrers_build(c->d, &w->refs)))
            exit(report_status("dominators", rc));
        w->seen = xcalloc((size_t)n + 1, 1);
        w->queue = xmalloc(((size_t)n + 1) * sizeof *w->queue);
        w->top = HD_NONE;
    }
    if (w->top == x)
        return;
    uint32_t head = 0, tail = 0;
    w->queue[tail++] = x;
    w->seen[x] = 1;
    while (head < tail) {
        uint32_t v = w->queue[head++];
        if (c->root_of[v] != HD_NONE)
            continue; /* a root: it holds x; what holds the root is its business */
        for (uint32_t k = w->refs->offsets[v]; k < w->refs->offsets[v + 1]; k++)
            if (!w->seen[w->refs->sources[k]]) {
                w->seen[w->refs->sources[k]] = 1;
                w->queue[tail++] = w->refs->sources[k];
            }
    }
    w->nfound = 0;
    for (uint32_t i = 0; i < tail; i++) {
        uint32_t v = w->queue[i];
        w->seen[v] = 0;
        if (c->root_of[v] != HD_NONE)
            w->queue[w->nfound++] = c->root_of[v];
    }
    w->top = x;
}

/* Per object, the root record to name it by: a named root before any other kind. */
/* Of the roots naming one object, the one shown: the first, unless a later one is named and
 * it is not. */
static bool shown_before(const hd_dump *d, uint32_t r, uint32_t shown)
{
    return shown == HD_NONE || (hd_root_kind(d, r) == HD_ROOT_NAMED && hd_root_kind(d, shown) != HD_ROOT_NAMED);
}

static void index_roots(chains *c)
{
    uint32_t n = hd_object_count(c->d);
    c->root_of = xmalloc(((size_t)n + 1) * sizeof *c->root_of);
    for (uint32_t o = 0; o < n; o++)
        c->root_of[o] = HD_NONE;
    for (uint32_t r = 0; r < hd_root_count(c->d); r++) {
        uint32_t o = hd_root_object(c->d, r);
        if (shown_before(c->d, r, c->root_of[o]))
            c->root_of[o] = r;
    }
}

/* The root shown for o, or HD_NONE: from the roots alone, without index_roots's array over every
 * object, while no walk has needed that (a top that is a root needs no walk). */
static uint32_t root_of(chains *c, uint32_t o)
{
    if (c->root_of)
        return c->root_of[o];
    uint32_t shown = HD_NONE;
    for (uint32_t r = 0; r < hd_root_count(c->d); r++)
        if (hd_root_object(c->d, r) == o && shown_before(c->d, r, shown))
            shown = r;
    return shown;
}

/* Whether a walk's referrers (8 bytes a reference and 4 an object, and up to 12 a reference while
 * they are sorted) and its queue fit in half the memory this process may have (physical, or less
 * under a data limit); the pass for every top needs none of them, and some 32 bytes an object. */
static bool referrers_fit(const hd_dump *d)
{
    uint64_t need = 9 * (uint64_t)hd_object_count(d) + 20 * hd_edge_count(d);
    uint64_t room = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    struct rlimit data;
    if (getrlimit(RLIMIT_DATA, &data) == 0 && data.rlim_cur != RLIM_INFINITY && data.rlim_cur < room)
        room = data.rlim_cur;
    return need <= room / 2;
}

uint32_t holding_roots(chains *c, uint32_t x, uint32_t *roots, uint32_t cap)
{
    uint32_t named = root_of(c, x);
    if (named != HD_NONE) {
        if (cap)
            roots[0] = named;
        return 1;
    }
    if (!c->root_of)
        index_roots(c);
    const uint32_t *held;
    uint64_t n;
    if (c->walk || (!c->held && c->rows <= CHAINS_WALKED_ALONE && referrers_fit(c->d))) {
        walk_back(c, x);
        held = c->walk->queue, n = c->walk->nfound;
    } else {
        if (!c->held)
            find_all_holders(c);
        held = c->held + c->held_at[x], n = c->held_at[x + 1] - c->held_at[x];
    }
    for (uint64_t i = 0; i < n && i < cap; i++)
        roots[i] = held[i];
    return (uint32_t)n;
}

void holding_roots_free(chains *c)
{
    if (c->walk) {
        hd_referrers_free(c->walk->refs);
        free(c->walk->seen);
        free(c->walk->queue);
        free(c->walk);
    }
    free(c->root_of);
    free(c->held_at);
    free(c->held);
    c->walk = NULL;
    c->root_of = c->held = NULL;
    c->held_at = NULL;
}
