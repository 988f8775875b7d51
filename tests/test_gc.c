/* test_gc.c: the cycle collector: the seed's Node cycle, collect() counts, stats, thresholds and
 * automatic collection, the gc module's surface, finalizers, resurrection, legacy finalizers and
 * the garbage list, debug flags and callbacks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hm.h"

#define HEAP_SUITE gc
#include "heap_test.h"

static size_t live_objects(void)
{
    hm_heap_stats st;
    hm_heap_get_stats(h, &st);
    return st.objects;
}

/* class Node: value, next (in __dict__, or in __slots__) */
static hm_object *node_new(const hm_type *cls, int64_t value)
{
    hm_object *n = hm_instance_new(h, cls);
    hm_object *v = hm_int_new(h, value);
    hm_instance_set(n, "value", v);
    hm_decref(v);
    return n;
}

static const char *const node_slots[] = {"value", "next", NULL};

/* a = Node(1); b = Node(2); a.next = b; b.next = a; del a; del b; gc.collect() */
static void node_cycle(const hm_type *Node, int64_t expect_collected)
{
    hm_gc_disable(h); /* "eventually" must not happen behind our back */
    hm_object *a = node_new(Node, 1), *b = node_new(Node, 2);
    hm_instance_set(a, "next", b);
    hm_instance_set(b, "next", a);
    cr_assert_eq(hm_object_refcount(a), 2);
    size_t before = live_objects();
    hm_decref(a);
    hm_decref(b);
    /* Reference counting alone cannot free them. */
    cr_assert_eq(live_objects(), before);
    hm_gc_result r;
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, &r), expect_collected);
    cr_assert_eq(r.collected, (size_t)expect_collected);
    cr_assert_eq(r.uncollectable, 0);
    cr_assert_eq(live_objects(), before - (size_t)expect_collected);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 0);
    hm_gc_enable(h);
}

HEAP_TEST(node_cycle_with_slots_needs_a_collection)
{
    hm_type *Node = hm_class_new(&(hm_class_spec){.name = "Node", .slots = node_slots});
    node_cycle(Node, 2);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Node);
}

/* With __dict__ each Node is two objects, as in CPython before 3.11's inline values. */
HEAP_TEST(node_cycle_with_dicts_needs_a_collection)
{
    hm_type *Node = hm_class_new(&(hm_class_spec){.name = "Node"});
    node_cycle(Node, 4);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Node);
}

HEAP_TEST(acyclic_garbage_goes_without_collection)
{
    hm_object *l = hm_list_new(h), *d = hm_dict_new(h);
    hm_list_append(l, d);
    hm_dict_set_str(d, "k", l); /* cycle through a list and a dict */
    hm_object *t = hm_tuple_pack(h, 2, l, d);
    hm_decref(l);
    hm_decref(d);
    hm_decref(t); /* the tuple goes at once, the cycle stays */
    cr_assert_eq(live_objects(), 3); /* list, dict, and the key 'k' */
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 2);
    cr_assert_eq(live_objects(), 0);
}

