/* test_weakref.c: weak references and the weak containers: the seed's Resource and Cache
 * examples, callback order and re-entrancy, the collector's handle_weakrefs rules, deferred
 * removal while iterating, and a randomized check against an oracle. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hm.h"

#define HEAP_SUITE weakref
#include "captured_output.h"
#include "heap_test.h"
#include "random_numbers.h"

static size_t live_objects(void)
{
    hm_heap_stats st;
    hm_heap_get_stats(h, &st);
    return st.objects;
}

/* class Resource: name; __del__ prints "Deleting <name>". */
static void resource_del(hm_object *self)
{
    hm_object *name = hm_instance_get(self, "name");
    say("Deleting %s", name ? hm_str_data(name) : "?");
}

static const char *const resource_slots[] = {"name", "next", "ref", NULL};
static hm_type *Resource;

static hm_object *resource_new(const char *name)
{
    if (!Resource)
        Resource = hm_class_new(&(hm_class_spec){.name = "Resource", .slots = resource_slots,
                                                 .finalize = resource_del});
    hm_object *r = hm_instance_new(h, Resource);
    hm_object *s = hm_str_new(h, name);
    hm_instance_set(r, "name", s);
    hm_decref(s);
    return r;
}

/* Every test starts with a clean log. */
static void setup(void) { out[0] = '\0'; }

/* obj = Resource("strong"); weak = weakref.ref(obj); weak(); weak(); del obj; weak() */
HEAP_TEST(seed_resource_example)
{
    setup();
    hm_object *obj = resource_new("strong");
    hm_object *weak = hm_weakref_new(obj, NULL, NULL);
    cr_assert_not_null(weak);
    cr_assert(hm_is_weakref(weak));
    cr_assert_eq(hm_object_refcount(obj), 1, "a weak reference does not count");
    for (int i = 0; i < 2; i++) {
        hm_object *got = hm_weakref_get(weak);
        cr_assert_eq(got, obj);
        hm_decref(got);
    }
    cr_assert_str_eq(out, "");
    hm_decref(obj);
    cr_assert_str_eq(out, "Deleting strong\n");
    cr_assert_null(hm_weakref_get(weak));
    cr_assert(hm_weakref_is_dead(weak));
    cr_assert_eq(hm_weakref_referent_id(weak), 0);
    hm_decref(weak);
}

/* class Cache: a WeakValueDictionary; cache.set("key", obj); del obj; cache.get("key") */
HEAP_TEST(seed_cache_example)
{
    setup();
    hm_object *cache = hm_weakvaluemap_new(h);
    hm_object *obj = resource_new("cached");
    cr_assert_eq(hm_weakvaluemap_set_str(cache, "key", obj), HM_OK);
    hm_object *got = hm_weakvaluemap_get_str(cache, "key");
    cr_assert_eq(got, obj);
    char label[HM_LABEL_MAX];
    hm_object_label(got, label, sizeof label);
    cr_assert_str_eq(label, "Resource(name='cached')");
    hm_decref(got);
    cr_assert_eq(hm_weakvaluemap_len(cache), 1);
    hm_decref(obj);
    cr_assert_str_eq(out, "Deleting cached\n");
    cr_assert_null(hm_weakvaluemap_get_str(cache, "key"));
    cr_assert_eq(hm_weakvaluemap_len(cache), 0, "auto-removed from the cache");
    hm_decref(cache);
}

static void log_cb(hm_object *wr, void *user)
{
    cr_assert(hm_weakref_is_dead(wr), "the weakref is cleared before its callback runs");
    cr_assert_null(hm_weakref_get(wr));
    say("callback %s", (const char *)user);
}

