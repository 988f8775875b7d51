/* test_leaks.c: hd_leaks_find, hd_referrers_build and hd_stats_by_site against naive scans on
 * random graphs. */
#include "random_dump.h"

static void check_random(uint64_t seed, uint32_t n, uint32_t degree, uint32_t nroots)
{
    rd_graph g;
    rd_random(&g, seed, n, degree, nroots);
    hd_dump *d = rd_load(&g);
    uint8_t *state = rd_alloc(n);
    uint32_t *dist = rd_alloc(n * sizeof *dist);
    rd_oracle_reach(&g, state, dist);

    hd_leaks *l = NULL;
    cr_assert_eq(hd_leaks_find(d, NULL, &l), HD_OK);
    uint32_t a = 0, b = 0, c = 0;
    uint64_t sa = 0, sb = 0, sc = 0;
    for (uint32_t o = 0; o < n; o++) {
        int referred = 0;
        for (uint32_t e = 0; e < g.off[n]; e++)
            referred |= g.dst[e] == o;
        for (uint32_t r = 0; r < g.nroots; r++)
            referred |= g.root_obj[r] == o;
        if (state[o] == HD_REACH_UNREACHABLE) {
            cr_assert_lt(a, l->nunreachable, "seed %llu", (unsigned long long)seed);
            cr_assert_eq(l->unreachable[a++], o);
            sa += g.size[o];
        }
        if (state[o] == HD_REACH_UNCOLLECTABLE) {
            cr_assert_lt(b, l->nuncollectable);
            cr_assert_eq(l->uncollectable[b++], o);
            sb += g.size[o];
        }
        if (!referred) {
            cr_assert_lt(c, l->nunreferenced);
            cr_assert_eq(l->unreferenced[c++], o);
            sc += g.size[o];
        }
    }
    cr_assert_eq(a, l->nunreachable);
    cr_assert_eq(b, l->nuncollectable);
    cr_assert_eq(c, l->nunreferenced);
    cr_assert_eq(l->unreachable_size, sa);
    cr_assert_eq(l->uncollectable_size, sb);
    cr_assert_eq(l->unreferenced_size, sc);
    hd_leaks_free(l);

    hd_referrers *rv = NULL;
    cr_assert_eq(hd_referrers_build(d, &rv), HD_OK);
    cr_assert_eq(rv->offsets[n], g.off[n]);
    for (uint32_t t = 0; t < n; t++) {
        uint32_t k = rv->offsets[t];
        for (uint32_t s = 0; s < n; s++)
            for (uint32_t e = g.off[s]; e < g.off[s + 1]; e++)
                if (g.dst[e] == t) {
                    cr_assert_lt(k, rv->offsets[t + 1], "seed %llu: referrers of %u", (unsigned long long)seed, t);
                    cr_assert_eq(rv->sources[k], s);
                    cr_assert_eq(rv->edges[k], e);
                    k++;
                }
        cr_assert_eq(k, rv->offsets[t + 1]);
    }
    hd_referrers_free(rv);

    hd_site_stat *st = rd_alloc((g.nsites + 1) * sizeof *st);
    uint32_t k = hd_stats_by_site(d, HD_SORT_COUNT, st);
    uint32_t groups = 0;
    for (uint32_t s = 0; s <= g.nsites; s++) {
        uint64_t cnt = 0, size = 0;
        for (uint32_t o = 0; o < n; o++)
            if ((s == g.nsites && g.site[o] == HD_NONE) || g.site[o] == s) {
                cnt++;
                size += g.size[o];
            }
        if (!cnt)
            continue;
        groups++;
        int found = 0;
        for (uint32_t i = 0; i < k; i++)
            if (st[i].site == (s == g.nsites ? HD_NONE : s)) {
                cr_assert_eq(st[i].count, cnt);
                cr_assert_eq(st[i].size, size);
                found = 1;
            }
        cr_assert(found, "seed %llu: site %u missing", (unsigned long long)seed, s);
    }
    cr_assert_eq(k, groups);
    for (uint32_t i = 1; i < k; i++)
        cr_assert_geq(st[i - 1].count, st[i].count, "sorted by count");
    k = hd_stats_by_site(d, HD_SORT_SIZE, st);
    for (uint32_t i = 1; i < k; i++)
        cr_assert_geq(st[i - 1].size, st[i].size, "sorted by size");
    free(st);

    free(state);
    free(dist);
    hd_dump_free(d);
    rd_free(&g);
}

