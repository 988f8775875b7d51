/* trace.c: allocation sites, the tracemalloc analogue: while tracing, a side table keyed by object
 * id remembers each new object's site and size, so that the 40-byte header stays as it is and a
 * heap that never traces pays one predictable branch per creation and destruction.
 * Invariant: `current` is the sum of the sizes in the table, and every entry is a live object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

typedef struct trace_ent {
    uint64_t id; /* 0: empty (ids start at 1) */
    size_t size;
    uint32_t site;
} trace_ent;

typedef struct hm__trace hm__trace;

struct hm__trace {
    hm_site *sites; /* [0] is the unknown site */
    uint32_t *site_stack; /* per site: its stack's innermost node + 1, 0 without a depth */
    size_t nsites, capsites;
    uint32_t *site_slots; /* open addressing: site index + 1, 0 empty */
    size_t site_cap;      /* a power of two */
    /* The last site looked up: a loop creating objects at one line skips the hashing. */
    const char *last_file, *last_function;
    int last_line;
    uint32_t last_site, last_stack;

    unsigned depth;     /* frames recorded per site; 0: sites only */
    hm__stacks stacks;  /* trace_stacks.c */

    trace_ent *ents; /* open addressing, linear probing, backward-shift deletion */
    size_t cap, count;
    size_t current, peak;
};

static const char unknown_file[] = "<unknown>";

/* ---- sites ---- */

static uint64_t str_hash(const char *s)
{
    uint64_t x = 1469598103934665603u; /* FNV-1a */
    for (; s && *s; s++)
        x = (x ^ (unsigned char)*s) * 1099511628211u;
    return x;
}

static bool str_same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static uint64_t site_hash(const char *file, int line, const char *function, uint32_t stack)
{
    return str_hash(file) ^ ((uint64_t)(unsigned)line * 0x9E3779B97F4A7C15u) ^ (str_hash(function) >> 1) ^
           ((uint64_t)stack * 0xBF58476D1CE4E5B9u);
}

