/* suspects_waste.c: memory that does no work.
 *
 * Duplicate strings (memlab's String plugin, MAT's group by value): objects of a string type with
 * the same type, size and label are copies; keeping one saves (copies - 1) x size, exactly. A
 * dump keeps a string's text only as its label, cut at about 80 characters ("..."), so copies
 * whose label was cut are told apart by the kept text and the size only (marked "shortened").
 *
 * Empty containers (MAT's empty collections): a dump records no capacity, so the table a
 * container owns is read from its shallow size beyond its type's fixed size: an empty one with
 * or without a table, or one of 1 to 3 items whose table has room for 4 items or more beyond
 * them (8-byte slots). Items are the references a sequence holds, or a mapping's named ones
 * (its values).
 *
 * Uncollectable cycles: strongly connected components kept only by the collector's garbage list.
 * Weak-only: garbage (no root reaches it) that a weak reference held by a live object still
 * names, with everything it alone keeps: the weakref reads it until the next collection.
 */
#include "suspects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DUPLICATES 10
#define MAX_CYCLES 10

static int name_in(const char *name, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(name, *set))
            return 1;
    return 0;
}

static const char *const string_types[] = {"str", "bytes", "string", "String", "(string)",
                                           "(concatenated string)", "(sliced string)", NULL};
static const char *const sequence_types[] = {"list", "set", "frozenset", "deque", "Array", "Set",
                                             NULL};
static const char *const mapping_types[] = {"dict", "defaultdict", "OrderedDict", "Map", NULL};

typedef struct copies {
    uint32_t first; /* object index of the first copy */
    uint64_t count;
} copies;

static uint64_t copy_hash(const hd_dump *d, uint32_t o)
{
    uint64_t h = hd__hash_u64(HD__HASH_SEED, hd_object_type(d, o));
    h = hd__hash_u64(h, hd_object_size(d, o));
    return hd__hash_str(h, hd_object_label(d, o));
}

static int same_copy(const hd_dump *d, uint32_t a, uint32_t b)
{
    return hd_object_type(d, a) == hd_object_type(d, b) &&
           hd_object_size(d, a) == hd_object_size(d, b) &&
           !strcmp(hd_object_label(d, a), hd_object_label(d, b));
}

static int compare_waste(const void *pa, const void *pb, void *user)
{
    const copies *a = pa, *b = pb;
    const hd_dump *d = user;
    uint64_t wa = (a->count - 1) * hd_object_size(d, a->first);
    uint64_t wb = (b->count - 1) * hd_object_size(d, b->first);
    if (wa != wb)
        return wa > wb ? -1 : 1;
    return a->first < b->first ? -1 : a->first > b->first;
}

/* Open addressing over the string objects: slots hold object indices of first copies. */
static int count_copies(const hd_dump *d, const uint8_t *is_string, copies **out, uint32_t *nout)
{
    uint32_t n = hd_object_count(d), nstrings = 0;
    for (uint32_t o = 0; o < n; o++)
        nstrings += is_string[hd_object_type(d, o)] && hd_object_label(d, o);
    size_t cap = 16;
    while (cap < (size_t)nstrings * 2)
        cap *= 2;
    uint32_t *slot = malloc(cap * sizeof *slot);
    copies *groups = malloc(((size_t)nstrings + 1) * sizeof *groups);
    if (!slot || !groups) {
        free(slot);
        free(groups);
        return HD_ENOMEM;
    }
    memset(slot, 0xff, cap * sizeof *slot);
    uint32_t ngroups = 0;
    for (uint32_t o = 0; o < n; o++) {
        if (!is_string[hd_object_type(d, o)] || !hd_object_label(d, o))
            continue;
        size_t i = copy_hash(d, o) & (cap - 1);
        while (slot[i] != HD_NONE && !same_copy(d, groups[slot[i]].first, o))
            i = (i + 1) & (cap - 1);
        if (slot[i] == HD_NONE) {
            slot[i] = ngroups;
            groups[ngroups++] = (copies){o, 0};
        }
        groups[slot[i]].count++;
    }
    free(slot);
    *out = groups;
    *nout = ngroups;
    return HD_OK;
}

