/* test_trace.c: allocation sites (tracemalloc): sites recorded by the constructor macros, traced
 * memory and its peak, statistics by line and by file, compare_to, the text lines, and a random
 * create/destroy oracle over many sites. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

#define HEAP_SUITE trace
#include "heap_test.h"

static size_t traced_current(void)
{
    size_t cur, peak;
    hm_trace_get_traced_memory(h, &cur, &peak);
    return cur;
}

static size_t traced_peak(void)
{
    size_t peak;
    hm_trace_get_traced_memory(h, NULL, &peak);
    return peak;
}

HEAP_TEST(off_by_default)
{
    cr_assert(!hm_trace_is_tracing(h));
    hm_object *l = hm_list_new(h);
    hm_site s;
    cr_assert_eq(hm_trace_site_of(l, &s), HM_EKEY);
    cr_assert_eq(traced_current(), 0);
    hm_trace_stats st;
    cr_assert_eq(hm_trace_statistics(h, HM_TRACE_LINENO, &st), HM_OK);
    cr_assert_eq(st.n, 0);
    hm_trace_stats_free(&st);
    hm_decref(l);
}

HEAP_TEST(objects_record_their_creation_site)
{
    cr_assert_eq(hm_trace_start(h), HM_OK);
    cr_assert_eq(hm_trace_start(h), HM_OK, "starting twice is fine");
    cr_assert(hm_trace_is_tracing(h));
    int line = __LINE__ + 1;
    hm_object *l = hm_list_new(h);
    hm_object *big = hm_int_new(h, 123456);
    hm_site s;
    cr_assert_eq(hm_trace_site_of(l, &s), HM_OK);
    cr_assert_str_eq(s.file, __FILE__);
    cr_assert_eq(s.line, line);
    cr_assert_str_eq(s.function, "objects_record_their_creation_site_body");
    cr_assert_eq(hm_trace_site_of(big, &s), HM_OK);
    cr_assert_eq(s.line, line + 1);
    cr_assert_eq(traced_current(), hm_object_size(l) + hm_object_size(big));
    /* A cached small int made before tracing started is not a new object: nothing is traced. */
    hm_trace_stop(h);
    hm_decref(hm_int_new(h, 7));
    hm_trace_start(h);
    hm_object *small = hm_int_new(h, 7);
    cr_assert_eq(hm_trace_site_of(small, &s), HM_EKEY);
    cr_assert_eq(hm_trace_site_of(l, &s), HM_EKEY, "stop forgot every trace");
    hm_decref(small);
    hm_decref(l);
    hm_decref(big);
    cr_assert_eq(traced_current(), 0, "made before this start: not traced");
    hm_trace_stop(h);
    cr_assert(!hm_trace_is_tracing(h));
}

/* An instance's __dict__ is made inside hm_instance_new: it is charged to the same line. */
HEAP_TEST(objects_made_inside_a_call_belong_to_its_site)
{
    hm_type *Normal = hm_class_new(&(hm_class_spec){.name = "Normal"});
    hm_trace_start(h);
    int line = __LINE__ + 1;
    hm_object *n = hm_instance_new(h, Normal);
    hm_site s;
    cr_assert_eq(hm_trace_site_of(hm_instance_dict(n), &s), HM_OK);
    cr_assert_eq(s.line, line);
    hm_decref(n);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Normal);
}

/* Objects made on the side by a call are charged to that call's line, not to the last
 * constructor's: the key string of hm_dict_set_str, an attribute's interned name, gc.garbage. */
static hm_object *dict_key(const hm_object *dict, const char *text)
{
    size_t pos = 0;
    hm_object *k, *v;
    while (hm_dict_next(dict, &pos, &k, &v))
        if (strcmp(hm_str_data(k), text) == 0)
            return k;
    cr_assert_fail("no key '%s'", text);
    return NULL;
}

static void assert_site(const hm_object *o, int line)
{
    hm_site s;
    cr_assert_eq(hm_trace_site_of(o, &s), HM_OK);
    cr_assert_str_eq(s.file, __FILE__);
    cr_assert_eq(s.line, line);
    cr_assert_str_eq(s.function, "objects_made_on_the_side_belong_to_the_call_that_made_them_body");
}

