/* test_object.c: objects and heaps: reference counts as in the seed, identity, immortality,
 * sizes, labels and edge names, lifecycle hooks, enumeration and heap destruction. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hm.h"

#define HEAP_SUITE object
#include "heap_test.h"

/* a = []; b = a; del b: Python prints 2, 3, 2 because getrefcount's argument is one more. */
HEAP_TEST(refcount_follows_bindings)
{
    hm_object *a = hm_list_new(h);
    cr_assert_eq(hm_object_refcount(a), 1);
    hm_object *b = hm_incref(a);
    cr_assert_eq(b, a);
    cr_assert_eq(hm_object_refcount(a), 2);
    hm_decref(b);
    cr_assert_eq(hm_object_refcount(a), 1);
    hm_decref(a);
}

HEAP_TEST(containers_hold_references)
{
    hm_object *a = hm_list_new(h), *outer = hm_list_new(h);
    hm_list_append(outer, a);
    hm_list_append(outer, a);
    cr_assert_eq(hm_object_refcount(a), 3);
    hm_object *got = hm_list_pop(outer, 0);
    cr_assert_eq(got, a);
    cr_assert_eq(hm_object_refcount(a), 3); /* the list's reference became ours */
    hm_decref(got);
    hm_decref(outer);
    cr_assert_eq(hm_object_refcount(a), 1);
    hm_decref(a);
}

HEAP_TEST(ids_are_unique_and_stable)
{
    hm_object *a = hm_list_new(h), *b = hm_list_new(h);
    uint64_t ia = hm_object_id(a);
    cr_assert_neq(ia, hm_object_id(b));
    hm_decref(b);
    hm_object *c = hm_list_new(h); /* may reuse b's memory, never its id */
    cr_assert_neq(hm_object_id(c), hm_object_id(a));
    cr_assert_gt(hm_object_id(c), ia);
    cr_assert_eq(hm_object_id(a), ia);
    hm_decref(a);
    hm_decref(c);

    hm_heap *other = hm_heap_new();
    hm_object *d = hm_list_new(other);
    cr_assert_neq(hm_object_id(d) >> 48, ia >> 48, "ids of different heaps differ in their serial");
    hm_decref(d);
    cr_assert_eq(hm_heap_destroy(other, NULL), 0);
}

HEAP_TEST(immortal_counts_never_move)
{
    hm_object *a = hm_list_new(h);
    hm_object_make_immortal(a);
    cr_assert_eq(hm_object_refcount(a), HM_RC_IMMORTAL);
    for (int i = 0; i < 10; i++)
        hm_decref(a);
    hm_incref(a);
    cr_assert_eq(hm_object_refcount(a), HM_RC_IMMORTAL);
    cr_assert(hm_object_flags(a) & HM_FLAG_IMMORTAL);
    /* Immortal and owned by the program: a leak at heap destroy. */
    hm_heap_report r = {0};
    cr_assert_eq(hm_heap_destroy(h, &r), 1);
    h = hm_heap_new();
}

HEAP_TEST(sizes_are_real_bytes)
{
    hm_object *l = hm_list_new(h);
    size_t empty = hm_object_size(l);
    cr_assert_geq(empty, sizeof(hm_object));
    for (int i = 0; i < 100; i++)
        hm_list_append(l, l);
    cr_assert_geq(hm_object_size(l), empty + 100 * sizeof(hm_object *));
    hm_list_clear(l);
    hm_decref(l);

    hm_object *s = hm_str_new(h, "hello");
    cr_assert_eq(hm_object_size(s), hm_object_size(s)); /* stable */
    hm_object *s2 = hm_str_new(h, "hello, a longer string");
    cr_assert_eq(hm_object_size(s2) - hm_object_size(s), strlen("hello, a longer string") - 5);
    hm_decref(s);
    hm_decref(s2);

    hm_heap_stats st;
    hm_heap_get_stats(h, &st);
    cr_assert_eq(st.bytes, 0, "every byte returned: %zu left", st.bytes);
    cr_assert_geq(st.peak_bytes, empty);
}

