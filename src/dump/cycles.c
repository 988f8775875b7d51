/* cycles.c: strongly connected components of the strong-reference graph that contain a cycle,
 * by Tarjan's algorithm with an explicit call stack, and one shortest cycle through each; or,
 * from a binary index that stores them (heaptool index does), read from it (from_index).
 *
 * Invariant (Tarjan, in Pearce's one-array form): the component stack holds exactly the visited
 * objects whose component is not finished; rindex[v] is, until v's component finishes, the
 * smallest visit index reachable from v's subtree through at most one edge back into that stack;
 * v roots a component iff rindex[v] is still its own visit index when v finishes, and its
 * component is then v and the stack's top down to the first object of smaller rindex. A finished
 * object's rindex becomes its component's number counted down from n - 1, which is greater than
 * every visit index in use, so it never lowers one.
 */
#include "analysis.h"
#include "binary.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void hd_cycles_free(hd_cycles *c)
{
    if (!c)
        return;
    free(c->cycles);
    free(c->storage);
    free(c);
}

static int compare_cycles(const void *pa, const void *pb)
{
    const hd_cycle *a = pa, *b = pb;
    if (a->nmembers != b->nmembers)
        return a->nmembers > b->nmembers ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return (a->members[0] > b->members[0]) - (a->members[0] < b->members[0]);
}

/* Tarjan's scratch, n entries each; its arrays serve the later passes too (group_cycles,
 * shortest_cycle), which say what they use them for. */
typedef struct scratch {
    uint32_t *cs_index, *stack, *cs_node, *cs_edge;
    uint8_t *cyclic;
} scratch;

/* One block in huge pages (hd__ram_alloc; released by hd__big_free, which keeps it for the next
 * analysis): Tarjan's arrays are walked at random, and on a 10M-object heap faulting them in
 * 4 KiB pages was a good part of its time. One block, so that it takes a large array another
 * analysis freed whole, where four of a quarter the size would leave most of its pages unused. */
static bool scratch_alloc(scratch *s, size_t cells)
{
    uint32_t *block = hd__ram_alloc(cells * (4 * sizeof *block + sizeof *s->cyclic));
    if (!block)
        return false;
    s->cs_index = block;
    s->stack = block + cells;
    s->cs_node = block + 2 * cells;
    s->cs_edge = block + 3 * cells;
    s->cyclic = (uint8_t *)(block + 4 * cells);
    return true;
}

static void scratch_free(scratch *s) { hd__big_free(s->cs_index); }

/* Tarjan's components over all objects, in Pearce's space-saving form: one array, rindex
 * (comp, until the end), holds each object's visit index while it is being searched or waits
 * on the component stack, and its component's number counted down from n - 1 once that is
 * finished, so every reference costs one random read. A finished number is greater than any
 * visit index then in use (Pearce 2016), so it never lowers one. On return comp[v] is v's
 * component number (in the order components finish) and scr->cyclic[c] says whether component
 * c holds a cycle; returns the number of components. Scratch: stack (the component stack),
 * cs_node, cs_edge and cs_index (the call stack: each call's object, next edge and own visit
 * index). */
static uint32_t tarjan(const hd_dump *d, uint32_t *comp, scratch *scr)
{
    uint32_t *stack = scr->stack, *cs_node = scr->cs_node, *cs_edge = scr->cs_edge, *cs_index = scr->cs_index;
    uint8_t *cyclic = scr->cyclic;
    uint32_t n = hd_object_count(d);
    const uint32_t *off = hd_edge_offsets(d), *dst = hd_edge_targets(d);
    uint32_t *rindex = comp;
    for (uint32_t v = 0; v < n; v++)
        rindex[v] = 0; /* not visited */
    uint32_t index = 1, c = n - 1, sp = 0;
    for (uint32_t s = 0; s < n; s++) {
        if (rindex[s])
            continue;
        uint32_t csp = 0;
        rindex[s] = cs_index[csp] = index++;
        cs_node[csp] = s;
        cs_edge[csp++] = off[s];
        while (csp) {
            uint32_t v = cs_node[csp - 1];
            uint32_t e = cs_edge[csp - 1];
            if (e < off[v + 1]) {
                cs_edge[csp - 1] = e + 1;
                uint32_t w = dst[e];
                if (!rindex[w]) {
                    rindex[w] = cs_index[csp] = index++;
                    cs_node[csp] = w;
                    cs_edge[csp++] = off[w];
                } else if (rindex[w] < rindex[v]) {
                    rindex[v] = rindex[w];
                }
                continue;
            }
            csp--;
            if (csp >= HD__DFS_AHEAD)
                hd__dfs_prefetch(dst, cs_edge[csp - HD__DFS_AHEAD], hd_edge_count(d), rindex, sizeof *rindex);
            if (rindex[v] == cs_index[csp]) { /* v roots a component: it and what waits above it */
                uint32_t size = 1;
                index--;
                while (sp && rindex[v] <= rindex[stack[sp - 1]]) {
                    rindex[stack[--sp]] = c;
                    index--;
                    size++;
                }
                rindex[v] = c;
                uint8_t cyc = size > 1;
                for (uint32_t f = off[v]; !cyc && f < off[v + 1]; f++)
                    cyc = dst[f] == v;
                cyclic[n - 1 - c] = cyc;
                c--;
            } else {
                stack[sp++] = v;
            }
            if (csp && rindex[v] < rindex[cs_node[csp - 1]])
                rindex[cs_node[csp - 1]] = rindex[v];
        }
    }
    for (uint32_t v = 0; v < n; v++)
        comp[v] = n - 1 - rindex[v];
    return n - 1 - c;
}

