/* diff.c: two dumps of one process compared object by object (objgraph's show_growth and
 * get_new_ids, DevTools' Comparison view, tracemalloc's compare_to), and memlab's leak rule
 * over three dumps.
 *
 * Invariant: every object of OLD is counted once as matched or deleted, every object of NEW
 * once as matched or added; an object matches when NEW has its id with the same type name. Rows
 * are keyed by names (type name, or site file/line/function), never by the per-dump indices.
 */
#include "analysis.h"

#include <ctype.h>
#include <stdbool.h>

#include <stdlib.h>
#include <string.h>

/* --- a map from name keys to dense key numbers ------------------------------------------- */

typedef struct key {
    const char *a;   /* type name, site file, root kind or edge name; NULL for "no site" */
    const char *b;   /* site function, root name; "" otherwise */
    uint32_t num;    /* site line, or a type number */
    uint32_t parent; /* trie parent (leak traces); HD_NONE otherwise */
    uint8_t flag;    /* repeated step (leak traces) */
} key;

typedef struct keymap {
    key *keys;
    uint32_t n, cap;
    uint32_t *slots; /* key number + 1, 0 empty */
    uint32_t mask;
} keymap;

static uint64_t key_hash(const key *k)
{
    uint64_t h = HD__HASH_SEED;
    h = k->a ? hd__hash_str(h, k->a) : hd__hash_u64(h, 1);
    h = hd__hash_str(h, k->b);
    h = hd__hash_u64(h, k->num);
    h = hd__hash_u64(h, k->parent);
    return hd__hash_u64(h, k->flag);
}

static int key_equal(const key *x, const key *y)
{
    if (x->num != y->num || x->parent != y->parent || x->flag != y->flag)
        return 0;
    if (!x->a || !y->a)
        return x->a == y->a;
    return !strcmp(x->a, y->a) && !strcmp(x->b, y->b);
}

static void keymap_free(keymap *m)
{
    free(m->keys);
    free(m->slots);
}

static int keymap_grow(keymap *m)
{
    uint32_t size = m->slots ? (m->mask + 1) * 2 : 64;
    uint32_t *slots = calloc(size, sizeof *slots);
    key *keys = realloc(m->keys, (size_t)size * sizeof *keys);
    if (!slots || !keys) {
        free(slots);
        if (keys)
            m->keys = keys;
        return HD_ENOMEM;
    }
    m->keys = keys;
    m->cap = size;
    free(m->slots);
    m->slots = slots;
    m->mask = size - 1;
    for (uint32_t i = 0; i < m->n; i++) {
        uint32_t s = (uint32_t)key_hash(&m->keys[i]) & m->mask;
        while (m->slots[s])
            s = (s + 1) & m->mask;
        m->slots[s] = i + 1;
    }
    return HD_OK;
}

/* The number of k, added when new. The table stays at most half full, and keys never move
 * out of their array slots (cap equals the table size), so pointers into keys stay valid only
 * until the next put. */
static int keymap_put(keymap *m, const key *k, uint32_t *id)
{
    if ((m->n + 1) * 2 > (m->slots ? m->mask + 1 : 0) && keymap_grow(m))
        return HD_ENOMEM;
    uint32_t s = (uint32_t)key_hash(k) & m->mask;
    for (; m->slots[s]; s = (s + 1) & m->mask)
        if (key_equal(&m->keys[m->slots[s] - 1], k)) {
            *id = m->slots[s] - 1;
            return HD_OK;
        }
    m->keys[m->n] = *k;
    m->slots[s] = ++m->n;
    *id = m->n - 1;
    return HD_OK;
}

/* Type numbers shared across dumps: out[t] for each type index t of d. */
static int type_keys(keymap *m, const hd_dump *d, uint32_t **out)
{
    uint32_t n = hd_type_count(d);
    uint32_t *tk = malloc(((size_t)n + 1) * sizeof *tk);
    if (!tk)
        return HD_ENOMEM;
    for (uint32_t t = 0; t < n; t++) {
        key k = {hd_type_name(d, t), "", 0, HD_NONE, 0};
        if (keymap_put(m, &k, &tk[t])) {
            free(tk);
            return HD_ENOMEM;
        }
    }
    *out = tk;
    return HD_OK;
}

