/* context.c: the analyses a statement may need, each computed the first time it is asked for.
 * A query that reads only shallow columns never pays for dominators, cycles or distances. */
#include "query_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const hd_dominators *hq_dominators(hq_context *c)
{
    if (!c->dom)
        hd_dominators_compute(c->d, &c->dom);
    return c->dom;
}

#define HUGE_PAGE (2u << 20)

/* The SQLite export reads an id at random for every row of refs, through SQLite. In the dump's
 * own array, of 4 KiB pages, nearly every such read misses the TLB, and a miss walks the page
 * tables (in a virtual machine, two sets of them). A copy in 2 MiB pages, where the kernel
 * grants them, leaves only the cache miss. Statements keep the dump's array: they read few ids,
 * and the copy's memory would count against their peak. (The directory export's own writers
 * prefetch the ids far enough ahead not to need it.) */
void hq_object_ids_copy(hq_context *c)
{
    size_t used = (size_t)hd_object_count(c->d) * sizeof *c->own_ids;
    size_t size = (used + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    void *p = NULL;
    if (c->own_ids || size < 4 * (size_t)HUGE_PAGE || posix_memalign(&p, HUGE_PAGE, size) != 0)
        return; /* small arrays gain nothing; without memory the dump's array serves */
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE); /* advice only */
#endif
    memcpy(p, hd_object_ids(c->d), used);
    c->own_ids = p;
}

const hd_reach *hq_reach(hq_context *c)
{
    if (!c->reach)
        hd_reach_compute(c->d, &c->reach);
    return c->reach;
}

const hd_referrers *hq_referrers(hq_context *c)
{
    if (!c->referrers)
        hd_referrers_build(c->d, &c->referrers);
    return c->referrers;
}

static bool has_garbage_root(const hd_dump *d)
{
    for (uint32_t r = 0; r < hd_root_count(d); r++)
        if (hd_root_kind(d, r) == HD_ROOT_GARBAGE)
            return true;
    return false;
}

/* Without garbage roots the reachability forest's depths are the distances less one (both are
 * breadth-first from every root object at once): a forest already made (path_to_root's, or an
 * index's) serves. Otherwise a search that keeps only the distances: the forest's parents and
 * edges would cost three times the memory written, and reachability visits garbage roots'
 * objects last, so with them its depths are not the distances. */
const uint32_t *hq_distance(hq_context *c)
{
    if (c->distance)
        return c->distance;
    if (!(c->reach || hd_dump_is_index(c->d)) || has_garbage_root(c->d)) {
        hd_root_distance(c->d, &c->distance);
        return c->distance;
    }
    const hd_reach *reach = hq_reach(c);
    uint32_t n = hd_object_count(c->d);
    uint32_t *dist = reach ? malloc(((size_t)n + 1) * sizeof *dist) : NULL;
    for (uint32_t o = 0; dist && o < n; o++)
        dist[o] = reach->depth[o] == HD_NONE ? HD_NONE : reach->depth[o] + 1;
    c->distance = dist;
    return dist;
}

const uint32_t *hq_scc(hq_context *c)
{
    if (!c->scc)
        hd_cycle_numbers(c->d, &c->scc);
    return c->scc;
}

typedef struct dominators_job {
    const hd_dump *d;
    hd_dominators *dom;
} dominators_job;

static void *dominators_run(void *arg)
{
    dominators_job *j = arg;
    hd_dominators_compute(j->d, &j->dom);
    return NULL;
}

/* Whether an analysis of the set is not made yet; reads only what the set names (an export's
 * thread may be writing the others). */
static bool any_unknown(const hq_context *c, unsigned analyses)
{
    return ((analyses & HQ_DOMINATORS) && !c->dom) || ((analyses & HQ_DISTANCE) && !c->distance) ||
           ((analyses & HQ_SCC) && !c->scc) || ((analyses & HQ_TYPE_RETAINED) && !c->type_retained);
}

/* The dominators go to a second thread when the cycles or the distances are wanted too: none
 * reads another, and on two cores the statement waits for the longest alone. The cycles and
 * then the distances run one after the other beside them, so that at most two analyses'
 * scratch is held at once (peak memory stays near that of the dominators alone). */
bool hq_compute(hq_context *c, unsigned analyses)
{
    bool dom = (analyses & (HQ_DOMINATORS | HQ_TYPE_RETAINED)) && !c->dom;
    bool beside = ((analyses & HQ_SCC) && !c->scc) || ((analyses & HQ_DISTANCE) && !c->distance);
    if (!any_unknown(c, analyses))
        return true;
    dominators_job job = {c->d, NULL};
    pthread_t thread;
    bool threaded = dom && beside && pthread_create(&thread, NULL, dominators_run, &job) == 0;
    bool ok = true;
    if (analyses & HQ_SCC)
        ok &= hq_scc(c) != NULL;
    if (analyses & HQ_DISTANCE)
        ok &= hq_distance(c) != NULL;
    if (threaded) {
        pthread_join(thread, NULL);
        c->dom = job.dom;
    }
    if (analyses & (HQ_DOMINATORS | HQ_TYPE_RETAINED))
        ok &= hq_dominators(c) != NULL;
    if (analyses & HQ_TYPE_RETAINED)
        ok &= hq_type_retained(c) != NULL;
    return ok;
}

