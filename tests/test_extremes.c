/* test_extremes.c: dumps at the ends of the format's range. Sizes whose sum passes 2^64-1
 * saturate there in every analysis (the rule heapdump.h states per field), ids near 2^64 stay
 * exact, and a million of anything (edges on one object, types, sites) loads and analyses
 * correctly and quickly. The dumps are generated here; nothing big is kept in the tree. */
#include "heapdump.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M "18446744073709551615"
#define MILLION 1000000u

static hd_dump *load_text(const char *text, size_t len)
{
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(text, len, "extreme.json", NULL, &d, &err);
    cr_assert_eq(rc, HD_OK, "%llu:%llu: %s", (unsigned long long)err.line, (unsigned long long)err.column,
                 err.message);
    return d;
}

static hd_dump *load_str(const char *text) { return load_text(text, strlen(text)); }

static uint32_t find(const hd_dump *d, uint64_t id)
{
    uint32_t o = hd_object_find(d, id);
    cr_assert_neq(o, HD_NONE, "no object %llu", (unsigned long long)id);
    return o;
}

/* A root (1) holding a cycle of two objects of the largest size (2 <-> 3), and two more of that
 * size that nothing reaches (4, 5), all at one site: every sum passes 2^64-1. */
static const char huge_sizes[] =
    "{\"format\": \"heapdump\", \"version\": 1, \"meta\": {\"producer\": \"t\", \"pid\": 1},\n"
    "\"types\": [{\"id\": 0, \"name\": \"Big\"}, {\"id\": 1, \"name\": \"Holder\"}],\n"
    "\"sites\": [{\"id\": 0, \"file\": \"a.c\", \"line\": 1}],\n"
    "\"objects\": [{\"id\": 1, \"type\": 1, \"size\": 8, \"site\": 0, \"refs\": [[2, \"a\"]]},\n"
    " {\"id\": 2, \"type\": 0, \"size\": " M ", \"site\": 0, \"refs\": [[3, \"b\"]]},\n"
    " {\"id\": 3, \"type\": 0, \"size\": " M ", \"site\": 0, \"refs\": [[2, \"c\"]]},\n"
    " {\"id\": 4, \"type\": 0, \"size\": " M ", \"site\": 0},\n"
    " {\"id\": 5, \"type\": 0, \"size\": " M ", \"site\": 0}],\n"
    "\"roots\": [{\"id\": 1, \"kind\": \"named\", \"name\": \"r\"}]}";