Test(leaks, random_graphs_against_naive_scans)
{
    for (uint64_t seed = 1; seed <= 300; seed++) {
        uint64_t s = seed * 15485863;
        uint32_t n = 1 + rd_below(&s, 50);
        check_random(seed, n, rd_below(&s, 3), rd_below(&s, 5));
    }
}

Test(leaks, given_reach_must_match_dump)
{
    rd_graph g, h;
    rd_random(&g, 1, 10, 1, 2);
    rd_random(&h, 2, 11, 1, 2);
    hd_dump *d = rd_load(&g), *e = rd_load(&h);
    hd_reach *r = NULL;
    cr_assert_eq(hd_reach_compute(e, &r), HD_OK);
    hd_leaks *l = NULL;
    cr_assert_eq(hd_leaks_find(d, r, &l), HD_EINVAL);
    hd_cycles *c = NULL;
    cr_assert_eq(hd_cycles_find(d, r, &c), HD_EINVAL);
    hd_reach_free(r);
    hd_dump_free(d);
    hd_dump_free(e);
    rd_free(&g);
    rd_free(&h);
}

Test(leaks, garbage_only_roots_are_uncollectable)
{
    static const char text[] =
        "{\"format\":\"heapdump\",\"version\":1,\"meta\":{\"producer\":\"t\"},"
        "\"types\":[{\"id\":0,\"name\":\"Node\",\"size\":32,\"legacy_finalizer\":true}],"
        "\"objects\":[{\"id\":1,\"type\":0,\"size\":32,\"refs\":[[2,\"next\"]]},"
        "{\"id\":2,\"type\":0,\"size\":32,\"refs\":[[1,\"next\"]]},"
        "{\"id\":3,\"type\":0,\"size\":32,\"refs\":[[3,\"self\"]]},"
        "{\"id\":4,\"type\":0,\"size\":32}],"
        "\"roots\":[{\"id\":1,\"kind\":\"garbage\"},{\"id\":4,\"kind\":\"external\"}]}";
    hd_dump *d = NULL;
    cr_assert_eq(hd_load_buffer(text, sizeof text - 1, "t", NULL, &d, NULL), HD_OK);
    hd_leaks *l = NULL;
    cr_assert_eq(hd_leaks_find(d, NULL, &l), HD_OK);
    cr_assert_eq(l->nuncollectable, 2);
    cr_assert_eq(l->nunreachable, 1);
    cr_assert_eq(l->unreachable[0], 2);
    cr_assert_eq(l->nunreferenced, 0); /* 4: a root names it; 3 refers to itself */
    hd_leaks_free(l);
    hd_dump_free(d);
}

/* Sites at one place (the same line reached by two call stacks, §5.1) are one row, as
 * tracemalloc's statistics('lineno'); a site at another line of the file is its own. */
