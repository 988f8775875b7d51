/* random_dump.h: random heap graphs for the analysis tests, written as heapdump JSON text and
 * loaded through hd_load_buffer, so the tests exercise the same path as real dumps. Header-only
 * (static inline) so each Criterion suite stays one file. */
#ifndef TESTS_RANDOM_DUMP_H
#define TESTS_RANDOM_DUMP_H

#include "heapdump.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t rd_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline uint32_t rd_below(uint64_t *s, uint32_t n) { return n ? (uint32_t)(rd_next(s) % n) : 0; }

static const char *const rd_edge_names[] = {"next", "prev", "0", "value", "items", "", "[3]", "[12]"};
static const char *const rd_root_kinds[] = {"external", "named", "interned", "cache", "frozen", "garbage"};

typedef struct rd_graph {
    uint32_t n, ntypes, nsites, nroots;
    uint64_t *ids;
    uint32_t *type;        /* index into type_ids/type_names */
    uint64_t *size;
    uint32_t *site;        /* HD_NONE or index into site arrays */
    uint32_t *off, *dst;   /* CSR */
    uint8_t *ename;        /* index into rd_edge_names per edge */
    uint32_t *root_obj;
    uint8_t *root_kind;    /* index into rd_root_kinds */
    uint64_t *type_ids;
    char (*type_names)[16];
    unsigned *type_flags;  /* HD_TYPE_* */
    uint64_t *site_ids;
    uint32_t *site_line;   /* file is "f<line % 3>.c", function "fn<line % 2>" */
    int64_t pid;
    const char *producer;
} rd_graph;

static inline void rd_free(rd_graph *g)
{
    free(g->ids); free(g->type); free(g->size); free(g->site); free(g->off); free(g->dst);
    free(g->ename); free(g->root_obj); free(g->root_kind); free(g->type_ids); free(g->type_names);
    free(g->type_flags); free(g->site_ids); free(g->site_line);
    memset(g, 0, sizeof *g);
}

static inline void *rd_alloc(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    cr_assert(p, "out of memory");
    return p;
}

/* The types, sites and objects of a random graph, without edges or roots. Ids are distinct,
 * scattered (not 0..n-1) so index and id never coincide. */
static inline void rd_nodes(rd_graph *g, uint64_t *seed, uint32_t n, uint32_t ntypes, uint32_t nsites)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->ntypes = ntypes;
    g->nsites = nsites;
    g->pid = 4242;
    g->producer = "rdgen 1";
    g->type_ids = rd_alloc(ntypes * sizeof *g->type_ids);
    g->type_names = rd_alloc(ntypes * sizeof *g->type_names);
    g->type_flags = rd_alloc(ntypes * sizeof *g->type_flags);
    for (uint32_t t = 0; t < ntypes; t++) {
        g->type_ids[t] = 100 + t;
        snprintf(g->type_names[t], sizeof g->type_names[t], "T%u", t);
        uint32_t r = rd_below(seed, 6);
        g->type_flags[t] = HD_TYPE_GC | (r == 0 ? HD_TYPE_FINALIZER : 0) |
                           (r == 1 ? HD_TYPE_FINALIZER | HD_TYPE_LEGACY_FINALIZER : 0);
    }
    g->site_ids = rd_alloc(nsites * sizeof *g->site_ids);
    g->site_line = rd_alloc(nsites * sizeof *g->site_line);
    for (uint32_t s = 0; s < nsites; s++) {
        g->site_ids[s] = 500 + s;
        g->site_line[s] = 10 + s;
    }
    g->ids = rd_alloc(n * sizeof *g->ids);
    g->type = rd_alloc(n * sizeof *g->type);
    g->size = rd_alloc(n * sizeof *g->size);
    g->site = rd_alloc(n * sizeof *g->site);
    for (uint32_t i = 0; i < n; i++) {
        g->ids[i] = (uint64_t)i * 7 + 3;
        g->type[i] = rd_below(seed, ntypes);
        g->size[i] = 16 + 16 * rd_below(seed, 8);
        g->site[i] = nsites && rd_below(seed, 4) ? rd_below(seed, nsites) : HD_NONE;
    }
}

