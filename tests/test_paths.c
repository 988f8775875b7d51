/* test_paths.c: hd_reach_compute, hd_path_find, hd_path_from_reach and hd_root_distance against
 * reachability by repeated search and distances by relaxation on random graphs; a million-hop
 * path. */
#include "random_dump.h"

#include <time.h>

static void check_path(const rd_graph *g, const hd_dump *d, const hd_path *p, uint32_t o,
                       const uint8_t *state, const uint32_t *dist, uint64_t seed)
{
    cr_assert_eq((int)p->state, state[o], "seed %llu object %u: state", (unsigned long long)seed, o);
    if (state[o] == HD_REACH_UNREACHABLE) {
        cr_assert_eq(p->nhops, 0);
        cr_assert_eq(p->root, HD_NONE);
        return;
    }
    cr_assert_eq(p->nhops, dist[o] + 1, "seed %llu object %u: %u hops, distance %u",
                 (unsigned long long)seed, o, p->nhops, dist[o]);
    cr_assert_eq(p->hops[p->nhops - 1].object, o);
    cr_assert_eq(p->hops[0].edge, HD_NONE);
    cr_assert_lt(p->root, g->nroots);
    cr_assert_eq(g->root_obj[p->root], p->hops[0].object, "the path starts at its root's object");
    cr_assert_eq(g->root_kind[p->root] == 5, state[o] == HD_REACH_UNCOLLECTABLE, "root phase");
    for (uint32_t r = 0; r < p->root; r++) /* the first root naming that object, in its phase */
        cr_assert(g->root_obj[r] != p->hops[0].object || (g->root_kind[r] == 5) != (g->root_kind[p->root] == 5));
    for (uint32_t i = 1; i < p->nhops; i++) {
        uint32_t from = p->hops[i - 1].object, e = p->hops[i].edge;
        cr_assert(e >= g->off[from] && e < g->off[from + 1], "edge leaves the previous hop");
        cr_assert_eq(g->dst[e], p->hops[i].object);
        cr_assert_str_eq(hd_edge_name(d, e), rd_edge_names[g->ename[e]]);
    }
}

static void check_random(uint64_t seed, uint32_t n, uint32_t degree, uint32_t nroots)
{
    rd_graph g;
    rd_random(&g, seed, n, degree, nroots);
    hd_dump *d = rd_load(&g);
    uint8_t *state = rd_alloc(n);
    uint32_t *dist = rd_alloc(n * sizeof *dist);
    rd_oracle_reach(&g, state, dist);
    hd_reach *r = NULL;
    cr_assert_eq(hd_reach_compute(d, &r), HD_OK);
    cr_assert_eq(r->nobjects, n);
    uint32_t counts[3] = {0};
    for (uint32_t o = 0; o < n; o++) {
        counts[state[o]]++;
        cr_assert_eq(r->state[o], state[o], "seed %llu object %u", (unsigned long long)seed, o);
        cr_assert_eq(r->depth[o], state[o] == HD_REACH_UNREACHABLE ? HD_NONE : dist[o]);
        if (state[o] != HD_REACH_UNREACHABLE && r->parent[o] != HD_NONE) {
            cr_assert_eq(r->depth[r->parent[o]] + 1, r->depth[o]);
            cr_assert_eq(r->state[r->parent[o]], r->state[o]);
        }
        hd_path *p = NULL;
        cr_assert_eq(hd_path_find(d, o, &p), HD_OK);
        check_path(&g, d, p, o, state, dist, seed);
        hd_path_free(p);
        cr_assert_eq(hd_path_from_reach(d, r, o, &p), HD_OK);
        check_path(&g, d, p, o, state, dist, seed);
        hd_path_free(p);
    }
    cr_assert_eq(r->nlive, counts[HD_REACH_LIVE]);
    cr_assert_eq(r->nuncollectable, counts[HD_REACH_UNCOLLECTABLE]);
    cr_assert_eq(r->nunreachable, counts[HD_REACH_UNREACHABLE]);
    hd_reach_free(r);
    free(state);
    free(dist);
    hd_dump_free(d);
    rd_free(&g);
}