Test(leaks, sites_at_one_place_count_together)
{
    static const char text[] =
        "{\"format\":\"heapdump\",\"version\":1,\"types\":[{\"id\":0,\"name\":\"str\"}],"
        "\"frames\":[{\"id\":0,\"file\":\"a.py\",\"line\":3},{\"id\":1,\"file\":\"b.py\",\"line\":7},"
        "{\"id\":2,\"file\":\"c.py\",\"line\":9}],"
        "\"stacks\":[{\"id\":0,\"frame\":1},{\"id\":1,\"frame\":0,\"parent\":0},"
        "{\"id\":2,\"frame\":2},{\"id\":3,\"frame\":0,\"parent\":2}],"
        "\"sites\":[{\"id\":5,\"file\":\"a.py\",\"line\":3,\"stack\":1},"
        "{\"id\":6,\"file\":\"a.py\",\"line\":4},{\"id\":7,\"file\":\"a.py\",\"line\":3,\"stack\":3}],"
        "\"objects\":[{\"id\":1,\"type\":0,\"size\":50,\"site\":5},{\"id\":2,\"type\":0,\"size\":60,\"site\":7},"
        "{\"id\":3,\"type\":0,\"size\":70,\"site\":7},{\"id\":4,\"type\":0,\"size\":500,\"site\":6},"
        "{\"id\":5,\"type\":0,\"size\":1}]}";
    hd_dump *d = NULL;
    cr_assert_eq(hd_load_buffer(text, sizeof text - 1, "t", NULL, &d, NULL), HD_OK);
    hd_site_stat st[4];
    cr_assert_eq(hd_stats_by_site(d, HD_SORT_COUNT, st), 3);
    cr_assert_eq(st[0].count, 3, "a.py:3 by two stacks");
    cr_assert_eq(st[0].size, 180);
    cr_assert_str_eq(hd_site_file(d, st[0].site), "a.py");
    cr_assert_eq(hd_site_line(d, st[0].site), 3);
    cr_assert_eq(st[1].count, 1);
    cr_assert_eq(hd_site_line(d, st[1].site), 4);
    cr_assert_eq(st[2].site, HD_NONE);
    hd_dump_free(d);
}

/* (target, source, edge) of one edge, for the oracle below. */
typedef struct edge_triple {
    uint32_t target, source, edge;
} edge_triple;

static int compare_triples(const void *pa, const void *pb)
{
    const edge_triple *a = pa, *b = pb;
    if (a->target != b->target)
        return a->target < b->target ? -1 : 1;
    return (a->edge > b->edge) - (a->edge < b->edge); /* edges run in source order */
}

/* Graphs of many buckets of targets (a few thousand each), with one target that a tenth of all
 * edges point at: the referrers are the edges sorted by target, then by source and edge. */
Test(leaks, referrers_of_big_graphs_are_the_sorted_edges)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        rd_graph g;
        rd_random(&g, seed, 30000 + 7919 * (uint32_t)seed, 2, 3);
        uint64_t s = seed;
        for (uint32_t e = 0; e < g.off[g.n]; e += 10)
            g.dst[e] = rd_below(&s, 4) ? g.n - 1 : 12345;
        hd_dump *d = rd_load(&g);
        uint32_t m = g.off[g.n];
        edge_triple *want = rd_alloc((size_t)m * sizeof *want);
        for (uint32_t src = 0; src < g.n; src++)
            for (uint32_t e = g.off[src]; e < g.off[src + 1]; e++)
                want[e] = (edge_triple){g.dst[e], src, e};
        qsort(want, m, sizeof *want, compare_triples);
        hd_referrers *rv = NULL;
        cr_assert_eq(hd_referrers_build(d, &rv), HD_OK);
        cr_assert_eq(rv->offsets[0], 0);
        for (uint32_t t = 0; t < g.n; t++)
            for (uint32_t k = rv->offsets[t]; k < rv->offsets[t + 1]; k++)
                cr_assert(k < m && want[k].target == t && rv->sources[k] == want[k].source &&
                              rv->edges[k] == want[k].edge,
                          "seed %llu: slot %u of target %u", (unsigned long long)seed, k, t);
        cr_assert_eq(rv->offsets[g.n], m);
        /* One object's referrers alone are the same list: the many-referrer target, the last
         * object, and a few others. */
        uint32_t some[] = {12345, g.n - 1, 0, 7, g.n / 2};
        for (size_t i = 0; i < sizeof some / sizeof *some; i++) {
            uint32_t t = some[i], *sources, *edges;
            uint64_t n;
            cr_assert_eq(hd_referrers_of(d, t, &sources, &edges, &n), HD_OK);
            cr_assert_eq(n, rv->offsets[t + 1] - rv->offsets[t], "seed %llu: object %u", (unsigned long long)seed, t);
            for (uint64_t k = 0; k < n; k++)
                cr_assert(sources[k] == rv->sources[rv->offsets[t] + k] && edges[k] == rv->edges[rv->offsets[t] + k]);
            free(sources);
        }
        hd_referrers_free(rv);
        free(want);
        hd_dump_free(d);
        rd_free(&g);
    }
}
