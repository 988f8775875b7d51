/* test_types.c: the built-in types (int cache, str interning, list, tuple, dict) and user
 * classes in their two layouts, against the seed's identity and size facts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

#define HEAP_SUITE types
#include "heap_test.h"

/* a = 100; b = 100; a is b -> True.  a = 1000; b = 1000; a is b -> False. */
HEAP_TEST(small_int_identity)
{
    hm_object *a = hm_int_new(h, 100), *b = hm_int_new(h, 100);
    cr_assert_eq(a, b);
    cr_assert(hm_object_flags(a) & HM_FLAG_CACHED);
    hm_decref(a);
    hm_decref(b);
    a = hm_int_new(h, 1000);
    b = hm_int_new(h, 1000);
    cr_assert_neq(a, b);
    cr_assert_eq(hm_int_value(a), hm_int_value(b));
    hm_decref(a);
    hm_decref(b);
    cr_assert_eq(hm_int_new(h, -5), hm_int_new(h, -5));
    cr_assert_eq(hm_int_new(h, 256), hm_int_new(h, 256));
    a = hm_int_new(h, 257);
    b = hm_int_new(h, 257);
    cr_assert_neq(a, b);
    hm_decref(a);
    hm_decref(b);
    a = hm_int_new(h, -6);
    b = hm_int_new(h, -6);
    cr_assert_neq(a, b);
    hm_decref(a);
    hm_decref(b);

    /* each heap has its own cache */
    hm_heap *other = hm_heap_new();
    cr_assert_neq(hm_int_new(other, 100), hm_int_new(h, 100));
    hm_heap_destroy(other, NULL);
}

/* "hello" is "hello"; "hello world" is not "hello world"; sys.intern makes them one. */
HEAP_TEST(string_interning_identity)
{
    hm_object *s1 = hm_str_const(h, "hello"), *s2 = hm_str_const(h, "hello");
    cr_assert_eq(s1, s2);
    cr_assert(hm_object_flags(s1) & HM_FLAG_INTERNED);
    hm_decref(s1);
    hm_decref(s2);

    s1 = hm_str_const(h, "hello world");
    s2 = hm_str_const(h, "hello world");
    cr_assert_neq(s1, s2);
    cr_assert(hm_str_equal(s1, s2));
    hm_decref(s1);
    hm_decref(s2);

    s1 = hm_str_intern(h, "hello world");
    s2 = hm_str_intern(h, "hello world");
    cr_assert_eq(s1, s2);
    cr_assert_eq(hm_intern_count(h), 2);
    hm_decref(s1);
    hm_decref(s2);

    /* the table grows */
    char buf[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "name%d", i);
        hm_str_intern(h, buf);
    }
    cr_assert_eq(hm_intern_count(h), 1002);
    cr_assert_eq(hm_str_intern(h, "name500"), hm_str_intern(h, "name500"));
    cr_assert_str_eq(hm_str_data(hm_str_intern(h, "name999")), "name999");
}

HEAP_TEST(str_basics)
{
    hm_object *s = hm_str_new_len(h, "a\0b", 3);
    cr_assert_eq(hm_str_len(s), 3);
    cr_assert_eq(memcmp(hm_str_data(s), "a\0b", 4), 0);
    hm_object *e = hm_str_new(h, "");
    cr_assert_eq(hm_str_len(e), 0);
    cr_assert_str_eq(hm_str_data(e), "");
    cr_assert(!hm_gc_is_tracked(s), "str is a leaf");
    hm_decref(s);
    hm_decref(e);
}

