/* snapshot.c: writes a heap as a heapdump v1 document (formats/heapdump.md), record by record,
 * through a buffered sink (snapshot_out.h), with memory that does not grow with the heap.
 *
 * Three things make that possible without side tables:
 * - Id order comes from sorting each collector list by id in place (a natural merge sort on the
 *   `next` links, linear when a list is already in allocation order, which is the usual case)
 *   and then merging the lists as they are walked.
 * - The external-root rule needs, per object, the number of references found inside the heap.
 *   It is counted while the edges are written (objects come before roots in a dump) in the
 *   object's `gc.prev` word, as the collector keeps its gc_refs there;
 *   the `prev` links are rebuilt from `next` before the writer returns.
 * - Types get their ids from a small table of the types in use; sites are the tracer's own. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hm_snapshot.h"
#include "runtime/internal.h"
#include "runtime/snapshot.h"
#include "runtime/snapshot_out.h"

#define NLISTS (HM_GC_GENERATIONS + 2)

/* ---- the heap's lists: sorted by id, walked in id order, restored ---- */

static hm_link *list_head(hm_heap *h, int i)
{
    if (i == 0)
        return &h->untracked;
    if (i <= HM_GC_GENERATIONS)
        return &h->gen[i - 1].head;
    return &h->permanent;
}

static uint64_t link_id(const hm_link *l) { return ((const hm_object *)(const void *)l)->id; }

/* Merges two NULL-terminated runs sorted by id; returns the head, *tail gets the last link. */
static hm_link *merge_runs(hm_link *a, hm_link *b, hm_link **tail)
{
    hm_link head, *t = &head;
    while (a && b) {
        if (link_id(b) < link_id(a)) {
            t->next = b;
            b = b->next;
        } else {
            t->next = a;
            a = a->next;
        }
        t = t->next;
    }
    t->next = a ? a : b;
    while (t->next)
        t = t->next;
    *tail = t;
    return head.next;
}

/* Cuts the run of increasing ids that starts at p; returns what follows it. */
static hm_link *cut_run(hm_link *p)
{
    while (p->next && link_id(p->next) > link_id(p))
        p = p->next;
    hm_link *rest = p->next;
    p->next = NULL;
    return rest;
}

/* Points every prev back at its predecessor and closes the ring at the sentinel. */
static void relink(hm_link *head, hm_link *first)
{
    hm_link *prev = head;
    for (hm_link *p = first; p && p != head; p = p->next) {
        p->prev = prev;
        prev->next = p;
        prev = p;
    }
    prev->next = head;
    head->prev = prev;
}

static void sort_list(hm_link *head)
{
    if (hm__list_empty(head))
        return;
    hm_link *first = head->next;
    head->prev->next = NULL;
    for (;;) {
        hm_link *sorted = NULL, **tail = &sorted, *p = first;
        size_t runs = 0;
        while (p) {
            hm_link *a = p, *b = cut_run(a), *end;
            if (b) {
                p = cut_run(b);
                *tail = merge_runs(a, b, &end);
            } else {
                p = NULL;
                *tail = a;
                for (end = a; end->next; end = end->next)
                    ;
            }
            tail = &end->next;
            runs++;
        }
        first = sorted;
        if (runs <= 1)
            break;
    }
    relink(head, first);
}

/* Walks all lists at once in increasing id order, skipping the runtime's garbage list object
 * (its contents are the gc section's `garbage` and the `garbage` roots). With `prefetch`, it
 * looks LOOKAHEAD objects ahead and asks for their referents' memory early: the passes that
 * touch every referent (counting, edges, labels) are otherwise bound by cache misses on the
 * random order in which a heap's objects point at each other. */
#define LOOKAHEAD HM__SNAPSHOT_LOOKAHEAD

void hm__walk_begin(hm__walk *w, hm_heap *h, bool prefetch)
{
    for (int i = 0; i < NLISTS; i++) {
        w->head[i] = list_head(h, i);
        w->at[i] = w->head[i]->next;
    }
    w->skip = h->garbage;
    w->prefetch = prefetch;
    w->in = w->out = 0;
}