HEAP_TEST(module_surface_basics)
{
    cr_assert(hm_gc_isenabled(h));
    hm_gc_disable(h);
    cr_assert(!hm_gc_isenabled(h));
    hm_gc_enable(h);
    cr_assert(hm_gc_isenabled(h));

    long t[3];
    hm_gc_get_threshold(h, t);
    cr_assert(t[0] == 700 && t[1] == 10 && t[2] == 10);
    cr_assert_eq(hm_gc_set_threshold(h, 100, 5, 2), HM_OK);
    hm_gc_get_threshold(h, t);
    cr_assert(t[0] == 100 && t[1] == 5 && t[2] == 2);
    cr_assert_eq(hm_gc_set_threshold(h, -1, 5, 2), HM_EINVAL);

    long c[3];
    hm_gc_get_count(h, c);
    cr_assert(c[0] == 0 && c[1] == 0 && c[2] == 0);
    hm_object *objs[5];
    for (int i = 0; i < 5; i++)
        objs[i] = hm_list_new(h);
    hm_object *s = hm_str_new(h, "leaf"); /* leaves are not counted */
    hm_gc_get_count(h, c);
    cr_assert_eq(c[0], 5);
    hm_decref(objs[4]);
    hm_gc_get_count(h, c);
    cr_assert_eq(c[0], 4, "allocations minus deallocations");
    hm_gc_collect(h, 0, NULL);
    hm_gc_get_count(h, c);
    cr_assert(c[0] == 0 && c[1] == 1 && c[2] == 0, "%ld %ld %ld", c[0], c[1], c[2]);
    hm_gc_collect(h, 1, NULL);
    hm_gc_get_count(h, c);
    cr_assert(c[0] == 0 && c[1] == 0 && c[2] == 1);

    cr_assert_eq(hm_gc_collect(h, 3, NULL), HM_EINVAL);
    cr_assert_eq(hm_gc_collect(h, -1, NULL), HM_EINVAL);

    hm_gc_stats st;
    cr_assert_eq(hm_gc_get_stats(h, 0, &st), HM_OK);
    cr_assert_eq(st.collections, 1);
    cr_assert_eq(st.candidates, 4);
    cr_assert_geq(st.duration, 0.0);
    hm_gc_get_stats(h, 1, &st);
    cr_assert_eq(st.collections, 1);
    cr_assert_eq(hm_gc_get_stats(h, 5, &st), HM_EINVAL);

    for (int i = 0; i < 4; i++)
        hm_decref(objs[i]);
    hm_decref(s);
}

HEAP_TEST(stats_count_collected)
{
    for (int round = 0; round < 3; round++) {
        hm_object *l = hm_list_new(h);
        hm_list_append(l, l);
        hm_decref(l);
        cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 1);
    }
    hm_gc_stats st;
    hm_gc_get_stats(h, 2, &st);
    cr_assert_eq(st.collections, 3);
    cr_assert_eq(st.collected, 3);
    cr_assert_eq(st.uncollectable, 0);
    cr_assert_eq(st.candidates, 3);
}

/* Allocations past threshold0 start a generation-0 collection by themselves. */
HEAP_TEST(automatic_collection_at_threshold)
{
    hm_object *l = hm_list_new(h);
    hm_list_append(l, l);
    hm_decref(l);
    hm_object *keep = hm_list_new(h);
    for (int i = 0; i < 698; i++) {
        hm_object *x = hm_list_new(h);
        hm_list_append(keep, x);
        hm_decref(x);
    }
    hm_gc_stats st;
    hm_gc_get_stats(h, 0, &st);
    cr_assert_eq(st.collections, 0, "700 allocations: not past the threshold yet");
    hm_object *x = hm_list_new(h);
    hm_gc_get_stats(h, 0, &st);
    cr_assert_eq(st.collections, 1);
    cr_assert_eq(st.collected, 1, "the self-referencing list");
    hm_decref(x);

    /* disabled: no automatic collection, however many allocations */
    hm_gc_disable(h);
    for (int i = 0; i < 5000; i++) {
        x = hm_list_new(h);
        hm_list_append(keep, x);
        hm_decref(x);
    }
    hm_gc_get_stats(h, 0, &st);
    cr_assert_eq(st.collections, 1);
    hm_gc_enable(h);
    /* a threshold of 0 disables it too */
    hm_gc_set_threshold(h, 0, 10, 10);
    for (int i = 0; i < 5000; i++) {
        x = hm_list_new(h);
        hm_decref(x);
    }
    hm_gc_get_stats(h, 0, &st);
    cr_assert_eq(st.collections, 1);
    hm_decref(keep);
}

