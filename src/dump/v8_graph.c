/* v8_graph.c: a heap snapshot's raw arrays (v8.h) become the dump's graph.
 *
 * Node kinds and class names become types as DevTools groups them: objects and native objects
 * by their constructor name, everything else by kind ("(closure)", "(string)", "(system)" for
 * hidden nodes). A node's name is its label when its type does not already say it. Edges become
 * named references ("[i]" for elements), weak edges weak links, the synthetic nodes named roots,
 * and V8's object ids stay the ids, so two snapshots of one process diff object by object.
 */
#include "v8.h"

#include <stdlib.h>
#include <string.h>

static const char *text(const hd__v8 *v, uint32_t off) { return hd__strtab_get(&v->d->strings, off); }

/* Everything the arrays point at must exist; checked once they are all read, so the position
 * of a culprit is found by reading the source again. */
static int check_references(hd__v8 *v)
{
    hd_dump *d = v->d;
    uint32_t n = d->nobjects;
    if (d->nedges != v->edges_expected)
        return hd__lex_fail(v->lx, HD_EINTEGRITY, v->edges_pos,
                    "edges: the array holds %llu edges, the nodes' edge_count fields add up to %llu",
                    (unsigned long long)d->nedges, (unsigned long long)v->edges_expected);
    if (n && v->root_index >= n)
        return hd__lex_fail(v->lx, HD_EINTEGRITY, v->nodes_pos, "snapshot: root_index %llu is past the last of %llu nodes",
                    (unsigned long long)v->root_index, (unsigned long long)n);
    for (uint32_t o = 0; o < n; o++)
        if (d->obj_type[o] >= v->nstrings) {
            hd__pos at = hd__v8_locate(v, "nodes", (uint64_t)o * v->nf + v->node_name_at, v->nodes_pos);
            return hd__lex_fail(v->lx, HD_EINTEGRITY, at, "nodes[%u]: name %u is not an index into 'strings'",
                                o, d->obj_type[o]);
        }
    for (uint64_t e = 0; e < d->nedges; e++) {
        bool named = v->edge_class[v->edge_kind[e]] != HD__V8_EDGE_INDEXED;
        if (d->edge_target[e] >= n) {
            hd__pos at = hd__v8_locate(v, "edges", e * v->ef + v->edge_to_at, v->edges_pos);
            return hd__lex_fail(v->lx, HD_EINTEGRITY, at, "edges[%llu]: to_node %llu is past the last node",
                                (unsigned long long)e, (unsigned long long)d->edge_target[e] * v->nf);
        }
        if (named && d->edge_name[e] >= v->nstrings) {
            hd__pos at = hd__v8_locate(v, "edges", e * v->ef + v->edge_name_at, v->edges_pos);
            return hd__lex_fail(v->lx, HD_EINTEGRITY, at, "edges[%llu]: name %u is not an index into 'strings'",
                                (unsigned long long)e, d->edge_name[e]);
        }
    }
    return HD_OK;
}

/* --- types and labels ---------------------------------------------------------------------- */

static uint32_t add_type(hd_dump *d, uint32_t name)
{
    if (d->ntypes == d->types_cap) {
        uint32_t want = d->types_cap ? d->types_cap * 2 : 64;
        void **arrays[] = {(void **)&d->type_id, (void **)&d->type_size, (void **)&d->type_name,
                           (void **)&d->type_flags};
        const size_t sizes[] = {8, 8, 4, 1};
        for (int i = 0; i < 4; i++) {
            void *p = realloc(*arrays[i], (size_t)want * sizes[i]);
            if (!p)
                return UINT32_MAX;
            *arrays[i] = p;
        }
        d->types_cap = want;
    }
    uint32_t t = d->ntypes++;
    d->type_id[t] = t;
    d->type_size[t] = 0;
    d->type_name[t] = name;
    d->type_flags[t] = 0;
    return t;
}

typedef struct labels {
    uint32_t *cut; /* per string: its label when cut short (+ 1; 0 = not made yet); lazily */
} labels;

/* The label for a node named by string s: the name itself, or its first bytes and "..." when it
 * is long (never splitting a UTF-8 sequence); HD_NONE for an empty name. False when out of
 * memory. */