HEAP_TEST(callbacks_run_newest_first_and_once)
{
    setup();
    hm_object *obj = resource_new("x");
    hm_object *w1 = hm_weakref_new(obj, log_cb, TAG("1"));
    hm_object *w2 = hm_weakref_new(obj, log_cb, TAG("2"));
    hm_object *plain = hm_weakref_new(obj, NULL, NULL);
    hm_object *w3 = hm_weakref_new(obj, log_cb, TAG("3"));
    cr_assert(hm_weakref_has_callback(w1));
    cr_assert_eq(hm_weakref_new(obj, NULL, NULL), plain, "plain weakrefs are shared");
    hm_decref(plain);
    cr_assert_eq(hm_weakref_count(obj), 4);
    hm_object *l = hm_weakref_list(obj);
    cr_assert_eq(hm_list_len(l), 4);
    cr_assert_eq(hm_list_get(l, 0), w3, "newest first");
    cr_assert_eq(hm_list_get(l, 3), w1);
    hm_decref(l);
    hm_decref(w2); /* a weakref that dies first never calls back */
    cr_assert_eq(hm_weakref_count(obj), 3);
    hm_decref(obj);
    cr_assert_str_eq(out, "Deleting x\ncallback 3\ncallback 1\n", "finalizer, then callbacks");
    cr_assert(!hm_weakref_has_callback(w1));
    hm_decref(w1);
    hm_decref(w3);
    hm_decref(plain);
}

HEAP_TEST(weakref_is_an_object_without_a_strong_edge)
{
    hm_object *obj = hm_list_new(h);
    hm_object *wr = hm_weakref_new(obj, NULL, NULL);
    hm_object *holder = hm_list_new(h);
    hm_list_append(holder, wr);
    hm_decref(wr);
    hm_object *refs = hm_gc_get_referents(wr);
    cr_assert_eq(hm_list_len(refs), 0, "the referent is not a strong reference");
    hm_decref(refs);
    char label[HM_LABEL_MAX];
    hm_object_label(wr, label, sizeof label);
    cr_assert(strstr(label, "to list") != NULL, "%s", label);
    cr_assert_str_eq(hm_object_type(wr)->name, "weakref");
    hm_decref(obj);
    hm_object_label(wr, label, sizeof label);
    cr_assert(strstr(label, "dead") != NULL, "%s", label);
    hm_decref(holder);
}

/* A callback that allocates, drops other objects and collects. */
static hm_object *victim;
static hm_object *made;

static void busy_cb(hm_object *wr, void *user)
{
    (void)wr;
    (void)user;
    say("busy %s", "start");
    made = hm_list_new(h);
    for (int i = 0; i < 1000; i++) { /* enough containers to pass the threshold */
        hm_object *x = hm_list_new(h);
        hm_list_append(made, x);
        hm_decref(x);
    }
    hm_object *v = victim;
    victim = NULL;
    hm_xdecref(v);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    say("busy %s", "end");
}

HEAP_TEST(callback_allocates_drops_and_collects)
{
    setup();
    hm_gc_set_threshold(h, 50, 10, 10);
    victim = resource_new("victim");
    hm_object *vw = hm_weakref_new(victim, log_cb, TAG("victim"));
    hm_object *obj = resource_new("obj");
    hm_object *w = hm_weakref_new(obj, busy_cb, NULL);
    hm_decref(obj);
    /* The victim dies inside the callback, when the callback drops it, as in CPython 3.11:
     *   victim = R('victim'); vw = weakref.ref(victim, lambda _: print('callback victim'))
     *   obj = R('obj'); w = weakref.ref(obj, busy); del obj
     * prints Deleting obj / busy start / Deleting victim / callback victim / busy end. */
    cr_assert_str_eq(out, "Deleting obj\nbusy start\nDeleting victim\ncallback victim\nbusy end\n");
    cr_assert_null(victim);
    hm_decref(made);
    hm_decref(w);
    hm_decref(vw);

    /* The same from inside a collection. */
    setup();
    victim = resource_new("victim2");
    obj = resource_new("cyc");
    hm_instance_set(obj, "next", obj);
    w = hm_weakref_new(obj, busy_cb, NULL);
    hm_decref(obj);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert_str_eq(out, "busy start\nDeleting victim2\nbusy end\nDeleting cyc\n");
    hm_decref(made);
    hm_decref(w);
}