/* Site numbers shared across dumps; out[hd_site_count(d)] is the "no site" key. */
static int site_keys(keymap *m, const hd_dump *d, uint32_t **out)
{
    uint32_t n = hd_site_count(d);
    uint32_t *sk = malloc(((size_t)n + 1) * sizeof *sk);
    if (!sk)
        return HD_ENOMEM;
    for (uint32_t s = 0; s <= n; s++) {
        key k = {NULL, "", 0, HD_NONE, 0};
        if (s < n)
            k = (key){hd_site_file(d, s), hd_site_function(d, s), hd_site_line(d, s), HD_NONE, 0};
        if (keymap_put(m, &k, &sk[s])) {
            free(sk);
            return HD_ENOMEM;
        }
    }
    *out = sk;
    return HD_OK;
}

static uint32_t site_slot(const hd_dump *d, uint32_t o)
{
    uint32_t s = hd_object_site(d, o), n = hd_site_count(d);
    return s == HD_NONE || s >= n ? n : s;
}

/* --- compatibility --------------------------------------------------------------------- */

unsigned hd_dump_compat(const hd_dump *a, const hd_dump *b)
{
    unsigned c = HD_COMPAT_SAME;
    if (strcmp(hd_meta_producer(a), hd_meta_producer(b)))
        c |= HD_COMPAT_PRODUCER;
    if (hd_meta_pid(a) >= 0 && hd_meta_pid(b) >= 0 && hd_meta_pid(a) != hd_meta_pid(b))
        c |= HD_COMPAT_PID;
    if (hd_version(a) != hd_version(b))
        c |= HD_COMPAT_VERSION;
    return c;
}

/* --- two-dump diff -------------------------------------------------------------------------- */

void hd_diff_free(hd_diff *diff)
{
    if (!diff)
        return;
    free(diff->rows);
    free(diff->added);
    free(diff->deleted);
    free(diff);
}

static int cmp_str(const char *a, const char *b)
{
    if (!a || !b)
        return (a == NULL) - (b == NULL); /* "no site" last */
    return strcmp(a, b);
}

static int compare_rows(const void *pa, const void *pb)
{
    const hd_diff_row *a = pa, *b = pb;
    if (a->count_delta != b->count_delta)
        return a->count_delta > b->count_delta ? -1 : 1;
    if (a->size_delta != b->size_delta)
        return a->size_delta > b->size_delta ? -1 : 1;
    int r = cmp_str(a->type ? a->type : a->file, b->type ? b->type : b->file);
    if (r)
        return r;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return cmp_str(a->function, b->function);
}

static int64_t delta(uint64_t after, uint64_t before)
{
    if (after >= before)
        return after - before > INT64_MAX ? INT64_MAX : (int64_t)(after - before);
    return before - after > INT64_MAX ? INT64_MIN : -(int64_t)(before - after);
}

