/* test_trace_stacks.c: libhm's tracing with call stacks (hm_trace_start_depth): a snapshot's
 * sites carry the stacks that reached them, named by function in calling order and cut at the
 * depth, as formats/heapdump.md §5.1 stores them (read back with libheapdump); one line reached
 * by two stacks is two sites in the dump and one line in the statistics. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "heapdump.h"
#include "hm.h"
#include "hm_snapshot.h"

#define HEAP_SUITE trace_stacks
#include "heap_test.h"

/* Calls that stay calls at -O2: no inlining, no tail call (the store after each call). */
#define CALL __attribute__((noinline))
static volatile int after_call;

static CALL hm_object *leaf_alloc(hm_heap *heap)
{
    hm_object *o = hm_list_new(heap);
    after_call++;
    return o;
}

static CALL hm_object *middle(hm_heap *heap)
{
    hm_object *o = leaf_alloc(heap);
    after_call++;
    return o;
}

static CALL hm_object *outer(hm_heap *heap)
{
    hm_object *o = middle(heap);
    after_call++;
    return o;
}

static CALL hm_object *other_caller(hm_heap *heap)
{
    hm_object *o = leaf_alloc(heap);
    after_call++;
    return o;
}

static CALL hm_object *recurse(hm_heap *heap, int n)
{
    hm_object *o = n ? recurse(heap, n - 1) : hm_list_new(heap);
    after_call++;
    return o;
}

static hd_dump *snapshot_of(hm_heap *heap)
{
    char *json;
    size_t len;
    cr_assert_eq(hm_snapshot_write_buffer(heap, &json, &len, NULL), HM_OK);
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(json, len, "stacks.json", NULL, &d, &err);
    cr_assert_eq(rc, HD_OK, "%s:%llu: %s", err.file, (unsigned long long)err.line, err.message);
    free(json);
    return d;
}

/* The functions of the stack of object id's site, innermost first, joined by ' '. */
static void stack_functions(const hd_dump *d, hm_object *o, char *buf, size_t cap)
{
    uint32_t i = hd_object_find(d, hm_object_id(o));
    cr_assert_neq(i, HD_NONE);
    uint32_t s = hd_object_site(d, i);
    cr_assert_neq(s, HD_NONE, "the object has a site");
    buf[0] = '\0';
    for (uint32_t n = hd_site_stack(d, s); n != HD_NONE; n = hd_stack_parent(d, n)) {
        const char *f = hd_frame_function(d, hd_stack_frame(d, n));
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? " " : "", f[0] ? f : "?");
    }
}

HEAP_TEST(stacks_name_the_callers_in_order)
{
    cr_assert_eq(hm_trace_start_depth(h, 8), HM_OK);
    cr_assert_eq(hm_trace_depth(h), 8);
    hm_object *o = outer(h);
    hd_dump *d = snapshot_of(h);
    char names[1024];
    stack_functions(d, o, names, sizeof names);
    cr_assert(!strncmp(names, "leaf_alloc middle outer stacks_name_the_callers_in_order_body ", 62) ||
                  !strcmp(names, "leaf_alloc middle outer stacks_name_the_callers_in_order_body"),
              "stack: %s", names);
    uint32_t s = hd_object_site(d, hd_object_find(d, hm_object_id(o)));
    cr_assert_str_eq(hd_site_function(d, s), "leaf_alloc", "the site is the line that made the object");
    uint32_t f = hd_stack_frame(d, hd_site_stack(d, s));
    cr_assert(strstr(hd_frame_file(d, f), "test_trace_stacks.c"), "file %s", hd_frame_file(d, f));
    cr_assert_eq(hd_frame_line(d, f), hd_site_line(d, s), "the innermost frame is the site's line");
    cr_assert_neq(hd_frame_module(d, f)[0], '\0');
    hd_dump_free(d);
    hm_decref(o);
}

HEAP_TEST(depth_cuts_the_stack)
{
    cr_assert_eq(hm_trace_start_depth(h, 8), HM_OK);
    hm_object *o = recurse(h, 20);
    hd_dump *d = snapshot_of(h);
    char names[1024];
    stack_functions(d, o, names, sizeof names);
    cr_assert_str_eq(names, "recurse recurse recurse recurse recurse recurse recurse recurse");
    hd_dump_free(d);
    hm_decref(o);
}

HEAP_TEST(one_line_two_stacks_two_sites_one_statistic)
{
    cr_assert_eq(hm_trace_start_depth(h, 4), HM_OK);
    hm_object *a = outer(h), *b = other_caller(h);
    hd_dump *d = snapshot_of(h);
    uint32_t sa = hd_object_site(d, hd_object_find(d, hm_object_id(a)));
    uint32_t sb = hd_object_site(d, hd_object_find(d, hm_object_id(b)));
    cr_assert_neq(sa, sb, "two stacks, two sites");
    cr_assert_eq(hd_site_line(d, sa), hd_site_line(d, sb));
    cr_assert_neq(hd_site_stack(d, sa), hd_site_stack(d, sb));
    cr_assert_eq(hd_stack_parent(d, hd_site_stack(d, sa)) == HD_NONE, false);
    cr_assert_eq(hd_stack_frame(d, hd_site_stack(d, sa)), hd_stack_frame(d, hd_site_stack(d, sb)),
                 "one frame for one return address");
    hd_dump_free(d);
    hm_trace_stats st;
    cr_assert_eq(hm_trace_statistics(h, HM_TRACE_LINENO, &st), HM_OK);
    cr_assert_eq(st.n, 1, "one line");
    cr_assert_eq(st.items[0].count, 2);
    hm_trace_stats_free(&st);
    hm_decref(a);
    hm_decref(b);
}

HEAP_TEST(no_depth_no_stacks)
{
    cr_assert_eq(hm_trace_start(h), HM_OK);
    cr_assert_eq(hm_trace_depth(h), 0);
    cr_assert_eq(hm_trace_start_depth(h, 8), HM_OK, "already tracing");
    cr_assert_eq(hm_trace_depth(h), 0, "the depth stays, as tracemalloc.start() does");
    hm_object *o = outer(h);
    hd_dump *d = snapshot_of(h);
    cr_assert_eq(hd_frame_count(d), 0);
    cr_assert_eq(hd_stack_count(d), 0);
    cr_assert_eq(hd_site_stack(d, hd_object_site(d, hd_object_find(d, hm_object_id(o)))), HD_NONE);
    hd_dump_free(d);
    hm_decref(o);
}

HEAP_TEST(depth_limit)
{
    cr_assert_eq(hm_trace_start_depth(h, HM_TRACE_DEPTH_MAX + 1), HM_EINVAL);
    cr_assert(!hm_trace_is_tracing(h));
    cr_assert_eq(hm_trace_start_depth(h, HM_TRACE_DEPTH_MAX), HM_OK);
    hm_object *o = recurse(h, 300);
    hd_dump *d = snapshot_of(h);
    uint32_t n = 0;
    for (uint32_t k = hd_site_stack(d, hd_object_site(d, hd_object_find(d, hm_object_id(o)))); k != HD_NONE;
         k = hd_stack_parent(d, k))
        n++;
    cr_assert_eq(n, HM_TRACE_DEPTH_MAX);
    hd_dump_free(d);
    hm_decref(o);
}