/* A shortest cycle through c->members[0], by a breadth-first search inside the component
 * (comp[x] == k). Writes length + 1 objects at c->objects and length edges right after them. Scratch: seen (stamped with k+1,
 * so it needs no clearing between components), parent, via, queue. */
static void shortest_cycle(const hd_dump *d, hd_cycle *c, uint32_t k, const uint32_t *comp,
                           uint32_t *seen, uint32_t *parent, uint32_t *via, uint32_t *queue)
{
    const uint32_t *off = hd_edge_offsets(d), *dst = hd_edge_targets(d);
    uint32_t s = c->members[0], head = 0, tail = 0, last = HD_NONE, closing = HD_NONE;
    queue[tail++] = s;
    seen[s] = k + 1;
    parent[s] = HD_NONE;
    while (head < tail && last == HD_NONE) {
        uint32_t v = queue[head++];
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            uint32_t w = dst[e];
            if (w == s) {
                last = v;
                closing = e;
                break;
            }
            if (comp[w] != k || seen[w] == k + 1)
                continue;
            seen[w] = k + 1;
            parent[w] = v;
            via[w] = e;
            queue[tail++] = w;
        }
    }
    /* A component with a cycle always closes one through each member. */
    uint32_t len = 1;
    for (uint32_t v = last; v != s; v = parent[v])
        len++;
    c->length = len;
    c->edges = c->objects + len + 1;
    c->objects[0] = c->objects[len] = s;
    c->edges[len - 1] = closing;
    uint32_t i = len - 1;
    for (uint32_t v = last; v != s; v = parent[v], i--) {
        c->objects[i] = v;
        c->edges[i - 1] = via[v];
    }
}

/* Reachability, which only says each cycle's state, runs on the other core beside Tarjan. */
typedef struct reach_job {
    const hd_dump *d;
    hd_reach *reach;
    int rc;
} reach_job;

static void *reach_job_run(void *arg)
{
    reach_job *j = arg;
    j->rc = hd_reach_compute(j->d, &j->reach);
    return NULL;
}

/* What a member adds to its cycle's size and finalizer flags. */
static void add_member(const hd_dump *d, hd_cycle *cy, uint32_t v)
{
    cy->size = hd__add_sat(cy->size, hd_object_size(d, v));
    unsigned flags = hd_type_flags(d, hd_object_type(d, v));
    cy->has_finalizer |= !!(flags & HD_TYPE_FINALIZER);
    cy->has_legacy_finalizer |= !!(flags & HD_TYPE_LEGACY_FINALIZER);
}

/* Numbers the cyclic components (slot[k], in order of their first member), sizes them, and lays
 * their members out contiguously in object order with a counting sort, into res->cycles and the
 * start of res->storage, which has room past them for the shortest cycles when shortest is set.
 * slot and count are scratch (a component's and a cycle's each). Returns where the rest of
 * storage starts, or NULL when out of memory. */
