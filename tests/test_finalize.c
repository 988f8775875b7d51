/* test_finalize.c: weakref.finalize: the seed's Resource example, alive/peek/detach, call-once,
 * finalizers in garbage cycles and from callbacks, and the atexit run at heap destruction. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hm.h"

#define HEAP_SUITE finalize
#define HEAP_TEST_SETUP() (out[0] = '\0')
#include "captured_output.h"
#include "heap_test.h"

/* @staticmethod cleanup(name): print(f"Cleaning up {name}") */
static void cleanup(hm_object *name, void *user)
{
    (void)user;
    say("Cleaning up %s", hm_str_data(name));
}

static const char *const resource_slots[] = {"name", "_finalizer", "next", NULL};

/* class Resource: __init__ registers weakref.finalize(self, self.cleanup, name). */
static hm_object *resource_new(const hm_type *Resource, const char *name)
{
    hm_object *r = hm_instance_new(h, Resource);
    hm_object *s = hm_str_new(h, name);
    hm_instance_set(r, "name", s);
    hm_object *f = hm_finalize_new(r, cleanup, s, NULL);
    hm_instance_set(r, "_finalizer", f);
    hm_decref(f);
    hm_decref(s);
    return r;
}

static void resource_detach(hm_object *self)
{
    cr_assert(hm_finalize_detach(hm_instance_get(self, "_finalizer"), NULL, NULL, NULL, NULL));
}

HEAP_TEST(seed_finalize_example)
{
    hm_type *Resource = hm_class_new(&(hm_class_spec){.name = "Resource", .slots = resource_slots});
    hm_object *obj = resource_new(Resource, "resource");
    cr_assert_str_eq(out, "");
    hm_decref(obj); /* del obj */
    cr_assert_str_eq(out, "Cleaning up resource\n");

    /* detach(): prevent finalization */
    obj = resource_new(Resource, "detached");
    resource_detach(obj);
    hm_decref(obj);
    cr_assert_str_eq(out, "Cleaning up resource\n");
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Resource);
}

static void count_fn(hm_object *arg, void *user)
{
    (void)arg;
    ++*(int *)user;
}

HEAP_TEST(alive_peek_detach_call_once)
{
    int runs = 0;
    hm_object *obj = hm_list_new(h);
    hm_object *arg = hm_str_new(h, "arg");
    hm_object *f = hm_finalize_new(obj, count_fn, arg, &runs);
    cr_assert_not_null(f);
    cr_assert(hm_finalize_alive(f));
    cr_assert(hm_finalize_get_atexit(f), "atexit by default, as in Python");
    hm_object *o, *a;
    hm_finalize_fn fn;
    void *user;
    cr_assert(hm_finalize_peek(f, &o, &fn, &a, &user));
    cr_assert(o == obj && fn == count_fn && a == arg && user == &runs);
    hm_decref(o);
    hm_decref(a);
    cr_assert(hm_finalize_alive(f), "peek leaves it alive");
    cr_assert_eq(hm_finalize_call(f), 1);
    cr_assert_eq(runs, 1);
    cr_assert_not(hm_finalize_alive(f));
    cr_assert_eq(hm_finalize_call(f), 0, "called once only");
    cr_assert_not(hm_finalize_peek(f, &o, NULL, NULL, NULL));
    cr_assert_not(hm_finalize_detach(f, NULL, NULL, NULL, NULL));
    hm_decref(obj);
    cr_assert_eq(runs, 1, "not again when the object dies");
    cr_assert_eq(hm_finalize_call(obj = hm_list_new(h)), HM_ETYPE);
    hm_decref(obj);

    /* detach hands back what was registered */
    obj = hm_list_new(h);
    hm_object *f2 = hm_finalize_new(obj, count_fn, arg, &runs);
    cr_assert(hm_finalize_detach(f2, &o, &fn, &a, NULL));
    cr_assert(o == obj && a == arg);
    hm_decref(o);
    hm_decref(a);
    cr_assert_not(hm_finalize_alive(f2));
    hm_decref(obj);
    cr_assert_eq(runs, 1);
    hm_decref(f2);
    hm_decref(arg);
    hm_decref(f);
}