static hm_object *merge_next(hm__walk *w)
{
    for (;;) {
        int best = -1;
        for (int i = 0; i < NLISTS; i++)
            if (w->at[i] != w->head[i] && (best < 0 || link_id(w->at[i]) < link_id(w->at[best])))
                best = i;
        if (best < 0)
            return NULL;
        hm_object *o = hm__obj(w->at[best]);
        w->at[best] = w->at[best]->next;
        if (o != w->skip)
            return o;
    }
}

static int prefetch_edge(hm_object *target, hm_edge e, void *arg)
{
    (void)e;
    (void)arg;
    __builtin_prefetch(target, 1); /* write_edge() counts in it */
    return 0;
}

hm_object *hm__walk_next(hm__walk *w)
{
    if (!w->prefetch)
        return merge_next(w);
    for (hm_object *o; w->in - w->out < LOOKAHEAD && (o = merge_next(w)) != NULL;) {
        if (o->type->traverse)
            o->type->traverse(o, prefetch_edge, NULL);
        w->ring[w->in++ % LOOKAHEAD] = o;
    }
    return w->in == w->out ? NULL : w->ring[w->out++ % LOOKAHEAD];
}

/* ---- types in use, numbered in order of first appearance (hm__type_table) ---- */

static size_t type_slot(const hm_type *t, size_t cap)
{
    return (size_t)(((uintptr_t)t >> 4) * 0x9E3779B97F4A7C15u >> 17) & (cap - 1);
}