/* A weakref inside the garbage cycle it points into never calls back; one outside does, before
 * any finalizer runs. */
HEAP_TEST(weakref_in_its_own_garbage_cycle)
{
    setup();
    hm_gc_disable(h);
    hm_object *a = resource_new("a"), *b = resource_new("b");
    hm_instance_set(a, "next", b);
    hm_instance_set(b, "next", a);
    hm_object *inner = hm_weakref_new(b, log_cb, TAG("inner"));
    hm_instance_set(a, "ref", inner);
    hm_decref(inner);
    hm_object *outer = hm_weakref_new(a, log_cb, TAG("outer"));
    hm_decref(a);
    hm_decref(b);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 3, "a, b and the inner weakref");
    cr_assert_str_eq(out, "callback outer\nDeleting a\nDeleting b\n");
    cr_assert(hm_weakref_is_dead(outer));
    hm_decref(outer);
    cr_assert_eq(live_objects(), 0);
    hm_gc_enable(h);
}

/* Even pointing at a live object, a weakref that is garbage is cleared and stays silent. */
HEAP_TEST(garbage_weakref_to_live_object_is_cleared)
{
    setup();
    hm_gc_disable(h);
    hm_object *live = resource_new("live");
    hm_object *a = resource_new("a");
    hm_instance_set(a, "next", a);
    hm_object *w = hm_weakref_new(live, log_cb, TAG("w"));
    hm_instance_set(a, "ref", w);
    hm_decref(w);
    hm_decref(a);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert_eq(hm_weakref_count(live), 0);
    hm_decref(live);
    cr_assert_str_eq(out, "Deleting a\nDeleting live\n");
    hm_gc_enable(h);
}

/* A finalizer that resurrects its object: the weakrefs were cleared before it ran. */
static hm_object *rescue;
static void rescuer_del(hm_object *self)
{
    say("rescue %s", "ran");
    hm_list_append(rescue, self);
}

HEAP_TEST(resurrection_finds_weakrefs_dead)
{
    setup();
    hm_gc_disable(h);
    hm_type *Phoenix = hm_class_new(&(hm_class_spec){.name = "Phoenix", .slots = resource_slots,
                                                     .finalize = rescuer_del});
    rescue = hm_list_new(h);
    hm_object *p = hm_instance_new(h, Phoenix);
    hm_instance_set(p, "next", p);
    hm_object *w = hm_weakref_new(p, log_cb, TAG("w"));
    hm_object *plain = hm_weakref_new(p, NULL, NULL);
    hm_decref(p);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert_str_eq(out, "callback w\nrescue ran\n");
    cr_assert_eq(hm_list_len(rescue), 1, "resurrected");
    cr_assert_null(hm_weakref_get(plain), "but its weakrefs are dead, as in CPython");
    p = hm_list_get(rescue, 0);
    hm_object *w2 = hm_weakref_new(p, NULL, NULL);
    cr_assert_neq(w2, plain, "a new weakref can be made");
    hm_object *got = hm_weakref_get(w2);
    cr_assert_eq(got, p);
    hm_decref(got);
    hm_instance_set(p, "next", NULL);
    hm_decref(rescue); /* dies now; its finalizer does not run twice */
    cr_assert_null(hm_weakref_get(w2));
    cr_assert_str_eq(out, "callback w\nrescue ran\n");
    hm_decref(w);
    hm_decref(w2);
    hm_decref(plain);
    hm_gc_enable(h);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Phoenix);
}

/* Refcount death with a resurrecting finalizer keeps the weakrefs intact (they are cleared only
 * once the object really goes). */
HEAP_TEST(refcount_resurrection_keeps_weakrefs)
{
    setup();
    hm_type *Phoenix = hm_class_new(&(hm_class_spec){.name = "Phoenix", .slots = resource_slots,
                                                     .finalize = rescuer_del});
    rescue = hm_list_new(h);
    hm_object *p = hm_instance_new(h, Phoenix);
    hm_object *w = hm_weakref_new(p, log_cb, TAG("w"));
    hm_decref(p);
    cr_assert_str_eq(out, "rescue ran\n");
    hm_object *got = hm_weakref_get(w);
    cr_assert_eq(got, hm_list_get(rescue, 0));
    hm_decref(got);
    hm_decref(rescue);
    cr_assert_str_eq(out, "rescue ran\ncallback w\n");
    hm_decref(w);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Phoenix);
}