int hd__suspects_duplicate_strings(hd__suspect_run *run)
{
    const hd_dump *d = run->d;
    uint32_t ntypes = hd_type_count(d), any = 0;
    uint8_t *is_string = calloc((size_t)ntypes + 1, 1);
    if (!is_string)
        return HD_ENOMEM;
    for (uint32_t t = 0; t < ntypes; t++)
        any |= is_string[t] = (uint8_t)name_in(hd_type_name(d, t), string_types);
    copies *groups = NULL;
    uint32_t ngroups = 0;
    int rc = any ? count_copies(d, is_string, &groups, &ngroups) : HD_OK;
    free(is_string);
    if (rc)
        return rc;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < ngroups; i++)
        if (groups[i].count > 1 && (groups[i].count - 1) * hd_object_size(d, groups[i].first) >= run->small)
            groups[kept++] = groups[i];
    if (kept) /* groups is NULL when the dump has no string type */
        qsort_r(groups, kept, sizeof *groups, compare_waste, (void *)(uintptr_t)d);
    for (uint32_t i = 0; i < kept && i < MAX_DUPLICATES; i++) {
        uint32_t o = groups[i].first;
        uint64_t each = hd_object_size(d, o);
        hd_suspect *s = hd__suspect_add(run, HD_SUSPECT_DUPLICATE_STRINGS, d,
                                        (groups[i].count - 1) * each, run->heap);
        if (!s) {
            rc = HD_ENOMEM;
            break;
        }
        s->object = o;
        s->type_name = hd_type_name(d, hd_object_type(d, o));
        s->count = groups[i].count;
        s->text = hd_object_label(d, o);
        s->each = each;
        size_t len = strlen(s->text);
        s->shortened = len >= 3 && !strcmp(s->text + len - 3, "...");
        uint64_t key = hd__hash_str(hd__hash_u64(HD__HASH_SEED, each), s->type_name);
        snprintf(s->id, sizeof s->id, "strings/%016llx",
                 (unsigned long long)hd__hash_str(key, s->text));
        if ((rc = hd_path_from_reach(d, run->reach, o, &s->path)))
            break;
    }
    free(groups);
    return rc;
}

/* Items held by o and whether it wastes: empty, or few items in a table with room to spare. */
static int wasteful(const hd_dump *d, uint32_t o, int mapping, uint64_t fixed, uint64_t *spare)
{
    uint64_t first, end, items = 0;
    hd_object_edges(d, o, &first, &end);
    for (uint64_t e = first; e < end; e++)
        items += !mapping || hd_edge_name(d, e)[0];
    uint64_t size = hd_object_size(d, o), table = size > fixed ? size - fixed : 0;
    uint64_t room = table > items * 8 ? table - items * 8 : 0;
    if (items > 3 || (items > 0 && room < 4 * 8))
        return -1;
    *spare = room;
    return items == 0;
}

int hd__suspects_empty_containers(hd__suspect_run *run)
{
    const hd_dump *d = run->d;
    uint32_t ntypes = hd_type_count(d), n = hd_object_count(d);
    /* kind[t]: 0 not a container, 1 a sequence, 2 a mapping */
    uint8_t *kind = calloc((size_t)ntypes + 1, 1);
    hd_suspect *by_type = calloc((size_t)ntypes + 1, sizeof *by_type);
    if (!kind || !by_type) {
        free(kind);
        free(by_type);
        return HD_ENOMEM;
    }
    for (uint32_t t = 0; t < ntypes; t++)
        kind[t] = name_in(hd_type_name(d, t), sequence_types)  ? 1
                  : name_in(hd_type_name(d, t), mapping_types) ? 2
                                                               : 0;
    for (uint32_t o = 0; o < n; o++) {
        uint32_t t = hd_object_type(d, o);
        uint64_t spare;
        int empty;
        if (!kind[t] || (empty = wasteful(d, o, kind[t] == 2, hd_type_size(d, t), &spare)) < 0)
            continue;
        hd_suspect *g = &by_type[t];
        if (!g->count)
            g->object = o;
        g->count++;
        g->empty += (uint64_t)empty;
        g->spare = hd__add_sat(g->spare, spare);
        g->bytes = hd__add_sat(g->bytes, hd_object_size(d, o));
    }
    int rc = HD_OK;
    for (uint32_t t = 0; t < ntypes && !rc; t++) {
        const hd_suspect *g = &by_type[t];
        if (g->count < 2 || g->bytes < run->small)
            continue;
        hd_suspect *s = hd__suspect_add(run, HD_SUSPECT_EMPTY_CONTAINERS, d, g->bytes, run->heap);
        if (!s) {
            rc = HD_ENOMEM;
            break;
        }
        s->object = g->object;
        s->count = g->count;
        s->empty = g->empty;
        s->spare = g->spare;
        s->type_name = hd_type_name(d, t);
        hd__suspect_id(s, "empty", s->type_name);
    }
    free(kind);
    free(by_type);
    return rc;
}

