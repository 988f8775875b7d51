/* suspects_retainers.c: MAT's two suspect rules over the dominator tree.
 *
 * Big retainers. Walking down from the virtual root through objects retaining at least `big`
 * bytes, an object is an accumulation point when what it retains outside its big children is
 * itself at least `big`: the memory sits there in many small pieces (a collection's entries).
 * The suspect is then the highest dominator above it that still owes four fifths of its retained
 * size to it (the cache object above the cache's dict), stopping below another accumulation
 * point. So a root holding a 40 % cache among many small things names the cache, not the root.
 *
 * Many of one kind: a type whose instances retain at least `big` together (the DevTools rule,
 * so nested instances count once) and no one of them four fifths of it, with the shortest paths from the roots to all its instances
 * merged into one tree of objects, each counting the instances below it.
 */
#include "dump_internal.h"
#include "suspects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPES 8
#define MAX_MERGED 32

/* Per-type count and shallow size of everything o dominates (o included), largest first. */
static int retained_types(hd__suspect_run *run, uint32_t o, hd_suspect *s)
{
    const uint32_t *first = run->first, *child = run->child;
    const hd_dump *d = run->d;
    uint32_t ntypes = hd_type_count(d);
    hd_type_stat *st = calloc((size_t)ntypes + 1, sizeof *st);
    uint32_t *stack = malloc(((size_t)hd_object_count(d) + 1) * sizeof *stack);
    if (!st || !stack) {
        free(st);
        free(stack);
        return HD_ENOMEM;
    }
    uint32_t top = 0;
    stack[top++] = o;
    while (top) {
        uint32_t v = stack[--top], t = hd_object_type(d, v);
        st[t].count++;
        st[t].size = hd__add_sat(st[t].size, hd_object_size(d, v));
        s->count++;
        for (uint32_t k = first[v]; k < first[v + 1]; k++)
            stack[top++] = child[k];
    }
    free(stack);
    uint32_t n = 0;
    for (uint32_t t = 0; t < ntypes; t++)
        if (st[t].count) {
            st[n] = st[t];
            st[n++].type = t;
        }
    hd__stats_sort(d, HD_SORT_SIZE, st, n);
    s->ntypes = n < MAX_TYPES ? n : MAX_TYPES;
    s->types = st;
    return HD_OK;
}

static int add_retainer(hd__suspect_run *run, const uint8_t *accumulates, uint32_t point)
{
    const hd_dominators *dom = run->dom;
    uint64_t held = hd_retained_size(dom, point);
    uint32_t top = point;
    for (;;) {
        uint32_t up = hd_dominator_of(dom, top);
        if (up == HD_DOM_ROOT || up == HD_NONE || accumulates[up] ||
            (double)hd_retained_size(dom, up) * 0.8 > (double)held)
            break;
        top = up;
    }
    hd_suspect *s = hd__suspect_add(run, HD_SUSPECT_BIG_RETAINER, run->d,
                                    hd_retained_size(dom, top), run->heap);
    if (!s)
        return HD_ENOMEM;
    s->object = top;
    s->accumulation = point;
    snprintf(s->id, sizeof s->id, "retainer/%llu", (unsigned long long)hd_object_id(run->d, top));
    int rc = hd_path_from_reach(run->d, run->reach, top, &s->path);
    return rc ? rc : retained_types(run, top, s);
}

int hd__suspects_retainers(hd__suspect_run *run)
{
    const uint32_t *first = run->first, *child = run->child;
    uint32_t n = hd_object_count(run->d);
    int rc = HD_OK;
    uint8_t *accumulates = calloc((size_t)n + 1, 1);
    uint32_t *stack = malloc(((size_t)n + 1) * sizeof *stack);
    uint32_t *points = malloc(((size_t)n + 1) * sizeof *points);
    uint32_t npoints = 0, top = 0;
    if (!accumulates || !stack || !points)
        rc = HD_ENOMEM;
    else
        stack[top++] = n; /* the virtual root */
    while (top) {
        uint32_t v = stack[--top];
        uint64_t in_big = 0;
        for (uint32_t k = first[v]; k < first[v + 1]; k++) {
            uint32_t c = child[k];
            uint64_t r = hd_retained_size(run->dom, c);
            if (r >= run->big) {
                in_big = hd__add_sat(in_big, r);
                stack[top++] = c;
            }
        }
        if (v != n && hd_retained_size(run->dom, v) - in_big >= run->big) {
            accumulates[v] = 1;
            points[npoints++] = v;
        }
    }
    for (uint32_t i = 0; i < npoints && !rc; i++)
        rc = add_retainer(run, accumulates, points[i]);
    free(accumulates);
    free(stack);
    free(points);
    return rc;
}

/* count[v]: instances of type t whose shortest path passes through v, added up the forest in
 * decreasing depth; then the nodes holding at least `least` of them, shallowest first. */
