/* test_dominators.c: dominator tree and retained sizes against brute force on random graphs
 * (the retained set of X is what becomes unreachable when X is removed), and a long chain. */
#include "heapdump.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "random_numbers.h"

#define MAXN 48

typedef struct graph {
    uint32_t n, ntypes;
    uint32_t type[MAXN];
    uint64_t size[MAXN];
    bool adj[MAXN][MAXN];
    bool root[MAXN];
    bool weak[MAXN][MAXN]; /* weak links: in "weakrefs", never in "refs" */
} graph;

static uint64_t rng;
static uint32_t below(uint32_t n) { return (uint32_t)(xorshift64(&rng) % n); }

static void random_graph(graph *g, uint64_t seed)
{
    rng = seed * 2654435761u + 1;
    memset(g, 0, sizeof *g);
    g->n = 1 + below(MAXN);
    g->ntypes = 1 + below(4);
    uint32_t density = 1 + below(4);
    for (uint32_t i = 0; i < g->n; i++) {
        g->type[i] = below(g->ntypes);
        g->size[i] = 1 + below(100);
        for (uint32_t j = 0; j < g->n; j++) {
            if (below(g->n) < density)
                g->adj[i][j] = true; /* self-loops and cycles included */
            else if (below(4 * g->n) == 0)
                g->weak[i][j] = true;
        }
    }
    uint32_t nroots = below(4); /* sometimes none: everything unreachable */
    for (uint32_t r = 0; r < nroots; r++)
        g->root[below(g->n)] = true;
}

/* Objects reachable from the roots over strong edges, never entering `removed`. */
static void reach(const graph *g, uint32_t removed, bool *seen)
{
    uint32_t queue[MAXN], head = 0, tail = 0;
    memset(seen, 0, MAXN);
    for (uint32_t i = 0; i < g->n; i++)
        if (g->root[i] && i != removed && !seen[i]) {
            seen[i] = true;
            queue[tail++] = i;
        }
    while (head < tail) {
        uint32_t v = queue[head++];
        for (uint32_t w = 0; w < g->n; w++)
            if (g->adj[v][w] && w != removed && !seen[w]) {
                seen[w] = true;
                queue[tail++] = w;
            }
    }
}

static char *to_json(const graph *g, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    fprintf(f, "{\"format\": \"heapdump\", \"version\": 1, \"types\": [");
    for (uint32_t t = 0; t < g->ntypes; t++)
        fprintf(f, "%s{\"id\": %u, \"name\": \"T%u\"}", t ? ", " : "", t, t);
    fprintf(f, "],\n\"objects\": [\n");
    for (uint32_t i = 0; i < g->n; i++) {
        fprintf(f, "%s{\"id\": %u, \"type\": %u, \"size\": %llu, \"refs\": [", i ? ",\n" : "", 100 + i,
                g->type[i], (unsigned long long)g->size[i]);
        bool first = true;
        for (uint32_t j = 0; j < g->n; j++)
            if (g->adj[i][j]) {
                fprintf(f, "%s[%u, \"f%u\"]", first ? "" : ", ", 100 + j, j);
                first = false;
            }
        fputs("]}", f);
    }
    fputs("],\n\"weakrefs\": [", f);
    bool first = true;
    for (uint32_t i = 0; i < g->n; i++)
        for (uint32_t j = 0; j < g->n; j++)
            if (g->weak[i][j]) {
                fprintf(f, "%s{\"id\": %u, \"referent\": %u}", first ? "" : ", ", 100 + i, 100 + j);
                first = false;
            }
    fputs("],\n\"roots\": [", f);
    first = true;
    for (uint32_t i = 0; i < g->n; i++)
        if (g->root[i]) {
            fprintf(f, "%s{\"id\": %u, \"kind\": \"named\", \"name\": \"r\"}", first ? "" : ", ", 100 + i);
            first = false;
        }
    fputs("]}\n", f);
    fclose(f);
    return buf;
}