HEAP_TEST(objects_made_on_the_side_belong_to_the_call_that_made_them)
{
    hm_type *Point = hm_class_new(&(hm_class_spec){.name = "Point"});
    hm_trace_start(h);
    int made = __LINE__ + 1;
    hm_object *d = hm_dict_new(h), *v = hm_int_new(h, 1000), *p = hm_instance_new(h, Point);
    int set_key = __LINE__ + 1;
    cr_assert_eq(hm_dict_set_str(d, "a key made by the call", v), HM_OK);
    int set_attr = __LINE__ + 1;
    cr_assert_eq(hm_instance_set(p, "attribute_named_only_here", v), HM_OK);
    assert_site(d, made);
    assert_site(dict_key(d, "a key made by the call"), set_key);
    assert_site(dict_key(hm_instance_dict(p), "attribute_named_only_here"), set_attr);

    /* gc.garbage's list, made by the first hm_gc_garbage. */
    int garbage_line = __LINE__ + 1;
    hm_object *garbage = hm_gc_garbage(h);
    assert_site(garbage, garbage_line);

    /* By the statistics too: one entry per line, one object each. */
    hm_trace_stats st;
    cr_assert_eq(hm_trace_statistics(h, HM_TRACE_LINENO, &st), HM_OK);
    int lines[] = {set_key, set_attr, garbage_line};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        size_t count = 0;
        for (size_t k = 0; k < st.n; k++)
            if (st.items[k].site.line == lines[i] && strcmp(st.items[k].site.file, __FILE__) == 0)
                count += st.items[k].count;
        cr_assert_eq(count, 1, "line %d", lines[i]);
    }
    hm_trace_stats_free(&st);
    hm_decref(garbage);
    hm_decref(d);
    hm_decref(v);
    hm_decref(p);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Point);
}

static int site_line(const hm_object *o)
{
    hm_site s;
    cr_assert_eq(hm_trace_site_of(o, &s), HM_OK);
    cr_assert_str_eq(s.file, __FILE__);
    cr_assert_str_eq(s.function, "weak_references_and_finalizers_record_their_site_body");
    return s.line;
}

static void ignore(hm_object *arg, void *user)
{
    (void)arg;
    (void)user;
}

/* The weakref module's constructors are sites like the others, and so are the weak containers'
 * setters, which make the entry's weakref: weakref.ref(x) and cache[k] = x show in tracemalloc at
 * the line that ran them. */
HEAP_TEST(weak_references_and_finalizers_record_their_site)
{
    hm_trace_start(h);
    hm_object *obj = hm_list_new(h), *value = hm_int_new(h, 1000);
    int line = __LINE__ + 1;
    hm_object *wr = hm_weakref_new(obj, NULL, NULL);
    hm_object *fin = hm_finalize_new(obj, ignore, NULL, NULL);
    hm_object *vmap = hm_weakvaluemap_new(h);
    hm_object *kmap = hm_weakkeymap_new(h);
    hm_object *set = hm_weakset_new(h);
    hm_weakvaluemap_set_str(vmap, "key", obj);
    hm_weakkeymap_set(kmap, obj, value);
    hm_weakset_add(set, obj);
    hm_object *refs = hm_weakref_list(obj);
    cr_assert_eq(site_line(wr), line);
    cr_assert_eq(site_line(fin), line + 1);
    cr_assert_eq(site_line(vmap), line + 2);
    cr_assert_eq(site_line(kmap), line + 3);
    cr_assert_eq(site_line(set), line + 4);
    cr_assert_eq(site_line(refs), line + 8);
    /* Newest first: the set's entry, the key map's, the value map's, the finalizer's own, wr. */
    cr_assert_eq(hm_list_len(refs), 5);
    static const int expect[] = {7, 6, 5, 1, 0};
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(site_line(hm_list_get(refs, i)), line + expect[i], "weakref %zu", i);

    /* An iteration's snapshot of the entries is charged to the loop that begins it. */
    hm_trace_stats before, during;
    hm_trace_statistics(h, HM_TRACE_LINENO, &before);
    hm_weakmap_iter it;
    line = __LINE__ + 1;
    cr_assert_eq(hm_weakmap_iter_begin(&it, vmap), HM_OK);
    hm_trace_statistics(h, HM_TRACE_LINENO, &during);
    hm_trace_diffs d;
    cr_assert_eq(hm_trace_compare(&during, &before, &d), HM_OK);
    cr_assert_eq(d.items[0].site.line, line);
    cr_assert_gt(d.items[0].count_diff, 0);
    hm_trace_diffs_free(&d);
    hm_trace_stats_free(&before);
    hm_trace_stats_free(&during);
    hm_weakmap_iter_end(&it);

    hm_object *objs[] = {refs, wr, fin, vmap, kmap, set, value, obj};
    for (size_t i = 0; i < sizeof objs / sizeof *objs; i++)
        hm_decref(objs[i]);
}