static bool types_grow(hm_heap *h, hm__type_table *tt)
{
    size_t cap = tt->cap ? 2 * tt->cap : 64;
    uint32_t *slots = hm__sys_calloc(h, cap, sizeof *slots);
    const hm_type **types = slots ? hm__sys_realloc(h, tt->types, cap / 2 * sizeof *types) : NULL;
    if (!slots || !types) {
        free(slots);
        if (types)
            tt->types = types;
        return false;
    }
    tt->types = types;
    for (size_t i = 0; i < tt->n; i++) {
        size_t j = type_slot(types[i], cap);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(tt->slots);
    tt->slots = slots;
    tt->cap = cap;
    return true;
}

/* The slot holding t's id + 1, or the empty slot where it would go. */
static size_t type_probe(const hm__type_table *tt, const hm_type *t)
{
    size_t j = type_slot(t, tt->cap);
    while (tt->slots[j] && tt->types[tt->slots[j] - 1] != t)
        j = (j + 1) & (tt->cap - 1);
    return j;
}

/* The id of a type already in the table; allocates nothing. */
static uint32_t type_known(hm__type_table *tt, const hm_type *t)
{
    if (t != tt->last) {
        size_t j = type_probe(tt, t);
        assert(tt->slots[j] && "every type was added by the counting pass");
        tt->last = t;
        tt->last_id = tt->slots[j] - 1;
    }
    return tt->last_id;
}

/* Adds the type if new; false when out of memory. The table grows only when a type is added. */
static bool type_add(hm_heap *h, hm__type_table *tt, const hm_type *t)
{
    if (t == tt->last && tt->n)
        return true;
    size_t j = tt->cap ? type_probe(tt, t) : 0;
    if (!tt->cap || !tt->slots[j]) {
        if ((tt->n + 1) * 2 > tt->cap) {
            if (!types_grow(h, tt))
                return false;
            j = type_probe(tt, t);
        }
        tt->types[tt->n] = t;
        tt->slots[j] = (uint32_t)++tt->n;
    }
    tt->last = t;
    tt->last_id = tt->slots[j] - 1;
    return true;
}

static void types_free(hm__type_table *tt)
{
    free(tt->types);
    free(tt->slots);
}

/* ---- roots held in tables: named roots and the garbage list, each sorted by object id ---- */

static int listed_order(const void *pa, const void *pb)
{
    const hm__listed *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

static bool listing_make(hm_heap *h, hm__listing *l, size_t n)
{
    l->n = l->at = 0;
    l->items = n ? hm__sys_malloc(h, n * sizeof *l->items) : NULL;
    return n == 0 || l->items;
}

static void listing_sort(hm__listing *l)
{
    if (l->n > 1)
        qsort(l->items, l->n, sizeof *l->items, listed_order);
}

/* ---- the writer ---- */

typedef struct writer {
    hm_heap *h;
    hm__out *out;
    const hm_snapshot_options *opts;
    hm__snapshot_prep *p;
    bool first_edge;
} writer;

/* Inlined, so that strlen() of the literals most calls pass is folded at compile time. */
static inline __attribute__((always_inline)) void put(writer *w, const char *s)
{
    hm__out_bytes(w->out, s, strlen(s));
}
static void put_u64(writer *w, uint64_t v) { hm__out_u64(w->out, v); }
static void put_str(writer *w, const char *s) { hm__out_string(w->out, s, strlen(s)); }

static inline __attribute__((always_inline)) void put_member_u64(writer *w, const char *name,
                                                                   uint64_t v)
{
    put(w, name);
    put_u64(w, v);
}

void hm__snapshot_created(char when[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void write_meta(writer *w)
{
    char when[32];
    hm__snapshot_created(when);
    put(w, "{\"format\": \"heapdump\", \"version\": 1,\n \"meta\": {\"producer\": \"libhm " HT_VERSION
           "\", \"created\": \"");
    put(w, when);
    put_member_u64(w, "\", \"pid\": ", (uint64_t)getpid());
    put_member_u64(w, ", \"pointer_size\": ", sizeof(void *));
    if (w->opts->name) {
        put(w, ", \"name\": ");
        put_str(w, w->opts->name);
    }
    put(w, "},\n");
}

static void write_types(writer *w)
{
    put(w, " \"types\": [");
    for (size_t i = 0; i < w->p->types.n; i++) {
        const hm_type *t = w->p->types.types[i];
        put_member_u64(w, i ? ",\n  {\"id\": " : "\n  {\"id\": ", i);
        put(w, ", \"name\": ");
        put_str(w, t->name ? t->name : "?");
        /* The format's type size is the declared part, without the object header. */
        put_member_u64(w, ", \"size\": ",
                       t->basicsize > sizeof(hm_object) ? t->basicsize - sizeof(hm_object) : 0);
        if (t->flags & HM_TYPE_GC)
            put(w, ", \"gc\": true");
        if (t->finalize)
            put(w, ", \"finalizer\": true");
        if (t->flags & HM_TYPE_LEGACY_FINALIZER)
            put(w, ", \"legacy_finalizer\": true");
        put(w, "}");
    }
    put(w, "\n ],\n");
}

static void write_sites(writer *w)
{
    const hm_site *sites;
    size_t n = hm__trace_sites(w->h, &sites);
    if (!n)
        return;
    put(w, " \"sites\": [");
    for (size_t i = 0; i < n; i++) {
        put_member_u64(w, i ? ",\n  {\"id\": " : "\n  {\"id\": ", i);
        put(w, ", \"file\": ");
        put_str(w, sites[i].file);
        put_member_u64(w, ", \"line\": ", sites[i].line > 0 ? (uint64_t)sites[i].line : 0);
        if (sites[i].function) {
            put(w, ", \"function\": ");
            put_str(w, sites[i].function);
        }
        uint32_t stack = hm__trace_site_stack(w->h, i);
        if (stack)
            put_member_u64(w, ", \"stack\": ", stack);
        put(w, "}");
    }
    put(w, "\n ],\n");
}

/* Edge names as the format gives them: a field's name, "[i]" for an item, a dict value under its
 * key's text (a str key as is, another key as its label), no name for a dict key. */
static int write_edge(hm_object *target, hm_edge e, void *arg)
{
    writer *w = arg;
    target->gc.gc_refs++; /* the external-root rule's count, while the target is in cache */
    put_member_u64(w, w->first_edge ? ", \"refs\": [[" : ", [", target->id);
    w->first_edge = false;
    switch (e.kind) {
    case HM_EDGE_FIELD:
        if (e.u.name) {
            put(w, ", ");
            put_str(w, e.u.name);
        }
        break;
    case HM_EDGE_INDEX:
        put_member_u64(w, ", \"[", e.u.index);
        put(w, "]\"");
        break;
    case HM_EDGE_VALUE:
        if (e.u.key && hm_is(e.u.key, &hm_str_type)) {
            put(w, ", ");
            hm__out_string(w->out, hm_str_data(e.u.key), hm_str_len(e.u.key));
        } else if (e.u.key) {
            char label[HM_LABEL_MAX];
            size_t n = hm_object_label(e.u.key, label, sizeof label);
            put(w, ", ");
            hm__out_string(w->out, label, n);
        }
        break;
    case HM_EDGE_KEY:
        break;
    }
    put(w, "]");
    return w->out->status;
}

static void write_flags(writer *w, const hm_object *o)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {HM_FLAG_TRACKED, "\"tracked\""},     {HM_FLAG_FINALIZED, "\"finalized\""},
        {HM_FLAG_FROZEN, "\"frozen\""},       {HM_FLAG_IMMORTAL, "\"immortal\""},
        {HM_FLAG_INTERNED, "\"interned\""},
    };
    uint32_t f = hm_object_flags(o);
    bool any = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(f & names[i].bit))
            continue;
        put(w, any ? ", " : ", \"flags\": [");
        put(w, names[i].name);
        any = true;
    }
    if (any)
        put(w, "]");
}