Test(dominators, match_brute_force_on_random_graphs)
{
    for (uint64_t seed = 1; seed <= 400; seed++) {
        graph g;
        random_graph(&g, seed);
        size_t len;
        char *json = to_json(&g, &len);
        hd_dump *d;
        hd_error err;
        cr_assert_eq(hd_load_buffer(json, len, "g.json", NULL, &d, &err), HD_OK, "%s", err.message);
        free(json);
        hd_dominators *dom;
        cr_assert_eq(hd_dominators_compute(d, &dom), HD_OK);

        bool base[MAXN], without[MAXN][MAXN]; /* without[x][y]: y reachable when x is removed */
        reach(&g, UINT32_MAX, base);
        for (uint32_t x = 0; x < g.n; x++)
            reach(&g, x, without[x]);
        uint32_t nreach = 0;
        uint64_t type_retained[4] = {0};
        for (uint32_t x = 0; x < g.n; x++) {
            uint32_t o = hd_object_find(d, 100 + x);
            if (!base[x]) {
                cr_assert_eq(hd_dominator_of(dom, o), HD_NONE, "seed %llu: %u is unreachable",
                             (unsigned long long)seed, x);
                cr_assert_eq(hd_retained_size(dom, o), 0);
                continue;
            }
            nreach++;
            /* Retained set: x and what only x keeps reachable. */
            uint64_t retained = 0;
            for (uint32_t y = 0; y < g.n; y++)
                if (base[y] && (y == x || !without[x][y]))
                    retained += g.size[y];
            cr_assert_eq(hd_retained_size(dom, o), retained, "seed %llu: retained(%u) = %llu, want %llu",
                         (unsigned long long)seed, x, (unsigned long long)hd_retained_size(dom, o),
                         (unsigned long long)retained);
            /* Strict dominators of x; the immediate one is dominated by all the others. */
            uint32_t idom = UINT32_MAX, best = 0;
            bool same_type_above = false;
            for (uint32_t y = 0; y < g.n; y++) {
                if (y == x || without[y][x])
                    continue;
                same_type_above |= g.type[y] == g.type[x];
                uint32_t depth = 0; /* how many strict dominators y itself has */
                for (uint32_t z = 0; z < g.n; z++)
                    depth += z != y && !without[z][y];
                if (idom == UINT32_MAX || depth > best) {
                    idom = y;
                    best = depth;
                }
            }
            uint32_t got = hd_dominator_of(dom, o);
            if (idom == UINT32_MAX)
                cr_assert_eq(got, HD_DOM_ROOT, "seed %llu: idom(%u) should be the root", (unsigned long long)seed, x);
            else
                cr_assert_eq(hd_object_id(d, got), 100 + idom, "seed %llu: idom(%u) = #%llu, want %u",
                             (unsigned long long)seed, x, (unsigned long long)hd_object_id(d, got) - 100, idom);
            if (!same_type_above)
                type_retained[g.type[x]] += retained;
        }
        cr_assert_eq(hd_dominators_reachable(dom), nreach);

        /* The DevTools per-type rule. */
        hd_type_stat st[4];
        uint32_t nst;
        cr_assert_eq(hd_stats_retained_by_type(d, dom, st, &nst), HD_OK);
        for (uint32_t i = 0; i < nst; i++) {
            uint32_t t = (uint32_t)hd_type_id(d, st[i].type);
            cr_assert_eq(st[i].retained, type_retained[t], "seed %llu: type T%u retains %llu, want %llu",
                         (unsigned long long)seed, t, (unsigned long long)st[i].retained,
                         (unsigned long long)type_retained[t]);
            if (i > 0)
                cr_assert_geq(st[i - 1].retained, st[i].retained, "sorted by retained");
        }

        /* The children lists: each reachable object once, in its immediate dominator's list (the
         * virtual root's for HD_DOM_ROOT), each list in increasing object order. */
        uint32_t *first, *child, n = hd_object_count(d);
        cr_assert_eq(hd_dominator_children(dom, &first, &child), HD_OK);
        cr_assert_eq(first[0], 0);
        cr_assert_eq(first[n + 1], nreach, "seed %llu: %u children, want %u", (unsigned long long)seed,
                     first[n + 1], nreach);
        for (uint32_t p = 0; p <= n; p++) {
            cr_assert_leq(first[p], first[p + 1]);
            for (uint32_t i = first[p]; i < first[p + 1]; i++) {
                uint32_t c = child[i], want = hd_dominator_of(dom, c);
                cr_assert_eq(want == HD_DOM_ROOT ? n : want, p, "seed %llu: %u listed under %u",
                             (unsigned long long)seed, c, p);
                if (i > first[p])
                    cr_assert_lt(child[i - 1], c);
            }
        }
        free(first);
        free(child);

        /* Top retainers: the largest retained sizes, in order. */
        uint32_t top[MAXN];
        uint32_t k = hd_dominators_top(dom, 5, top);
        cr_assert_eq(k, nreach < 5 ? nreach : 5);
        for (uint32_t i = 0; i < k; i++) {
            uint32_t larger = 0;
            for (uint32_t o = 0; o < g.n; o++)
                larger += hd_dominator_of(dom, o) != HD_NONE && hd_retained_size(dom, o) > hd_retained_size(dom, top[i]);
            cr_assert_leq(larger, i, "seed %llu: top[%u] is not among the %u largest", (unsigned long long)seed, i, i + 1);
            if (i > 0)
                cr_assert_geq(hd_retained_size(dom, top[i - 1]), hd_retained_size(dom, top[i]));
        }
        hd_dominators_free(dom);
        hd_dump_free(d);
    }
}

#if defined(__SANITIZE_ADDRESS__)
#define CHAIN_LENGTH 1000000u
#else
#define CHAIN_LENGTH 10000000u
#endif