static bool label_of(hd__v8 *v, labels *lb, uint32_t s, uint32_t *out)
{
    *out = v->string_len[s] == HD__V8_EMPTY ? HD_NONE : v->string_off[s];
    if (v->string_len[s] != HD__V8_LONG)
        return true;
    if (!lb->cut && !(lb->cut = calloc(v->nstrings, sizeof *lb->cut)))
        return false;
    if (!lb->cut[s]) {
        const char *name = text(v, v->string_off[s]);
        char buf[HD__V8_MAX_LABEL + 1];
        size_t len = HD__V8_MAX_LABEL - 3;
        while (len > 0 && ((unsigned char)name[len] & 0xC0) == 0x80)
            len--;
        memcpy(buf, name, len);
        memcpy(buf + len, "...", 3);
        uint32_t cut = hd__strtab_append(&v->d->strings, buf, len + 3);
        if (cut == UINT32_MAX)
            return false;
        lb->cut[s] = cut + 1;
    }
    *out = lb->cut[s] - 1;
    return true;
}

/* obj_type holds each node's name (a string index) on entry, its type index on return. */
static int types_and_labels(hd__v8 *v)
{
    hd_dump *d = v->d;
    uint32_t n = d->nobjects;
    uint32_t *of_name = calloc(v->nstrings ? v->nstrings : 1, sizeof *of_name); /* type + 1 */
    uint32_t of_kind[HD__V8_MAX_TYPES];
    labels lb = {NULL};
    int rc = HD_ENOMEM;
    if (!of_name || !(d->obj_label = malloc((n ? n : 1) * sizeof *d->obj_label)))
        goto out;
    for (uint32_t k = 0; k < v->nnode_types; k++)
        of_kind[k] = UINT32_MAX;
    for (uint32_t o = 0; o < n; o++) {
        uint8_t kind = d->obj_gen[o];
        uint32_t s = d->obj_type[o], t;
        bool named = v->node_class[kind] == HD__V8_NODE_NAMED && v->string_len[s] != HD__V8_EMPTY;
        if (named) {
            if (!of_name[s]) {
                if ((t = add_type(d, v->string_off[s])) == UINT32_MAX)
                    goto out;
                of_name[s] = t + 1;
            }
            t = of_name[s] - 1;
            d->obj_label[o] = HD_NONE;
        } else {
            if (of_kind[kind] == UINT32_MAX && (of_kind[kind] = add_type(d, v->node_type_name[kind])) == UINT32_MAX)
                goto out;
            t = of_kind[kind];
            if (!label_of(v, &lb, s, &d->obj_label[o]))
                goto out;
        }
        d->obj_type[o] = t;
    }
    rc = HD_OK;
out:
    free(of_name);
    free(lb.cut);
    return rc;
}

/* --- references and weak links ------------------------------------------------------------- */

/* Element names "[0]", "[1]", ... laid out in order in the string table, so the name of index
 * i is found by arithmetic rather than a hash lookup per edge. Covers 0..count-1. */
typedef struct index_names {
    uint32_t count;
    uint32_t start[11]; /* offset of the first name with d digits */
} index_names;

static uint64_t pow10_of(int d)
{
    uint64_t p = 1;
    while (d-- > 0)
        p *= 10;
    return p;
}

static int index_names_make(hd_dump *d, uint32_t count, index_names *in)
{
    in->count = count;
    for (int digits = 1; digits <= 10; digits++) {
        uint64_t lo = digits == 1 ? 0 : pow10_of(digits - 1), hi = pow10_of(digits);
        in->start[digits] = (uint32_t)d->strings.len;
        for (uint64_t i = lo; i < hi && i < count; i++) {
            char buf[16];
            int len = snprintf(buf, sizeof buf, "[%llu]", (unsigned long long)i);
            if (hd__strtab_append(&d->strings, buf, (size_t)len) == UINT32_MAX)
                return HD_ENOMEM;
        }
    }
    return HD_OK;
}

static uint32_t index_name(hd_dump *d, const index_names *in, uint32_t i)
{
    if (i < in->count) {
        uint32_t digits = 1;
        uint64_t lo = 0, next = 10;
        while (i >= next) {
            digits++;
            lo = next;
            next *= 10;
        }
        return in->start[digits] + (uint32_t)(i - lo) * (digits + 3);
    }
    char buf[16];
    int len = snprintf(buf, sizeof buf, "[%u]", i);
    return hd__strtab_intern(&d->strings, buf, (size_t)len);
}

/* Strong edges stay, in place and in order; weak edges (and shortcuts but the root's) move to
 * the weak links. edge_name turns from raw values into string table offsets. */