int hd_diff_compute(const hd_dump *old, const hd_dump *new_, enum hd_diff_by by, hd_diff **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!old || !new_ || (by != HD_DIFF_BY_TYPE && by != HD_DIFF_BY_SITE))
        return HD_EINVAL;
    keymap types = {0}, sites = {0};
    uint32_t *tk_old = NULL, *tk_new = NULL, *sk_old = NULL, *sk_new = NULL;
    uint8_t *matched_old = NULL, *matched_new = NULL;
    hd_diff *df = calloc(1, sizeof *df);
    int rc = HD_ENOMEM;
    if (!df || type_keys(&types, old, &tk_old) || type_keys(&types, new_, &tk_new))
        goto done;
    if (by == HD_DIFF_BY_SITE && (site_keys(&sites, old, &sk_old) || site_keys(&sites, new_, &sk_new)))
        goto done;
    df->by = by;
    keymap *rows_map = by == HD_DIFF_BY_TYPE ? &types : &sites;
    uint32_t nkeys = rows_map->n;
    uint32_t nold = hd_object_count(old), nnew = hd_object_count(new_);
    hd_diff_row *rows = calloc((size_t)nkeys + 1, sizeof *rows);
    df->rows = rows;
    /* One id lookup per object of OLD: the matched objects are marked on both sides, so NEW needs
     * no lookups of its own and the id lists are allocated exactly. Ids are unique in a dump, but
     * an index verified chunk by chunk has not been seen whole: an object of NEW is matched once. */
    matched_old = calloc((size_t)nold + 1, 1);
    matched_new = calloc((size_t)nnew + 1, 1);
    if (!rows || !matched_old || !matched_new)
        goto done;
    for (uint32_t o = 0; o < nold; o++) {
        uint32_t j = hd_object_find(new_, hd_object_id(old, o));
        if (j != HD_NONE && !matched_new[j] && tk_new[hd_object_type(new_, j)] == tk_old[hd_object_type(old, o)]) {
            matched_old[o] = matched_new[j] = 1;
            df->matched++;
        }
    }
    df->added = malloc((nnew - df->matched + 1) * sizeof *df->added);
    df->deleted = malloc((nold - df->matched + 1) * sizeof *df->deleted);
    if (!df->added || !df->deleted)
        goto done;
    for (uint32_t o = 0; o < nold; o++) {
        uint32_t t = tk_old[hd_object_type(old, o)];
        hd_diff_row *r = &rows[by == HD_DIFF_BY_TYPE ? t : sk_old[site_slot(old, o)]];
        uint64_t size = hd_object_size(old, o);
        r->count_old++;
        r->size_old = hd__add_sat(r->size_old, size);
        if (!matched_old[o]) {
            r->deleted++;
            r->freed = hd__add_sat(r->freed, size);
            df->deleted[df->ndeleted++] = o;
        }
    }
    for (uint32_t o = 0; o < nnew; o++) {
        uint32_t t = tk_new[hd_object_type(new_, o)];
        hd_diff_row *r = &rows[by == HD_DIFF_BY_TYPE ? t : sk_new[site_slot(new_, o)]];
        uint64_t size = hd_object_size(new_, o);
        r->count_new++;
        r->size_new = hd__add_sat(r->size_new, size);
        if (!matched_new[o]) {
            r->added++;
            r->allocated = hd__add_sat(r->allocated, size);
            df->added[df->nadded++] = o;
        }
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < nkeys; i++) {
        if (!rows[i].count_old && !rows[i].count_new)
            continue;
        hd_diff_row r = rows[i];
        const key *kk = &rows_map->keys[i];
        if (by == HD_DIFF_BY_TYPE) {
            r.type = kk->a;
        } else {
            r.file = kk->a;
            r.function = kk->b;
            r.line = kk->num;
        }
        r.count_delta = delta(r.count_new, r.count_old);
        r.size_delta = delta(r.size_new, r.size_old);
        rows[k++] = r;
    }
    df->nrows = k;
    qsort(rows, k, sizeof *rows, compare_rows);
    rc = HD_OK;
done:
    keymap_free(&types);
    keymap_free(&sites);
    free(tk_old);
    free(tk_new);
    free(sk_old);
    free(sk_new);
    free(matched_old);
    free(matched_new);
    if (rc)
        hd_diff_free(df);
    else
        *out = df;
    return rc;
}

/* --- memlab's leak rule ------------------------------------------------------------------ */
/* Path shapes are nodes of a trie keyed by (parent shape, edge name, type); a root shape is
 * keyed by the root's kind, name and type. An object's shape extends its BFS parent's shape by
 * one step, unless the step equals the parent shape's last one: a run of identical steps is one
 * step, so the nodes of a growing list share one shape whatever their depth. */

void hd_leak_report_free(hd_leak_report *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->ntraces; i++)
        free(r->traces[i].steps);
    free(r->traces);
    free(r->leaked);
    free(r->by_type);
    free(r);
}