HEAP_TEST(labels_and_edge_names)
{
    char buf[HM_LABEL_MAX];
    hm_object *i = hm_int_new(h, 1000), *s = hm_str_new(h, "abc"), *l = hm_list_new(h);
    hm_object_label(i, buf, sizeof buf);
    cr_assert_str_eq(buf, "1000");
    hm_object_label(s, buf, sizeof buf);
    cr_assert_str_eq(buf, "'abc'");
    hm_list_append(l, i);
    hm_object_label(l, buf, sizeof buf);
    cr_assert_str_eq(buf, "list[1]");

    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hm_object *bs = hm_str_new(h, big);
    size_t n = hm_object_label(bs, buf, sizeof buf);
    cr_assert_leq(n, HM_LABEL_MAX - 1);
    cr_assert_eq(strlen(buf), n);

    hm_edge_format(HM_EDGE_AT(3), buf, sizeof buf);
    cr_assert_str_eq(buf, "[3]");
    hm_edge_format(HM_EDGE_NAMED("next"), buf, sizeof buf);
    cr_assert_str_eq(buf, "next");
    hm_edge_format(HM_EDGE_OF_KEY(s), buf, sizeof buf);
    cr_assert_str_eq(buf, "['abc']");
    hm_edge_format(HM_EDGE_OF_KEY(i), buf, sizeof buf);
    cr_assert_str_eq(buf, "[1000]");
    hm_edge_format(HM_EDGE_KEY_AT(2), buf, sizeof buf);
    cr_assert_str_eq(buf, "<key 2>");
    char tiny[4];
    cr_assert_eq(hm_edge_format(HM_EDGE_NAMED("longname"), tiny, sizeof tiny), 3);
    cr_assert_str_eq(tiny, "lon");

    hm_decref(i);
    hm_decref(s);
    hm_decref(l);
    hm_decref(bs);
}

/* The seed's Tracked class: [INIT] obj1, [INIT] obj2, [DEL] obj1 (on rebinding), [DEL] obj2. */
static char trace[256];

static void tracked_del(hm_object *self)
{
    strcat(trace, "[DEL] ");
    strcat(trace, hm_str_data(hm_instance_get(self, "name")));
    strcat(trace, "; ");
}

static hm_object *tracked_new(const hm_type *cls, const char *name)
{
    hm_object *o = hm_instance_new(h, cls);
    hm_object *n = hm_str_new(h, name);
    hm_instance_set(o, "name", n);
    hm_decref(n);
    strcat(trace, "[INIT] ");
    strcat(trace, name);
    strcat(trace, "; ");
    return o;
}

HEAP_TEST(init_del_order_on_rebinding)
{
    hm_type *Tracked = hm_class_new(&(hm_class_spec){.name = "Tracked", .finalize = tracked_del});
    trace[0] = '\0';
    hm_object *obj = tracked_new(Tracked, "obj1");
    hm_object *next = tracked_new(Tracked, "obj2");
    hm_object *old = obj;
    obj = next; /* obj = Tracked("obj2") */
    hm_decref(old);
    hm_decref(obj); /* del obj */
    cr_assert_str_eq(trace, "[INIT] obj1; [INIT] obj2; [DEL] obj1; [DEL] obj2; ");
    cr_assert_eq(hm_heap_destroy(h, NULL), 0);
    h = hm_heap_new();
    hm_class_free(Tracked);
}

/* The per-heap lifecycle hook sees the same order for every object. */
typedef struct events {
    char log[512];
    const hm_type *only;
} events;

static void on_event(hm_object *o, hm_lifecycle_event ev, void *user)
{
    events *e = user;
    if (o->type != e->only)
        return;
    char buf[HM_LABEL_MAX];
    snprintf(buf, sizeof buf, "%s#%llu ", ev == HM_EVENT_CREATE ? "+" : "-",
             (unsigned long long)hm_object_id(o));
    strcat(e->log, buf);
}

HEAP_TEST(lifecycle_hook)
{
    events e = {.only = &hm_list_type};
    hm_heap_set_lifecycle(h, on_event, &e);
    hm_object *a = hm_list_new(h);
    hm_object *b = hm_list_new(h);
    unsigned long long ia = hm_object_id(a), ib = hm_object_id(b);
    hm_decref(a);
    hm_decref(b);
    char want[128];
    snprintf(want, sizeof want, "+#%llu +#%llu -#%llu -#%llu ", ia, ib, ia, ib);
    cr_assert_str_eq(e.log, want);
    hm_heap_set_lifecycle(h, NULL, NULL);
}

static int count_fn(hm_object *o, int generation, void *user)
{
    (void)o;
    size_t *counts = user;
    counts[generation + 1]++;
    return 0;
}

HEAP_TEST(every_object_is_enumerable)
{
    hm_object *l = hm_list_new(h), *s = hm_str_new(h, "x"), *i = hm_int_new(h, 5000);
    hm_object *t = hm_tuple_pack(h, 2, s, i);
    size_t counts[5] = {0};
    cr_assert_eq(hm_heap_foreach(h, count_fn, counts), 0);
    cr_assert_eq(counts[0], 2); /* untracked: the str and the int */
    cr_assert_eq(counts[1], 2); /* generation 0: list and tuple */
    hm_gc_collect(h, 0, NULL);
    memset(counts, 0, sizeof counts);
    hm_heap_foreach(h, count_fn, counts);
    cr_assert_eq(counts[2], 2); /* survivors moved to generation 1 */
    hm_gc_freeze(h);
    memset(counts, 0, sizeof counts);
    hm_heap_foreach(h, count_fn, counts);
    cr_assert_eq(counts[4], 2);
    hm_gc_unfreeze(h);
    hm_decref(l);
    hm_decref(s);
    hm_decref(i);
    hm_decref(t);
}