/* A chain far longer than any recursion could walk: each link retains all that follows. */
Test(dominators, long_chain_without_recursion, .timeout = 300)
{
    char path[] = "/tmp/heaptool-chain-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"Node\"}],\n"
          "\"roots\": [{\"id\": 1, \"kind\": \"named\", \"name\": \"head\"}],\n\"objects\": [\n", f);
    for (uint32_t i = 1; i <= CHAIN_LENGTH; i++) {
        if (i < CHAIN_LENGTH)
            fprintf(f, "{\"id\": %u, \"type\": 0, \"size\": 2, \"refs\": [[%u, \"next\"]]},\n", i, i + 1);
        else
            fprintf(f, "{\"id\": %u, \"type\": 0, \"size\": 2}\n", i);
    }
    fputs("]}\n", f);
    cr_assert_eq(fclose(f), 0);
    hd_dump *d;
    hd_error err;
    int rc = hd_load(path, NULL, &d, &err);
    unlink(path);
    cr_assert_eq(rc, HD_OK, "%s", err.message);
    hd_dominators *dom;
    cr_assert_eq(hd_dominators_compute(d, &dom), HD_OK);
    cr_assert_eq(hd_dominators_reachable(dom), CHAIN_LENGTH);
    uint32_t head = hd_object_find(d, 1), mid = hd_object_find(d, CHAIN_LENGTH / 2);
    cr_assert_eq(hd_retained_size(dom, head), 2ull * CHAIN_LENGTH);
    cr_assert_eq(hd_retained_size(dom, mid), 2ull * (CHAIN_LENGTH - CHAIN_LENGTH / 2 + 1));
    cr_assert_eq(hd_dominator_of(dom, head), HD_DOM_ROOT);
    cr_assert_eq(hd_object_id(d, hd_dominator_of(dom, mid)), CHAIN_LENGTH / 2 - 1);
    hd_dominators_free(dom);
    hd_dump_free(d);
}

/* A random heap of n objects for the out-of-core comparison: long runs of next links (deep DFS
 * trees), random references between them (cycles, shared objects) and a few roots. */
static char *big_json(uint32_t n, uint64_t seed, size_t *len)
{
    rng = seed * 0x9e3779b97f4a7c15ull + 7;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    fputs("{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"T\"}],\n"
          "\"objects\": [\n",
          f);
    for (uint32_t i = 0; i < n; i++) {
        fprintf(f, "%s{\"id\": %u, \"type\": 0, \"size\": %u, \"refs\": [", i ? ",\n" : "", i + 1, 1 + below(64));
        uint32_t nrefs = below(5);
        for (uint32_t k = 0; k < nrefs; k++)
            fprintf(f, "%s[%u, \"f\"]", k ? ", " : "", k == 0 && below(4) ? (i + 1) % n + 1 : below(n) + 1);
        fputs("]}", f);
    }
    fputs("],\n\"roots\": [", f);
    uint32_t nroots = 1 + below(8);
    for (uint32_t r = 0; r < nroots; r++)
        fprintf(f, "%s{\"id\": %u, \"kind\": \"named\", \"name\": \"r\"}", r ? ", " : "", below(n) + 1);
    fputs("]}\n", f);
    fclose(f);
    return buf;
}

static hd_dominators *dominators_with_budget(const hd_dump *d, uint64_t budget)
{
    cr_assert_eq(hd_memory_budget(budget, "/tmp"), HD_OK);
    hd_dominators *dom;
    cr_assert_eq(hd_dominators_compute(d, &dom), HD_OK);
    cr_assert_eq(hd_memory_budget(0, NULL), HD_OK);
    return dom;
}

/* Out of core with a budget of one byte, the predecessors go through the most buckets the
 * external sort makes (a handful of pairs each): the tree and the sizes are the in-memory ones,
 * which the brute force above checks. */
Test(dominators, out_of_core_matches_in_memory, .timeout = 300)
{
    for (uint64_t seed = 1; seed <= 120; seed++) {
        uint32_t n = seed <= 100 ? 1 + (uint32_t)(seed * 37 % 500) : 20000 + (uint32_t)seed;
        size_t len;
        char *json = big_json(n, seed, &len);
        hd_dump *d;
        hd_error err;
        cr_assert_eq(hd_load_buffer(json, len, "g.json", NULL, &d, &err), HD_OK, "%s", err.message);
        free(json);
        hd_dominators *want = dominators_with_budget(d, 0), *got = dominators_with_budget(d, 1);
        cr_assert_eq(hd_dominators_reachable(got), hd_dominators_reachable(want), "seed %llu",
                     (unsigned long long)seed);
        for (uint32_t o = 0; o < n; o++) {
            cr_assert_eq(hd_dominator_of(got, o), hd_dominator_of(want, o), "seed %llu object %u",
                         (unsigned long long)seed, o);
            cr_assert_eq(hd_retained_size(got, o), hd_retained_size(want, o), "seed %llu object %u",
                         (unsigned long long)seed, o);
        }
        hd_dominators_free(want);
        hd_dominators_free(got);
        hd_dump_free(d);
    }
}