/* Objects kept in gc.garbage (legacy finalizers) keep their weakrefs. */
HEAP_TEST(uncollectable_keeps_weakrefs)
{
    setup();
    hm_gc_disable(h);
    hm_type *Legacy = hm_class_new(&(hm_class_spec){.name = "Legacy", .slots = resource_slots,
                                                    .finalize = resource_del,
                                                    .flags = HM_TYPE_LEGACY_FINALIZER});
    hm_object *o = hm_instance_new(h, Legacy);
    hm_instance_set(o, "next", o);
    hm_object *w = hm_weakref_new(o, log_cb, TAG("w"));
    hm_decref(o);
    hm_gc_result r;
    hm_gc_collect(h, HM_GC_FULL, &r);
    cr_assert_eq(r.uncollectable, 1);
    cr_assert_not(hm_weakref_is_dead(w));
    cr_assert_str_eq(out, "");
    hm_object *g = hm_gc_garbage(h);
    hm_object *got = hm_weakref_get(w);
    hm_instance_set(got, "next", NULL);
    hm_decref(got);
    hm_list_clear(g);
    hm_decref(g);
    cr_assert_str_eq(out, "Deleting ?\ncallback w\n");
    hm_decref(w);
    hm_gc_enable(h);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Legacy);
}

/* A chain of 200k objects, each weakly referenced: deallocation stays a loop. */
HEAP_TEST(long_chain_with_weakrefs)
{
    enum { N = 200000 };
    hm_object *refs = hm_list_new(h);
    hm_object *head = NULL;
    for (int i = 0; i < N; i++) {
        hm_object *n = hm_list_new(h);
        if (head)
            hm_list_append(n, head);
        hm_xdecref(head);
        head = n;
        hm_object *w = hm_weakref_new(n, NULL, NULL);
        hm_list_append(refs, w);
        hm_decref(w);
    }
    hm_decref(head);
    for (int i = 0; i < N; i++)
        cr_assert(hm_weakref_is_dead(hm_list_get(refs, (size_t)i)));
    hm_decref(refs);
}

/* ---- the weak-value map ---- */

/* Another weakref to the value, newer than the map's, sets the key again from its callback. */
static hm_object *the_map;
static hm_object *replacement;

static void reset_cb(hm_object *wr, void *user)
{
    (void)wr;
    cr_assert_eq(hm_weakvaluemap_set_str(the_map, user, replacement), HM_OK);
}

HEAP_TEST(value_map_removal_keeps_a_reset_key)
{
    the_map = hm_weakvaluemap_new(h);
    hm_object *v1 = hm_list_new(h);
    replacement = hm_list_new(h);
    hm_weakvaluemap_set_str(the_map, "k", v1);
    hm_object *w = hm_weakref_new(v1, reset_cb, TAG("k"));
    hm_decref(v1);
    hm_object *got = hm_weakvaluemap_get_str(the_map, "k");
    cr_assert_eq(got, replacement, "the removal of the dead entry did not delete the new one");
    hm_decref(got);
    cr_assert_eq(hm_weakvaluemap_len(the_map), 1);
    hm_decref(replacement);
    cr_assert_eq(hm_weakvaluemap_len(the_map), 0);
    hm_decref(w);
    hm_decref(the_map);
}

/* A callback that empties the map being cleaned, from another value's death. */
static void clear_map_cb(hm_object *wr, void *user)
{
    (void)wr;
    (void)user;
    hm_weakvaluemap_del_str(the_map, "b");
    hm_weakvaluemap_del_str(the_map, "a"); /* the entry being removed itself */
    hm_object *x = hm_list_new(h);
    hm_weakvaluemap_set_str(the_map, "new", x); /* dies at once: removed again */
    hm_decref(x);
}

