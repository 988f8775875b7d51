/* stats_tables.c: objects per allocation site (tracemalloc's statistics('lineno')), the
 * allocator's pools (sys._debugmallocstats) and the collector's state (gc.get_stats,
 * gc.get_threshold, gc.get_count) for `heaptool stats`. */
#include "stats_tables.h"
#include "analysis.h"

#include <inttypes.h>
#include <stdlib.h>

static double pct(uint64_t part, uint64_t whole) { return whole ? 100.0 * (double)part / (double)whole : 0; }

/* Sums and products of a dump's numbers saturate at 2^64-1, as everywhere in heaptool. */
static uint64_t mul_sat(uint64_t a, uint64_t b) { return a && b > UINT64_MAX / a ? UINT64_MAX : a * b; }
static uint64_t add_sat(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

/* An empty "pools": {} or "gc": {} (as in the format's example) says nothing: treat it as absent. */
static bool pools_known(const hd_pools *p)
{
    return p->present && (p->nclasses || p->arena_size || p->pool_size || p->arenas_allocated ||
                          p->arenas_current || p->large_allocs);
}

static bool gc_known(const hd_gc *g)
{
    bool any = g->enabled || g->frozen || g->ngarbage;
    for (int i = 0; i < 3 && !any; i++)
        any = g->gen[i].threshold || g->gen[i].count || g->gen[i].collections;
    return g->present && any;
}

static char *site_text_of(const hd_dump *d, uint32_t s)
{
    return s == HD_NONE ? site_text(NULL, 0, NULL) : site_text(hd_site_file(d, s), hd_site_line(d, s), hd_site_function(d, s));
}

static hd_site_stat *site_stats(const hd_dump *d, enum hd_stat_sort sort, uint32_t *n)
{
    hd_site_stat *st = xmalloc(((size_t)hd_site_count(d) + 1) * sizeof *st);
    *n = hd_stats_by_site(d, sort, st);
    return st;
}

void print_site_stats(FILE *out, const hd_dump *d, enum hd_stat_sort sort, uint64_t top)
{
    uint32_t n;
    hd_site_stat *st = site_stats(d, sort, &n);
    uint32_t shown = top == 0 || top > n ? n : (uint32_t)top;
    uint64_t total = hd_total_size(d), objects = hd_object_count(d);
    static const char *const heads[] = {"site", "count", "count%", "size", "size%"};
    table t;
    table_init(&t, 5, heads, "lrrrr");
    for (uint32_t i = 0; i < shown; i++) {
        char c[32], cp[16], sz[16], sp[16];
        char *site = site_text_of(d, st[i].site);
        snprintf(cp, sizeof cp, "%.1f%%", pct(st[i].count, objects));
        snprintf(sp, sizeof sp, "%.1f%%", pct(st[i].size, total));
        table_row(&t, site, fmt_u64(st[i].count, c), cp, human_size(st[i].size, sz), sp);
        free(site);
    }
    table_print(&t, out, "");
    table_free(&t);
    if (shown < n)
        fprintf(out, "... %" PRIu32 " more site%s\n", n - shown, n - shown == 1 ? "" : "s");
    free(st);
}

void jw_site_stats(json_writer *w, const hd_dump *d, enum hd_stat_sort sort, uint64_t top)
{
    uint32_t n;
    hd_site_stat *st = site_stats(d, sort, &n);
    uint32_t shown = top == 0 || top > n ? n : (uint32_t)top;
    jw_array_begin(w);
    for (uint32_t i = 0; i < shown; i++) {
        jw_object_begin(w);
        jw_key(w, "site");
        jw_site_of(w, d, st[i].site);
        jw_key(w, "count");
        jw_uint(w, st[i].count);
        jw_key(w, "size");
        jw_uint(w, st[i].size);
        jw_object_end(w);
    }
    jw_array_end(w);
    free(st);
}

void print_pools_table(FILE *out, const hd_dump *d)
{
    const hd_pools *p = hd_dump_pools(d);
    if (!pools_known(p)) {
        fputs("allocator: no pool statistics in this dump\n", out);
        return;
    }
    char a[16], b[16], c[16];
    fprintf(out, "allocator: arenas of %s, pools of %s; arenas %" PRIu64 " current, %" PRIu64
            " highwater, %" PRIu64 " allocated, %" PRIu64 " reclaimed; %" PRIu64
            " large allocations, %s\n", human_size(p->arena_size, a), human_size(p->pool_size, b),
            p->arenas_current, p->arenas_highwater, p->arenas_allocated, p->arenas_reclaimed,
            p->large_allocs, human_size(p->large_bytes, c));
    if (!p->nclasses)
        return;
    static const char *const heads[] = {"class", "pools", "blocks used", "blocks free", "used",
                                        "free", "use%"};
    table t;
    table_init(&t, 7, heads, "rrrrrrr");
    uint64_t pools = 0, bu = 0, bf = 0, used = 0, avail = 0;
    for (uint32_t i = 0; i < p->nclasses; i++) {
        const hd_pool_class *k = &p->classes[i];
        uint64_t u = mul_sat(k->size, k->blocks_in_use), f = mul_sat(k->size, k->blocks_free);
        char s[32], np[32], nu[32], nf[32], hu[16], hf[16], up[16];
        snprintf(s, sizeof s, "%" PRIu32 " B", k->size);
        snprintf(up, sizeof up, "%.1f%%", pct(u, add_sat(u, f)));
        table_row(&t, s, fmt_u64(k->pools, np), fmt_u64(k->blocks_in_use, nu), fmt_u64(k->blocks_free, nf),
                  human_size(u, hu), human_size(f, hf), up);
        pools = add_sat(pools, k->pools);
        bu = add_sat(bu, k->blocks_in_use);
        bf = add_sat(bf, k->blocks_free);
        used = add_sat(used, u);
        avail = add_sat(avail, f);
    }
    char np[32], nu[32], nf[32], hu[16], hf[16], up[16];
    snprintf(up, sizeof up, "%.1f%%", pct(used, add_sat(used, avail)));
    table_row(&t, "total", fmt_u64(pools, np), fmt_u64(bu, nu), fmt_u64(bf, nf), human_size(used, hu),
              human_size(avail, hf), up);
    table_print(&t, out, "  ");
    table_free(&t);
}

void jw_pools(json_writer *w, const hd_dump *d)
{
    const hd_pools *p = hd_dump_pools(d);
    if (!pools_known(p)) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    const char *keys[] = {"arena_size", "pool_size", "arenas_allocated", "arenas_reclaimed",
                          "arenas_highwater", "arenas_current", "large_count", "large_bytes"};
    uint64_t vals[] = {p->arena_size, p->pool_size, p->arenas_allocated, p->arenas_reclaimed,
                       p->arenas_highwater, p->arenas_current, p->large_allocs, p->large_bytes};
    for (int i = 0; i < 8; i++) {
        jw_key(w, keys[i]);
        jw_uint(w, vals[i]);
    }
    jw_key(w, "classes");
    jw_array_begin(w);
    for (uint32_t i = 0; i < p->nclasses; i++) {
        const hd_pool_class *k = &p->classes[i];
        jw_object_begin(w);
        jw_key(w, "size");
        jw_uint(w, k->size);
        jw_key(w, "pools");
        jw_uint(w, k->pools);
        jw_key(w, "blocks_in_use");
        jw_uint(w, k->blocks_in_use);
        jw_key(w, "blocks_free");
        jw_uint(w, k->blocks_free);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
}

void print_gc_table(FILE *out, const hd_dump *d)
{
    const hd_gc *g = hd_dump_gc(d);
    if (!gc_known(g)) {
        fputs("collector: no collector state in this dump\n", out);
        return;
    }
    fprintf(out, "collector: %s; %" PRIu64 " frozen object%s; %" PRIu32 " object%s in the garbage list\n",
            g->enabled ? "enabled" : "disabled", g->frozen, g->frozen == 1 ? "" : "s", g->ngarbage,
            g->ngarbage == 1 ? "" : "s");
    static const char *const heads[] = {"generation", "threshold", "count", "collections", "collected",
                                        "uncollectable"};
    table t;
    table_init(&t, 6, heads, "rrrrrr");
    for (int i = 0; i < 3; i++) {
        const hd_gc_generation *x = &g->gen[i];
        char gen[8], th[32], ct[32], co[32], cd[32], un[32];
        snprintf(gen, sizeof gen, "%d", i);
        snprintf(th, sizeof th, "%" PRId64, x->threshold);
        snprintf(ct, sizeof ct, "%" PRId64, x->count);
        table_row(&t, gen, th, ct, fmt_u64(x->collections, co), fmt_u64(x->collected, cd),
                  fmt_u64(x->uncollectable, un));
    }
    table_print(&t, out, "  ");
    table_free(&t);
}

void jw_gc(json_writer *w, const hd_dump *d)
{
    const hd_gc *g = hd_dump_gc(d);
    if (!gc_known(g)) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    jw_key(w, "enabled");
    jw_bool(w, g->enabled);
    jw_key(w, "frozen");
    jw_uint(w, g->frozen);
    jw_key(w, "generations");
    jw_array_begin(w);
    for (int i = 0; i < 3; i++) {
        jw_object_begin(w);
        jw_key(w, "threshold");
        jw_int(w, g->gen[i].threshold);
        jw_key(w, "count");
        jw_int(w, g->gen[i].count);
        jw_key(w, "collections");
        jw_uint(w, g->gen[i].collections);
        jw_key(w, "collected");
        jw_uint(w, g->gen[i].collected);
        jw_key(w, "uncollectable");
        jw_uint(w, g->gen[i].uncollectable);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "garbage");
    jw_object_ids(w, d, g->garbage, g->ngarbage);
    jw_object_end(w);
}