static int merge_paths(hd__suspect_run *run, uint32_t t, uint64_t ninstances, hd_suspect *s)
{
    const hd_dump *d = run->d;
    const hd_reach *r = run->reach;
    uint32_t n = hd_object_count(d), maxdepth = 0;
    for (uint32_t o = 0; o < n; o++)
        if (r->depth[o] != HD_NONE && r->depth[o] > maxdepth)
            maxdepth = r->depth[o];
    uint64_t *count = calloc((size_t)n + 1, sizeof *count);
    uint32_t *start = calloc((size_t)maxdepth + 2, sizeof *start);
    uint32_t *order = malloc(((size_t)n + 1) * sizeof *order);
    hd_merged_node *nodes = malloc(MAX_MERGED * sizeof *nodes);
    if (!count || !start || !order || !nodes) {
        free(count), free(start), free(order), free(nodes);
        return HD_ENOMEM;
    }
    for (uint32_t o = 0; o < n; o++)
        if (r->depth[o] != HD_NONE)
            start[r->depth[o] + 1]++;
    for (uint32_t k = 0; k <= maxdepth; k++)
        start[k + 1] += start[k];
    uint32_t placed = start[maxdepth + 1];
    for (uint32_t o = 0; o < n; o++)
        if (r->depth[o] != HD_NONE)
            order[start[r->depth[o]]++] = o; /* start[k] now ends depth k */
    for (uint32_t o = n; o-- > 0;)
        if (r->depth[o] != HD_NONE && hd_object_type(d, o) == t) {
            count[o] = 1;
            s->object = o; /* the first instance, as an example */
        }
    for (uint32_t i = placed; i-- > 0;) {
        uint32_t v = order[i];
        if (count[v] && r->parent[v] != HD_NONE)
            count[r->parent[v]] += count[v];
    }
    uint64_t least = ninstances / 100 > 2 ? ninstances / 100 : 2;
    uint32_t m = 0;
    for (uint32_t i = 0; i < placed && m < MAX_MERGED; i++) {
        uint32_t v = order[i], p = r->parent[v];
        if (count[v] < least)
            continue;
        uint32_t pnode = HD_NONE;
        if (p != HD_NONE) {
            uint32_t k;
            for (k = 0; k < m && nodes[k].object != p; k++)
                ;
            if (k == m)
                continue; /* its parent did not fit */
            pnode = k;
        }
        nodes[m] = (hd_merged_node){v, pnode, p != HD_NONE ? r->via[v] : HD_NONE,
                                    p == HD_NONE ? r->via[v] : HD_NONE, count[v]};
        m++;
    }
    free(count), free(start), free(order);
    s->merged = nodes;
    s->nmerged = m;
    return HD_OK;
}

/* Per type, what its instances retain (each counted only when no dominator of it has its type,
 * as DevTools does), the most one of them retains, and how many there are. Objects at the top
 * of the dominator tree, held by the roots themselves (a module's dict), count for no type:
 * they hold the whole heap by position, not by accumulating. */
typedef struct kind_totals {
    hd__suspect_run *run;
    hd_type_stat *st;
    uint64_t *largest;
} kind_totals;

static void add_kind(void *ctx, uint32_t o, bool outermost)
{
    kind_totals *k = ctx;
    uint32_t t = hd_object_type(k->run->d, o);
    uint64_t held = hd_retained_size(k->run->dom, o);
    k->st[t].count++;
    if (outermost) {
        k->st[t].retained = hd__add_sat(k->st[t].retained, held);
        k->largest[t] = held > k->largest[t] ? held : k->largest[t];
    }
}

static int kind_totals_compute(hd__suspect_run *run, hd_type_stat *st, uint64_t *largest)
{
    for (uint32_t t = 0; t < hd_type_count(run->d); t++)
        st[t] = (hd_type_stat){.type = t};
    kind_totals k = {run, st, largest};
    return hd__dominator_walk_types(run->d, run->first, run->child, 2, add_kind, &k);
}

int hd__suspects_kinds(hd__suspect_run *run)
{
    const hd_dump *d = run->d;
    uint32_t ntypes = hd_type_count(d);
    hd_type_stat *st = malloc(((size_t)ntypes + 1) * sizeof *st);
    uint64_t *largest = calloc((size_t)ntypes + 1, sizeof *largest);
    int rc = st && largest ? kind_totals_compute(run, st, largest) : HD_ENOMEM;
    for (uint32_t t = 0; t < ntypes && !rc; t++) {
        /* One instance holding most of it is a big retainer, not many of a kind. */
        if (st[t].retained < run->big || st[t].count < 2 ||
            (double)largest[t] >= 0.8 * (double)st[t].retained)
            continue;
        hd_suspect *s = hd__suspect_add(run, HD_SUSPECT_MANY_OF_KIND, d, st[t].retained, run->heap);
        if (!s) {
            rc = HD_ENOMEM;
            break;
        }
        s->type_name = hd_type_name(d, t);
        s->count = st[t].count;
        hd__suspect_id(s, "kind", s->type_name);
        rc = merge_paths(run, t, st[t].count, s);
    }
    free(st);
    free(largest);
    return rc;
}