HEAP_TEST(list_operations)
{
    hm_object *l = hm_list_new(h);
    cr_assert(hm_gc_is_tracked(l));
    for (int i = 0; i < 50; i++) {
        hm_object *v = hm_int_new(h, i * 1000);
        cr_assert_eq(hm_list_append(l, v), HM_OK);
        hm_decref(v);
    }
    cr_assert_eq(hm_list_len(l), 50);
    cr_assert_eq(hm_int_value(hm_list_get(l, 49)), 49000);
    cr_assert_null(hm_list_get(l, 50));
    hm_object *v = hm_int_new(h, 7);
    cr_assert_eq(hm_list_set(l, 0, v), HM_OK);
    cr_assert_eq(hm_list_set(l, 50, v), HM_EINDEX);
    cr_assert_eq(hm_list_append(v, v), HM_EINVAL);
    cr_assert_eq(hm_list_get(l, 0), v);
    hm_object *p = hm_list_pop(l, 1);
    cr_assert_eq(hm_int_value(p), 1000);
    cr_assert_eq(hm_object_refcount(p), 1);
    hm_decref(p);
    cr_assert_eq(hm_list_len(l), 49);
    cr_assert_eq(hm_int_value(hm_list_get(l, 1)), 2000);
    cr_assert_null(hm_list_pop(l, 100));
    hm_list_clear(l);
    cr_assert_eq(hm_list_len(l), 0);
    hm_decref(l);
}

HEAP_TEST(tuple_operations)
{
    hm_object *a = hm_str_new(h, "a"), *b = hm_int_new(h, 2000);
    hm_object *t = hm_tuple_pack(h, 2, a, b);
    cr_assert_eq(hm_tuple_len(t), 2);
    cr_assert_eq(hm_tuple_get(t, 0), a);
    cr_assert_eq(hm_tuple_get(t, 1), b);
    cr_assert_null(hm_tuple_get(t, 2));
    cr_assert_eq(hm_object_refcount(a), 2);
    hm_object *empty = hm_tuple_pack(h, 0);
    cr_assert_eq(hm_object_size(t) - hm_object_size(empty), 2 * sizeof(hm_object *));
    hm_decref(empty);
    hm_decref(t);
    cr_assert_eq(hm_object_refcount(a), 1);
    hm_decref(a);
    hm_decref(b);
}

/* A dict against a brute-force model: random sets, gets and deletes of int and str keys. */
HEAP_TEST(dict_against_model)
{
    enum { KEYS = 300, OPS = 20000 };
    hm_object *d = hm_dict_new(h);
    long model[KEYS];
    for (int i = 0; i < KEYS; i++)
        model[i] = -1;
    srand(42);
    char buf[32];
    for (int op = 0; op < OPS; op++) {
        int k = rand() % KEYS;
        bool str_key = k % 2;
        hm_object *key = str_key ? (snprintf(buf, sizeof buf, "k%d", k), hm_str_new(h, buf))
                                 : hm_int_new(h, k * 100003L);
        int what = rand() % 3;
        if (what == 0) {
            hm_object *v = hm_int_new(h, op);
            cr_assert_eq(hm_dict_set(d, key, v), HM_OK);
            hm_decref(v);
            model[k] = op;
        } else if (what == 1) {
            int r = hm_dict_del(d, key);
            cr_assert_eq(r, model[k] >= 0 ? HM_OK : HM_EKEY);
            model[k] = -1;
        } else {
            hm_object *v = hm_dict_get(d, key);
            if (model[k] < 0)
                cr_assert_null(v);
            else
                cr_assert_eq(hm_int_value(v), model[k]);
            if (str_key) {
                hm_object *v2 = hm_dict_get_str(d, buf);
                cr_assert_eq(v2, v);
            }
        }
        hm_decref(key);
    }
    size_t live = 0;
    for (int i = 0; i < KEYS; i++)
        live += model[i] >= 0;
    cr_assert_eq(hm_dict_len(d), live);
    size_t pos = 0, seen = 0;
    hm_object *k, *v;
    while (hm_dict_next(d, &pos, &k, &v))
        seen++;
    cr_assert_eq(seen, live);
    hm_decref(d);
}