static int compare_traces(const void *pa, const void *pb)
{
    const hd_leak_trace *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return (a->example > b->example) - (a->example < b->example);
}

#define ROOT_FLAG 1 /* key.flag of a root shape */

/* Where, not why: a sequence index ("[4]", "[7]") or a mapping key that is data, not an identifier
 * ("/item/101", "1001", "user 42"), is one step "[*]", as memlab merges array indices, so the
 * entries of a growing list or cache fall into one trace. A name that is an identifier ("res",
 * "_cache", "$el") says why the object is held and is kept, however many references its holder has. */
static bool identifier(const char *name)
{
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_' || name[0] == '$'))
        return false;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '$'))
            return false;
    return true;
}

static const char *shape_edge(const char *name)
{
    return !name[0] || identifier(name) ? name : "[*]";
}

typedef struct shapes {
    keymap map;
    uint8_t *repeated; /* per shape: some path ran its last step twice or more */
    uint32_t cap;
} shapes;

/* The shape of object o (memo[o], computed along with its unknown ancestors). */
static int shape_of(const hd_dump *f, const hd_reach *r, shapes *sh, uint32_t *memo,
                    uint32_t *stack, uint32_t o)
{
    uint32_t sp = 0;
    for (uint32_t v = o; v != HD_NONE && memo[v] == HD_NONE; v = r->parent[v])
        stack[sp++] = v;
    while (sp) {
        uint32_t v = stack[--sp], id;
        key k;
        if (r->parent[v] == HD_NONE) {
            k = (key){hd_root_kind_name(f, r->via[v]), hd_root_name(f, r->via[v]),
                      hd_object_type(f, v), HD_NONE, ROOT_FLAG};
        } else {
            uint32_t ps = memo[r->parent[v]];
            k = (key){shape_edge(hd_edge_name(f, r->via[v])), "", hd_object_type(f, v), ps,
                      0};
            const key *last = &sh->map.keys[ps];
            if (last->flag != ROOT_FLAG && last->num == k.num && !strcmp(last->a, k.a)) {
                memo[v] = ps;
                sh->repeated[ps] = 1;
                continue;
            }
        }
        if (keymap_put(&sh->map, &k, &id))
            return HD_ENOMEM;
        if (id >= sh->cap) {
            uint32_t cap = sh->cap ? sh->cap * 2 : 64;
            uint8_t *rep = realloc(sh->repeated, cap);
            if (!rep)
                return HD_ENOMEM;
            memset(rep + sh->cap, 0, cap - sh->cap);
            sh->repeated = rep;
            sh->cap = cap;
        }
        memo[v] = id;
    }
    return HD_OK;
}