HEAP_TEST(current_and_peak)
{
    hm_trace_start(h);
    hm_object *objs[10];
    for (int i = 0; i < 10; i++)
        objs[i] = hm_str_new(h, "abcdefgh");
    size_t one = hm_object_size(objs[0]);
    cr_assert_eq(traced_current(), 10 * one);
    cr_assert_eq(traced_peak(), 10 * one);
    for (int i = 0; i < 6; i++)
        hm_decref(objs[i]);
    cr_assert_eq(traced_current(), 4 * one);
    cr_assert_eq(traced_peak(), 10 * one);
    hm_trace_reset_peak(h);
    cr_assert_eq(traced_peak(), 4 * one);
    for (int i = 6; i < 10; i++)
        hm_decref(objs[i]);
    cr_assert_eq(traced_current(), 0);
    cr_assert_eq(traced_peak(), 4 * one);
    hm_trace_stop(h);
    size_t cur = 1, peak = 1;
    hm_trace_get_traced_memory(h, &cur, &peak);
    cr_assert(cur == 0 && peak == 0);
}

static hm_object *keep[64];
static size_t nkeep;

static void make_at_line_a(int n)
{
    for (int i = 0; i < n; i++)
        keep[nkeep++] = hm_str_new(h, "0123456789abcdef0123456789"); /* line A */
}

static void make_at_line_b(int n)
{
    for (int i = 0; i < n; i++)
        keep[nkeep++] = hm_list_new(h); /* line B */
}

static const hm_trace_stat *find_line(const hm_trace_stats *st, const char *function)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->items[i].site.function && strcmp(st->items[i].site.function, function) == 0)
            return &st->items[i];
    return NULL;
}

HEAP_TEST(statistics_by_line_and_by_file_and_compare_to)
{
    nkeep = 0;
    hm_trace_start(h);
    make_at_line_a(10);
    make_at_line_b(3);
    size_t str_size = hm_object_size(keep[0]), list_size = hm_object_size(keep[10]);

    hm_trace_stats s1;
    cr_assert_eq(hm_trace_statistics(h, HM_TRACE_LINENO, &s1), HM_OK);
    cr_assert_eq(s1.n, 2);
    cr_assert_eq(s1.key, HM_TRACE_LINENO);
    const hm_trace_stat *a = find_line(&s1, "make_at_line_a"), *b = find_line(&s1, "make_at_line_b");
    cr_assert(a && b);
    cr_assert_eq(a->count, 10);
    cr_assert_eq(a->size, 10 * str_size);
    cr_assert_eq(b->count, 3);
    cr_assert_eq(b->size, 3 * list_size);
    cr_assert_eq(&s1.items[0], a, "biggest first");
    cr_assert_eq(s1.total_size, traced_current());
    cr_assert_eq(s1.total_count, 13);

    hm_trace_stats f1;
    cr_assert_eq(hm_trace_statistics(h, HM_TRACE_FILENAME, &f1), HM_OK);
    cr_assert_eq(f1.n, 1, "one file");
    cr_assert_str_eq(f1.items[0].site.file, __FILE__);
    cr_assert_eq(f1.items[0].site.line, 0);
    cr_assert_null(f1.items[0].site.function);
    cr_assert_eq(f1.items[0].size, s1.total_size);
    cr_assert_eq(f1.items[0].count, 13);

    char line[256];
    hm_trace_stat_format(a, line, sizeof line);
    char expect[256];
    snprintf(expect, sizeof expect, "%s:%d: size=%zu B, count=10, average=%zu B", __FILE__, a->site.line,
             10 * str_size, str_size);
    cr_assert_str_eq(line, expect);
    hm_trace_stat_format(&f1.items[0], line, sizeof line);
    cr_assert_eq(strncmp(line, __FILE__ ": size=", strlen(__FILE__) + 7), 0, "%s", line);

    /* Free 4 strings and every list, make 2 more lists: compare_to. */
    for (int i = 0; i < 4; i++)
        hm_decref(keep[i]);
    for (int i = 10; i < 13; i++)
        hm_decref(keep[i]);
    hm_object *c1 = hm_dict_new(h), *c2 = hm_dict_new(h);
    int dict_line = __LINE__ - 1;
    hm_trace_stats s2;
    cr_assert_eq(hm_trace_statistics(h, HM_TRACE_LINENO, &s2), HM_OK);
    hm_trace_diffs d;
    cr_assert_eq(hm_trace_compare(&s2, &s1, &d), HM_OK);
    cr_assert_eq(d.n, 3, "line A, line B (gone), the dicts (new)");
    for (size_t i = 0; i < d.n; i++) {
        const hm_trace_diff *x = &d.items[i];
        if (x->site.function && strcmp(x->site.function, "make_at_line_a") == 0) {
            cr_assert_eq(x->count, 6);
            cr_assert_eq(x->count_diff, -4);
            cr_assert_eq(x->size_diff, -4 * (int64_t)str_size);
        } else if (x->site.function && strcmp(x->site.function, "make_at_line_b") == 0) {
            cr_assert_eq(x->count, 0);
            cr_assert_eq(x->size, 0);
            cr_assert_eq(x->count_diff, -3);
        } else {
            cr_assert_eq(x->site.line, dict_line);
            cr_assert_eq(x->count, 2);
            cr_assert_eq(x->count_diff, 2);
            cr_assert_eq(x->size_diff, (int64_t)(2 * hm_object_size(c1)));
        }
        if (i > 0) {
            int64_t p = d.items[i - 1].size_diff, q = x->size_diff;
            cr_assert_geq(p < 0 ? -p : p, q < 0 ? -q : q, "sorted by |size_diff|");
        }
    }
    /* "file:line: size=0 B (-N B), count=0 (-3)" for the gone line. */
    for (size_t i = 0; i < d.n; i++) {
        hm_trace_diff_format(&d.items[i], line, sizeof line);
        if (d.items[i].count == 0)
            cr_assert_not_null(strstr(line, "size=0 B (-"), "%s", line);
        if (d.items[i].count_diff == 2)
            cr_assert_not_null(strstr(line, "count=2 (+2), average="), "%s", line);
    }
    hm_trace_stats f2;
    hm_trace_statistics(h, HM_TRACE_FILENAME, &f2);
    hm_trace_diffs bad;
    cr_assert_eq(hm_trace_compare(&s2, &f2, &bad), HM_EINVAL, "different keys");

    hm_trace_diffs_free(&d);
    hm_trace_stats_free(&s1);
    hm_trace_stats_free(&s2);
    hm_trace_stats_free(&f1);
    hm_trace_stats_free(&f2);
    for (int i = 4; i < 10; i++)
        hm_decref(keep[i]);
    hm_decref(c1);
    hm_decref(c2);
}