HEAP_TEST(handle_dropped_at_once_still_runs)
{
    int runs = 0;
    hm_object *obj = hm_list_new(h);
    hm_decref(hm_finalize_new(obj, count_fn, NULL, &runs));
    hm_decref(obj);
    cr_assert_eq(runs, 1, "the heap keeps a live finalizer");
}

HEAP_TEST(finalize_in_a_garbage_cycle)
{
    hm_gc_disable(h);
    hm_type *Resource = hm_class_new(&(hm_class_spec){.name = "Resource", .slots = resource_slots});
    hm_object *a = resource_new(Resource, "a"), *b = resource_new(Resource, "b");
    hm_instance_set(a, "next", b);
    hm_instance_set(b, "next", a);
    hm_decref(a);
    hm_decref(b);
    cr_assert_str_eq(out, "");
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert(strcmp(out, "Cleaning up a\nCleaning up b\n") == 0 ||
              strcmp(out, "Cleaning up b\nCleaning up a\n") == 0, "%s", out);
    hm_gc_enable(h);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Resource);
}

/* A finalizer whose function drops its object's other holders, makes new finalizers and
 * collects. */
static hm_object *keep;
static void busy_fn(hm_object *arg, void *user)
{
    (void)user;
    say("busy %s", hm_str_data(arg));
    hm_object *k = keep;
    keep = NULL;
    hm_xdecref(k); /* its own finalizer runs after this one returns */
    hm_gc_collect(h, HM_GC_FULL, NULL);
}

HEAP_TEST(finalizer_function_drops_and_collects)
{
    int runs = 0;
    keep = hm_list_new(h);
    hm_decref(hm_finalize_new(keep, count_fn, NULL, &runs));
    hm_object *obj = hm_list_new(h);
    hm_object *arg = hm_str_new(h, "one");
    hm_decref(hm_finalize_new(obj, busy_fn, arg, NULL));
    hm_decref(arg);
    hm_decref(obj);
    cr_assert_str_eq(out, "busy one\n");
    cr_assert_eq(runs, 1);
}

/* atexit: live finalizers run at heap destruction, newest first; atexit=false ones do not. */
static void exit_fn(hm_object *arg, void *user)
{
    say("exit %s", (const char *)user);
    if (arg && hm_is(arg, &hm_list_type) && strcmp(user, "made-late") != 0) {
        /* A finalizer made during the exit run is run too. */
        hm_object *o = hm_list_get(arg, 0);
        hm_decref(hm_finalize_new(o, exit_fn, NULL, TAG("made-late")));
    }
}

Test(finalize, atexit_runs_newest_first_at_heap_destroy)
{
    out[0] = '\0';
    h = hm_heap_new();
    hm_object *a = hm_list_new(h), *b = hm_list_new(h);
    hm_decref(hm_finalize_new(a, exit_fn, NULL, TAG("first")));
    hm_object *no = hm_finalize_new(b, exit_fn, NULL, TAG("not at exit"));
    hm_finalize_set_atexit(no, false);
    cr_assert_not(hm_finalize_get_atexit(no));
    hm_decref(no);
    hm_object *holder = hm_list_new(h);
    hm_list_append(holder, a);
    hm_decref(hm_finalize_new(b, exit_fn, holder, TAG("second")));
    hm_decref(holder);
    hm_decref(hm_finalize_new(a, exit_fn, NULL, TAG("third")));
    hm_object *gone = hm_list_new(h);
    hm_decref(hm_finalize_new(gone, exit_fn, NULL, TAG("died before")));
    hm_decref(gone);
    cr_assert_str_eq(out, "exit died before\n");
    out[0] = '\0';
    /* a and b are leaked on purpose: their finalizers run at destruction */
    hm_heap_report rep = {0};
    size_t left = hm_heap_destroy(h, &rep);
    h = NULL;
    cr_assert_str_eq(out, "exit third\nexit second\nexit made-late\nexit first\n");
    cr_assert_geq(left, 2);
}

Test(finalize, atexit_with_nothing_alive)
{
    h = hm_heap_new();
    hm_object *a = hm_list_new(h);
    hm_object *f = hm_finalize_new(a, count_fn, NULL, NULL);
    hm_object *o;
    cr_assert(hm_finalize_detach(f, &o, NULL, NULL, NULL));
    hm_decref(o);
    hm_decref(f);
    hm_decref(a);
    cr_assert_eq(hm_heap_destroy(h, NULL), 0);
}