static bool site_rehash(hm_heap *h, hm__trace *t, size_t cap)
{
    uint32_t *slots = hm__sys_calloc(h, cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 1; i < t->nsites; i++) {
        const hm_site *s = &t->sites[i];
        size_t j = site_hash(s->file, s->line, s->function, t->site_stack[i]) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(t->site_slots);
    t->site_slots = slots;
    t->site_cap = cap;
    return true;
}

static bool sites_grow(hm_heap *h, hm__trace *t)
{
    size_t cap = t->capsites * 2;
    hm_site *sites = hm__sys_realloc(h, t->sites, cap * sizeof *sites);
    if (sites)
        t->sites = sites;
    uint32_t *stacks = sites ? hm__sys_realloc(h, t->site_stack, cap * sizeof *stacks) : NULL;
    if (stacks)
        t->site_stack = stacks;
    if (!stacks)
        return false;
    t->capsites = cap;
    return true;
}

/* The index of the site (a line, and the stack that reached it: node + 1, or 0), added if new;
 * 0 (unknown) when out of memory. */
static uint32_t site_intern(hm_heap *h, hm__trace *t, const char *file, int line, const char *function,
                            uint32_t stack)
{
    if (!file)
        return 0;
    uint64_t hv = site_hash(file, line, function, stack);
    size_t j = hv & (t->site_cap - 1);
    for (uint32_t k; (k = t->site_slots[j]) != 0; j = (j + 1) & (t->site_cap - 1)) {
        const hm_site *s = &t->sites[k - 1];
        if (s->line == line && t->site_stack[k - 1] == stack && str_same(s->file, file) &&
            str_same(s->function, function))
            return k - 1;
    }
    if (t->nsites >= UINT32_MAX - 1 || (t->nsites == t->capsites && !sites_grow(h, t)))
        return 0;
    uint32_t idx = (uint32_t)t->nsites++;
    t->sites[idx] = (hm_site){.file = file, .line = line, .function = function};
    t->site_stack[idx] = stack;
    if (t->nsites * 2 > t->site_cap) {
        if (!site_rehash(h, t, t->site_cap * 2)) {
            t->nsites--;
            return 0;
        }
    } else {
        t->site_slots[j] = idx + 1;
    }
    return idx;
}

/* caller: the return address into the program's function that called hm_trace_here(_of). */
static void trace_here(hm_heap *h, const char *file, int line, const char *function, const void *caller)
{
    hm__trace *t = h->trace;
    uint32_t stack = t->depth && file ? hm__stacks_capture(h, &t->stacks, t->depth, caller) : 0;
    if (file != t->last_file || line != t->last_line || function != t->last_function ||
        stack != t->last_stack) {
        uint32_t site = site_intern(h, t, file, line, function, stack);
        h->site = site;
        if (site == 0 && file)
            return; /* out of memory: "<unknown>" this time, and tried again next time */
        t->last_site = site;
        t->last_file = file;
        t->last_line = line;
        t->last_function = function;
        t->last_stack = stack;
    }
    h->site = t->last_site;
}

hm_heap *hm_trace_here(hm_heap *h, const char *file, int line, const char *function)
{
    if (h && h->trace)
        trace_here(h, file, line, function, __builtin_return_address(0));
    return h;
}

hm_object *hm_trace_here_of(hm_object *o, const char *file, int line, const char *function)
{
    hm_heap *h = o ? hm__heap_of(o) : NULL;
    if (h && h->trace)
        trace_here(h, file, line, function, __builtin_return_address(0));
    return o;
}

/* ---- start, stop ---- */

int hm_trace_start(hm_heap *h) { return hm_trace_start_depth(h, 0); }

int hm_trace_start_depth(hm_heap *h, unsigned depth)
{
    if (!h || depth > HM_TRACE_DEPTH_MAX)
        return HM_EINVAL;
    if (h->trace)
        return HM_OK;
    hm__trace *t = hm__sys_calloc(h, 1, sizeof *t);
    if (!t)
        return HM_ENOMEM;
    t->capsites = 16; /* small starts: every table grows by doubling */
    t->sites = hm__sys_malloc(h, t->capsites * sizeof *t->sites);
    t->site_stack = hm__sys_calloc(h, t->capsites, sizeof *t->site_stack);
    t->site_cap = 32;
    t->site_slots = hm__sys_calloc(h, t->site_cap, sizeof *t->site_slots);
    t->cap = 64;
    t->ents = hm__sys_calloc(h, t->cap, sizeof *t->ents);
    if (!t->sites || !t->site_stack || !t->site_slots || !t->ents) {
        free(t->sites);
        free(t->site_stack);
        free(t->site_slots);
        free(t->ents);
        free(t);
        return HM_ENOMEM;
    }
    t->sites[0] = (hm_site){.file = unknown_file};
    t->nsites = 1;
    t->last_line = -1;
    t->depth = depth;
    if (depth)
        hm__stacks_init();
    h->site = 0;
    h->trace = t;
    return HM_OK;
}

void hm__trace_fini(hm_heap *h)
{
    hm__trace *t = h->trace;
    if (!t)
        return;
    free(t->sites);
    free(t->site_stack);
    free(t->site_slots);
    free(t->ents);
    hm__stacks_free(&t->stacks);
    free(t);
    h->trace = NULL;
    h->site = 0;
}

void hm_trace_stop(hm_heap *h)
{
    if (h)
        hm__trace_fini(h);
}

bool hm_trace_is_tracing(const hm_heap *h) { return h && h->trace; }

unsigned hm_trace_depth(const hm_heap *h) { return h && h->trace ? h->trace->depth : 0; }

void hm_trace_get_traced_memory(const hm_heap *h, size_t *current, size_t *peak)
{
    const hm__trace *t = h ? h->trace : NULL;
    if (current)
        *current = t ? t->current : 0;
    if (peak)
        *peak = t ? t->peak : 0;
}

void hm_trace_reset_peak(hm_heap *h)
{
    if (h && h->trace)
        h->trace->peak = h->trace->current;
}

/* ---- the traces ---- */

/* Ids are sequential: mix them (murmur's finalizer) so that runs do not cluster. */
static size_t id_slot(uint64_t id, size_t cap)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdu;
    id ^= id >> 33;
    return (size_t)id & (cap - 1);
}

static bool traces_grow(hm_heap *h, hm__trace *t)
{
    size_t cap = t->cap * 2;
    trace_ent *ents = hm__sys_calloc(h, cap, sizeof *ents);
    if (!ents)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->ents[i].id)
            continue;
        size_t j = id_slot(t->ents[i].id, cap);
        while (ents[j].id)
            j = (j + 1) & (cap - 1);
        ents[j] = t->ents[i];
    }
    free(t->ents);
    t->ents = ents;
    t->cap = cap;
    return true;
}

/* False when out of memory: the object is then not made, as tracemalloc fails an allocation
 * it cannot trace. */
bool hm__trace_record(hm_heap *h, const hm_object *o, size_t size)
{
    hm__trace *t = h->trace;
    if ((t->count + 1) * 10 > t->cap * 7 && !traces_grow(h, t))
        return false;
    size_t j = id_slot(o->id, t->cap);
    while (t->ents[j].id)
        j = (j + 1) & (t->cap - 1);
    /* A finalizer may have stopped and restarted tracing since the site was set. */
    uint32_t site = h->site < t->nsites ? h->site : 0;
    t->ents[j] = (trace_ent){.id = o->id, .size = size, .site = site};
    t->count++;
    t->current += size;
    if (t->current > t->peak)
        t->peak = t->current;
    return true;
}