HEAP_TEST(dict_string_keys_and_order)
{
    hm_object *d = hm_dict_new(h);
    const char *names[] = {"zeta", "alpha", "mid", "beta"};
    for (int i = 0; i < 4; i++) {
        hm_object *v = hm_int_new(h, i);
        hm_dict_set_str(d, names[i], v);
    }
    cr_assert_eq(hm_dict_len(d), 4);
    cr_assert_eq(hm_int_value(hm_dict_get_str(d, "mid")), 2);
    cr_assert_eq(hm_dict_del_str(d, "alpha"), HM_OK);
    cr_assert_eq(hm_dict_del_str(d, "alpha"), HM_EKEY);
    hm_object *v = hm_int_new(h, 9);
    hm_dict_set_str(d, "alpha", v);
    const char *want[] = {"zeta", "mid", "beta", "alpha"}; /* insertion order */
    size_t pos = 0;
    hm_object *k;
    for (int i = 0; i < 4; i++) {
        cr_assert(hm_dict_next(d, &pos, &k, NULL));
        cr_assert_str_eq(hm_str_data(k), want[i]);
    }
    cr_assert(!hm_dict_next(d, &pos, &k, NULL));
    /* object keys compare by identity */
    hm_object *lk = hm_list_new(h), *lk2 = hm_list_new(h);
    hm_dict_set(d, lk, v);
    cr_assert_eq(hm_dict_get(d, lk), v);
    cr_assert_null(hm_dict_get(d, lk2));
    hm_decref(lk);
    hm_decref(lk2);
    hm_dict_clear(d);
    cr_assert_eq(hm_dict_len(d), 0);
    hm_decref(d);
}

/* class Normal: x, y in __dict__;  class Optimized: __slots__ = ['x', 'y'] */
HEAP_TEST(slots_versus_dict_sizes)
{
    hm_type *Normal = hm_class_new(&(hm_class_spec){.name = "Normal"});
    hm_type *Optimized = hm_class_new(&(hm_class_spec){.name = "Optimized", .slots = (const char *const[]){"x", "y", NULL}});
    hm_object *one = hm_int_new(h, 1), *two = hm_int_new(h, 2);
    hm_object *n = hm_instance_new(h, Normal), *o = hm_instance_new(h, Optimized);
    cr_assert_eq(hm_instance_set(n, "x", one), HM_OK);
    cr_assert_eq(hm_instance_set(n, "y", two), HM_OK);
    cr_assert_eq(hm_instance_set(o, "x", one), HM_OK);
    cr_assert_eq(hm_instance_set(o, "y", two), HM_OK);
    cr_assert_eq(hm_instance_set(o, "z", two), HM_EATTR, "no __dict__: AttributeError");
    cr_assert_eq(hm_instance_get(n, "y"), two);
    cr_assert_eq(hm_instance_get(o, "y"), two);
    cr_assert_null(hm_instance_get(o, "z"));
    cr_assert_null(hm_instance_dict(o));
    cr_assert_not_null(hm_instance_dict(n));

    size_t normal = hm_instance_size(n), optimized = hm_instance_size(o);
    cr_assert_eq(optimized, hm_object_size(o));
    cr_assert_eq(normal, hm_object_size(n) + hm_object_size(hm_instance_dict(n)));
    cr_assert_lt(optimized, normal, "slots %zu < dict %zu", optimized, normal);
    cr_log_info("Normal: %zu bytes (instance %zu + __dict__ %zu), Optimized: %zu bytes", normal,
                hm_object_size(n), hm_object_size(hm_instance_dict(n)), optimized);

    char buf[HM_LABEL_MAX];
    hm_object_label(o, buf, sizeof buf);
    cr_assert_str_eq(buf, "Optimized(x=1, y=2)");
    hm_object_label(n, buf, sizeof buf);
    cr_assert_str_eq(buf, "Normal(x=1, y=2)");

    cr_assert_eq(hm_instance_set(n, "x", NULL), HM_OK);
    cr_assert_null(hm_instance_get(n, "x"));
    cr_assert_eq(hm_instance_set(n, "x", NULL), HM_EATTR);
    cr_assert_eq(hm_class_slot_index(Optimized, "y"), 1);
    cr_assert_eq(hm_instance_set_slot(o, 0, two), HM_OK);
    cr_assert_eq(hm_instance_get_slot(o, 0), two);
    cr_assert(hm_is_instance(o) && !hm_is_instance(one));

    hm_decref(n);
    hm_decref(o);
    cr_assert_eq(hm_heap_destroy(h, NULL), 0);
    h = hm_heap_new();
    hm_class_free(Normal);
    hm_class_free(Optimized);
}

