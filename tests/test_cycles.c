/* test_cycles.c: hd_cycles_find against strongly connected components computed by pairwise
 * reachability on random graphs, and on a million-long cycle (iterative Tarjan). */
#include "random_dump.h"

#include <time.h>

/* reach[u * n + v]: v reachable from u by one or more references, or u == v. */
static uint8_t *closure(const rd_graph *g)
{
    uint32_t n = g->n;
    uint8_t *reach = rd_alloc((size_t)n * n);
    uint32_t *stack = rd_alloc((2 * (size_t)g->off[n] + 1) * sizeof *stack);
    for (uint32_t u = 0; u < n; u++) {
        uint8_t *row = reach + (size_t)u * n;
        row[u] = 1;
        uint32_t sp = 0;
        for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++)
            stack[sp++] = g->dst[e];
        while (sp) {
            uint32_t v = stack[--sp];
            if (row[v] && v != u)
                continue;
            if (v == u && row[u] == 2)
                continue;
            row[v] = v == u ? 2 : 1; /* 2: u is on a cycle through itself */
            for (uint32_t e = g->off[v]; e < g->off[v + 1]; e++)
                stack[sp++] = g->dst[e];
        }
    }
    free(stack);
    return reach;
}

/* Length of a shortest cycle through s, by BFS distances from s. */
static uint32_t shortest_cycle(const rd_graph *g, uint32_t s)
{
    uint32_t n = g->n, best = UINT32_MAX;
    uint32_t *dist = rd_alloc(n * sizeof *dist), *queue = rd_alloc(n * sizeof *queue);
    for (uint32_t i = 0; i < n; i++)
        dist[i] = UINT32_MAX;
    uint32_t head = 0, tail = 0;
    dist[s] = 0;
    queue[tail++] = s;
    while (head < tail) {
        uint32_t v = queue[head++];
        for (uint32_t e = g->off[v]; e < g->off[v + 1]; e++) {
            uint32_t w = g->dst[e];
            if (w == s && dist[v] + 1 < best)
                best = dist[v] + 1;
            if (dist[w] == UINT32_MAX) {
                dist[w] = dist[v] + 1;
                queue[tail++] = w;
            }
        }
    }
    free(dist);
    free(queue);
    return best;
}

static uint64_t cycles_seen, big_seen;

static void check_random(uint64_t seed, uint32_t n, uint32_t degree, uint32_t nroots)
{
    rd_graph g;
    rd_random(&g, seed, n, degree, nroots);
    hd_dump *d = rd_load(&g);
    hd_cycles *cy = NULL;
    cr_assert_eq(hd_cycles_find(d, NULL, &cy), HD_OK);
    uint8_t *reach = closure(&g);
    uint8_t *state = rd_alloc(n);
    uint32_t *dist = rd_alloc(n * sizeof *dist);
    rd_oracle_reach(&g, state, dist);
    /* index == object order: the generated objects load in file order */
    uint8_t *covered = rd_alloc(n);
    uint32_t expected_cycles = 0;
    uint64_t expected_members = 0;
    for (uint32_t u = 0; u < n; u++) {
        uint32_t size = 0, first = u;
        for (uint32_t v = 0; v < n; v++)
            if (reach[(size_t)u * n + v] && reach[(size_t)v * n + u]) {
                size++;
                if (v < first)
                    first = v;
            }
        int cyclic = size > 1 || reach[(size_t)u * n + u] == 2;
        if (cyclic) {
            expected_members++;
            if (first == u)
                expected_cycles++;
        }
    }
    cr_assert_eq(cy->count, expected_cycles, "seed %llu: %u cycles, expected %u",
                 (unsigned long long)seed, cy->count, expected_cycles);
    cr_assert_eq(cy->in_cycles, expected_members, "seed %llu", (unsigned long long)seed);
    for (uint32_t i = 0; i < cy->count; i++) {
        const hd_cycle *c = &cy->cycles[i];
        uint32_t s = c->members[0];
        uint64_t size = 0;
        int fin = 0, legacy = 0;
        uint32_t comp_size = 0;
        for (uint32_t v = 0; v < n; v++)
            comp_size += reach[(size_t)s * n + v] && reach[(size_t)v * n + s];
        cr_assert_eq(c->nmembers, comp_size, "seed %llu: cycle %u", (unsigned long long)seed, i);
        for (uint32_t k = 0; k < c->nmembers; k++) {
            uint32_t v = c->members[k];
            cr_assert(k == 0 || c->members[k - 1] < v, "members increasing");
            cr_assert(reach[(size_t)s * n + v] && reach[(size_t)v * n + s], "member in the SCC");
            cr_assert(!covered[v], "object in two cycles");
            covered[v] = 1;
            size += g.size[v];
            fin |= !!(g.type_flags[g.type[v]] & HD_TYPE_FINALIZER);
            legacy |= !!(g.type_flags[g.type[v]] & HD_TYPE_LEGACY_FINALIZER);
        }
        cr_assert_eq(c->size, size);
        cycles_seen++;
        big_seen += c->nmembers > 3;
        cr_assert_eq(c->has_finalizer, fin);
        cr_assert_eq(c->has_legacy_finalizer, legacy);
        cr_assert_eq((int)c->state, state[s], "seed %llu: state", (unsigned long long)seed);
        /* the example is a real, shortest cycle through the first member */
        cr_assert_eq(c->length, shortest_cycle(&g, s), "seed %llu: cycle length", (unsigned long long)seed);
        cr_assert_eq(c->objects[0], s);
        cr_assert_eq(c->objects[c->length], s);
        for (uint32_t k = 0; k < c->length; k++) {
            uint32_t from = c->objects[k], e = c->edges[k];
            cr_assert(e >= g.off[from] && e < g.off[from + 1], "edge leaves the hop's object");
            cr_assert_eq(g.dst[e], c->objects[k + 1], "edge reaches the next hop");
        }
        if (i > 0) {
            const hd_cycle *p = &cy->cycles[i - 1];
            cr_assert(p->nmembers > c->nmembers ||
                      (p->nmembers == c->nmembers && (p->size > c->size ||
                       (p->size == c->size && p->members[0] < c->members[0]))), "largest first");
        }
    }
    /* hd_cycle_numbers: each object's place in that order, without the rest */
    uint32_t *number = NULL;
    cr_assert_eq(hd_cycle_numbers(d, &number), HD_OK);
    for (uint32_t o = 0; o < n; o++)
        if (!covered[o])
            cr_assert_eq(number[o], 0, "seed %llu: object %u in no cycle", (unsigned long long)seed, o);
    for (uint32_t i = 0; i < cy->count; i++)
        for (uint32_t k = 0; k < cy->cycles[i].nmembers; k++)
            cr_assert_eq(number[cy->cycles[i].members[k]], i + 1, "seed %llu: cycle number", (unsigned long long)seed);
    free(number);
    free(covered);
    free(reach);
    free(state);
    free(dist);
    hd_cycles_free(cy);
    hd_dump_free(d);
    rd_free(&g);
}