static uint32_t *group_cycles(const hd_dump *d, hd_cycles *res, const uint32_t *comp,
                              uint32_t ncomp, const uint8_t *cyclic, uint32_t *slot, uint32_t *count,
                              bool shortest)
{
    uint32_t n = hd_object_count(d), ncycles = 0;
    for (uint32_t k = 0; k < ncomp; k++)
        slot[k] = cyclic[k] ? HD_NONE - 1 : HD_NONE;
    uint64_t members = 0;
    for (uint32_t v = 0; v < n; v++) {
        uint32_t k = comp[v];
        if (slot[k] == HD_NONE)
            continue;
        if (slot[k] == HD_NONE - 1) {
            slot[k] = ncycles;
            count[ncycles++] = 0;
        }
        count[slot[k]]++;
        members++;
    }
    res->count = ncycles;
    res->in_cycles = members;
    res->cycles = calloc(ncycles ? ncycles : 1, sizeof *res->cycles);
    /* members, then (for the shortest cycles) per cycle length + 1 objects and length edges,
     * length <= members */
    res->storage = hd__ram_alloc(((shortest ? 3 : 1) * members + ncycles + 1) * sizeof *res->storage);
    if (!res->cycles || !res->storage)
        return NULL;
    uint32_t *p = res->storage;
    for (uint32_t i = 0; i < ncycles; i++) {
        res->cycles[i].members = p;
        p += count[i];
    }
    for (uint32_t v = 0; v < n; v++) {
        uint32_t k = comp[v];
        if (slot[k] == HD_NONE)
            continue;
        hd_cycle *cy = &res->cycles[slot[k]];
        cy->members[cy->nmembers++] = v;
        add_member(d, cy, v);
    }
    return p;
}

/* The cycles an index stores (formats/heapdump-binary.md §4, CYCLE_*): the components and one
 * shortest cycle each, as edges from the first member; the rest (sizes, finalizers, states) is
 * read off the members as group_cycles does, and the order is made again by compare_cycles
 * rather than taken from the file, so that it is hd_cycles_find's whatever the file's. The
 * sections are verified whole first: their checks relate each to the others. Component 0's
 * members are CYCLE_DENSE's bits when the file has it (its CYCLE_MEMBER range is then empty):
 * they go first in the storage, the listed ones after them. */
static int from_index(const hd_dump *d, const hd__index *ix, const hd_reach *reach, hd_cycles **out)
{
    for (uint32_t id = HDX_CYCLE_START; id <= HDX_CYCLE_DENSE; id++)
        hd__index_need(ix, id);
    const uint32_t *start = ix->cycle_start, *path = ix->cycle_path_start, nc = ix->ncycles;
    hd_cycles *res = calloc(1, sizeof *res);
    hd_reach *own = NULL;
    if (!res || (!reach && hd_reach_compute(d, &own)))
        goto oom;
    reach = reach ? reach : own;
    uint64_t dense = 0, words = ix->cycle_dense ? ((uint64_t)hd_object_count(d) + 63) / 64 : 0;
    for (uint64_t w = 0; w < words; w++)
        dense += (uint64_t)__builtin_popcountll(ix->cycle_dense[w]);
    uint64_t members = dense + start[nc], edges = path[nc];
    res->count = nc;
    res->in_cycles = members;
    res->cycles = calloc(nc ? nc : 1, sizeof *res->cycles);
    /* members, then per cycle length + 1 objects and length edges */
    res->storage = malloc((members + 2 * edges + nc + 1) * sizeof *res->storage);
    if (!res->cycles || !res->storage)
        goto oom;
    uint32_t *p = res->storage;
    for (uint64_t w = 0; w < words; w++)
        for (uint64_t bits = ix->cycle_dense[w]; bits; bits &= bits - 1)
            *p++ = (uint32_t)(64 * w + (uint64_t)__builtin_ctzll(bits));
    memcpy(p, ix->cycle_member, start[nc] * sizeof *res->storage);
    p = res->storage + members;
    for (uint32_t k = 0; k < nc; k++) {
        hd_cycle *cy = &res->cycles[k];
        cy->members = res->storage + (k ? dense : 0) + start[k];
        cy->nmembers = start[k + 1] - start[k] + (uint32_t)(k ? 0 : dense);
        for (uint32_t m = 0; m < cy->nmembers; m++)
            add_member(d, cy, cy->members[m]);
        cy->state = (enum hd_reach_state)reach->state[cy->members[0]];
        cy->length = path[k + 1] - path[k];
        cy->objects = p;
        cy->edges = p + cy->length + 1;
        cy->objects[0] = cy->members[0];
        for (uint32_t i = 0; i < cy->length; i++) {
            cy->edges[i] = ix->cycle_path[path[k] + i];
            cy->objects[i + 1] = hd_edge_target(d, cy->edges[i]);
        }
        p += 2 * (size_t)cy->length + 1;
    }
    hd_reach_free(own);
    qsort(res->cycles, res->count, sizeof *res->cycles, compare_cycles);
    *out = res;
    return HD_OK;
oom:
    hd_reach_free(own);
    hd_cycles_free(res);
    return HD_ENOMEM;
}

