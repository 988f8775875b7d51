/* suspects.c: hd_suspects_find runs every finder over one dump's shared analyses (the
 * dominator tree and the breadth-first forest are computed once) and orders what they found.
 *
 * Severity is the share of the heap a suspect accounts for: high from three thresholds (30 %
 * by default), medium from one, low below; an uncollectable cycle is never below medium, since
 * nothing will ever free it.
 */
#include "suspects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hd_suspect_kind_name(enum hd_suspect_kind kind)
{
    static const char *const names[] = {"big-retainer",      "many-of-kind",     "new-and-alive",
                                        "growing-type",      "duplicate-strings", "empty-containers",
                                        "uncollectable",     "weak-only"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

const char *hd_severity_name(enum hd_severity severity)
{
    switch (severity) {
    case HD_SEVERITY_LOW: return "low";
    case HD_SEVERITY_MEDIUM: return "medium";
    case HD_SEVERITY_HIGH: return "high";
    }
    return "unknown";
}

hd_suspect *hd__suspect_add(hd__suspect_run *run, enum hd_suspect_kind kind, const hd_dump *d,
                            uint64_t bytes, uint64_t heap)
{
    if (run->count == run->cap) {
        uint32_t cap = run->cap ? run->cap * 2 : 16;
        hd_suspect *items = realloc(run->items, (size_t)cap * sizeof *items);
        if (!items)
            return NULL;
        run->items = items;
        run->cap = cap;
    }
    hd_suspect *s = &run->items[run->count++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->dump = d;
    s->object = s->accumulation = HD_NONE;
    s->bytes = bytes;
    s->share = heap ? (double)bytes / (double)heap : 0.0;
    s->severity = s->share >= 3 * run->threshold ? HD_SEVERITY_HIGH
                  : s->share >= run->threshold   ? HD_SEVERITY_MEDIUM
                                                 : HD_SEVERITY_LOW;
    if (kind == HD_SUSPECT_UNCOLLECTABLE && s->severity < HD_SEVERITY_MEDIUM)
        s->severity = HD_SEVERITY_MEDIUM;
    return s;
}

void hd__suspect_id(hd_suspect *s, const char *prefix, const char *text)
{
    size_t len = strlen(text);
    int plain = len > 0 && len <= 32;
    for (size_t i = 0; i < len && plain; i++) {
        char c = text[i];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == ':' || c == '-';
    }
    if (plain)
        snprintf(s->id, sizeof s->id, "%s/%s", prefix, text);
    else
        snprintf(s->id, sizeof s->id, "%s/%016llx", prefix,
                 (unsigned long long)hd__hash_str(HD__HASH_SEED, text));
}

static void suspect_release(hd_suspect *s)
{
    hd_path_free(s->path);
    free(s->types);
    free(s->merged);
}

void hd_suspects_free(hd_suspects *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->count; i++)
        suspect_release(&s->items[i]);
    free(s->items);
    hd_leak_report_free(s->leak_report);
    free(s);
}

static int compare_suspects(const void *pa, const void *pb)
{
    const hd_suspect *a = pa, *b = pb;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int run_finders(hd__suspect_run *run, const hd_suspects_options *o, hd_leak_report **report)
{
    int rc;
    if ((rc = hd__suspects_retainers(run)) || (rc = hd__suspects_kinds(run)) ||
        (rc = hd__suspects_duplicate_strings(run)) || (rc = hd__suspects_empty_containers(run)) ||
        (rc = hd__suspects_uncollectable(run)) || (rc = hd__suspects_weak_only(run)))
        return rc;
    if (!o || !o->baseline)
        return HD_OK;
    const hd_dump *series[3] = {o->baseline, run->d, o->final};
    if ((rc = hd__suspects_growth(run, series, o->final ? 3 : 2)))
        return rc;
    return o->final ? hd__suspects_new_and_alive(run, o->baseline, o->final, report) : HD_OK;
}

int hd_suspects_find(const hd_dump *d, const hd_suspects_options *opts, hd_suspects **out)
{
    *out = NULL;
    double threshold = opts && opts->threshold != 0 ? opts->threshold : 0.10;
    if (!d || !(threshold > 0 && threshold <= 1) || (opts && opts->final && !opts->baseline))
        return HD_EINVAL;
    hd__suspect_run run = {.d = d, .threshold = threshold, .heap = hd_total_size(d)};
    run.big = (uint64_t)((double)run.heap * threshold);
    run.big = run.big ? run.big : 1;
    run.small = run.big / 10 ? run.big / 10 : 1;
    hd_dominators *own_dom = NULL;
    hd_reach *own_reach = NULL;
    hd_leak_report *report = NULL;
    int rc = HD_OK;
    run.dom = opts && opts->dom ? opts->dom : NULL;
    run.reach = opts && opts->reach ? opts->reach : NULL;
    if (!run.dom && (rc = hd_dominators_compute(d, &own_dom)) == HD_OK)
        run.dom = own_dom;
    if (!rc && !run.reach && (rc = hd_reach_compute(d, &own_reach)) == HD_OK)
        run.reach = own_reach;
    if (!rc)
        rc = hd_dominator_children(run.dom, &run.first, &run.child);
    hd_suspects *s = rc ? NULL : calloc(1, sizeof *s);
    if (!rc && !s)
        rc = HD_ENOMEM;
    if (!rc)
        rc = run_finders(&run, opts, &report);
    hd_dominators_free(own_dom);
    hd_reach_free(own_reach);
    free(run.first);
    free(run.child);
    if (rc) {
        for (uint32_t i = 0; i < run.count; i++)
            suspect_release(&run.items[i]);
        free(run.items);
        hd_leak_report_free(report);
        free(s);
        return rc;
    }
    if (run.count)
        qsort(run.items, run.count, sizeof *run.items, compare_suspects);
    s->count = run.count;
    s->items = run.items;
    s->heap_size = run.heap;
    s->threshold = threshold;
    s->leak_report = report;
    *out = s;
    return HD_OK;
}