Test(cycles, random_graphs_against_pairwise_reachability)
{
    for (uint64_t seed = 1; seed <= 400; seed++) {
        uint64_t s = seed * 7919;
        uint32_t n = 1 + rd_below(&s, 40);
        check_random(seed, n, rd_below(&s, 3), rd_below(&s, 4));
    }
    cr_assert_gt(cycles_seen, 300);
    cr_assert_gt(big_seen, 50);
}

Test(cycles, dense_and_sparse)
{
    for (uint64_t seed = 1000; seed < 1040; seed++) {
        check_random(seed, 60, 4, 3);
        check_random(seed + 100, 80, 1, 5);
    }
}

Test(cycles, empty_dump)
{
    rd_graph g;
    rd_random(&g, 5, 0, 1, 0);
    hd_dump *d = rd_load(&g);
    hd_cycles *cy = NULL;
    cr_assert_eq(hd_cycles_find(d, NULL, &cy), HD_OK);
    cr_assert_eq(cy->count, 0);
    hd_cycles_free(cy);
    cr_assert_eq(hd_cycles_find(d, NULL, NULL), HD_EINVAL);
    cr_assert_eq(hd_cycles_find(NULL, NULL, &cy), HD_EINVAL);
    cr_assert_null(cy);
    uint32_t *number = NULL;
    cr_assert_eq(hd_cycle_numbers(d, &number), HD_OK);
    free(number);
    cr_assert_eq(hd_cycle_numbers(NULL, &number), HD_EINVAL);
    cr_assert_null(number);
    hd_dump_free(d);
    rd_free(&g);
}

Test(cycles, million_long_cycle_is_iterative_and_quick)
{
    const uint32_t n = 1u << 20;
    hd_dump *d = rd_chain(n, 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hd_cycles *cy = NULL;
    cr_assert_eq(hd_cycles_find(d, NULL, &cy), HD_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(cy->count, 1);
    cr_assert_eq(cy->cycles[0].nmembers, n);
    cr_assert_eq(cy->cycles[0].length, n);
    cr_assert_eq(cy->cycles[0].state, HD_REACH_LIVE);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(secs, 5.0, "cycles on a 1M chain took %.2f s", secs); /* a hang guard, not a benchmark */
    hd_cycles_free(cy);
    hd_dump_free(d);

    d = rd_chain(n, 0);
    cr_assert_eq(hd_cycles_find(d, NULL, &cy), HD_OK);
    cr_assert_eq(cy->count, 0);
    hd_cycles_free(cy);
    hd_dump_free(d);
}

Test(cycles, stats_of_members)
{
    rd_graph g;
    rd_random(&g, 77, 50, 2, 2);
    hd_dump *d = rd_load(&g);
    uint32_t all[50];
    for (uint32_t i = 0; i < 50; i++)
        all[i] = i;
    hd_type_stat st[50], ref[16];
    uint32_t k = hd_stats_of_objects(d, all, 50, HD_SORT_COUNT, st);
    uint32_t kr = hd_stats_by_type(d, HD_SORT_COUNT, ref);
    cr_assert_eq(k, kr);
    for (uint32_t i = 0; i < k; i++) {
        cr_assert_eq(st[i].type, ref[i].type);
        cr_assert_eq(st[i].count, ref[i].count);
        cr_assert_eq(st[i].size, ref[i].size);
    }
    cr_assert_eq(hd_stats_of_objects(d, all, 0, HD_SORT_SIZE, st), 0);
    hd_dump_free(d);
    rd_free(&g);
}