static void collect_alive(const hm_object *o, void *user)
{
    char buf[HM_LABEL_MAX];
    hm_object_label(o, buf, sizeof buf);
    strcat(user, buf);
    strcat(user, " ");
}

HEAP_TEST(destroy_reports_what_is_left)
{
    hm_object *keep = hm_list_new(h);
    hm_object *s = hm_str_new(h, "leak");
    hm_list_append(keep, s);
    hm_decref(s);
    hm_object *small = hm_int_new(h, 7);     /* runtime cache: not a leak */
    hm_object *in = hm_str_intern(h, "name"); /* interned: not a leak */
    (void)small;
    (void)in;
    /* a cycle nobody collected */
    hm_object *c = hm_list_new(h);
    hm_list_append(c, c);
    hm_decref(c);

    char seen[256] = "";
    hm_heap_report r = {.on_alive = collect_alive, .user = seen};
    size_t n = hm_heap_destroy(h, &r);
    cr_assert_eq(n, 3);
    cr_assert_eq(r.objects, 3);
    cr_assert_gt(r.bytes, 0);
    cr_assert(strstr(seen, "'leak'"));
    cr_assert(strstr(seen, "list[1]"));
    h = hm_heap_new();
}

/* Deallocation is a loop, not a recursion: a 1M-long chain goes without touching the stack. */
HEAP_TEST(long_chain_frees_iteratively)
{
    hm_object *head = hm_list_new(h);
    hm_object *cur = head;
    for (int i = 0; i < 1000000; i++) {
        hm_object *next = hm_list_new(h);
        hm_list_append(cur, next);
        hm_decref(next);
        cur = next;
    }
    hm_heap_stats st;
    hm_heap_get_stats(h, &st);
    cr_assert_eq(st.objects, 1000001);
    hm_decref(head);
    hm_heap_get_stats(h, &st);
    cr_assert_eq(st.objects, 0);
}

/* A finalizer that stores self resurrects it; it never runs twice. */
static hm_object *saved;
static int finalize_calls;

static void resurrect(hm_object *self)
{
    finalize_calls++;
    saved = hm_incref(self);
}

HEAP_TEST(finalizer_resurrects_once)
{
    hm_type *Phoenix = hm_class_new(&(hm_class_spec){.name = "Phoenix", .slots = (const char *const[]){"x", NULL},
                                                    .finalize = resurrect});
    finalize_calls = 0;
    hm_object *p = hm_instance_new(h, Phoenix);
    uint64_t id = hm_object_id(p);
    hm_decref(p);
    cr_assert_eq(finalize_calls, 1);
    cr_assert_not_null(saved);
    cr_assert_eq(hm_object_id(saved), id);
    cr_assert_eq(hm_object_refcount(saved), 1);
    cr_assert(hm_gc_is_finalized(saved));
    cr_assert(hm_gc_is_tracked(saved));
    p = saved;
    saved = NULL;
    hm_decref(p); /* second death: no finalizer this time */
    cr_assert_eq(finalize_calls, 1);
    cr_assert_null(saved);
    cr_assert_eq(hm_heap_destroy(h, NULL), 0);
    h = hm_heap_new();
    hm_class_free(Phoenix);
}

HEAP_TEST(status_table)
{
    cr_assert_str_eq(hm_status_name(HM_EKEY), "HM_EKEY");
    cr_assert_str_eq(hm_status_message(HM_ENOMEM), "out of memory");
    cr_assert_str_eq(hm_status_name(HM_OK), "HM_OK");
    cr_assert_str_eq(hm_status_name(-999), "HM_EUNKNOWN");
}

/* Heaps are independent: one per thread, made, used, collected and destroyed concurrently. */
static void *heap_worker(void *arg)
{
    (void)arg;
    for (int round = 0; round < 50; round++) {
        hm_heap *mine = hm_heap_new();
        if (!mine)
            return (void *)1;
        hm_object *keep = hm_list_new(mine);
        for (int i = 0; i < 500; i++) {
            hm_object *c = hm_list_new(mine);
            hm_list_append(c, c);
            if (i % 2)
                hm_list_append(keep, c);
            hm_decref(c);
        }
        if (hm_object_heap(keep) != mine || hm_gc_collect(mine, HM_GC_FULL, NULL) != 250)
            return (void *)1;
        hm_decref(keep);
        if (hm_gc_collect(mine, HM_GC_FULL, NULL) != 250 || hm_heap_destroy(mine, NULL) != 0)
            return (void *)1;
    }
    return NULL;
}

HEAP_TEST(heaps_in_parallel_threads)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, heap_worker, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        cr_assert_null(r, "thread %d failed", i);
    }
    cr_assert_eq(hm_object_heap(hm_list_new(h)), h); /* leaks one list: destroyed below */
    cr_assert_eq(hm_heap_destroy(h, NULL), 1);
    h = hm_heap_new();
}
