/* report.c: hd_report_write: the page template with its style and script inline, and the data
 * as one JSON document in a <script type="application/json"> element that the script draws.
 *
 * Invariant: no text from a dump reaches the page outside that JSON, whose strings cannot end
 * the element (hd__rj_str); the script only ever puts them into the page as text. The
 * Content-Security-Policy allows no fetch at all, and only our own script by its hash.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

static void overview(const hd__report_ctx *c, const hd_dump *const *dumps, const char *const *names,
                     size_t n)
{
    FILE *out = c->out;
    const hd_dump *d = c->d;
    fputs("\"dumps\":[", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s{\"name\":", i ? "," : "");
        hd__rj_str(out, names ? names[i] : "");
        fprintf(out, ",\"objects\":%u,\"size\":%llu,\"producer\":", hd_object_count(dumps[i]),
                (unsigned long long)hd_total_size(dumps[i]));
        hd__rj_str(out, hd_meta_producer(dumps[i]));
        fputs(",\"created\":", out);
        hd__rj_str(out, hd_meta_created(dumps[i]));
        fputc('}', out);
    }
    const hd_reach *r = c->reach;
    fprintf(out, "],\"reach\":[%u,%u,%u],\"roots\":%u,\"edges\":%llu,", r->nlive, r->nuncollectable,
            r->nunreachable, hd_root_count(d), (unsigned long long)hd_edge_count(d));
    const hd_pools *p = hd_dump_pools(d);
    fputs("\"pools\":", out);
    if (p->present) {
        fprintf(out, "{\"arenas\":%llu,\"large\":%llu,\"large_bytes\":%llu,\"classes\":[",
                (unsigned long long)p->arenas_current, (unsigned long long)p->large_allocs,
                (unsigned long long)p->large_bytes);
        for (uint32_t i = 0; i < p->nclasses; i++)
            fprintf(out, "%s[%u,%llu,%llu,%llu]", i ? "," : "", p->classes[i].size,
                    (unsigned long long)p->classes[i].pools, (unsigned long long)p->classes[i].blocks_in_use,
                    (unsigned long long)p->classes[i].blocks_free);
        fputs("]}", out);
    } else {
        fputs("null", out);
    }
    const hd_gc *g = hd_dump_gc(d);
    fputs(",\"gc\":", out);
    if (g->present) {
        fprintf(out, "{\"enabled\":%s,\"garbage\":%u,\"generations\":[", g->enabled ? "true" : "false",
                g->ngarbage);
        for (int i = 0; i < 3; i++)
            fprintf(out, "%s[%lld,%lld,%llu,%llu,%llu]", i ? "," : "", (long long)g->gen[i].threshold,
                    (long long)g->gen[i].count, (unsigned long long)g->gen[i].collections,
                    (unsigned long long)g->gen[i].collected, (unsigned long long)g->gen[i].uncollectable);
        fputs("]}", out);
    } else {
        fputs("null", out);
    }
}

static int types_and_top(const hd__report_ctx *c)
{
    const hd_dump *d = c->d;
    FILE *out = c->out;
    hd_type_stat *st = malloc(((size_t)hd_type_count(d) + 1) * sizeof *st);
    uint32_t *top = malloc(((size_t)c->top + 1) * sizeof *top);
    uint32_t n = 0;
    int rc = st && top ? hd_stats_retained_by_type(d, c->dom, st, &n) : HD_ENOMEM;
    if (!rc) {
        fputs(",\"types\":[", out);
        for (uint32_t i = 0; i < n && i < c->top; i++) {
            fprintf(out, "%s[", i ? "," : "");
            hd__rj_str(out, hd_type_name(d, st[i].type));
            fprintf(out, ",%llu,%llu,%llu]", (unsigned long long)st[i].count,
                    (unsigned long long)st[i].size, (unsigned long long)st[i].retained);
        }
        fprintf(out, "],\"types_more\":%u,\"top\":[", n > c->top ? n - c->top : 0);
        uint32_t k = hd_dominators_top(c->dom, c->top, top);
        for (uint32_t i = 0; i < k; i++) {
            uint32_t o = top[i];
            fprintf(out, "%s[", i ? "," : "");
            hd__rj_object(c, o);
            fputc(',', out);
            hd__rj_str(out, hd_type_name(d, hd_object_type(d, o)));
            fprintf(out, ",%llu,%llu,%lld]", (unsigned long long)hd_retained_size(c->dom, o),
                    (unsigned long long)hd_object_size(d, o),
                    c->reach->depth[o] == HD_NONE ? -1LL : (long long)c->reach->depth[o]);
        }
        fputc(']', out);
    }
    free(st);
    free(top);
    return rc;
}

static void suspect_path(const hd__report_ctx *c, const hd_path *p)
{
    FILE *out = c->out;
    fputs(",\"path\":[", out);
    for (uint32_t i = 0; i < p->nhops; i++) {
        fputs(i ? ",[" : "[", out);
        if (i) {
            hd__rj_str(out, hd_edge_name(c->d, p->hops[i].edge));
        } else {
            char root[96];
            snprintf(root, sizeof root, "%s %.60s", hd_root_kind_name(c->d, p->root), hd_root_name(c->d, p->root));
            hd__rj_str(out, root);
        }
        fputc(',', out);
        hd__rj_object(c, p->hops[i].object);
        fputc(']', out);
    }
    fputc(']', out);
}

static void suspect_details(const hd__report_ctx *c, const hd_suspect *s)
{
    FILE *out = c->out;
    if (s->path)
        suspect_path(c, s->path);
    if (s->ntypes) {
        fputs(",\"retains\":[", out);
        for (uint32_t k = 0; k < s->ntypes; k++) {
            fprintf(out, "%s[", k ? "," : "");
            hd__rj_str(out, hd_type_name(s->dump, s->types[k].type));
            fprintf(out, ",%llu,%llu]", (unsigned long long)s->types[k].count,
                    (unsigned long long)s->types[k].size);
        }
        fputc(']', out);
    }
    if (s->nmerged) {
        fputs(",\"merged\":[", out);
        for (uint32_t k = 0; k < s->nmerged; k++) {
            const hd_merged_node *m = &s->merged[k];
            fprintf(out, "%s[%d,", k ? "," : "", m->parent == HD_NONE ? -1 : (int)m->parent);
            hd__rj_str(out, m->parent == HD_NONE ? hd_root_kind_name(s->dump, m->root) : hd_edge_name(s->dump, m->edge));
            fputc(',', out);
            hd__rj_object(c, m->object);
            fprintf(out, ",%llu]", (unsigned long long)m->count);
        }
        fputc(']', out);
    }
    if (s->text) {
        fputs(",\"text\":", out);
        hd__rj_str(out, s->text);
        fprintf(out, ",\"each\":%llu", (unsigned long long)s->each);
    }
    if (s->kind == HD_SUSPECT_EMPTY_CONTAINERS)
        fprintf(out, ",\"empty\":%llu,\"spare\":%llu", (unsigned long long)s->empty,
                (unsigned long long)s->spare);
    if (s->nseries) {
        fputs(",\"series\":[", out);
        for (uint32_t k = 0; k < s->nseries; k++)
            fprintf(out, "%s%llu", k ? "," : "", (unsigned long long)s->series[k]);
        fputc(']', out);
    }
}

static void suspects(const hd__report_ctx *c, const hd_suspects *all)
{
    FILE *out = c->out;
    fprintf(out, ",\"threshold\":%g,\"suspects\":[", all->threshold);
    for (uint32_t i = 0; i < all->count; i++) {
        const hd_suspect *s = &all->items[i];
        hd__report_ctx sc = *c;
        sc.d = s->dump; /* a growth suspect's objects are in the final dump */
        fputs(i ? ",{\"id\":" : "{\"id\":", out);
        hd__rj_str(out, s->id);
        fprintf(out, ",\"kind\":\"%s\",\"severity\":\"%s\",\"bytes\":%llu,\"share\":%.6g,\"count\":%llu",
                hd_suspect_kind_name(s->kind), hd_severity_name(s->severity),
                (unsigned long long)s->bytes, s->share, (unsigned long long)s->count);
        if (s->type_name) {
            fputs(",\"type\":", out);
            hd__rj_str(out, s->type_name);
        }
        if (s->object != HD_NONE) {
            fputs(",\"object\":", out);
            hd__rj_object(&sc, s->object);
        }
        if (s->accumulation != HD_NONE) {
            fputs(",\"accumulation\":", out);
            hd__rj_object(&sc, s->accumulation);
        }
        suspect_details(&sc, s);
        fputc('}', out);
    }
    fputc(']', out);
}