bool hq_prepare(hq_context *c, unsigned analyses)
{
    /* A join's lookups call this for every outer row, mostly with all made already; and an
     * export's tables without computed columns while a thread of its own computes the rest,
     * whose kept scratch must stay. */
    if (!any_unknown(c, analyses))
        return true;
    bool ok = hq_compute(c, analyses);
    hd_release_scratch(); /* the analyses' scratch is done with */
    return ok;
}

/* Groups the n indices key(i) by key into CSR: offsets (nkeys + 1) and items, stable. */
static bool group_by(uint32_t n, uint32_t nkeys, uint32_t (*key)(const void *, uint32_t),
                     const void *src, uint32_t **offsets, uint32_t **items)
{
    uint32_t *off = calloc((size_t)nkeys + 2, sizeof *off);
    uint32_t *it = malloc(((size_t)n + 1) * sizeof *it);
    if (!off || !it) {
        free(off);
        free(it);
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = key(src, i);
        if (k < nkeys)
            off[k + 2]++;
    }
    for (uint32_t k = 0; k < nkeys; k++)
        off[k + 2] += off[k + 1];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = key(src, i);
        if (k < nkeys)
            it[off[k + 1]++] = i;
    }
    *offsets = off;
    *items = it;
    return true;
}

static uint32_t dominator_key(const void *dom, uint32_t o)
{
    uint32_t idom = hd_dominator_of(dom, o);
    return idom == HD_DOM_ROOT || idom == HD_NONE ? HD_NONE : idom;
}

bool hq_dominator_children(hq_context *c)
{
    if (c->dom_offsets)
        return true;
    const hd_dominators *dom = hq_dominators(c);
    uint32_t n = hd_object_count(c->d);
    return dom && group_by(n, n, dominator_key, dom, &c->dom_offsets, &c->dom_children);
}

static uint32_t type_key(const void *d, uint32_t o) { return hd_object_type(d, o); }

bool hq_objects_by_type(hq_context *c)
{
    return c->type_offsets || group_by(hd_object_count(c->d), hd_type_count(c->d), type_key, c->d,
                                       &c->type_offsets, &c->type_objects);
}

typedef struct type_rank {
    const hd_dump *d;
    const uint32_t *rank;
} type_rank;

static uint32_t type_rank_key(const void *p, uint32_t o)
{
    const type_rank *r = p;
    return r->rank[hd_object_type(r->d, o)];
}

typedef struct named_type {
    const char *name;
    uint32_t type;
} named_type;

static int compare_type_names(const void *a, const void *b)
{
    const char *x = ((const named_type *)a)->name, *y = ((const named_type *)b)->name;
    return !x || !y ? (y == NULL) - (x == NULL) : strcmp(x, y); /* NULL sorts first */
}

/* Types ranked by name, then their objects grouped by rank: the CSR's items are the order. */
const uint32_t *hq_objects_by_type_name(hq_context *c)
{
    if (c->by_type_name)
        return c->by_type_name;
    uint32_t nt = hd_type_count(c->d);
    named_type *sorted = malloc(((size_t)nt + 1) * sizeof *sorted);
    uint32_t *rank = malloc(((size_t)nt + 1) * sizeof *rank), *offsets = NULL;
    if (sorted && rank) {
        for (uint32_t t = 0; t < nt; t++)
            sorted[t] = (named_type){hd_type_name(c->d, t), t};
        qsort(sorted, nt, sizeof *sorted, compare_type_names);
        for (uint32_t k = 0; k < nt; k++)
            rank[sorted[k].type] = k;
        type_rank r = {c->d, rank};
        if (group_by(hd_object_count(c->d), nt, type_rank_key, &r, &offsets, &c->by_type_name))
            free(offsets);
    }
    free(sorted);
    free(rank);
    return c->by_type_name;
}

static uint64_t saturating_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

/* Count and size per key (type or site index; others are left out), two entries a key. */
static uint64_t *totals(const hd_dump *d, uint32_t nkeys, uint32_t (*key)(const hd_dump *, uint32_t))
{
    uint64_t *t = calloc(2 * ((size_t)nkeys + 1), sizeof *t);
    uint32_t n = hd_object_count(d);
    for (uint32_t o = 0; t && o < n; o++) {
        uint32_t k = key(d, o);
        if (k < nkeys) {
            t[2 * k]++;
            t[2 * k + 1] = saturating_add(t[2 * k + 1], hd_object_size(d, o));
        }
    }
    return t;
}