HEAP_TEST(callback_touches_the_map_being_cleaned)
{
    the_map = hm_weakvaluemap_new(h);
    hm_object *a = hm_list_new(h), *b = hm_list_new(h);
    hm_weakvaluemap_set_str(the_map, "a", a);
    hm_weakvaluemap_set_str(the_map, "b", b);
    hm_object *w = hm_weakref_new(a, clear_map_cb, NULL);
    hm_decref(a);
    cr_assert_eq(hm_weakvaluemap_len(the_map), 0);
    hm_decref(b);
    hm_decref(w);
    /* The map dies while a value it held lives on; then the value dies. */
    a = hm_list_new(h);
    hm_weakvaluemap_set_str(the_map, "a", a);
    hm_object *refs = hm_gc_get_referents(the_map); /* its data dict, held past the map */
    hm_decref(the_map);
    hm_decref(a);
    hm_decref(refs);
}

HEAP_TEST(value_map_object_keys_and_errors)
{
    hm_object *m = hm_weakvaluemap_new(h);
    hm_object *k1 = hm_list_new(h), *k2 = hm_int_new(h, 1000), *k2b = hm_int_new(h, 1000);
    hm_object *v = hm_list_new(h);
    cr_assert_eq(hm_weakvaluemap_set(m, k1, v), HM_OK);
    cr_assert_eq(hm_weakvaluemap_set(m, k2, v), HM_OK);
    hm_object *got = hm_weakvaluemap_get(m, k2b);
    cr_assert_eq(got, v, "int keys compare by value");
    hm_decref(got);
    cr_assert_eq(hm_weakvaluemap_len(m), 2);
    cr_assert_eq(hm_weakvaluemap_del(m, k1), HM_OK);
    cr_assert_eq(hm_weakvaluemap_del(m, k1), HM_EKEY);
    cr_assert_eq(hm_weakvaluemap_del_str(m, "nope"), HM_EKEY);
    cr_assert_eq(hm_weakvaluemap_set(v, k1, v), HM_ETYPE);
    cr_assert_eq(hm_weakvaluemap_set(m, k1, NULL), HM_EINVAL);
    hm_weakmap_iter it;
    cr_assert_eq(hm_weakmap_iter_begin(&it, v), HM_ETYPE);
    hm_decref(v);
    cr_assert_eq(hm_weakvaluemap_len(m), 0);
    hm_decref(k1);
    hm_decref(k2);
    hm_decref(k2b);
    hm_decref(m);
}

/* Values die while the map is iterated: their entries stay until the iteration ends, and are not
 * visited; a key set again meanwhile survives the deferred removal. */
HEAP_TEST(iteration_while_values_die)
{
    enum { N = 10 };
    hm_object *m = hm_weakvaluemap_new(h);
    hm_object *vals[N];
    char key[8];
    for (int i = 0; i < N; i++) {
        vals[i] = hm_int_new(h, 1000 + i);
        snprintf(key, sizeof key, "k%d", i);
        hm_weakvaluemap_set_str(m, key, vals[i]);
    }
    hm_weakmap_iter it, it2;
    cr_assert_eq(hm_weakmap_iter_begin(&it, m), HM_OK);
    cr_assert_eq(hm_weakmap_iter_begin(&it2, m), HM_OK); /* nested */
    hm_object *k, *v;
    int seen = 0;
    while (hm_weakmap_iter_next(&it, &k, &v)) {
        int i = (int)(hm_int_value(v) - 1000);
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_str_eq(hm_str_data(k), key, "insertion order");
        cr_assert_eq(i % 2, 0, "odd values died before they were reached");
        seen++;
        if (i == 0) {
            for (int j = 1; j < N; j += 2) {
                hm_decref(vals[j]);
                vals[j] = NULL;
            }
            /* k3 gets a live value again, k5 a value that dies too */
            vals[3] = hm_int_new(h, 2003);
            hm_weakvaluemap_set_str(m, "k3", vals[3]);
            hm_object *tmp = hm_int_new(h, 2005);
            hm_weakvaluemap_set_str(m, "k5", tmp);
            hm_decref(tmp);
        }
        if (i == 4) { /* a value dies while the iterator holds it: it stays until next */
            hm_decref(vals[4]);
            vals[4] = NULL;
            cr_assert_eq(hm_int_value(v), 1004);
        }
    }
    cr_assert_eq(seen, 5);
    hm_weakmap_iter_end(&it);
    cr_assert_eq(hm_weakvaluemap_len(m), 5, "1, 4, 5, 7, 9 pending");
    hm_weakmap_iter_end(&it2); /* never advanced: fine */
    cr_assert_eq(hm_weakvaluemap_len(m), 5, "0, 2, 3, 6, 8");
    hm_object *got = hm_weakvaluemap_get_str(m, "k3");
    cr_assert_not_null(got, "set again while its removal was pending");
    hm_decref(got);
    cr_assert_null(hm_weakvaluemap_get_str(m, "k4"));
    for (int i = 0; i < N; i++)
        hm_xdecref(vals[i]);
    cr_assert_eq(hm_weakvaluemap_len(m), 0);
    hm_decref(m);
}