int hd_leak_report_compute(const hd_dump *base, const hd_dump *target, const hd_dump *final,
                           hd_leak_report **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!base || !target || !final)
        return HD_EINVAL;
    keymap types = {0};
    shapes sh = {0};
    uint32_t *tk_b = NULL, *tk_t = NULL, *tk_f = NULL, *memo = NULL, *stack = NULL;
    uint64_t *counts = NULL, *sizes = NULL;
    uint32_t *examples = NULL;
    hd_reach *reach = NULL;
    hd_leak_report *rep = calloc(1, sizeof *rep);
    int rc = HD_ENOMEM;
    if (!rep || type_keys(&types, base, &tk_b) || type_keys(&types, target, &tk_t) ||
        type_keys(&types, final, &tk_f))
        goto done;
    uint32_t n = hd_object_count(final);
    rep->leaked = malloc(((size_t)n + 1) * sizeof *rep->leaked);
    if (!rep->leaked)
        goto done;
    for (uint32_t o = 0; o < n; o++) {
        uint64_t id = hd_object_id(final, o);
        uint32_t t = hd_object_find(target, id);
        if (t == HD_NONE || tk_t[hd_object_type(target, t)] != tk_f[hd_object_type(final, o)])
            continue;
        uint32_t b = hd_object_find(base, id);
        if (b != HD_NONE && tk_b[hd_object_type(base, b)] == tk_t[hd_object_type(target, t)])
            continue;
        rep->leaked[rep->nleaked++] = o;
        rep->leaked_size = hd__add_sat(rep->leaked_size, hd_object_size(final, o));
    }
    rep->by_type = malloc(((size_t)rep->nleaked + 1) * sizeof *rep->by_type);
    if (!rep->by_type)
        goto done;
    rep->ntypes = hd_stats_of_objects(final, rep->leaked, rep->nleaked, HD_SORT_COUNT, rep->by_type);

    if ((rc = hd_reach_compute(final, &reach)))
        goto done;
    rc = HD_ENOMEM;
    memo = malloc(((size_t)n + 1) * sizeof *memo);
    stack = malloc(((size_t)n + 1) * sizeof *stack);
    if (!memo || !stack)
        goto done;
    for (uint32_t o = 0; o < n; o++)
        memo[o] = HD_NONE;
    for (uint32_t i = 0; i < rep->nleaked; i++)
        if (reach->state[rep->leaked[i]] != HD_REACH_UNREACHABLE &&
            shape_of(final, reach, &sh, memo, stack, rep->leaked[i]))
            goto done;
    /* per shape, plus the last slot for the unreachable ones */
    uint32_t nshapes = sh.map.n;
    counts = calloc((size_t)nshapes + 1, sizeof *counts);
    sizes = calloc((size_t)nshapes + 1, sizeof *sizes);
    examples = malloc(((size_t)nshapes + 1) * sizeof *examples);
    if (!counts || !sizes || !examples)
        goto done;
    for (uint32_t i = 0; i < rep->nleaked; i++) {
        uint32_t o = rep->leaked[i];
        uint32_t s = reach->state[o] == HD_REACH_UNREACHABLE ? nshapes : memo[o];
        if (!counts[s]++)
            examples[s] = o;
        sizes[s] = hd__add_sat(sizes[s], hd_object_size(final, o));
    }
    uint32_t ntraces = 0;
    for (uint32_t s = 0; s <= nshapes; s++)
        ntraces += counts[s] > 0;
    rep->traces = calloc(ntraces ? ntraces : 1, sizeof *rep->traces);
    if (!rep->traces)
        goto done;
    for (uint32_t s = 0; s <= nshapes; s++) {
        if (!counts[s])
            continue;
        hd_leak_trace *tr = &rep->traces[rep->ntraces++];
        tr->count = counts[s];
        tr->size = sizes[s];
        tr->example = examples[s];
        tr->state = (enum hd_reach_state)reach->state[examples[s]];
        tr->root = HD_NONE;
        if (s == nshapes)
            continue;
        uint32_t len = 0;
        for (uint32_t x = s; x != HD_NONE; x = sh.map.keys[x].parent)
            len++;
        tr->steps = malloc((size_t)len * sizeof *tr->steps);
        if (!tr->steps)
            goto done;
        tr->nsteps = len;
        uint32_t i = len;
        for (uint32_t x = s; x != HD_NONE; x = sh.map.keys[x].parent) {
            const key *k = &sh.map.keys[x];
            tr->steps[--i] = (hd_trace_step){k->flag == ROOT_FLAG ? NULL : k->a, k->num, sh.repeated[x]};
        }
        uint32_t v = examples[s];
        while (reach->parent[v] != HD_NONE)
            v = reach->parent[v];
        tr->root = reach->via[v];
    }
    qsort(rep->traces, rep->ntraces, sizeof *rep->traces, compare_traces);
    rc = HD_OK;
done:
    keymap_free(&types);
    keymap_free(&sh.map);
    free(sh.repeated);
    free(tk_b);
    free(tk_t);
    free(tk_f);
    free(memo);
    free(stack);
    free(counts);
    free(sizes);
    free(examples);
    hd_reach_free(reach);
    if (rc)
        hd_leak_report_free(rep);
    else
        *out = rep;
    return rc;
}
