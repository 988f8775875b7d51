/* test_diff.c: hd_diff_compute against naive id matching, and memlab's leak rule
 * (hd_leak_report_compute) against a naive three-way match and naive path shapes. Types and
 * sites get different ids and orders in each dump, so matching must go by names. */
#include "random_dump.h"

/* A successor snapshot of g: some objects freed, some retyped under the same id (id reuse),
 * some resized, some allocated; types and sites renumbered and reordered. */
static void evolve(const rd_graph *g, rd_graph *h, uint64_t *seed, uint64_t fresh_base)
{
    uint32_t keep = 0, nadd = rd_below(seed, g->n + 3);
    uint32_t *map = rd_alloc(g->n * sizeof *map);
    for (uint32_t i = 0; i < g->n; i++)
        map[i] = rd_below(seed, 4) ? keep++ : HD_NONE;
    rd_nodes(h, seed, keep + nadd, g->ntypes + 1, g->nsites);
    /* type i of h is named like g's type ntypes-1-i; the extra last one is new */
    for (uint32_t t = 0; t < h->ntypes; t++) {
        h->type_ids[t] = 900 + 3 * t;
        if (t < g->ntypes)
            memcpy(h->type_names[t], g->type_names[g->ntypes - 1 - t], sizeof h->type_names[t]);
        else
            snprintf(h->type_names[t], sizeof h->type_names[t], "New%llu", (unsigned long long)fresh_base);
    }
    for (uint32_t s = 0; s < h->nsites; s++) {
        h->site_ids[s] = 700 + 5 * s;
        h->site_line[s] = g->site_line[g->nsites - 1 - s];
    }
    for (uint32_t i = 0; i < g->n; i++) {
        uint32_t j = map[i];
        if (j == HD_NONE)
            continue;
        h->ids[j] = g->ids[i];
        h->type[j] = g->ntypes - 1 - g->type[i];
        if (rd_below(seed, 8) == 0)
            h->type[j] = rd_below(seed, h->ntypes); /* may stay the same */
        h->size[j] = rd_below(seed, 6) ? g->size[i] : g->size[i] + 16;
        h->site[j] = g->site[i] == HD_NONE ? HD_NONE : g->nsites - 1 - g->site[i];
    }
    for (uint32_t j = keep; j < h->n; j++)
        h->ids[j] = fresh_base + j; /* type, size, site random from rd_nodes */
    rd_edges(h, seed, 1 + rd_below(seed, 2), 1 + rd_below(seed, 4));
    free(map);
}

static uint32_t find_id(const rd_graph *g, uint64_t id)
{
    for (uint32_t i = 0; i < g->n; i++)
        if (g->ids[i] == id)
            return i;
    return HD_NONE;
}

static const char *tname(const rd_graph *g, uint32_t o) { return g->type_names[g->type[o]]; }

static uint64_t leaked_seen, traces_seen, added_seen, deleted_seen;

typedef struct orow {
    uint64_t count_old, count_new, added, deleted, size_old, size_new, allocated, freed;
} orow;

/* Naive diff keyed by type number (names are "T<k>" or "New<k>": compare as strings) or by
 * site line (UINT32_MAX for "no site"). */
static void check_diff(const rd_graph *g, const rd_graph *h, const hd_dump *dg, const hd_dump *dh,
                       enum hd_diff_by by, uint64_t seed)
{
    hd_diff *df = NULL;
    cr_assert_eq(hd_diff_compute(dg, dh, by, &df), HD_OK);
    uint32_t nadded = 0, ndeleted = 0;
    uint64_t matched = 0;
    for (uint32_t o = 0; o < g->n; o++) {
        uint32_t j = find_id(h, g->ids[o]);
        if (j == HD_NONE || strcmp(tname(g, o), tname(h, j))) {
            cr_assert_lt(ndeleted, df->ndeleted, "seed %llu", (unsigned long long)seed);
            cr_assert_eq(df->deleted[ndeleted++], o);
        } else {
            matched++;
        }
    }
    for (uint32_t o = 0; o < h->n; o++) {
        uint32_t j = find_id(g, h->ids[o]);
        if (j == HD_NONE || strcmp(tname(g, j), tname(h, o))) {
            cr_assert_lt(nadded, df->nadded);
            cr_assert_eq(df->added[nadded++], o);
        }
    }
    cr_assert_eq(nadded, df->nadded);
    cr_assert_eq(ndeleted, df->ndeleted);
    cr_assert_eq(matched, df->matched);
    added_seen += nadded;
    deleted_seen += ndeleted;