static void write_object(writer *w, hm_object *o, bool first)
{
    uint32_t tid = type_known(&w->p->types, o->type), site;
    put_member_u64(w, first ? "\n  {\"id\": " : ",\n  {\"id\": ", o->id);
    put_member_u64(w, ", \"type\": ", tid);
    put_member_u64(w, ", \"size\": ", hm_object_size(o));
    if (o->rc != HM_RC_IMMORTAL)
        put_member_u64(w, ", \"rc\": ", o->rc);
    if (hm__trace_site_index(w->h, o->id, &site))
        put_member_u64(w, ", \"site\": ", site);
    if (!w->opts->no_labels) {
        char label[HM_LABEL_MAX];
        size_t n = hm_object_label(o, label, sizeof label);
        put(w, ", \"label\": ");
        hm__out_string(w->out, label, n);
    }
    if ((o->flags & HM_FLAG_TRACKED) && !(o->flags & HM_FLAG_FROZEN))
        put_member_u64(w, ", \"gen\": ", hm__gen_of(o));
    write_flags(w, o);
    if (o->type->traverse) {
        w->first_edge = true; /* write_edge opens the list: an object with none writes none */
        o->type->traverse(o, write_edge, w);
        if (!w->first_edge)
            put(w, "]");
    }
    put(w, "}");
}

static void write_objects(writer *w)
{
    put(w, " \"objects\": [");
    hm__walk it;
    hm__walk_begin(&it, w->h, true);
    bool first = true;
    for (hm_object *o; w->out->status == HM_OK && (o = hm__walk_next(&it)) != NULL; first = false)
        write_object(w, o, first);
    put(w, "\n ],\n");
}

static void write_weakrefs(writer *w)
{
    put(w, " \"weakrefs\": [");
    hm__walk it;
    hm__walk_begin(&it, w->h, false);
    bool first = true;
    for (hm_object *o; w->out->status == HM_OK && (o = hm__walk_next(&it)) != NULL;) {
        if (!hm_is_weakref(o))
            continue;
        put_member_u64(w, first ? "\n  {\"id\": " : ",\n  {\"id\": ", o->id);
        uint64_t referent = hm_weakref_referent_id(o);
        if (referent)
            put_member_u64(w, ", \"referent\": ", referent);
        else
            put(w, ", \"referent\": null");
        if (hm_weakref_has_callback(o))
            put(w, ", \"callback\": true");
        put(w, "}");
        first = false;
    }
    put(w, first ? "],\n" : "\n ],\n");
}

static void put_root(void *arg, const hm_object *o, const char *kind, const char *name)
{
    writer *w = arg;
    put_member_u64(w, w->first_edge ? "\n  {\"id\": " : ",\n  {\"id\": ", o->id);
    put(w, ", \"kind\": \"");
    put(w, kind);
    put(w, "\"");
    if (name) {
        put(w, ", \"name\": ");
        put_str(w, name);
    }
    put(w, "}");
    w->first_edge = false;
}