HEAP_TEST(sizes_are_printed_as_python_does)
{
    hm_trace_stat s = {.site = {.file = "x.c", .line = 3, .function = "f"}, .size = 1536, .count = 3};
    char line[128];
    hm_trace_stat_format(&s, line, sizeof line);
    cr_assert_str_eq(line, "x.c:3: size=1536 B, count=3, average=512 B");
    s.size = 150 * 1024;
    hm_trace_stat_format(&s, line, sizeof line);
    cr_assert_str_eq(line, "x.c:3: size=150 KiB, count=3, average=50.0 KiB");
    hm_trace_diff d = {.site = s.site, .size = 20000, .count = 1, .size_diff = -20000, .count_diff = -1};
    hm_trace_diff_format(&d, line, sizeof line);
    cr_assert_str_eq(line, "x.c:3: size=19.5 KiB (-19.5 KiB), count=1 (-1), average=19.5 KiB");
}

/* A finalizer run by an automatic collection inside a constructor makes its own objects; the
 * object being constructed keeps its caller's site. */
static hm_object *made_by_finalizer;
static int finalizer_line;

static void finalizer(hm_object *self)
{
    if (!made_by_finalizer) {
        finalizer_line = __LINE__ + 1;
        made_by_finalizer = hm_str_new(hm_object_heap(self), "from __del__");
    }
}

HEAP_TEST(a_finalizer_does_not_steal_the_site)
{
    static const char *const slots[] = {"other", NULL};
    hm_type *Fin = hm_class_new(&(hm_class_spec){.name = "Fin", .slots = slots, .finalize = finalizer});
    made_by_finalizer = NULL;
    hm_gc_disable(h);
    hm_object *x = hm_instance_new(h, Fin), *y = hm_instance_new(h, Fin);
    hm_instance_set_slot(x, 0, y);
    hm_instance_set_slot(y, 0, x);
    hm_decref(x);
    hm_decref(y);
    hm_trace_start(h);
    hm_gc_set_threshold(h, 1, 10, 10);
    hm_gc_enable(h);
    int line = __LINE__ + 1;
    hm_object *l = hm_list_new(h); /* collects the Fin cycle first */
    cr_assert_not_null(made_by_finalizer, "the finalizer ran during the allocation");
    hm_site s;
    cr_assert_eq(hm_trace_site_of(l, &s), HM_OK);
    cr_assert_eq(s.line, line);
    cr_assert_eq(hm_trace_site_of(made_by_finalizer, &s), HM_OK);
    cr_assert_eq(s.line, finalizer_line);
    cr_assert_str_eq(s.function, "finalizer");
    hm_decref(l);
    hm_decref(made_by_finalizer);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Fin);
}