    /* every row against the naive tally of its key; every object counted in some row */
    uint64_t total_old = 0, total_new = 0;
    for (uint32_t i = 0; i < df->nrows; i++) {
        const hd_diff_row *r = &df->rows[i];
        orow x = {0};
        for (int side = 0; side < 2; side++) {
            const rd_graph *a = side ? h : g, *b = side ? g : h;
            for (uint32_t o = 0; o < a->n; o++) {
                int in;
                if (by == HD_DIFF_BY_TYPE) {
                    in = !strcmp(tname(a, o), r->type);
                } else if (!r->file) {
                    in = a->site[o] == HD_NONE;
                } else {
                    in = a->site[o] != HD_NONE && a->site_line[a->site[o]] == r->line;
                    if (in) {
                        char file[16], fn[16];
                        snprintf(file, sizeof file, "f%u.c", r->line % 3);
                        snprintf(fn, sizeof fn, "fn%u", r->line % 2);
                        cr_assert_str_eq(r->file, file);
                        cr_assert_str_eq(r->function, fn);
                    }
                }
                if (!in)
                    continue;
                uint32_t j = find_id(b, a->ids[o]);
                int fresh = j == HD_NONE || strcmp(tname(a, o), tname(b, j));
                if (side) {
                    x.count_new++;
                    x.size_new += a->size[o];
                    if (fresh) {
                        x.added++;
                        x.allocated += a->size[o];
                    }
                } else {
                    x.count_old++;
                    x.size_old += a->size[o];
                    if (fresh) {
                        x.deleted++;
                        x.freed += a->size[o];
                    }
                }
            }
        }
        cr_assert_eq(r->count_old, x.count_old, "seed %llu row %u", (unsigned long long)seed, i);
        cr_assert_eq(r->count_new, x.count_new, "seed %llu row %u", (unsigned long long)seed, i);
        cr_assert_eq(r->added, x.added);
        cr_assert_eq(r->deleted, x.deleted);
        cr_assert_eq(r->size_old, x.size_old);
        cr_assert_eq(r->size_new, x.size_new);
        cr_assert_eq(r->allocated, x.allocated);
        cr_assert_eq(r->freed, x.freed);
        cr_assert_eq(r->count_delta, (int64_t)x.count_new - (int64_t)x.count_old);
        cr_assert_eq(r->size_delta, (int64_t)x.size_new - (int64_t)x.size_old);
        cr_assert(x.count_old || x.count_new, "no empty rows");
        total_old += x.count_old;
        total_new += x.count_new;
        if (i)
            cr_assert(df->rows[i - 1].count_delta > r->count_delta ||
                      (df->rows[i - 1].count_delta == r->count_delta &&
                       df->rows[i - 1].size_delta >= r->size_delta), "sorted by growth");
    }
    cr_assert_eq(total_old, g->n, "seed %llu: rows cover OLD", (unsigned long long)seed);
    cr_assert_eq(total_new, h->n, "rows cover NEW");
    hd_diff_free(df);
}

/* A trace shape as text: "kind/name/type" then " edge:type" per step. */
static void shape_text(const hd_dump *f, const hd_leak_trace *t, char *out, size_t size)
{
    if (!t->nsteps) {
        snprintf(out, size, "unreachable");
        return;
    }
    size_t n = (size_t)snprintf(out, size, "%s/%s/%s", hd_root_kind_name(f, t->root),
                                hd_root_name(f, t->root), hd_type_name(f, t->steps[0].type));
    for (uint32_t i = 1; i < t->nsteps && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, " %s:%s", t->steps[i].edge,
                              hd_type_name(f, t->steps[i].type));
}