Test(paths, random_graphs_against_oracle)
{
    for (uint64_t seed = 1; seed <= 500; seed++) {
        uint64_t s = seed * 104729;
        uint32_t n = 1 + rd_below(&s, 60);
        check_random(seed, n, rd_below(&s, 3), rd_below(&s, 6));
    }
}

Test(paths, larger_graphs)
{
    for (uint64_t seed = 7000; seed < 7010; seed++)
        check_random(seed, 400, 1 + (uint32_t)(seed % 3), 8);
}

/* hd_root_distance against relaxation from every root at once (garbage roots too, unlike the
 * reachability's phases), on graphs small enough that each level is put in object order and
 * large enough that most are not. */
Test(paths, root_distance_against_relaxation)
{
    for (uint64_t seed = 1; seed <= 120; seed++) {
        uint64_t s = seed * 7919;
        uint32_t n = 1 + rd_below(&s, seed % 4 ? 80 : 4000);
        rd_graph g;
        rd_random(&g, seed, n, rd_below(&s, 4), rd_below(&s, 6));
        hd_dump *d = rd_load(&g);
        uint32_t *want = rd_alloc(n * sizeof *want), *got = NULL;
        for (uint32_t o = 0; o < n; o++)
            want[o] = HD_NONE;
        for (uint32_t r = 0; r < g.nroots; r++)
            want[g.root_obj[r]] = 1;
        for (bool changed = true; changed;) {
            changed = false;
            for (uint32_t u = 0; u < n; u++)
                for (uint32_t e = g.off[u]; want[u] != HD_NONE && e < g.off[u + 1]; e++)
                    if (want[u] + 1 < want[g.dst[e]]) {
                        want[g.dst[e]] = want[u] + 1;
                        changed = true;
                    }
        }
        cr_assert_eq(hd_root_distance(d, &got), HD_OK);
        for (uint32_t o = 0; o < n; o++)
            cr_assert_eq(got[o], want[o], "seed %llu object %u: distance %u, want %u",
                         (unsigned long long)seed, o, got[o], want[o]);
        free(got);
        free(want);
        hd_dump_free(d);
        rd_free(&g);
    }
}

Test(paths, bad_arguments)
{
    rd_graph g;
    rd_random(&g, 3, 5, 1, 1);
    hd_dump *d = rd_load(&g);
    hd_path *p = (hd_path *)&g;
    cr_assert_eq(hd_path_find(d, 5, &p), HD_EINVAL);
    cr_assert_null(p);
    cr_assert_eq(hd_path_find(d, 0, NULL), HD_EINVAL);
    hd_reach *r = NULL;
    cr_assert_eq(hd_reach_compute(NULL, &r), HD_EINVAL);
    cr_assert_eq(hd_path_from_reach(d, NULL, 0, &p), HD_EINVAL);
    hd_reach_free(NULL);
    hd_path_free(NULL);
    hd_dump_free(d);
    rd_free(&g);
}

Test(paths, million_hop_chain)
{
    const uint32_t n = 1u << 20;
    hd_dump *d = rd_chain(n, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hd_path *p = NULL;
    cr_assert_eq(hd_path_find(d, n - 1, &p), HD_OK);
    hd_reach *r = NULL;
    cr_assert_eq(hd_reach_compute(d, &r), HD_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(p->nhops, n);
    cr_assert_eq(p->root, 0);
    cr_assert_eq(r->depth[n - 1], n - 1);
    cr_assert_eq(r->nlive, n);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(secs, 5.0, "path + reach on a 1M chain took %.2f s", secs); /* a hang guard */
    hd_path_free(p);
    hd_reach_free(r);
    hd_dump_free(d);
}