/* Random edges (out-degree 0..2*avg, self-loops and duplicates allowed) and roots. */
static inline void rd_edges(rd_graph *g, uint64_t *seed, uint32_t avg_degree, uint32_t nroots)
{
    uint32_t n = g->n, cap = n * (2 * avg_degree + 1) + 1;
    g->off = rd_alloc(((size_t)n + 1) * sizeof *g->off);
    g->dst = rd_alloc(cap * sizeof *g->dst);
    g->ename = rd_alloc(cap);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        g->off[i] = m;
        uint32_t k = rd_below(seed, 2 * avg_degree + 1);
        for (uint32_t j = 0; j < k; j++) {
            g->dst[m] = rd_below(seed, n);
            g->ename[m++] = (uint8_t)rd_below(seed, sizeof rd_edge_names / sizeof rd_edge_names[0]);
        }
    }
    g->off[n] = m;
    g->nroots = n ? nroots : 0;
    g->root_obj = rd_alloc(nroots * sizeof *g->root_obj);
    g->root_kind = rd_alloc(nroots);
    for (uint32_t r = 0; r < g->nroots; r++) {
        g->root_obj[r] = rd_below(seed, n);
        g->root_kind[r] = (uint8_t)(rd_below(seed, 4) == 0 ? 5 : rd_below(seed, 5));
    }
}

static inline void rd_random(rd_graph *g, uint64_t seed, uint32_t n, uint32_t avg_degree, uint32_t nroots)
{
    uint64_t s = seed;
    rd_nodes(g, &s, n, 1 + rd_below(&s, 5), 1 + rd_below(&s, 4));
    rd_edges(g, &s, avg_degree, nroots);
}

static inline char *rd_json(const rd_graph *g, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    cr_assert(f);
    fprintf(f, "{\"format\": \"heapdump\", \"version\": 1,\n \"meta\": {\"producer\": \"%s\", "
               "\"created\": \"2026-01-01T00:00:00Z\"", g->producer);
    if (g->pid >= 0)
        fprintf(f, ", \"pid\": %lld", (long long)g->pid);
    fputs(", \"pointer_size\": 8},\n \"types\": [", f);
    for (uint32_t t = 0; t < g->ntypes; t++)
        fprintf(f, "%s\n  {\"id\": %llu, \"name\": \"%s\", \"size\": 16, \"gc\": true%s%s}",
                t ? "," : "", (unsigned long long)g->type_ids[t], g->type_names[t],
                g->type_flags[t] & HD_TYPE_FINALIZER ? ", \"finalizer\": true" : "",
                g->type_flags[t] & HD_TYPE_LEGACY_FINALIZER ? ", \"legacy_finalizer\": true" : "");
    fputs("],\n \"sites\": [", f);
    for (uint32_t s = 0; s < g->nsites; s++)
        fprintf(f, "%s\n  {\"id\": %llu, \"file\": \"f%u.c\", \"line\": %u, \"function\": \"fn%u\"}",
                s ? "," : "", (unsigned long long)g->site_ids[s], g->site_line[s] % 3,
                g->site_line[s], g->site_line[s] % 2);
    fputs("],\n \"objects\": [", f);
    for (uint32_t i = 0; i < g->n; i++) {
        fprintf(f, "%s\n  {\"id\": %llu, \"type\": %llu, \"size\": %llu, \"rc\": 1", i ? "," : "",
                (unsigned long long)g->ids[i], (unsigned long long)g->type_ids[g->type[i]],
                (unsigned long long)g->size[i]);
        if (g->site[i] != HD_NONE)
            fprintf(f, ", \"site\": %llu", (unsigned long long)g->site_ids[g->site[i]]);
        fputs(", \"refs\": [", f);
        for (uint32_t e = g->off[i]; e < g->off[i + 1]; e++)
            fprintf(f, "%s[%llu, \"%s\"]", e > g->off[i] ? ", " : "",
                    (unsigned long long)g->ids[g->dst[e]], rd_edge_names[g->ename[e]]);
        fputs("]}", f);
    }
    fputs("],\n \"weakrefs\": [],\n \"roots\": [", f);
    for (uint32_t r = 0; r < g->nroots; r++)
        fprintf(f, "%s\n  {\"id\": %llu, \"kind\": \"%s\", \"name\": \"r%u\"}", r ? "," : "",
                (unsigned long long)g->ids[g->root_obj[r]], rd_root_kinds[g->root_kind[r]], r % 2);
    fputs("]}\n", f);
    fclose(f);
    return buf;
}