/* The template with its three markers replaced; the data goes where {{DATA}} stands. */
static int write_page(const hd__report_ctx *c, const hd_dump *const *dumps, const char *const *names,
                      size_t n, const hd_suspects *all)
{
    FILE *out = c->out;
    static const char *const markers[] = {"{{CSP}}", "{{CSS}}", "{{DATA}}", "{{JS}}"};
    const char *t = hd__page_html;
    int rc = HD_OK;
    for (int m = 0; m < 4 && !rc; m++) {
        const char *at = strstr(t, markers[m]);
        if (!at)
            return HD_EINVAL; /* a broken template: caught by the tests */
        fwrite(t, 1, (size_t)(at - t), out);
        t = at + strlen(markers[m]);
        if (m == 0)
            fprintf(out, "default-src 'none'; script-src '%s'; style-src 'unsafe-inline'; img-src data:",
                    hd__csp_script_hash);
        else if (m == 1)
            fputs(hd__page_css, out);
        else if (m == 3)
            fputs(hd__page_js, out);
        else {
            fputc('{', out);
            overview(c, dumps, names, n);
            if (!(rc = types_and_top(c))) {
                suspects(c, all);
                fputs(",\"tree\":", out);
                rc = hd__report_tree(c);
            }
            if (!rc && !(fputs(",\"flame\":", out), rc = hd__report_flame(c)) &&
                !(fputs(",\"cycles\":", out), rc = hd__report_cycles(c))) {
                fputs(",\"compare\":", out);
                rc = hd__report_compare(c, dumps, n);
            }
            fputc('}', out);
        }
    }
    fputs(t, out);
    return rc;
}