static trace_ent *trace_find(const hm__trace *t, uint64_t id)
{
    for (size_t j = id_slot(id, t->cap); t->ents[j].id; j = (j + 1) & (t->cap - 1))
        if (t->ents[j].id == id)
            return &t->ents[j];
    return NULL;
}

void hm__trace_forget(hm_heap *h, const hm_object *o)
{
    hm__trace *t = h->trace;
    trace_ent *e = trace_find(t, o->id);
    if (!e)
        return; /* made before tracing started */
    t->current -= e->size;
    t->count--;
    /* Backward-shift deletion: pull later entries of the probe run into the hole, so lookups
     * never need tombstones. */
    size_t mask = t->cap - 1, i = (size_t)(e - t->ents), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->ents[j].id)
            break;
        size_t home = id_slot(t->ents[j].id, t->cap);
        /* Entry j may move to the hole i unless its home lies cyclically in (i, j]. */
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            t->ents[i] = t->ents[j];
            i = j;
        }
    }
    t->ents[i].id = 0;
}

int hm_trace_site_of(const hm_object *o, hm_site *out)
{
    if (!o || !out)
        return HM_EINVAL;
    const hm__trace *t = hm__heap_of(o)->trace;
    const trace_ent *e = t ? trace_find(t, o->id) : NULL;
    if (!e)
        return HM_EKEY;
    *out = t->sites[e->site];
    return HM_OK;
}

size_t hm__trace_sites(const hm_heap *h, const hm_site **sites)
{
    const hm__trace *t = h->trace;
    *sites = t ? t->sites : NULL;
    return t ? t->nsites : 0;
}

const hm__stacks *hm__trace_stacks(const hm_heap *h)
{
    return h->trace && h->trace->depth ? &h->trace->stacks : NULL;
}

uint32_t hm__trace_site_stack(const hm_heap *h, size_t site) { return h->trace->site_stack[site]; }

bool hm__trace_site_index(const hm_heap *h, uint64_t id, uint32_t *site)
{
    const trace_ent *e = h->trace ? trace_find(h->trace, id) : NULL;
    if (e)
        *site = e->site;
    return e != NULL;
}

/* ---- statistics ---- */

static int site_key_cmp(const hm_site *a, const hm_site *b)
{
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    return (a->line > b->line) - (a->line < b->line);
}

static int stat_by_key(const void *pa, const void *pb)
{
    return site_key_cmp(&((const hm_trace_stat *)pa)->site, &((const hm_trace_stat *)pb)->site);
}

/* Biggest first, then most objects; ties by site so that the order is deterministic. */
static int stat_by_size(const void *pa, const void *pb)
{
    const hm_trace_stat *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size < b->size ? 1 : -1;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return site_key_cmp(&a->site, &b->site);
}

int hm_trace_statistics(const hm_heap *h, hm_trace_key key, hm_trace_stats *out)
{
    if (!out)
        return HM_EINVAL;
    memset(out, 0, sizeof *out);
    if (!h || (key != HM_TRACE_LINENO && key != HM_TRACE_FILENAME))
        return HM_EINVAL;
    out->key = key;
    const hm__trace *t = h->trace;
    if (!t || t->count == 0)
        return HM_OK;
    /* Per site first (sites are few), then sites merged into groups by sorting on the key. */
    hm_trace_stat *per = hm__sys_calloc(h, t->nsites, sizeof *per);
    if (!per)
        return HM_ENOMEM;
    for (size_t i = 0; i < t->nsites; i++) {
        per[i].site = t->sites[i];
        if (key == HM_TRACE_FILENAME) {
            per[i].site.line = 0;
            per[i].site.function = NULL;
        }
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (t->ents[i].id) {
            per[t->ents[i].site].size += t->ents[i].size;
            per[t->ents[i].site].count++;
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < t->nsites; i++)
        if (per[i].count)
            per[n++] = per[i];
    qsort(per, n, sizeof *per, stat_by_key);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && site_key_cmp(&per[m - 1].site, &per[i].site) == 0) {
            per[m - 1].size += per[i].size;
            per[m - 1].count += per[i].count;
        } else {
            per[m++] = per[i];
        }
    }
    qsort(per, m, sizeof *per, stat_by_size);
    out->items = per;
    out->n = m;
    out->total_size = t->current;
    out->total_count = t->count;
    return HM_OK;
}