/* ---- the weak-key map and the weak set ---- */

HEAP_TEST(weak_key_map)
{
    hm_object *m = hm_weakkeymap_new(h);
    hm_object *k1 = hm_list_new(h), *k2 = hm_list_new(h);
    hm_object *v = hm_str_new(h, "value one");
    cr_assert_eq(hm_weakkeymap_set(m, k1, v), HM_OK);
    cr_assert_eq(hm_weakkeymap_set(m, k2, v), HM_OK);
    hm_decref(v);
    cr_assert_null(hm_weakkeymap_get(m, m), "a key never set");
    hm_object *got = hm_weakkeymap_get(m, k1);
    cr_assert_str_eq(hm_str_data(got), "value one");
    hm_decref(got);
    cr_assert_eq(hm_weakkeymap_len(m), 2);
    hm_weakmap_iter it;
    hm_weakmap_iter_begin(&it, m);
    hm_object *k, *val;
    cr_assert(hm_weakmap_iter_next(&it, &k, &val));
    cr_assert_eq(k, k1);
    hm_decref(k2);
    cr_assert_not(hm_weakmap_iter_next(&it, &k, &val), "k2 died");
    cr_assert_eq(hm_weakkeymap_len(m), 1);
    hm_weakmap_iter_end(&it);
    cr_assert_eq(hm_weakkeymap_len(m), 1);
    cr_assert_eq(hm_weakkeymap_del(m, k1), HM_OK);
    cr_assert_eq(hm_weakkeymap_del(m, k1), HM_EKEY);
    hm_weakkeymap_set(m, k1, k1); /* a value that holds its key: lives while the map does */
    hm_decref(k1);
    cr_assert_eq(hm_weakkeymap_len(m), 1);
    hm_decref(m); /* takes the pair with it */
}

HEAP_TEST(weak_set)
{
    hm_object *s = hm_weakset_new(h);
    hm_object *a = hm_list_new(h), *b = hm_dict_new(h);
    cr_assert_eq(hm_weakset_add(s, a), HM_OK);
    cr_assert_eq(hm_weakset_add(s, a), HM_OK);
    cr_assert_eq(hm_weakset_add(s, b), HM_OK);
    cr_assert_eq(hm_weakset_len(s), 2);
    cr_assert(hm_weakset_contains(s, a));
    cr_assert_not(hm_weakset_contains(s, s));
    hm_decref(a);
    cr_assert_eq(hm_weakset_len(s), 1);
    hm_weakmap_iter it;
    hm_weakmap_iter_begin(&it, s);
    hm_object *k, *v = s;
    cr_assert(hm_weakmap_iter_next(&it, &k, &v));
    cr_assert_eq(k, b);
    cr_assert_null(v);
    cr_assert_eq(hm_weakset_discard(s, b), HM_OK, "changing the set while iterating");
    cr_assert_eq(hm_weakset_discard(s, b), HM_EKEY);
    cr_assert_not(hm_weakmap_iter_next(&it, &k, &v));
    hm_weakmap_iter_end(&it);
    hm_decref(b);
    /* A weak set in a garbage cycle with its items */
    hm_object *l = hm_list_new(h);
    hm_list_append(l, l);
    hm_list_append(l, s);
    hm_weakset_add(s, l);
    hm_decref(l);
    hm_decref(s);
    cr_assert_gt(hm_gc_collect(h, HM_GC_FULL, NULL), 0);
}