static inline hd_dump *rd_load(const rd_graph *g)
{
    size_t len;
    char *text = rd_json(g, &len);
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(text, len, "random", NULL, &d, &err);
    cr_assert_eq(rc, HD_OK, "loading a generated dump: %s", err.message);
    free(text);
    return d;
}

/* A chain of n objects 0 -> 1 -> ... -> n-1 (".next"), rooted at 0, closed into one cycle when
 * closed is set; written directly for speed. */
static inline hd_dump *rd_chain(uint32_t n, int closed)
{
    size_t cap = (size_t)n * 72 + 512, len = 0;
    char *buf = malloc(cap);
    cr_assert(buf);
    len += (size_t)sprintf(buf, "{\"format\":\"heapdump\",\"version\":1,\"meta\":{\"producer\":\"chain\"},"
                                "\"types\":[{\"id\":0,\"name\":\"Node\",\"size\":32}],\"objects\":[\n");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t next = i + 1 < n ? i + 1 : 0;
        if (i + 1 < n || closed)
            len += (size_t)sprintf(buf + len, "%s{\"id\":%u,\"type\":0,\"size\":32,\"refs\":[[%u,\"next\"]]}\n",
                                   i ? "," : "", i + 1, next + 1);
        else
            len += (size_t)sprintf(buf + len, "%s{\"id\":%u,\"type\":0,\"size\":32}\n", i ? "," : "", i + 1);
    }
    len += (size_t)sprintf(buf + len, "],\"roots\":[{\"id\":1,\"kind\":\"external\"}]}\n");
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load_buffer(buf, len, "chain", NULL, &d, &err), HD_OK, "%s", err.message);
    free(buf);
    return d;
}

/* Oracle: reachability by repeated search. state[o] as enum hd_reach_state, and dist[o] the
 * shortest distance by Bellman-Ford style relaxation (a different algorithm from BFS). */
static inline void rd_oracle_reach(const rd_graph *g, uint8_t *state, uint32_t *dist)
{
    uint32_t n = g->n;
    for (uint32_t o = 0; o < n; o++) {
        state[o] = HD_REACH_UNREACHABLE;
        dist[o] = UINT32_MAX;
    }
    uint32_t *stack = rd_alloc((g->off[n] + n + 1) * sizeof *stack);
    for (int phase = 0; phase < 2; phase++) {
        uint8_t mark = phase ? HD_REACH_UNCOLLECTABLE : HD_REACH_LIVE;
        for (uint32_t r = 0; r < g->nroots; r++) {
            if ((g->root_kind[r] == 5) != (phase == 1))
                continue;
            uint32_t sp = 0;
            stack[sp++] = g->root_obj[r];
            while (sp) {
                uint32_t v = stack[--sp];
                if (state[v] != HD_REACH_UNREACHABLE)
                    continue;
                state[v] = mark;
                for (uint32_t e = g->off[v]; e < g->off[v + 1]; e++)
                    stack[sp++] = g->dst[e];
            }
        }
        /* relaxation restricted to this phase's objects */
        for (uint32_t r = 0; r < g->nroots; r++)
            if ((g->root_kind[r] == 5) == (phase == 1) && state[g->root_obj[r]] == mark)
                dist[g->root_obj[r]] = 0;
        for (int changed = 1; changed;) {
            changed = 0;
            for (uint32_t u = 0; u < n; u++) {
                if (state[u] != mark || dist[u] == UINT32_MAX)
                    continue;
                for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++) {
                    uint32_t v = g->dst[e];
                    if (state[v] == mark && dist[u] + 1 < dist[v]) {
                        dist[v] = dist[u] + 1;
                        changed = 1;
                    }
                }
            }
        }
    }
    free(stack);
}

#endif