const uint64_t *hq_type_totals(hq_context *c)
{
    if (!c->type_totals)
        c->type_totals = totals(c->d, hd_type_count(c->d), hd_object_type);
    return c->type_totals;
}

const uint64_t *hq_site_totals(hq_context *c)
{
    if (!c->site_totals)
        c->site_totals = totals(c->d, hd_site_count(c->d), hd_object_site);
    return c->site_totals;
}

const uint64_t *hq_type_retained(hq_context *c)
{
    if (c->type_retained)
        return c->type_retained;
    uint32_t nt = hd_type_count(c->d), count = 0;
    const hd_dominators *dom = hq_dominators(c);
    hd_type_stat *st = malloc(((size_t)nt + 1) * sizeof *st);
    uint64_t *r = calloc((size_t)nt + 1, sizeof *r);
    if (dom && st && r && hd_stats_retained_by_type(c->d, dom, st, &count) == HD_OK) {
        for (uint32_t i = 0; i < count; i++)
            r[st[i].type] = st[i].retained;
        c->type_retained = r;
        r = NULL;
    }
    free(st);
    free(r);
    return c->type_retained;
}

bool hq_weak_live(hq_context *c)
{
    if (c->weak_ready)
        return true;
    uint32_t nw = hd_weakref_count(c->d);
    c->weak_live = malloc(((size_t)nw + 1) * sizeof *c->weak_live);
    if (!c->weak_live)
        return false;
    for (uint32_t w = 0; w < nw; w++)
        if (hd_weakref_referent(c->d, w) != HD_NONE)
            c->weak_live[c->nweak_live++] = w;
    c->weak_ready = true;
    return true;
}

static int compare_ids(const void *a, const void *b)
{
    uint64_t x = ((const hq_id_index *)a)->id, y = ((const hq_id_index *)b)->id;
    return (x > y) - (x < y);
}

static hq_id_index *index_by_id(const hd_dump *d, uint32_t n, uint64_t (*id)(const hd_dump *, uint32_t))
{
    hq_id_index *index = malloc(((size_t)n + 1) * sizeof *index);
    for (uint32_t i = 0; index && i < n; i++)
        index[i] = (hq_id_index){id(d, i), i};
    if (index)
        qsort(index, n, sizeof *index, compare_ids);
    return index;
}

const hq_id_index *hq_sites_by_id(hq_context *c)
{
    if (!c->sites_by_id)
        c->sites_by_id = index_by_id(c->d, hd_site_count(c->d), hd_site_id);
    return c->sites_by_id;
}

const hq_id_index *hq_frames_by_id(hq_context *c)
{
    if (!c->frames_by_id)
        c->frames_by_id = index_by_id(c->d, hd_frame_count(c->d), hd_frame_id);
    return c->frames_by_id;
}

const hq_id_index *hq_stacks_by_id(hq_context *c)
{
    if (!c->stacks_by_id)
        c->stacks_by_id = index_by_id(c->d, hd_stack_count(c->d), hd_stack_id);
    return c->stacks_by_id;
}

uint32_t hq_index_find(const hq_id_index *index, uint32_t n, sqlite3_value *v)
{
    sqlite3_int64 value;
    if (!hq_value_int(v, &value))
        return HD_NONE;
    hq_id_index key = {(uint64_t)value, 0};
    const hq_id_index *found = bsearch(&key, index, n, sizeof *index, compare_ids);
    return found ? found->index : HD_NONE;
}

const uint64_t *hq_stack_rows(hq_context *c)
{
    if (c->stack_rows)
        return c->stack_rows;
    uint32_t n = hd_stack_count(c->d);
    uint64_t *rows = malloc(((size_t)n + 1) * sizeof *rows);
    if (!rows)
        return NULL;
    rows[0] = 0;
    for (uint32_t s = 0; s < n; s++)
        rows[s + 1] = rows[s] + hd_stack_depth(c->d, s);
    c->stack_rows = rows;
    return rows;
}

void hq_context_free(hq_context *c)
{
    if (!c)
        return;
    hd_dominators_free(c->dom);
    hd_reach_free(c->reach);
    hd_referrers_free(c->referrers);
    free(c->distance);
    free(c->scc);
    free(c->dom_offsets);
    free(c->dom_children);
    free(c->type_offsets);
    free(c->type_objects);
    free(c->by_type_name);
    free(c->type_totals);
    free(c->type_retained);
    free(c->site_totals);
    free(c->weak_live);
    free(c->sites_by_id);
    free(c->frames_by_id);
    free(c->stacks_by_id);
    free(c->stack_rows);
    free(c->own_ids);
    free(c);
}