/* ---- randomized: a weakref is dead iff its referent was freed ---- */

enum { MAXO = 300, MAXW = 600 };
static struct {
    hm_object *obj;
    bool freed;
} ro[MAXO];
static struct {
    hm_object *wr;
    int target;
    int calls;
} rw[MAXW];
static int nro, nrw;
static uint64_t rng = 88172645463325252u;
static uint64_t next_rand(void) { return xorshift64(&rng); }

/* Objects are lists; freed ones are noticed through the lifecycle hook. */
static void on_life(hm_object *o, hm_lifecycle_event ev, void *user)
{
    (void)user;
    if (ev != HM_EVENT_DESTROY)
        return;
    for (int i = 0; i < nro; i++)
        if (ro[i].obj == o) {
            ro[i].freed = true;
            ro[i].obj = NULL;
        }
}

static void count_cb(hm_object *wr, void *user)
{
    int i = (int)(intptr_t)user;
    cr_assert_eq(rw[i].wr, wr);
    cr_assert(ro[rw[i].target].freed || ro[rw[i].target].obj, "referent known");
    rw[i].calls++;
    cr_assert_eq(rw[i].calls, 1, "a callback ran twice");
}

static bool held[MAXO];

static void oracle_run(void)
{
    nro = nrw = 0;
    memset(held, 0, sizeof held);
    hm_heap_set_lifecycle(h, on_life, NULL);
    hm_gc_set_threshold(h, 40, 5, 5);
    hm_object *vmap = hm_weakvaluemap_new(h);
    for (int round = 0; round < 3000; round++) {
        int op = (int)(next_rand() % 12);
        if (op <= 1 && nro < MAXO) { /* new object */
            ro[nro].obj = hm_list_new(h);
            ro[nro].freed = false;
            held[nro] = true;
            hm_object *k = hm_int_new(h, nro);
            hm_weakvaluemap_set(vmap, k, ro[nro].obj);
            hm_decref(k);
            nro++;
        } else if ((op == 2 || op == 3) && nro && nrw < MAXW) { /* new weakref */
            int t = (int)(next_rand() % (unsigned)nro);
            if (ro[t].obj && !ro[t].freed) {
                bool cb = next_rand() & 1;
                rw[nrw].target = t;
                rw[nrw].wr = hm_weakref_new(ro[t].obj, cb ? count_cb : NULL, (void *)(intptr_t)nrw);
                rw[nrw].calls = cb ? 0 : -1;
                nrw++;
            }
        } else if (((op >= 4 && op <= 6) || op == 11) && nro) { /* an edge, mostly between recent objects: cycles */
            int a = (int)(next_rand() % (unsigned)nro);
            int span = nro < 8 ? nro : 8;
            int b = (next_rand() & 3) ? nro - 1 - (int)(next_rand() % (unsigned)span)
                                      : (int)(next_rand() % (unsigned)nro);
            if (ro[a].obj && ro[b].obj)
                hm_list_append(ro[a].obj, ro[b].obj);
        } else if ((op == 7 || op == 8) && nro) { /* drop the test's reference */
            int a = (int)(next_rand() % (unsigned)nro);
            if (held[a]) {
                held[a] = false;
                hm_decref(ro[a].obj);
            }
        } else if (op == 9 && nro && (next_rand() & 3) == 0) { /* cut an object's edges */
            int a = (int)(next_rand() % (unsigned)nro);
            if (ro[a].obj && held[a])
                hm_list_clear(ro[a].obj);
        } else if (op == 10) {
            hm_gc_collect(h, (int)(next_rand() % 3), NULL);
        }
        /* the oracle: dead iff freed; held objects are alive */
        for (int i = 0; i < nrw; i++) {
            int t = rw[i].target;
            cr_assert_eq(hm_weakref_is_dead(rw[i].wr), ro[t].freed, "weakref %d to %d", i, t);
            if (rw[i].calls >= 0)
                cr_assert_eq(rw[i].calls, ro[t].freed ? 1 : 0);
        }
        for (int i = 0; i < nro; i++) {
            if (held[i])
                cr_assert_not(ro[i].freed);
            hm_object *k = hm_int_new(h, i);
            hm_object *v = hm_weakvaluemap_get(vmap, k);
            cr_assert_eq(v, ro[i].freed ? NULL : ro[i].obj);
            hm_xdecref(v);
            hm_decref(k);
        }
    }
    for (int i = 0; i < nro; i++)
        if (held[i])
            hm_decref(ro[i].obj);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    for (int i = 0; i < nrw; i++) {
        cr_assert(hm_weakref_is_dead(rw[i].wr));
        cr_assert(rw[i].calls != 0, "every callback ran once in the end");
        hm_decref(rw[i].wr);
    }
    cr_assert_eq(hm_weakvaluemap_len(vmap), 0);
    hm_decref(vmap);
    hm_heap_set_lifecycle(h, NULL, NULL);
}