/* hd_cycle_numbers from the cycles an index stores. */
static int index_numbers(const hd_dump *d, uint32_t n, uint32_t **out)
{
    hd_cycles *cy;
    uint32_t *number = calloc(n ? n : 1, sizeof *number);
    int rc = number ? hd_cycles_find(d, NULL, &cy) : HD_ENOMEM;
    if (rc) {
        free(number);
        return rc;
    }
    for (uint32_t k = 0; k < cy->count; k++)
        for (uint32_t m = 0; m < cy->cycles[k].nmembers; m++)
            number[cy->cycles[k].members[m]] = k + 1;
    hd_cycles_free(cy);
    *out = number;
    return HD_OK;
}

/* Tarjan's components numbered in hd_cycles_find's order, without the states and shortest
 * cycles it adds: what a per-object cycle number needs. The component array becomes the
 * numbers, so nothing is allocated past Tarjan's scratch. */
int hd_cycle_numbers(const hd_dump *d, uint32_t **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d)
        return HD_EINVAL;
    uint32_t n = hd_object_count(d);
    size_t cells = n ? n : 1;
    const hd__index *ix = hd__dump_index(d);
    if (ix && ix->cycle_start)
        return index_numbers(d, n, out);
    hd_cycles res = {0};
    scratch s = {0};
    uint32_t *comp = hd__ram_alloc(cells * sizeof *comp);
    int rc = HD_ENOMEM;
    if (scratch_alloc(&s, cells) && comp) {
        uint32_t ncomp = tarjan(d, comp, &s);
        if (group_cycles(d, &res, comp, ncomp, s.cyclic, s.cs_index, s.stack, false)) {
            qsort(res.cycles, res.count, sizeof *res.cycles, compare_cycles);
            memset(comp, 0, cells * sizeof *comp);
            for (uint32_t k = 0; k < res.count; k++)
                for (uint32_t m = 0; m < res.cycles[k].nmembers; m++)
                    comp[res.cycles[k].members[m]] = k + 1;
            rc = HD_OK;
        }
    }
    free(res.cycles);
    hd__big_free(res.storage);
    scratch_free(&s);
    if (rc)
        free(comp);
    else
        *out = comp;
    return rc;
}

int hd_cycles_find(const hd_dump *d, const hd_reach *reach, hd_cycles **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d || (reach && reach->nobjects != hd_object_count(d)))
        return HD_EINVAL;
    const hd__index *ix = hd__dump_index(d);
    if (ix && ix->cycle_start)
        return from_index(d, ix, reach, out);
    uint32_t n = hd_object_count(d);
    size_t cells = n ? n : 1;
    hd_reach *own = NULL;
    hd_cycles *res = calloc(1, sizeof *res);
    scratch s = {0};
    uint32_t *comp = hd__ram_alloc(cells * sizeof *comp);
    int rc = HD_ENOMEM;
    if (!scratch_alloc(&s, cells) || !res || !comp)
        goto done;
    reach_job job = {d, NULL, HD_OK};
    pthread_t thread;
    bool threaded = !reach && pthread_create(&thread, NULL, reach_job_run, &job) == 0;
    uint32_t ncomp = tarjan(d, comp, &s);
    if (threaded)
        pthread_join(thread, NULL);
    else if (!reach)
        reach_job_run(&job);
    if (!reach) {
        own = job.reach;
        reach = own;
        if ((rc = job.rc))
            goto done;
        rc = HD_ENOMEM;
    }

    uint32_t *p = group_cycles(d, res, comp, ncomp, s.cyclic, s.cs_index, s.stack, true);
    if (!p)
        goto done;
    /* Scratch reuse: Tarjan's arrays are done with, and so are cs_index and stack as
     * group_cycles' slot and count. */
    uint32_t *seen = s.cs_index, *parent = s.stack, *via = s.cs_node, *queue = s.cs_edge;
    for (uint32_t v = 0; v < n; v++)
        seen[v] = 0;
    for (uint32_t i = 0; i < res->count; i++) {
        hd_cycle *cy = &res->cycles[i];
        cy->state = (enum hd_reach_state)reach->state[cy->members[0]];
        cy->objects = p;
        shortest_cycle(d, cy, comp[cy->members[0]], comp, seen, parent, via, queue);
        p += 2 * (size_t)cy->length + 1;
    }
    rc = HD_OK;
done:
    hd__big_free(comp);
    scratch_free(&s);
    hd_reach_free(own);
    if (rc) {
        hd_cycles_free(res);
        return rc;
    }
    qsort(res->cycles, res->count, sizeof *res->cycles, compare_cycles);
    *out = res;
    return HD_OK;
}