/* Full collections wait until the objects promoted since the last one are 25% of its survivors. */
HEAP_TEST(long_lived_pending_rule)
{
    hm_object *keep = hm_list_new(h);
    for (int i = 0; i < 1000; i++) {
        hm_object *x = hm_list_new(h);
        hm_list_append(keep, x);
        hm_decref(x);
    }
    hm_gc_collect(h, HM_GC_FULL, NULL); /* long-lived total: 1001 */
    hm_gc_set_threshold(h, 10, 1, 1);
    for (int i = 0; i < 2000; i++) {
        hm_object *x = hm_list_new(h);
        hm_list_append(keep, x);
        hm_decref(x);
    }
    hm_gc_stats s0, s1, s2;
    hm_gc_get_stats(h, 0, &s0);
    hm_gc_get_stats(h, 1, &s1);
    hm_gc_get_stats(h, 2, &s2);
    /* Without the rule a full collection would come every few young ones (about 40 of them);
     * with it the live heap must grow by a quarter each time: 1001 -> 3001 is about 5 times. */
    cr_assert_geq(s2.collections, 1 + 2, "%llu", (unsigned long long)s2.collections);
    cr_assert_leq(s2.collections, 1 + 7, "%llu", (unsigned long long)s2.collections);
    cr_assert_gt(s0.collections + s1.collections, 50);
    hm_decref(keep);
}

HEAP_TEST(survivors_are_promoted)
{
    hm_object *a = hm_list_new(h);
    hm_object *g0 = hm_gc_get_objects(h, 0);
    cr_assert_eq(hm_list_len(g0), 1, "the result list is left out");
    cr_assert_eq(hm_list_get(g0, 0), a);
    hm_decref(g0);
    hm_gc_collect(h, 0, NULL);
    hm_object *g1 = hm_gc_get_objects(h, 1);
    cr_assert_eq(hm_list_len(g1), 1);
    hm_decref(g1);
    hm_gc_collect(h, 1, NULL);
    hm_object *g2 = hm_gc_get_objects(h, 2);
    cr_assert_eq(hm_list_len(g2), 1);
    hm_decref(g2);
    hm_object *all = hm_gc_get_objects(h, -1);
    cr_assert_eq(hm_list_len(all), 1);
    hm_decref(all);
    cr_assert_null(hm_gc_get_objects(h, 3));

    /* A young cycle referenced from an old object survives a young collection. */
    hm_object *c = hm_list_new(h);
    hm_list_append(c, c);
    hm_list_append(a, c);
    hm_decref(c);
    cr_assert_eq(hm_gc_collect(h, 0, NULL), 0);
    hm_list_clear(a);
    cr_assert_eq(hm_gc_collect(h, 0, NULL), 0, "c is in generation 1 now");
    cr_assert_eq(hm_gc_collect(h, 1, NULL), 1);
    hm_decref(a);
}

HEAP_TEST(referrers_and_referents)
{
    hm_object *target = hm_list_new(h), *a = hm_list_new(h), *d = hm_dict_new(h);
    hm_object *s = hm_str_new(h, "leaf");
    hm_list_append(a, target);
    hm_list_append(a, target); /* listed once */
    hm_dict_set_str(d, "t", target);
    hm_object *rs = hm_gc_get_referrers(h, target);
    cr_assert_eq(hm_list_len(rs), 2);
    hm_decref(rs);

    hm_list_append(target, s);
    hm_object *refs = hm_gc_get_referents(d);
    cr_assert_eq(hm_list_len(refs), 2, "the key and the value");
    cr_assert_eq(hm_list_get(refs, 1), target);
    hm_decref(refs);
    refs = hm_gc_get_referents(s);
    cr_assert_eq(hm_list_len(refs), 0);
    hm_decref(refs);

    cr_assert(hm_gc_is_tracked(a));
    cr_assert(!hm_gc_is_tracked(s));
    hm_object *i = hm_int_new(h, 1);
    cr_assert(!hm_gc_is_tracked(i));
    hm_gc_untrack(a);
    cr_assert(!hm_gc_is_tracked(a));
    rs = hm_gc_get_referrers(h, target);
    cr_assert_eq(hm_list_len(rs), 1, "untracked referrers are invisible");
    hm_decref(rs);
    hm_gc_track(a);
    cr_assert(hm_gc_is_tracked(a));
    hm_gc_track(s);
    cr_assert(!hm_gc_is_tracked(s), "a leaf cannot be tracked");

    hm_decref(target);
    hm_decref(a);
    hm_decref(d);
    hm_decref(s);
}