/* ---- oracle: random objects at random sites against a per-site model ---- */

#define NSITES 40
static const char *const files[] = {"a.c", "b.c", "dir/c.c", "d.h"};

typedef struct model_site {
    size_t size, count;
} model_site;

static void check_stats(const model_site *m, size_t cur)
{
    hm_trace_stats st;
    cr_assert_eq(hm_trace_statistics(h, HM_TRACE_LINENO, &st), HM_OK);
    size_t total = 0, n = 0;
    for (int i = 0; i < NSITES; i++) {
        if (!m[i].count)
            continue;
        n++;
        bool found = false;
        for (size_t k = 0; k < st.n; k++) {
            if (strcmp(st.items[k].site.file, files[i % 4]) == 0 && st.items[k].site.line == 100 + i) {
                cr_assert_eq(st.items[k].size, m[i].size);
                cr_assert_eq(st.items[k].count, m[i].count);
                found = true;
            }
        }
        cr_assert(found, "site %d missing", i);
        total += m[i].size;
    }
    cr_assert_eq(st.n, n);
    cr_assert_eq(st.total_size, total);
    cr_assert_eq(total, cur);
    for (size_t k = 1; k < st.n; k++)
        cr_assert_geq(st.items[k - 1].size, st.items[k].size);
    /* By file: the per-line groups summed. */
    hm_trace_stats fs;
    hm_trace_statistics(h, HM_TRACE_FILENAME, &fs);
    for (size_t k = 0; k < fs.n; k++) {
        size_t want = 0;
        for (int i = 0; i < NSITES; i++)
            if (strcmp(files[i % 4], fs.items[k].site.file) == 0)
                want += m[i].size;
        cr_assert_eq(fs.items[k].size, want);
    }
    hm_trace_stats_free(&fs);
    hm_trace_stats_free(&st);
}

HEAP_TEST(random_objects_match_the_model)
{
    srand(11);
    hm_trace_start(h);
    model_site m[NSITES] = {{0}};
    enum { MAXLIVE = 3000 };
    hm_object **obj = calloc(MAXLIVE, sizeof *obj);
    int *site = calloc(MAXLIVE, sizeof *site);
    size_t n = 0, cur = 0, peak = 0;
    for (int step = 0; step < 40000; step++) {
        if ((rand() % 3 && n < MAXLIVE) || n == 0) {
            int s = rand() % NSITES;
            /* Half the time the file name is another copy of the same text: sites are
             * compared by content, not by pointer. */
            static char copies[4][16];
            snprintf(copies[s % 4], sizeof copies[0], "%s", files[s % 4]);
            hm_trace_here(h, rand() % 2 ? files[s % 4] : copies[s % 4], 100 + s, "fn");
            char text[64];
            int len = rand() % 60;
            memset(text, 'x', (size_t)len);
            text[len] = '\0';
            hm_object *o = (hm_str_new_len)(h, text, (size_t)len); /* no macro: the site set above */
            obj[n] = o;
            site[n] = s;
            n++;
            m[s].size += hm_object_size(o);
            m[s].count++;
            cur += hm_object_size(o);
            if (cur > peak)
                peak = cur;
        } else {
            size_t i = (size_t)rand() % n;
            m[site[i]].size -= hm_object_size(obj[i]);
            m[site[i]].count--;
            cur -= hm_object_size(obj[i]);
            hm_decref(obj[i]);
            obj[i] = obj[n - 1];
            site[i] = site[n - 1];
            n--;
        }
        if (step % 5000 == 0) {
            check_stats(m, cur);
            cr_assert_eq(traced_peak(), peak);
        }
        if (step == 20000) {
            hm_trace_reset_peak(h);
            peak = cur;
        }
    }
    check_stats(m, cur);
    cr_assert_eq(traced_current(), cur);
    cr_assert_eq(traced_peak(), peak);
    while (n)
        hm_decref(obj[--n]);
    cr_assert_eq(traced_current(), 0);
    free(obj);
    free(site);
}

/* Tracing left on at heap destroy: the tables go with the heap (the sanitizers check). */
HEAP_TEST(destroy_while_tracing)
{
    hm_trace_start(h);
    hm_object *l = hm_list_new(h);
    hm_decref(l);
    hm_object *kept = hm_dict_new(h);
    hm_object_make_immortal(kept); /* still alive at destroy: freed with the heap */
    hm_heap_destroy(h, NULL);
    h = hm_heap_new();
}