int hd__suspects_uncollectable(hd__suspect_run *run)
{
    if (!run->reach->nuncollectable)
        return HD_OK;
    hd_cycles *c;
    int rc = hd_cycles_find(run->d, run->reach, &c);
    if (rc)
        return rc;
    for (uint32_t i = 0, kept = 0; i < c->count && kept < MAX_CYCLES && !rc; i++) {
        const hd_cycle *cy = &c->cycles[i];
        if (cy->state != HD_REACH_UNCOLLECTABLE)
            continue;
        kept++;
        hd_suspect *s = hd__suspect_add(run, HD_SUSPECT_UNCOLLECTABLE, run->d, cy->size, run->heap);
        if (!s) {
            rc = HD_ENOMEM;
            break;
        }
        s->object = cy->members[0];
        s->count = cy->nmembers;
        snprintf(s->id, sizeof s->id, "uncollectable/%llu",
                 (unsigned long long)hd_object_id(run->d, s->object));
        rc = hd_path_from_reach(run->d, run->reach, s->object, &s->path);
    }
    hd_cycles_free(c);
    return rc;
}

/* Marks the garbage that live weakrefs name, then what it strongly reaches among the garbage;
 * one suspect per type of the weakly named objects, counting everything each group reaches. */
int hd__suspects_weak_only(hd__suspect_run *run)
{
    const hd_dump *d = run->d;
    const hd_reach *r = run->reach;
    uint32_t nw = hd_weakref_count(d), n = hd_object_count(d), ntypes = hd_type_count(d);
    if (!r->nunreachable || !nw)
        return HD_OK;
    uint32_t *group = malloc(((size_t)n + 1) * sizeof *group); /* type of the named object */
    uint32_t *stack = malloc(((size_t)n + 1) * sizeof *stack);
    hd_suspect *by_type = calloc((size_t)ntypes + 1, sizeof *by_type);
    if (!group || !stack || !by_type) {
        free(group), free(stack), free(by_type);
        return HD_ENOMEM;
    }
    memset(group, 0xff, ((size_t)n + 1) * sizeof *group);
    for (uint32_t w = 0; w < nw; w++) {
        uint32_t target = hd_weakref_referent(d, w), holder = hd_weakref_object(d, w);
        if (target == HD_NONE || r->state[target] != HD_REACH_UNREACHABLE ||
            r->state[holder] == HD_REACH_UNREACHABLE || group[target] != HD_NONE)
            continue;
        uint32_t t = hd_object_type(d, target), top = 0;
        by_type[t].object = by_type[t].count ? by_type[t].object : target;
        group[target] = t;
        stack[top++] = target;
        while (top) {
            uint32_t v = stack[--top];
            by_type[t].count++;
            by_type[t].bytes = hd__add_sat(by_type[t].bytes, hd_object_size(d, v));
            uint64_t first, end;
            hd_object_edges(d, v, &first, &end);
            for (uint64_t e = first; e < end; e++) {
                uint32_t u = hd_edge_target(d, e);
                if (r->state[u] == HD_REACH_UNREACHABLE && group[u] == HD_NONE) {
                    group[u] = t;
                    stack[top++] = u;
                }
            }
        }
    }
    int rc = HD_OK;
    for (uint32_t t = 0; t < ntypes && !rc; t++) {
        if (!by_type[t].count)
            continue;
        hd_suspect *s = hd__suspect_add(run, HD_SUSPECT_WEAK_ONLY, d, by_type[t].bytes, run->heap);
        if (!s) {
            rc = HD_ENOMEM;
            break;
        }
        s->object = by_type[t].object;
        s->count = by_type[t].count;
        s->type_name = hd_type_name(d, t);
        hd__suspect_id(s, "weak-only", s->type_name);
    }
    free(group), free(stack), free(by_type);
    return rc;
}