static int references(hd__v8 *v)
{
    hd_dump *d = v->d;
    uint32_t n = d->nobjects, nweak = 0, max_index = 0;
    uint64_t nindexed = 0;
    for (uint32_t o = 0; o < n; o++)
        for (uint32_t e = d->edge_offset[o]; e < d->edge_offset[o + 1]; e++) {
            uint8_t c = v->edge_class[v->edge_kind[e]];
            nweak += c == HD__V8_EDGE_WEAK || (c == HD__V8_EDGE_SHORTCUT && o != v->root_index);
            if (c == HD__V8_EDGE_INDEXED) {
                nindexed++;
                max_index = d->edge_name[e] > max_index ? d->edge_name[e] : max_index;
            }
        }
    index_names in;
    uint64_t count = nindexed ? (uint64_t)max_index + 1 : 0;
    if (index_names_make(d, (uint32_t)(count < nindexed ? count : nindexed), &in))
        return HD_ENOMEM;
    if (nweak) {
        d->weakref_object = malloc((size_t)nweak * sizeof *d->weakref_object);
        d->weakref_referent = malloc((size_t)nweak * sizeof *d->weakref_referent);
        d->weakref_callback = calloc(nweak, 1);
        if (!d->weakref_object || !d->weakref_referent || !d->weakref_callback)
            return HD_ENOMEM;
        d->weakrefs_cap = nweak;
    }
    uint32_t w = 0;
    for (uint32_t o = 0; o < n; o++) {
        uint32_t first = d->edge_offset[o], end = d->edge_offset[o + 1];
        d->edge_offset[o] = w;
        for (uint32_t e = first; e < end; e++) {
            uint8_t c = v->edge_class[v->edge_kind[e]];
            if (c == HD__V8_EDGE_WEAK || (c == HD__V8_EDGE_SHORTCUT && o != v->root_index)) {
                d->weakref_object[d->nweakrefs] = o;
                d->weakref_referent[d->nweakrefs++] = d->edge_target[e];
                continue;
            }
            uint32_t name = c == HD__V8_EDGE_INDEXED ? index_name(d, &in, d->edge_name[e])
                                                    : v->string_off[d->edge_name[e]];
            if (name == UINT32_MAX)
                return HD_ENOMEM;
            d->edge_target[w] = d->edge_target[e];
            d->edge_name[w++] = name;
        }
    }
    d->edge_offset[n] = w;
    d->nedges = w;
    if (w) { /* the weak links' share is given back */
        uint32_t *p = realloc(d->edge_target, (size_t)w * sizeof *p);
        d->edge_target = p ? p : d->edge_target;
        p = realloc(d->edge_name, (size_t)w * sizeof *p);
        d->edge_name = p ? p : d->edge_name;
        d->edges_cap = w;
    }
    return HD_OK;
}

/* --- roots, ids and the rest --------------------------------------------------------------- */

/* The root node and every synthetic node ("(GC roots)", "(Stack roots)", ...) are named roots,
 * so a path ends at the engine's root set it came through. Reads the node kinds, so it runs
 * before they are replaced. */
static int roots(hd__v8 *v)
{
    hd_dump *d = v->d;
    uint32_t n = d->nobjects, count = 0;
    for (uint32_t o = 0; o < n; o++)
        count += o == v->root_index || v->node_class[d->obj_gen[o]] == HD__V8_NODE_SYNTHETIC;
    if (!count)
        return HD_OK;
    d->root_object = malloc((size_t)count * sizeof *d->root_object);
    d->root_kind_name = malloc((size_t)count * sizeof *d->root_kind_name);
    d->root_name = malloc((size_t)count * sizeof *d->root_name);
    d->root_kind = malloc(count);
    uint32_t kind = hd__strtab_intern(&d->strings, "named", 5);
    uint32_t unnamed = hd__strtab_intern(&d->strings, "(root)", 6);
    if (!d->root_object || !d->root_kind_name || !d->root_name || !d->root_kind ||
        kind == UINT32_MAX || unnamed == UINT32_MAX)
        return HD_ENOMEM;
    d->roots_cap = count;
    for (uint32_t o = 0; o < n; o++) {
        if (o != v->root_index && v->node_class[d->obj_gen[o]] != HD__V8_NODE_SYNTHETIC)
            continue;
        uint32_t r = d->nroots++, name = d->obj_label[o];
        d->root_object[r] = o;
        d->root_kind_name[r] = kind;
        d->root_name[r] = name == HD_NONE ? unnamed : name;
        d->root_kind[r] = HD_ROOT_NAMED;
    }
    return HD_OK;
}