static int is_identifier(const char *e)
{
#define HEAD "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$"
    return e[0] && strchr(HEAD, e[0]) && e[strspn(e, HEAD "0123456789")] == '\0';
#undef HEAD
}

static void naive_shape(const hd_dump *f, const hd_reach *r, uint32_t o, char *out, size_t size)
{
    hd_path *p = NULL;
    cr_assert_eq(hd_path_from_reach(f, r, o, &p), HD_OK);
    if (!p->nhops) {
        snprintf(out, size, "unreachable");
        hd_path_free(p);
        return;
    }
    size_t n = (size_t)snprintf(out, size, "%s/%s/%s", hd_root_kind_name(f, p->root),
                                hd_root_name(f, p->root), hd_type_name(f, hd_object_type(f, p->hops[0].object)));
    const char *last_edge = NULL;
    uint32_t last_type = HD_NONE;
    for (uint32_t i = 1; i < p->nhops && n < size; i++) {
        const char *e = hd_edge_name(f, p->hops[i].edge);
        /* a name that is not an identifier is data ("[12]", "0", "/item/3"): one step "[*]" */
        if (e[0] && !is_identifier(e))
            e = "[*]";
        uint32_t t = hd_object_type(f, p->hops[i].object);
        if (last_edge && !strcmp(e, last_edge) && t == last_type)
            continue;
        n += (size_t)snprintf(out + n, size - n, " %s:%s", e, hd_type_name(f, t));
        last_edge = e;
        last_type = t;
    }
    hd_path_free(p);
}

static void check_leak_rule(const rd_graph *b, const rd_graph *t, const rd_graph *f,
                            const hd_dump *db, const hd_dump *dt, const hd_dump *df, uint64_t seed)
{
    hd_leak_report *rep = NULL;
    cr_assert_eq(hd_leak_report_compute(db, dt, df, &rep), HD_OK);
    uint32_t k = 0;
    uint64_t size = 0;
    hd_reach *r = NULL;
    cr_assert_eq(hd_reach_compute(df, &r), HD_OK);
    char (*shapes)[512] = rd_alloc((size_t)f->n * sizeof *shapes);
    uint32_t nshapes = 0;
    for (uint32_t o = 0; o < f->n; o++) {
        uint32_t j = find_id(t, f->ids[o]);
        if (j == HD_NONE || strcmp(tname(t, j), tname(f, o)))
            continue;
        uint32_t i = find_id(b, f->ids[o]);
        if (i != HD_NONE && !strcmp(tname(b, i), tname(t, j)))
            continue;
        cr_assert_lt(k, rep->nleaked, "seed %llu", (unsigned long long)seed);
        cr_assert_eq(rep->leaked[k++], o);
        size += f->size[o];
        naive_shape(df, r, o, shapes[nshapes++], sizeof shapes[0]);
    }
    cr_assert_eq(k, rep->nleaked);
    cr_assert_eq(size, rep->leaked_size);
    uint64_t by_type = 0;
    for (uint32_t i = 0; i < rep->ntypes; i++)
        by_type += rep->by_type[i].count;
    cr_assert_eq(by_type, rep->nleaked);
    uint64_t traced = 0;
    for (uint32_t i = 0; i < rep->ntraces; i++) {
        const hd_leak_trace *tr = &rep->traces[i];
        char text[512], ex[512];
        shape_text(df, tr, text, sizeof text);
        naive_shape(df, r, tr->example, ex, sizeof ex);
        cr_assert_str_eq(text, ex, "seed %llu: the example has its group's shape", (unsigned long long)seed);
        uint64_t count = 0;
        for (uint32_t s = 0; s < nshapes; s++)
            count += !strcmp(shapes[s], text);
        cr_assert_eq(tr->count, count, "seed %llu: shape '%s'", (unsigned long long)seed, text);
        for (uint32_t j = 0; j < i; j++) {
            char other[512];
            shape_text(df, &rep->traces[j], other, sizeof other);
            cr_assert_str_neq(other, text, "one group per shape");
        }
        traced += tr->count;
        if (i)
            cr_assert_geq(rep->traces[i - 1].count, tr->count);
    }
    cr_assert_eq(traced, rep->nleaked);
    leaked_seen += rep->nleaked;
    traces_seen += rep->ntraces;
    free(shapes);
    hd_reach_free(r);
    hd_leak_report_free(rep);
}