HEAP_TEST(freeze)
{
    hm_object *c = hm_list_new(h);
    hm_list_append(c, c);
    hm_object *other = hm_list_new(h);
    hm_gc_freeze(h);
    cr_assert_eq(hm_gc_get_freeze_count(h), 2);
    cr_assert(hm_object_flags(c) & HM_FLAG_FROZEN);
    long cnt[3];
    hm_gc_get_count(h, cnt);
    cr_assert_eq(cnt[0], 0);
    hm_decref(c);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 0, "frozen objects are ignored");
    hm_object *all = hm_gc_get_objects(h, -1);
    cr_assert_eq(hm_list_len(all), 0);
    hm_decref(all);
    hm_gc_unfreeze(h);
    cr_assert_eq(hm_gc_get_freeze_count(h), 0);
    cr_assert(!(hm_object_flags(other) & HM_FLAG_FROZEN));
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 1);
    hm_decref(other);
}

/* ---- finalizers ---- */

static int finalized;
static hm_object *rescued;

static void count_finalize(hm_object *self)
{
    (void)self;
    finalized++;
}

static void rescue_finalize(hm_object *self)
{
    finalized++;
    if (!rescued)
        rescued = hm_incref(self);
}

static void make_cycle(const hm_type *cls, hm_object **pa, hm_object **pb)
{
    hm_object *a = hm_instance_new(h, cls), *b = hm_instance_new(h, cls);
    hm_instance_set(a, "next", b);
    hm_instance_set(b, "next", a);
    *pa = a;
    *pb = b;
}

HEAP_TEST(finalizers_run_once_then_clear)
{
    hm_type *Fin = hm_class_new(&(hm_class_spec){.name = "Fin", .slots = node_slots, .finalize = count_finalize});
    hm_object *a, *b;
    make_cycle(Fin, &a, &b);
    hm_decref(a);
    hm_decref(b);
    finalized = 0;
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 2);
    cr_assert_eq(finalized, 2);
    cr_assert_eq(live_objects(), 0);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Fin);
}

/* A finalizer that stores self: both nodes survive (a reaches b), finalized; the next time they
 * are garbage the finalizers do not run again and the cycle goes. */
HEAP_TEST(resurrection_in_a_collection)
{
    hm_type *Fin = hm_class_new(&(hm_class_spec){.name = "Fin", .slots = node_slots, .finalize = rescue_finalize});
    hm_object *a, *b;
    make_cycle(Fin, &a, &b);
    uint64_t ida = hm_object_id(a), idb = hm_object_id(b);
    hm_decref(a);
    hm_decref(b);
    finalized = 0;
    rescued = NULL;
    hm_gc_result r;
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, &r), 0);
    cr_assert_eq(r.collected, 0);
    cr_assert_eq(finalized, 2);
    cr_assert_not_null(rescued);
    cr_assert_eq(live_objects(), 2);
    hm_object *other = hm_instance_get(rescued, "next");
    cr_assert(hm_object_id(rescued) == ida || hm_object_id(rescued) == idb);
    cr_assert(hm_gc_is_finalized(rescued) && hm_gc_is_finalized(other));
    cr_assert_eq(hm_instance_get(other, "next"), rescued, "intact: nothing was cleared");
    cr_assert_eq(hm_object_refcount(rescued), 2);
    hm_object *g2 = hm_gc_get_objects(h, 2);
    cr_assert_eq(hm_list_len(g2), 2, "resurrected objects join the old generation");
    hm_decref(g2);

    hm_object *x = rescued;
    rescued = NULL;
    hm_decref(x);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, &r), 2);
    cr_assert_eq(finalized, 2, "finalizers run at most once");
    cr_assert_null(rescued);
    cr_assert_eq(live_objects(), 0);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Fin);
}