static int id_map(hd__v8 *v)
{
    hd_dump *d = v->d;
    if (hd__idmap_init_for(&d->obj_map, d->obj_id, d->nobjects))
        return hd__lex_fail(v->lx, HD_ENOMEM, v->nodes_pos, "out of memory");
    for (uint32_t o = 0; o < d->nobjects; o++) {
        if (o + 16 < d->nobjects) /* ids come in no useful order: fetch ahead of the probes */
            hd__idmap_prefetch(&d->obj_map, d->obj_id[o + 16]);
        uint32_t at = hd__idmap_insert(&d->obj_map, d->obj_id, o);
        if (at == UINT32_MAX - 1)
            return hd__lex_fail(v->lx, HD_ENOMEM, v->nodes_pos, "out of memory");
        if (at != o) {
            hd__pos pos = hd__v8_locate(v, "nodes", (uint64_t)o * v->nf + v->node_id_at, v->nodes_pos);
            return hd__lex_fail(v->lx, HD_EINTEGRITY, pos, "nodes[%u]: duplicate id %llu (first at nodes[%u])",
                                o, (unsigned long long)d->obj_id[o], at);
        }
    }
    return HD_OK;
}

/* What a heap snapshot does not say: sites, reference counts, generations, flags. */
static int unknowns(hd_dump *d)
{
    size_t n = d->nobjects ? d->nobjects : 1;
    d->obj_site = malloc(n * sizeof *d->obj_site);
    d->obj_rc = malloc(n * sizeof *d->obj_rc);
    d->obj_flags = calloc(n, 1);
    if (!d->obj_site || !d->obj_rc || !d->obj_flags)
        return HD_ENOMEM;
    memset(d->obj_site, 0xFF, n * sizeof *d->obj_site); /* HD_NONE */
    memset(d->obj_rc, 0xFF, n * sizeof *d->obj_rc);     /* HD_RC_UNKNOWN */
    memset(d->obj_gen, HD_GEN_UNKNOWN, d->nobjects);
    return HD_OK;
}

/* The nodes' arrays grew by doubling while they were read: give the slack back. */
static void shrink(hd_dump *d)
{
    size_t n = d->nobjects ? d->nobjects : 1;
    void **arrays[] = {(void **)&d->obj_id, (void **)&d->obj_size, (void **)&d->obj_type,
                       (void **)&d->obj_gen};
    const size_t sizes[] = {8, 8, 4, 1};
    for (int i = 0; i < 4; i++) {
        void *p = *arrays[i] ? realloc(*arrays[i], n * sizes[i]) : NULL;
        if (p)
            *arrays[i] = p;
    }
    uint32_t *off = realloc(d->edge_offset, (n + 1) * sizeof *off);
    if (off)
        d->edge_offset = off;
    d->objects_cap = d->nobjects;
}

int hd__v8_build(hd__v8 *v)
{
    hd_dump *d = v->d;
    int rc = check_references(v);
    if (rc)
        return rc;
    shrink(d);
    if (!d->obj_id) { /* an empty "nodes": the accessors still need arrays */
        d->obj_id = malloc(8);
        d->obj_size = malloc(8);
        d->obj_type = malloc(4);
        d->obj_gen = malloc(1);
        if (!d->obj_id || !d->obj_size || !d->obj_type || !d->obj_gen)
            rc = HD_ENOMEM;
    }
    d->format = HD_FORMAT_V8;
    d->version = 0;
    d->producer = hd__strtab_intern(&d->strings, "V8 heap snapshot", 16);
    if (rc || d->producer == UINT32_MAX || (rc = types_and_labels(v)) || (rc = references(v)))
        return hd__lex_fail(v->lx, HD_ENOMEM, v->lx->tok_pos, "out of memory");
    /* What only the reader needed goes before the id map comes: the peak is here. */
    free(v->edge_kind);
    free(v->string_off);
    free(v->string_len);
    v->edge_kind = NULL;
    v->string_off = NULL;
    v->string_len = NULL;
    if ((rc = roots(v)) || (rc = unknowns(d)))
        return hd__lex_fail(v->lx, HD_ENOMEM, v->lx->tok_pos, "out of memory");
    return id_map(v);
}