Test(diff, random_snapshots_against_naive_matching)
{
    for (uint64_t seed = 1; seed <= 200; seed++) {
        uint64_t s = seed * 2654435761u;
        rd_graph g, h, f;
        rd_random(&g, seed, rd_below(&s, 40), 1, 2);
        evolve(&g, &h, &s, 100000);
        evolve(&h, &f, &s, 200000);
        hd_dump *dg = rd_load(&g), *dh = rd_load(&h), *df = rd_load(&f);
        check_diff(&g, &h, dg, dh, HD_DIFF_BY_TYPE, seed);
        check_diff(&g, &h, dg, dh, HD_DIFF_BY_SITE, seed);
        check_diff(&h, &f, dh, df, HD_DIFF_BY_TYPE, seed);
        check_leak_rule(&g, &h, &f, dg, dh, df, seed);
        cr_assert_eq(hd_dump_compat(dg, dh), HD_COMPAT_SAME);
        hd_dump_free(dg);
        hd_dump_free(dh);
        hd_dump_free(df);
        rd_free(&g);
        rd_free(&h);
        rd_free(&f);
    }
    /* the random snapshots exercise every case, not just empty answers */
    cr_assert_gt(leaked_seen, 500);
    cr_assert_gt(traces_seen, 200);
    cr_assert_gt(added_seen, 500);
    cr_assert_gt(deleted_seen, 500);
}

Test(diff, chain_shapes_collapse)
{
    /* base: a list head; target and final: the head plus a chain of 50 new nodes */
    rd_graph g, h;
    uint64_t s = 9;
    rd_nodes(&g, &s, 1, 2, 0);
    rd_nodes(&h, &s, 51, 2, 0);
    for (uint32_t i = 0; i < 51; i++) {
        h.ids[i] = i + 1;
        h.type[i] = i ? 1 : 0;
        h.size[i] = 32;
        h.site[i] = HD_NONE;
    }
    g.ids[0] = 1;
    g.type[0] = 0;
    h.off = rd_alloc(52 * sizeof *h.off);
    h.dst = rd_alloc(51 * sizeof *h.dst);
    h.ename = rd_alloc(51);
    for (uint32_t i = 0; i < 51; i++) {
        h.off[i] = i < 50 ? i : 50;
        if (i < 50) {
            h.dst[i] = i + 1;
            h.ename[i] = (uint8_t)(i ? 0 : 4); /* head .items, then .next */
        }
    }
    h.off[51] = 50;
    h.nroots = g.nroots = 1;
    h.root_obj = rd_alloc(sizeof *h.root_obj);
    h.root_kind = rd_alloc(1);
    h.root_kind[0] = 1;
    g.off = rd_alloc(2 * sizeof *g.off);
    g.root_obj = rd_alloc(sizeof *g.root_obj);
    g.root_kind = rd_alloc(1);
    g.root_kind[0] = 1;
    hd_dump *dg = rd_load(&g), *dh = rd_load(&h);
    hd_leak_report *rep = NULL;
    cr_assert_eq(hd_leak_report_compute(dg, dh, dh, &rep), HD_OK);
    cr_assert_eq(rep->nleaked, 50);
    cr_assert_eq(rep->ntraces, 2); /* named T0 .items T1, and named T0 .items T1 (.next T1)+ */
    cr_assert(!rep->traces[0].steps[1].repeated);
    cr_assert(!rep->traces[1].steps[1].repeated);
    cr_assert_eq(rep->traces[0].count, 49);
    cr_assert_eq(rep->traces[0].nsteps, 3);
    cr_assert(rep->traces[0].steps[2].repeated);
    cr_assert_str_eq(rep->traces[0].steps[2].edge, "next");
    cr_assert_eq(rep->traces[1].count, 1);
    cr_assert_eq(rep->traces[1].nsteps, 2);
    hd_leak_report_free(rep);
    hd_dump_free(dg);
    hd_dump_free(dh);
    rd_free(&g);
    rd_free(&h);
}