/* Legacy (__del__ before PEP 442) finalizers make their cycle uncollectable: gc.garbage. */
HEAP_TEST(legacy_finalizer_cycles_go_to_garbage)
{
    hm_type *Legacy = hm_class_new(&(hm_class_spec){.name = "Legacy", .slots = node_slots,
                                                   .finalize = count_finalize, .flags = HM_TYPE_LEGACY_FINALIZER});
    hm_type *Plain = hm_class_new(&(hm_class_spec){.name = "Plain", .slots = node_slots});
    hm_object *a, *b;
    make_cycle(Legacy, &a, &b);
    hm_object *tail = hm_instance_new(h, Plain); /* reached from the legacy cycle: kept too */
    hm_instance_set(b, "value", tail);
    hm_decref(tail);
    hm_object *c, *d;
    make_cycle(Plain, &c, &d); /* an ordinary cycle collected in the same pass */
    hm_decref(a);
    hm_decref(b);
    hm_decref(c);
    hm_decref(d);
    finalized = 0;
    hm_gc_result r;
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, &r), 5);
    cr_assert_eq(r.collected, 2);
    cr_assert_eq(r.uncollectable, 3);
    cr_assert_eq(finalized, 0, "legacy finalizers never run in a cycle");
    hm_object *garbage = hm_gc_garbage(h);
    cr_assert_eq(hm_list_len(garbage), 2, "only the objects with a legacy finalizer are listed");
    hm_gc_stats st;
    hm_gc_get_stats(h, 2, &st);
    cr_assert_eq(st.uncollectable, 3);

    /* The program breaks the cycle and empties the garbage list: the objects go normally. */
    hm_instance_set(hm_list_get(garbage, 0), "next", NULL);
    hm_list_clear(garbage);
    cr_assert_eq(finalized, 2, "outside a cycle the legacy finalizer runs at deallocation");
    cr_assert_eq(live_objects(), 1, "only the garbage list itself");
    hm_decref(garbage);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Legacy);
    hm_class_free(Plain);
}

/* ---- debug flags and callbacks ---- */

typedef struct debug_log {
    int start, done, collectable, uncollectable;
    size_t done_collected;
    size_t sizes2;
} debug_log;

static void on_debug(hm_heap *heap, const hm_gc_event *ev, void *user)
{
    (void)heap;
    debug_log *log = user;
    switch (ev->kind) {
    case HM_GC_EVENT_START:
        log->start++;
        log->sizes2 = ev->sizes[2];
        break;
    case HM_GC_EVENT_DONE:
        log->done++;
        log->done_collected = ev->collected;
        cr_assert_geq(ev->elapsed, 0.0);
        break;
    case HM_GC_EVENT_COLLECTABLE:
        log->collectable++;
        cr_assert_not_null(ev->object);
        break;
    case HM_GC_EVENT_UNCOLLECTABLE:
        log->uncollectable++;
        break;
    }
}

HEAP_TEST(debug_flags_report_through_the_callback)
{
    debug_log log = {0};
    hm_gc_set_debug_callback(h, on_debug, &log);
    hm_gc_set_debug(h, HM_GC_DEBUG_STATS | HM_GC_DEBUG_COLLECTABLE);
    cr_assert_eq(hm_gc_get_debug(h), HM_GC_DEBUG_STATS | HM_GC_DEBUG_COLLECTABLE);
    hm_object *keep = hm_list_new(h);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    hm_object *l = hm_list_new(h);
    hm_list_append(l, l);
    hm_decref(l);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert_eq(log.start, 2);
    cr_assert_eq(log.done, 2);
    cr_assert_eq(log.sizes2, 1);
    cr_assert_eq(log.done_collected, 1);
    cr_assert_eq(log.collectable, 1);
    cr_assert_eq(log.uncollectable, 0);
    hm_decref(keep);
    hm_gc_set_debug(h, 0);
}