int hd_report_write(const hd_dump *const *dumps, size_t n, const hd_report_options *opts, FILE *out)
{
    if (!dumps || n == 0 || !out)
        return HD_EINVAL;
    hd__report_ctx c = {.d = dumps[n - 1], .out = out};
    c.top = opts && opts->top ? opts->top : 50;
    c.tree_nodes = opts && opts->tree_nodes ? opts->tree_nodes : 3000;
    hd_dominators *dom = NULL;
    hd_reach *reach = NULL;
    hd_suspects *all = NULL;
    int rc = hd_dominators_compute(c.d, &dom);
    if (!rc)
        rc = hd_reach_compute(c.d, &reach);
    if (!rc) {
        c.dom = dom;
        c.reach = reach;
        hd_suspects_options so = {.threshold = opts ? opts->threshold : 0, .dom = dom, .reach = reach};
        if (n >= 2)
            so.baseline = dumps[n - 2];
        rc = hd_suspects_find(c.d, &so, &all);
    }
    if (!rc)
        rc = write_page(&c, dumps, opts ? opts->names : NULL, n, all);
    if (!rc && (fflush(out) || ferror(out)))
        rc = HD_EIO;
    hd_suspects_free(all);
    hd_reach_free(reach);
    hd_dominators_free(dom);
    return rc;
}