Test(extremes, size_sums_saturate_in_every_analysis)
{
    hd_dump *d = load_str(huge_sizes);
    cr_assert_eq(hd_total_size(d), UINT64_MAX);

    hd_type_stat st[2];
    cr_assert_eq(hd_stats_by_type(d, HD_SORT_SIZE, st), 2);
    cr_assert_str_eq(hd_type_name(d, st[0].type), "Big");
    cr_assert_eq(st[0].size, UINT64_MAX);
    cr_assert_eq(st[1].size, 8, "a sum that fits stays exact");
    hd_site_stat ss[2];
    cr_assert_eq(hd_stats_by_site(d, HD_SORT_SIZE, ss), 1);
    cr_assert_eq(ss[0].size, UINT64_MAX);

    hd_dominators *dom = NULL;
    cr_assert_eq(hd_dominators_compute(d, &dom), HD_OK);
    cr_assert_eq(hd_retained_size(dom, find(d, 1)), UINT64_MAX);
    cr_assert_eq(hd_retained_size(dom, find(d, 2)), UINT64_MAX);
    uint32_t n = 0;
    cr_assert_eq(hd_stats_retained_by_type(d, dom, st, &n), HD_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(st[0].retained, UINT64_MAX);
    cr_assert_eq(st[1].retained, UINT64_MAX);
    hd_dominators_free(dom);

    hd_leaks *leaks = NULL;
    cr_assert_eq(hd_leaks_find(d, NULL, &leaks), HD_OK);
    cr_assert_eq(leaks->nunreachable, 2);
    cr_assert_eq(leaks->unreachable_size, UINT64_MAX);
    cr_assert_eq(leaks->unreferenced_size, UINT64_MAX, "1, 4 and 5");
    hd_leaks_free(leaks);

    hd_cycles *cy = NULL;
    cr_assert_eq(hd_cycles_find(d, NULL, &cy), HD_OK);
    cr_assert_eq(cy->count, 1);
    cr_assert_eq(cy->cycles[0].size, UINT64_MAX);
    hd_cycles_free(cy);

    /* Against an empty dump of the same process: sizes saturate, deltas clamp to int64. */
    hd_dump *empty = load_str("{\"format\": \"heapdump\", \"version\": 1, \"meta\": {\"producer\": \"t\", "
                              "\"pid\": 1}, \"types\": [], \"objects\": []}");
    hd_diff *df = NULL;
    cr_assert_eq(hd_diff_compute(empty, d, HD_DIFF_BY_TYPE, &df), HD_OK);
    cr_assert_str_eq(df->rows[0].type, "Big");
    cr_assert_eq(df->rows[0].size_new, UINT64_MAX);
    cr_assert_eq(df->rows[0].allocated, UINT64_MAX);
    cr_assert_eq(df->rows[0].size_delta, INT64_MAX);
    hd_diff_free(df);
    cr_assert_eq(hd_diff_compute(d, empty, HD_DIFF_BY_SITE, &df), HD_OK);
    cr_assert_eq(df->rows[0].size_old, UINT64_MAX);
    cr_assert_eq(df->rows[0].freed, UINT64_MAX);
    cr_assert_eq(df->rows[0].size_delta, INT64_MIN);
    hd_diff_free(df);
    hd_leak_report *rep = NULL;
    cr_assert_eq(hd_leak_report_compute(empty, d, d, &rep), HD_OK);
    cr_assert_eq(rep->nleaked, 5);
    cr_assert_eq(rep->leaked_size, UINT64_MAX);
    cr_assert_eq(rep->by_type[0].size, UINT64_MAX);
    for (uint32_t i = 0; i < rep->ntraces; i++)
        if (rep->traces[i].count > 1)
            cr_assert_eq(rep->traces[i].size, UINT64_MAX);
    hd_leak_report_free(rep);
    hd_dump_free(empty);
    hd_dump_free(d);
}

Test(extremes, ids_near_two_to_the_64_in_every_table)
{
    hd_dump *d = load_str(
        "{\"format\": \"heapdump\", \"version\": 1,\n"
        "\"types\": [{\"id\": " M ", \"name\": \"T\"}, {\"id\": 18446744073709551614, \"name\": \"U\"}],\n"
        "\"sites\": [{\"id\": " M ", \"file\": \"a.c\", \"line\": 4294967295}],\n"
        "\"objects\": [{\"id\": " M ", \"type\": " M ", \"size\": 1, \"site\": " M ","
        " \"refs\": [[18446744073709551614, \"a\"], [0, \"b\"]]},\n"
        " {\"id\": 18446744073709551614, \"type\": 18446744073709551614, \"size\": 1},\n"
        " {\"id\": 0, \"type\": " M ", \"size\": 1}],\n"
        "\"weakrefs\": [{\"id\": 0, \"referent\": " M "}],\n"
        "\"roots\": [{\"id\": " M ", \"kind\": \"named\"}],\n"
        "\"gc\": {\"garbage\": [18446744073709551614]}}");
    uint32_t top = find(d, UINT64_MAX), next = find(d, UINT64_MAX - 1), zero = find(d, 0);
    cr_assert_eq(hd_type_id(d, hd_object_type(d, top)), UINT64_MAX);
    cr_assert_eq(hd_type_id(d, hd_object_type(d, next)), UINT64_MAX - 1);
    cr_assert_eq(hd_site_id(d, hd_object_site(d, top)), UINT64_MAX);
    cr_assert_eq(hd_site_line(d, hd_object_site(d, top)), UINT32_MAX);
    cr_assert_eq(hd_weakref_referent(d, 0), top);
    cr_assert_eq(hd_weakref_object(d, 0), zero);
    cr_assert_eq(hd_dump_gc(d)->garbage[0], next);
    hd_path *p = NULL;
    cr_assert_eq(hd_path_find(d, next, &p), HD_OK);
    cr_assert_eq(p->nhops, 2);
    cr_assert_eq(hd_object_id(d, p->hops[0].object), UINT64_MAX);
    hd_path_free(p);
    cr_assert_eq(hd_object_find(d, UINT64_MAX - 2), HD_NONE);
    hd_dump_free(d);
}

/* A growing text buffer for the big dumps: open_memstream, asserted. */
typedef struct text {
    char *buf;
    size_t len;
    FILE *f;
} text;

static FILE *text_open(text *t)
{
    t->buf = NULL;
    t->f = open_memstream(&t->buf, &t->len);
    cr_assert(t->f);
    return t->f;
}

static hd_dump *text_load(text *t)
{
    cr_assert_eq(fclose(t->f), 0);
    hd_dump *d = load_text(t->buf, t->len);
    free(t->buf);
    return d;
}

/* One object refers to a million (and to itself), another refers to it: CSR offsets, referrers,
 * dominators and cycles over one huge out-list. */
Test(extremes, a_million_edges_on_one_object)
{
    text t;
    FILE *f = text_open(&t);
    fputs("{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"Hub\"}, "
          "{\"id\": 1, \"name\": \"Leaf\"}],\n"
          "\"objects\": [\n{\"id\": 0, \"type\": 0, \"size\": 1, \"refs\": [", f);
    for (uint32_t i = 1; i <= MILLION; i++)
        fprintf(f, "[%u, \"[%u]\"], ", i, i - 1);
    fputs("[0, \"self\"]]}", f);
    for (uint32_t i = 1; i <= MILLION; i++)
        fprintf(f, ",\n{\"id\": %u, \"type\": 1, \"size\": 2%s}", i,
                i == 1 ? ", \"refs\": [[0, \"up\"]]" : "");
    fputs("],\n\"roots\": [{\"id\": 0, \"kind\": \"external\"}]}", f);
    hd_dump *d = text_load(&t);

    uint32_t hub = find(d, 0);
    uint64_t first, end;
    hd_object_edges(d, hub, &first, &end);
    cr_assert_eq(end - first, MILLION + 1);
    cr_assert_eq(hd_edge_count(d), MILLION + 2);
    cr_assert_eq(hd_object_id(d, hd_edge_target(d, first + 123456)), 123457);
    cr_assert_str_eq(hd_edge_name(d, first + 123456), "[123456]");
    cr_assert_eq(hd_edge_target(d, end - 1), hub);

    hd_referrers *r = NULL;
    cr_assert_eq(hd_referrers_build(d, &r), HD_OK);
    cr_assert_eq(r->offsets[hub + 1] - r->offsets[hub], 2, "itself and leaf 1");
    hd_referrers_free(r);
    hd_dominators *dom = NULL;
    cr_assert_eq(hd_dominators_compute(d, &dom), HD_OK);
    cr_assert_eq(hd_retained_size(dom, hub), 1 + 2ull * MILLION);
    cr_assert_eq(hd_dominator_of(dom, find(d, MILLION)), hub);
    hd_dominators_free(dom);
    hd_cycles *cy = NULL;
    cr_assert_eq(hd_cycles_find(d, NULL, &cy), HD_OK);
    cr_assert_eq(cy->count, 1, "the hub and leaf 1, whose self-loop is inside it");
    cr_assert_eq(cy->cycles[0].nmembers, 2);
    hd_cycles_free(cy);
    hd_dump_free(d);
}

/* A million types, one object each, sizes all different: the by-type table is a million rows in
 * order, and a diff against itself matches every row by name. */
Test(extremes, a_million_types)
{
    text t;
    FILE *f = text_open(&t);
    fputs("{\"format\": \"heapdump\", \"version\": 1, \"types\": [", f);
    for (uint32_t i = 0; i < MILLION; i++)
        fprintf(f, "%s\n{\"id\": %u, \"name\": \"T%u\"}", i ? "," : "", 7 * i, i);
    fputs("],\n\"objects\": [", f);
    for (uint32_t i = 0; i < MILLION; i++)
        fprintf(f, "%s\n{\"id\": %u, \"type\": %u, \"size\": %u}", i ? "," : "", i,
                7 * (uint32_t)((uint64_t)i * 7919 % MILLION), (uint32_t)((uint64_t)i * 7919 % MILLION) + 1);
    fputs("]}", f);
    hd_dump *d = text_load(&t);
    cr_assert_eq(hd_type_count(d), MILLION);

    hd_type_stat *st = malloc(MILLION * sizeof *st);
    cr_assert(st);
    cr_assert_eq(hd_stats_by_type(d, HD_SORT_SIZE, st), MILLION);
    cr_assert_str_eq(hd_type_name(d, st[0].type), "T999999");
    cr_assert_eq(st[0].size, MILLION);
    cr_assert_str_eq(hd_type_name(d, st[MILLION - 1].type), "T0");
    uint32_t in_order = 1; /* one assertion for the lot: Criterion reports each one it checks */
    while (in_order < MILLION && st[in_order].size == st[in_order - 1].size - 1)
        in_order++;
    cr_assert_eq(in_order, MILLION, "row %u out of order", in_order);
    free(st);

    hd_diff *df = NULL;
    cr_assert_eq(hd_diff_compute(d, d, HD_DIFF_BY_TYPE, &df), HD_OK);
    cr_assert_eq(df->nrows, MILLION);
    cr_assert_eq(df->matched, MILLION);
    uint32_t same = 0;
    while (same < df->nrows && df->rows[same].count_old == 1 && df->rows[same].count_delta == 0)
        same++;
    cr_assert_eq(same, MILLION, "row %u changed", same);
    hd_diff_free(df);
    hd_dump_free(d);
}

/* A million allocation sites, one object each but for one site with two: tracemalloc's table is
 * a million rows with that site first, and a diff by site keys every one. */
Test(extremes, a_million_sites)
{
    text t;
    FILE *f = text_open(&t);
    fputs("{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"T\"}],\n"
          "\"sites\": [", f);
    for (uint32_t i = 0; i < MILLION; i++)
        fprintf(f, "%s\n{\"id\": %u, \"file\": \"f%u.c\", \"line\": %u, \"function\": \"g\"}", i ? "," : "",
                MILLION - i, i % 1000, i);
    fputs("],\n\"objects\": [", f);
    for (uint32_t i = 0; i <= MILLION; i++)
        fprintf(f, "%s\n{\"id\": %u, \"type\": 0, \"size\": 1, \"site\": %u}", i ? "," : "", i,
                i == MILLION ? 4242 : MILLION - i);
    fputs("]}", f);
    hd_dump *d = text_load(&t);
    cr_assert_eq(hd_site_count(d), MILLION);

    hd_site_stat *ss = malloc((MILLION + 1) * sizeof *ss);
    cr_assert(ss);
    cr_assert_eq(hd_stats_by_site(d, HD_SORT_COUNT, ss), MILLION);
    cr_assert_eq(ss[0].count, 2);
    cr_assert_eq(hd_site_id(d, ss[0].site), 4242);
    cr_assert_eq(hd_site_line(d, ss[0].site), MILLION - 4242);
    uint32_t ones = 1;
    while (ones < MILLION && ss[ones].count == 1)
        ones++;
    cr_assert_eq(ones, MILLION);
    free(ss);

    hd_diff *df = NULL;
    cr_assert_eq(hd_diff_compute(d, d, HD_DIFF_BY_SITE, &df), HD_OK);
    cr_assert_eq(df->nrows, MILLION);
    uint64_t objects = 0, twos = 0;
    for (uint32_t i = 0; i < df->nrows; i++) {
        objects += df->rows[i].count_new;
        twos += df->rows[i].count_new == 2;
    }
    cr_assert(objects == MILLION + 1 && twos == 1);
    hd_diff_free(df);
    hd_dump_free(d);
}