/* DEBUG_SAVEALL: unreachable objects are kept in gc.garbage instead of freed (DEBUG_LEAK). */
HEAP_TEST(saveall_keeps_garbage)
{
    debug_log log = {0};
    hm_gc_set_debug_callback(h, on_debug, &log);
    hm_gc_set_debug(h, HM_GC_DEBUG_LEAK);
    hm_object *l = hm_list_new(h), *m = hm_list_new(h);
    hm_list_append(l, m);
    hm_list_append(m, l);
    hm_decref(l);
    hm_decref(m);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 2);
    cr_assert_eq(log.collectable, 2);
    hm_object *garbage = hm_gc_garbage(h);
    cr_assert_eq(hm_list_len(garbage), 2);
    cr_assert_eq(hm_list_len(hm_list_get(garbage, 0)), 1, "saved intact");
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 0, "the garbage list keeps them alive");
    hm_gc_set_debug(h, 0);
    hm_list_clear(garbage);
    hm_decref(garbage);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 2);
}

typedef struct cb_log {
    char text[256];
    int64_t nested;
} cb_log;

static void on_gc(hm_heap *heap, hm_gc_phase phase, const hm_gc_info *info, void *user)
{
    cb_log *log = user;
    char buf[64];
    if (phase == HM_GC_PHASE_START) {
        snprintf(buf, sizeof buf, "start(%d) ", info->generation);
        log->nested = hm_gc_collect(heap, 0, NULL);
    } else {
        snprintf(buf, sizeof buf, "stop(%d,%zu,%zu) ", info->generation, info->collected, info->uncollectable);
    }
    strcat(log->text, buf);
}

HEAP_TEST(callbacks_get_start_and_stop)
{
    cb_log log = {0};
    cr_assert_eq(hm_gc_callback_add(h, on_gc, &log), HM_OK);
    hm_object *l = hm_list_new(h);
    hm_list_append(l, l);
    hm_decref(l);
    hm_gc_collect(h, 1, NULL);
    cr_assert_str_eq(log.text, "start(1) stop(1,1,0) ");
    cr_assert_eq(log.nested, HM_EBUSY, "collections do not nest");
    cr_assert_eq(hm_gc_callback_remove(h, on_gc, &log), HM_OK);
    cr_assert_eq(hm_gc_callback_remove(h, on_gc, &log), HM_EINVAL);
    hm_gc_collect(h, 1, NULL);
    cr_assert_str_eq(log.text, "start(1) stop(1,1,0) ");
}

/* A finalizer that allocates, and breaks its own cycle, in the middle of a collection. */
static void busy_finalize(hm_object *self)
{
    finalized++;
    hm_object *junk = hm_list_new(hm_object_heap(self));
    hm_list_append(junk, junk); /* new garbage, for a later collection */
    hm_decref(junk);
    hm_instance_set(self, "next", NULL);
}

HEAP_TEST(finalizers_that_allocate_and_unlink)
{
    hm_type *Busy = hm_class_new(&(hm_class_spec){.name = "Busy", .slots = node_slots, .finalize = busy_finalize});
    hm_gc_set_threshold(h, 1, 1, 1); /* automatic collections all along, none nested */
    finalized = 0;
    for (int i = 0; i < 20; i++) {
        hm_object *a, *b;
        make_cycle(Busy, &a, &b);
        hm_decref(a);
        hm_decref(b);
    }
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert_eq(finalized, 40);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert_eq(live_objects(), 0);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Busy);
}

/* A long garbage ring: finding it and freeing it recurse nowhere. */
HEAP_TEST(long_cycle_collected_iteratively)
{
    enum { N = 300000 };
    hm_type *Node = hm_class_new(&(hm_class_spec){.name = "Node", .slots = node_slots});
    hm_gc_disable(h);
    hm_object *first = hm_instance_new(h, Node), *prev = first;
    for (int i = 1; i < N; i++) {
        hm_object *x = hm_instance_new(h, Node);
        hm_instance_set_slot(x, 1, prev);
        if (prev != first)
            hm_decref(prev);
        prev = x;
    }
    hm_instance_set_slot(first, 1, prev);
    hm_decref(prev);
    hm_decref(first);
    cr_assert_eq(live_objects(), N);
    cr_assert_eq(hm_gc_collect(h, 0, NULL), N);
    cr_assert_eq(live_objects(), 0);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Node);
}