HEAP_TEST(random_against_oracle)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        rng = 88172645463325252u ^ (seed * 0x9e3779b97f4a7c15u);
        oracle_run();
    }
}

/* The side table copes with many objects gaining and losing weakrefs. */
HEAP_TEST(side_table_churn)
{
    hm_object *objs[2000], *refs[2000];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 2000; i++) {
            objs[i] = hm_list_new(h);
            refs[i] = hm_weakref_new(objs[i], NULL, NULL);
        }
        for (int i = 0; i < 2000; i += 2)
            hm_decref(refs[i]); /* the object loses its only weakref */
        for (int i = 0; i < 2000; i++) {
            cr_assert_eq(hm_weakref_count(objs[i]), (size_t)(i % 2));
            hm_decref(objs[i]);
        }
        for (int i = 1; i < 2000; i += 2) {
            cr_assert(hm_weakref_is_dead(refs[i]));
            hm_decref(refs[i]);
        }
    }
}

/* Resource is shared by the tests of one worker process; freed at its exit. */
static void free_resource(void) __attribute__((destructor));
static void free_resource(void) { hm_class_free(Resource); }

/* The map is garbage in a collection while one of its entry weakrefs is held from outside and
 * its value dies with it: the callback finds the map gone (its self-weakref was cleared first)
 * and touches nothing. */
HEAP_TEST(entry_weakref_outlives_its_garbage_map)
{
    hm_gc_disable(h);
    hm_object *m = hm_weakvaluemap_new(h);
    hm_object *v = hm_list_new(h);
    hm_list_append(v, v);
    cr_assert_eq(hm_weakvaluemap_set(m, m, v), HM_OK); /* key = the map: a cycle through data */
    hm_object *refs = hm_gc_get_referents(m);          /* data, selfref */
    hm_object *data = NULL;
    for (size_t i = 0; i < hm_list_len(refs); i++)
        if (hm_is(hm_list_get(refs, i), &hm_dict_type))
            data = hm_list_get(refs, i);
    cr_assert_not_null(data);
    hm_object *entry = hm_incref(hm_dict_get(data, m));
    cr_assert(hm_is_weakref(entry));
    hm_decref(refs);
    hm_decref(v);
    hm_decref(m);
    cr_assert_gt(hm_gc_collect(h, HM_GC_FULL, NULL), 0);
    cr_assert(hm_weakref_is_dead(entry));
    hm_decref(entry);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 0);
    cr_assert_eq(live_objects(), 0);
    hm_gc_enable(h);
}