Test(diff, compat_and_bad_arguments)
{
    rd_graph g, h;
    rd_random(&g, 1, 5, 1, 1);
    rd_random(&h, 2, 5, 1, 1);
    h.pid = 777;
    hd_dump *dg = rd_load(&g), *dh = rd_load(&h);
    cr_assert_eq(hd_dump_compat(dg, dh), HD_COMPAT_PID);
    h.producer = "other 2";
    h.pid = -1;
    hd_dump *dh2 = rd_load(&h);
    cr_assert_eq(hd_dump_compat(dg, dh2), HD_COMPAT_PRODUCER); /* an unknown pid is not a mismatch */
    hd_diff *df = NULL;
    cr_assert_eq(hd_diff_compute(dg, dh, (enum hd_diff_by)7, &df), HD_EINVAL);
    cr_assert_eq(hd_diff_compute(NULL, dh, HD_DIFF_BY_TYPE, &df), HD_EINVAL);
    cr_assert_null(df);
    hd_leak_report *rep = NULL;
    cr_assert_eq(hd_leak_report_compute(dg, NULL, dh, &rep), HD_EINVAL);
    hd_diff_free(NULL);
    hd_leak_report_free(NULL);
    hd_dump_free(dg);
    hd_dump_free(dh);
    hd_dump_free(dh2);
    rd_free(&g);
    rd_free(&h);
}

/* A root dict holding n new Items under distinct keys (key, then the index), as JSON; n = 0 is
 * the base. */
static hd_dump *keyed_cache(int n, const char *key)
{
    static char json[8192];
    int len = snprintf(json, sizeof json,
                       "{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": "
                       "\"dict\"}, {\"id\": 1, \"name\": \"Item\"}], \"objects\": [{\"id\": 1, "
                       "\"type\": 0, \"size\": 64, \"refs\": [");
    for (int i = 0; i < n; i++)
    {
        len += snprintf(json + len, sizeof json - (size_t)len, "%s[%d, \"", i ? ", " : "", 100 + i);
        len += snprintf(json + len, sizeof json - (size_t)len, "%s%d", key, i);
        len += snprintf(json + len, sizeof json - (size_t)len, "\"]");
    }
    len += snprintf(json + len, sizeof json - (size_t)len, "]}");
    for (int i = 0; i < n; i++)
        len += snprintf(json + len, sizeof json - (size_t)len,
                        ", {\"id\": %d, \"type\": 1, \"size\": 32}", 100 + i);
    snprintf(json + len, sizeof json - (size_t)len, "], \"roots\": [{\"id\": 1, \"kind\": \"named\", \"name\": \"cache\"}]}");
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load_buffer(json, strlen(json), "cache", NULL, &d, &err), HD_OK, "%s", err.message);
    return d;
}

Test(diff, data_keys_share_a_trace_and_names_stay)
{
    hd_dump *base = keyed_cache(0, "");
    for (int n = 3; n <= 20; n += 17) {
        for (int named = 0; named < 2; named++) {
            hd_dump *now = keyed_cache(n, named ? "item_" : "/item/");
            hd_leak_report *rep = NULL;
            cr_assert_eq(hd_leak_report_compute(base, now, now, &rep), HD_OK);
            cr_assert_eq(rep->nleaked, (uint32_t)n);
            /* "/item/7" is data: one trace "[*]"; "item_7" is a name: one trace per key, even past
             * 16 references from one holder */
            cr_assert_eq(rep->ntraces, named ? (uint32_t)n : 1u, "n %d, named %d: %u traces", n, named,
                         rep->ntraces);
            if (!named)
                cr_assert_str_eq(rep->traces[0].steps[1].edge, "[*]");
            hd_leak_report_free(rep);
            hd_dump_free(now);
        }
    }
    hd_dump_free(base);
}