void hm__snapshot_each_root(hm_heap *h, hm__snapshot_prep *p, hm__root_fn *fn, void *arg)
{
    hm__walk it;
    hm__walk_begin(&it, h, false);
    for (hm_object *o; (o = hm__walk_next(&it)) != NULL;) {
        if (o->rc != HM_RC_IMMORTAL && o->rc > o->gc.gc_refs)
            fn(arg, o, "external", NULL);
        for (hm__listing *l = &p->named; l->at < l->n && l->items[l->at].id <= o->id; l->at++)
            if (l->items[l->at].id == o->id)
                fn(arg, o, "named", l->items[l->at].name);
        if (o->flags & HM_FLAG_INTERNED)
            fn(arg, o, "interned", NULL);
        if (o->flags & HM_FLAG_CACHED)
            fn(arg, o, "cache", NULL);
        if (o->flags & HM_FLAG_FROZEN)
            fn(arg, o, "frozen", NULL);
        for (hm__listing *l = &p->garbage; l->at < l->n && l->items[l->at].id <= o->id; l->at++)
            if (l->items[l->at].id == o->id)
                fn(arg, o, "garbage", NULL);
    }
}

static void write_roots(writer *w)
{
    put(w, " \"roots\": [");
    w->first_edge = true; /* here: no root written yet */
    hm__snapshot_each_root(w->h, w->p, put_root, w);
    put(w, w->first_edge ? "],\n" : "\n ],\n");
}

static void write_pools(writer *w)
{
    hm_pool_stats s;
    hm_pool_get_stats(w->h, &s);
    put_member_u64(w, " \"pools\": {\"arena_size\": ", HM_ARENA_SIZE);
    put_member_u64(w, ", \"pool_size\": ", HM_POOL_SIZE);
    put_member_u64(w, ",\n  \"arenas\": {\"allocated\": ", s.arenas_allocated);
    put_member_u64(w, ", \"reclaimed\": ", s.arenas_reclaimed);
    put_member_u64(w, ", \"highwater\": ", s.arenas_highwater);
    put_member_u64(w, ", \"current\": ", s.arenas_current);
    put_member_u64(w, "},\n  \"large\": {\"count\": ", s.large_blocks);
    put_member_u64(w, ", \"bytes\": ", s.large_bytes);
    put(w, "},\n  \"classes\": [");
    bool first = true;
    for (size_t i = 0; i < HM_POOL_CLASSES; i++) {
        const hm_pool_class_stats *c = &s.classes[i];
        if (!c->pools)
            continue;
        put_member_u64(w, first ? "\n   {\"size\": " : ",\n   {\"size\": ", c->size);
        put_member_u64(w, ", \"pools\": ", c->pools);
        put_member_u64(w, ", \"blocks_in_use\": ", c->blocks_in_use);
        put_member_u64(w, ", \"blocks_free\": ", c->blocks_available);
        put(w, "}");
        first = false;
    }
    put_member_u64(w, "],\n  \"bytes\": {\"allocated_blocks\": ", s.bytes_in_allocated_blocks);
    put_member_u64(w, ", \"available_blocks\": ", s.bytes_in_available_blocks);
    put_member_u64(w, ", \"unused_pools\": ", s.bytes_in_unused_pools);
    put_member_u64(w, ", \"pool_headers\": ", s.bytes_in_pool_headers);
    put_member_u64(w, ", \"quantization\": ", s.bytes_lost_to_quantization);
    put_member_u64(w, ", \"alignment\": ", s.bytes_lost_to_alignment);
    put(w, "}},\n");
}

static void write_gc(writer *w)
{
    hm_heap *h = w->h;
    long counts[HM_GC_GENERATIONS], thresholds[HM_GC_GENERATIONS];
    hm_gc_get_count(h, counts);
    hm_gc_get_threshold(h, thresholds);
    put(w, " \"gc\": {\"enabled\": ");
    put(w, hm_gc_isenabled(h) ? "true" : "false");
    put(w, ",\n  \"generations\": [");
    for (int g = 0; g < HM_GC_GENERATIONS; g++) {
        hm_gc_stats st;
        hm_gc_get_stats(h, g, &st);
        put_member_u64(w, g ? ",\n   {\"threshold\": " : "\n   {\"threshold\": ",
                       thresholds[g] > 0 ? (uint64_t)thresholds[g] : 0);
        put_member_u64(w, ", \"count\": ", counts[g] > 0 ? (uint64_t)counts[g] : 0);
        put_member_u64(w, ", \"collections\": ", st.collections);
        put_member_u64(w, ", \"collected\": ", st.collected);
        put_member_u64(w, ", \"uncollectable\": ", st.uncollectable);
        put(w, "}");
    }
    put_member_u64(w, "\n  ],\n  \"frozen\": ", hm_gc_get_freeze_count(h));
    put(w, ", \"garbage\": [");
    size_t n = h->garbage ? hm_list_len(h->garbage) : 0;
    for (size_t i = 0; i < n; i++)
        put_member_u64(w, i ? ", " : "", hm_list_get(h->garbage, i)->id);
    put(w, "]}\n}\n");
}