void hm_trace_stats_free(hm_trace_stats *s)
{
    if (!s)
        return;
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

static uint64_t absdiff(int64_t v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

/* Python's StatisticDiff._sort_key, descending: |size_diff|, size, |count_diff|, count. */
static int diff_order(const void *pa, const void *pb)
{
    const hm_trace_diff *a = pa, *b = pb;
    uint64_t x = absdiff(a->size_diff), y = absdiff(b->size_diff);
    if (x != y)
        return x < y ? 1 : -1;
    if (a->size != b->size)
        return a->size < b->size ? 1 : -1;
    x = absdiff(a->count_diff);
    y = absdiff(b->count_diff);
    if (x != y)
        return x < y ? 1 : -1;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return site_key_cmp(&a->site, &b->site);
}

int hm_trace_compare(const hm_trace_stats *now, const hm_trace_stats *old, hm_trace_diffs *out)
{
    if (!out)
        return HM_EINVAL;
    memset(out, 0, sizeof *out);
    if (!now || !old || now->key != old->key)
        return HM_EINVAL;
    size_t total = now->n + old->n;
    if (total == 0)
        return HM_OK;
    hm_trace_diff *d = calloc(total, sizeof *d);
    hm_trace_stat *olds = malloc((old->n ? old->n : 1) * sizeof *olds);
    bool *matched = calloc(old->n ? old->n : 1, sizeof *matched);
    if (!d || !olds || !matched) {
        free(d);
        free(olds);
        free(matched);
        return HM_ENOMEM;
    }
    if (old->n)
        memcpy(olds, old->items, old->n * sizeof *olds);
    qsort(olds, old->n, sizeof *olds, stat_by_key);
    size_t n = 0;
    for (size_t i = 0; i < now->n; i++) {
        const hm_trace_stat *s = &now->items[i];
        const hm_trace_stat *o = old->n ? bsearch(s, olds, old->n, sizeof *olds, stat_by_key) : NULL;
        d[n].site = s->site;
        d[n].size = s->size;
        d[n].count = s->count;
        d[n].size_diff = (int64_t)s->size - (int64_t)(o ? o->size : 0);
        d[n].count_diff = (int64_t)s->count - (int64_t)(o ? o->count : 0);
        if (o)
            matched[o - olds] = true;
        n++;
    }
    for (size_t i = 0; i < old->n; i++) {
        if (matched[i])
            continue;
        d[n].site = olds[i].site;
        d[n].size_diff = -(int64_t)olds[i].size;
        d[n].count_diff = -(int64_t)olds[i].count;
        n++;
    }
    free(olds);
    free(matched);
    qsort(d, n, sizeof *d, diff_order);
    out->items = d;
    out->n = n;
    return HM_OK;
}

void hm_trace_diffs_free(hm_trace_diffs *d)
{
    if (!d)
        return;
    free(d->items);
    d->items = NULL;
    d->n = 0;
}

/* ---- text, as tracemalloc prints it ---- */

/* tracemalloc._format_size: "12 B", "1.5 KiB", "+512 KiB". */
static void format_size(char *buf, size_t size, double v, bool sign)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 5; u++) {
        double a = v < 0 ? -v : v;
        if (a < 100 && u > 0) {
            snprintf(buf, size, sign ? "%+.1f %s" : "%.1f %s", v, units[u]);
            return;
        }
        if (a < 10 * 1024 || u == 4) {
            snprintf(buf, size, sign ? "%+.0f %s" : "%.0f %s", v, units[u]);
            return;
        }
        v /= 1024;
    }
}

static size_t format_site(const hm_site *s, char *buf, size_t size)
{
    int r = (s->line || s->function) ? snprintf(buf, size, "%s:%d", s->file, s->line)
                                     : snprintf(buf, size, "%s", s->file);
    return r < 0 ? 0 : (size_t)r;
}

size_t hm_trace_stat_format(const hm_trace_stat *s, char *buf, size_t size)
{
    char where[512], sz[32], avg[32] = "";
    format_site(&s->site, where, sizeof where);
    format_size(sz, sizeof sz, (double)s->size, false);
    if (s->count)
        format_size(avg, sizeof avg, (double)s->size / (double)s->count, false);
    int r = snprintf(buf, size, "%s: size=%s, count=%zu%s%s", where, sz, s->count,
                     s->count ? ", average=" : "", avg);
    return r < 0 ? 0 : (size_t)r;
}

size_t hm_trace_diff_format(const hm_trace_diff *d, char *buf, size_t size)
{
    char where[512], sz[32], dsz[32], avg[32] = "";
    format_site(&d->site, where, sizeof where);
    format_size(sz, sizeof sz, (double)d->size, false);
    format_size(dsz, sizeof dsz, (double)d->size_diff, true);
    if (d->count)
        format_size(avg, sizeof avg, (double)d->size / (double)d->count, false);
    int r = snprintf(buf, size, "%s: size=%s (%s), count=%zu (%+lld)%s%s", where, sz, dsz, d->count,
                     (long long)d->count_diff, d->count ? ", average=" : "", avg);
    return r < 0 ? 0 : (size_t)r;
}