/* The seed's point about __slots__ at scale ("no __dict__ overhead for millions of instances"):
 * what N instances cost the heap and its allocator, in each layout. A __slots__ instance is its
 * header and one pointer per slot; a __dict__ instance is a header, one pointer and a dict. */
static size_t make_instances(const hm_type *cls, hm_object **out, size_t n, hm_pool_stats *pools)
{
    hm_object *one = hm_int_new(h, 1), *two = hm_int_new(h, 2);
    hm_heap_stats before, after;
    hm_heap_get_stats(h, &before);
    for (size_t i = 0; i < n; i++) {
        out[i] = hm_instance_new(h, cls);
        hm_instance_set(out[i], "x", one);
        hm_instance_set(out[i], "y", two);
    }
    hm_heap_get_stats(h, &after);
    hm_pool_get_stats(h, pools);
    return after.bytes - before.bytes;
}

HEAP_TEST(slots_save_the_dict_for_every_instance)
{
    hm_type *Normal = hm_class_new(&(hm_class_spec){.name = "Normal"});
    hm_type *Optimized = hm_class_new(&(hm_class_spec){.name = "Optimized", .slots = (const char *const[]){"x", "y", NULL}});
    enum { N = 10000 };
    hm_object **objs = malloc(N * sizeof *objs);
    hm_object *warm = hm_instance_new(h, Normal); /* interns the attribute names once */
    hm_instance_set(warm, "x", warm);
    hm_instance_set(warm, "y", warm);
    hm_instance_set(warm, "x", NULL);
    hm_instance_set(warm, "y", NULL);

    hm_pool_stats ps;
    size_t optimized = make_instances(Optimized, objs, N, &ps);
    cr_assert_eq(hm_object_size(objs[0]), sizeof(hm_object) + 2 * sizeof(hm_object *), "40 + 2 slots");
    cr_assert_eq(optimized, N * hm_instance_size(objs[0]), "the heap holds exactly the instances");
    cr_assert_geq(ps.classes[(hm_object_size(objs[0]) - 1) / 16].blocks_in_use, N, "one 64-byte block each");
    for (size_t i = 0; i < N; i++)
        hm_decref(objs[i]);

    size_t normal = make_instances(Normal, objs, N, &ps);
    size_t per_normal = hm_instance_size(objs[0]);
    cr_assert_eq(hm_object_size(objs[0]), sizeof(hm_object) + sizeof(hm_object *), "40 + the __dict__ pointer");
    cr_assert_eq(normal, N * per_normal, "%zu vs %zu x %d", normal, per_normal, N);
    cr_log_info("%d instances: __slots__ %zu bytes (%zu each), __dict__ %zu bytes (%zu each)", N, optimized,
                optimized / N, normal, per_normal);
    cr_assert_geq(normal, 3 * optimized, "a dict costs several times the two slots");
    for (size_t i = 0; i < N; i++)
        hm_decref(objs[i]);
    hm_decref(warm);
    free(objs);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Normal);
    hm_class_free(Optimized);
}

HEAP_TEST(class_spec_is_checked)
{
    cr_assert_null(hm_class_new(&(hm_class_spec){.name = NULL}));
    cr_assert_null(hm_class_new(&(hm_class_spec){.name = "X", .flags = 0x80}));
    cr_assert_null(hm_instance_new(h, &hm_list_type));
}