/* ---- the pass that prepares: types, and the counts' start ---- */

static bool collect_listings(hm_heap *h, hm__snapshot_prep *p)
{
    size_t ngarbage = h->garbage ? hm_list_len(h->garbage) : 0;
    if (!listing_make(h, &p->named, h->nnamed_roots) || !listing_make(h, &p->garbage, ngarbage))
        return false;
    for (size_t i = 0; i < h->nnamed_roots; i++)
        p->named.items[p->named.n++] = (hm__listed){h->named_roots[i].object->id, h->named_roots[i].name};
    for (size_t i = 0; i < ngarbage; i++)
        p->garbage.items[p->garbage.n++] = (hm__listed){hm_list_get(h->garbage, i)->id, NULL};
    listing_sort(&p->named);
    listing_sort(&p->garbage);
    return true;
}

/* Numbers the types in use and turns every prev link into a count of the references the heap
 * holds to the object: the named and garbage listings here, the edges as write_edge() writes
 * them. From here until restore_lists() only `next` links are valid. */
static bool prepare(hm_heap *h, hm__snapshot_prep *p)
{
    for (int i = 0; i < NLISTS; i++)
        sort_list(list_head(h, i));
    hm__walk it;
    hm__walk_begin(&it, h, false);
    for (hm_object *o; (o = hm__walk_next(&it)) != NULL;) {
        if (!type_add(h, &p->types, o->type))
            return false;
        o->gc.gc_refs = 0;
    }
    for (size_t i = 0; i < h->nnamed_roots; i++)
        h->named_roots[i].object->gc.gc_refs++;
    for (size_t i = 0, n = h->garbage ? hm_list_len(h->garbage) : 0; i < n; i++)
        hm_list_get(h->garbage, i)->gc.gc_refs++;
    return true;
}

static void restore_lists(hm_heap *h)
{
    for (int i = 0; i < NLISTS; i++)
        relink(list_head(h, i), list_head(h, i)->next);
}

bool hm__snapshot_prepare(hm_heap *h, hm__snapshot_prep *p)
{
    memset(p, 0, sizeof *p);
    return collect_listings(h, p) && prepare(h, p);
}

void hm__snapshot_restore(hm_heap *h, hm__snapshot_prep *p)
{
    restore_lists(h); /* whether or not prepare() got through: it needs only `next` */
    types_free(&p->types);
    free(p->named.items);
    free(p->garbage.items);
    memset(p, 0, sizeof *p);
}

uint32_t hm__snapshot_type(hm__snapshot_prep *p, const hm_type *t) { return type_known(&p->types, t); }

int hm__snapshot_emit(hm_heap *h, hm__out *out, const hm_snapshot_options *opts)
{
    static const hm_snapshot_options defaults;
    if (h->collecting || h->deallocating || h->destroying)
        return HM_EBUSY;
    hm__snapshot_prep prep;
    writer w = {.h = h, .out = out, .opts = opts ? opts : &defaults, .p = &prep};
    int status = HM_ENOMEM;
    bool prepared = hm__snapshot_prepare(h, &prep);
    if (prepared) {
        write_meta(&w);
        write_types(&w);
        hm__trace_write_stacks(out, h);
        write_sites(&w);
        write_objects(&w);
        write_weakrefs(&w);
        write_roots(&w);
    }
    hm__snapshot_restore(h, &prep);
    if (prepared) {
        write_pools(&w);
        write_gc(&w);
        hm__out_flush(out);
        status = out->status;
    }
    return status;
}
