/* gen_binary.c: writes a synthetic heap straight into the binary index form
 * (formats/heapdump-binary.md), unanalysed (has_reach = has_dom = 0), for heaps too big to go
 * through JSON: `heaptool index` then adds reachability and dominators. Streaming: objects and
 * references are made a chunk at a time and written into place, so memory stays at a few chunk
 * buffers whatever the size; the same seed gives the same bytes.
 *
 * Shape: a directory of 4,096 objects (modules, types, interned strings) that 64 roots hold;
 * then data structures of 1 to 65,536 objects (heavy-tailed), each a random tree laid out breadth
 * first (degree 0-8, mean about 1.5: chains and fans) under a head that one object owns (a
 * directory object, or an object of one of the 8 structures before: nested ownership); extra
 * references to the directory's shared objects and within the structure (its cycles); the last
 * 5 % garbage structures, owned by nobody or by garbage; 256 types of skewed frequency, some of
 * variable size; 1,024 sites; named and unnamed references. Memory: a few chunk buffers and
 * 12 bytes a structure.
 * usage: gen_binary OBJECTS REFS OUT.hdx [SEED] */
#include "common/hdx_writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTYPES 256
#define NSITES 1024
#define NROOTS 64
#define CHUNK (1u << 20)
#define ID_BASE 0x10000ull
#define MAX_REFS (1u << 20) /* an object's references at most: 8 children, 2^20 structures held, extras */

static uint64_t seed;

/* The per-object random words: a pure function of (seed, object, stream), so any pass can redraw them. */
static uint64_t draw(uint64_t object, uint64_t stream)
{
    uint64_t z = seed ^ (object * 0x9E3779B97F4A7C15ull) ^ (stream * 0xD1B54A32D192ED03ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The heap: a directory [0, dir) that the roots hold (modules, types, interned strings), then
 * data structures, each a contiguous range of objects under its first one (its head), owned by
 * one object: a directory object, or an object of one of the few structures before it (nested
 * ownership gives the dominator tree depth). Garbage [live, n) is structures owned by nobody. */
#define DIR 4096 /* the directory's size, for heaps of more objects */

typedef struct shape {
    uint64_t n, live;      /* objects [live, n) are garbage */
    uint64_t dir;          /* the directory: objects [0, dir) */
    uint32_t extra_x2;     /* twice the mean count of extra references of an object */
    uint32_t nparts;       /* structures, the directory first */
    uint32_t *part_start;  /* nparts + 1 */
    uint32_t *owned_by, *owned; /* (owner, head) pairs sorted by owner: who holds which head */
    uint32_t nowned;
} shape;

/* The walk over the objects, in order: which structure, and its tree's next child to hand out. */
typedef struct walk {
    uint32_t part, next_owned;
    uint64_t cursor;
} walk;

static int by_owner(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Cuts the objects into structures (heavy-tailed sizes, up to 2^20 objects) and picks owners. */
static void plan_parts(shape *s)
{
    uint32_t cap = 1024;
    s->part_start = malloc(cap * sizeof *s->part_start);
    uint32_t *pairs = NULL;
    s->nparts = 0;
    for (uint64_t at = 0; at < s->n;) {
        if (s->nparts + 2 > cap)
            s->part_start = realloc(s->part_start, (cap *= 2) * sizeof *s->part_start);
        uint64_t r = draw(s->nparts, 4), size = at == 0 ? s->dir : 1 + (r >> 12) % (1ull << (r % 17));
        uint64_t end = at < s->live && at + size > s->live ? s->live : at + size;
        s->part_start[s->nparts++] = (uint32_t)at;
        at = end < s->n ? end : s->n;
    }
    s->part_start[s->nparts] = (uint32_t)s->n;
    pairs = malloc(2 * (size_t)s->nparts * sizeof *pairs);
    s->nowned = 0;
    for (uint32_t p = 1; p < s->nparts; p++) {
        uint64_t r = draw(p, 5), head = s->part_start[p], owner;
        if (head >= s->live) /* garbage: a ring's head is held by the structure before, or nobody */
            owner = head > s->live && r % 2 ? head - 1 - r / 2 % (head - s->live) : UINT64_MAX;
        else if (r % 10 < 6 || p < 2)
            owner = 1 + r / 10 % (s->dir - 1);
        else { /* an object of one of the 8 structures before */
            uint32_t q = p - 1 - (uint32_t)(r / 10 % (p - 1 < 8 ? p - 1 : 8));
            uint64_t lo = s->part_start[q], hi = s->part_start[q + 1];
            owner = q == 0 ? 1 + r / 100 % (s->dir - 1) : lo + r / 100 % (hi - lo);
        }
        if (owner != UINT64_MAX)
            pairs[2 * s->nowned] = (uint32_t)owner, pairs[2 * s->nowned + 1] = (uint32_t)head, s->nowned++;
    }
    qsort(pairs, s->nowned, 2 * sizeof *pairs, by_owner);
    s->owned_by = malloc(((size_t)s->nowned + 1) * sizeof *s->owned_by);
    s->owned = malloc(((size_t)s->nowned + 1) * sizeof *s->owned);
    for (uint32_t k = 0; k < s->nowned; k++)
        s->owned_by[k] = pairs[2 * k], s->owned[k] = pairs[2 * k + 1];
    s->owned_by[s->nowned] = UINT32_MAX;
    free(pairs);
}

/* How many tree children object i gets in its structure (advancing the cursor), drawn so the
 * tree never dies out before the structure's last object is in it. */
static uint64_t tree_children(const shape *s, walk *w, uint64_t i)
{
    while (i >= s->part_start[w->part + 1])
        w->part++;
    uint64_t end = s->part_start[w->part + 1];
    if (i == s->part_start[w->part])
        w->cursor = i + 1;
    uint64_t r = draw(i, 1) % 100, want = r < 30 ? 0 : r < 70 ? 1 : r < 85 ? 2 : 3 + r % 6;
    if (want == 0 && w->cursor <= i + 1)
        want = 1;
    uint64_t left = end - w->cursor;
    return want < left ? want : left;
}

static uint32_t extra_count(const shape *s, uint64_t i) { return (uint32_t)(draw(i, 2) % (s->extra_x2 + 1)); }

/* The k-th extra reference of object i, of structure [lo, hi). */
static uint32_t extra_target(const shape *s, uint64_t i, uint64_t lo, uint64_t hi, uint32_t k)
{
    uint64_t r = draw(i, 16 + k), v = r >> 1;
    if (r % 2 && i < s->live) /* a shared object of the directory: types, interned strings */
        return (uint32_t)(v % s->dir);
    return (uint32_t)(lo + v % (hi - lo)); /* within the structure: its cycles */
}

/* Object i's references (count returned; targets and name slots in target[], name[] when not NULL). */
static uint32_t references(const shape *s, walk *w, uint64_t i, uint32_t *target, uint32_t *name)
{
    uint64_t nchild = tree_children(s, w, i), first = w->cursor;
    w->cursor = first + nchild;
    uint32_t m = 0;
    for (uint64_t c = 0; c < nchild; c++, m++)
        if (target)
            target[m] = (uint32_t)(first + c), name[m] = (uint32_t)(c % 4);
    for (; w->next_owned < s->nowned && s->owned_by[w->next_owned] == i; w->next_owned++, m++)
        if (target)
            target[m] = s->owned[w->next_owned], name[m] = 5;
    uint32_t nextra = extra_count(s, i);
    uint64_t lo = s->part_start[w->part], hi = s->part_start[w->part + 1];
    for (uint32_t k = 0; k < nextra; k++, m++)
        if (target)
            target[m] = extra_target(s, i, lo, hi, k), name[m] = 4 + (k % 3);
    return m;
}

typedef struct strings {
    char *data;
    uint32_t len, cap;
} strings;

/* Each string once (as a loader keeps them), so the in-memory figures match the heap's JSON. */
static uint32_t intern(strings *st, const char *s)
{
    size_t n = strlen(s) + 1;
    for (uint32_t at = 0; at < st->len; at += (uint32_t)strlen(st->data + at) + 1)
        if (!strcmp(st->data + at, s))
            return at;
    if (st->len + n > st->cap) {
        st->cap = (st->cap + (uint32_t)n) * 2;
        st->data = realloc(st->data, st->cap);
        if (!st->data)
            exit(1);
    }
    memcpy(st->data + st->len, s, n);
    st->len += (uint32_t)n;
    return st->len - (uint32_t)n;
}

/* Objects and references, a chunk at a time, written in place; returns the sum of the sizes. */
static uint64_t write_graph(ht_hdx_writer *o, shape *s, const uint64_t *type_size, const uint32_t *names)
{
    uint64_t *id = malloc(CHUNK * 8), *size = malloc(CHUNK * 8);
    uint32_t *type = malloc(CHUNK * 4), *site = malloc(CHUNK * 4), *label = malloc(CHUNK * 4),
             *rc = malloc(CHUNK * 4), *map = malloc(CHUNK * 4), *offset = malloc(CHUNK * 4);
    uint8_t *gen = malloc(CHUNK), *flags = calloc(CHUNK, 1);
    uint32_t *target = malloc((CHUNK * 4 + MAX_REFS) * 4), *name = malloc((CHUNK * 4 + MAX_REFS) * 4);
    if (!id || !size || !type || !site || !label || !rc || !map || !offset || !gen || !flags || !target || !name)
        exit(1);
    uint64_t edges = 0, pending = 0, edges_at = 0, total_size = 0;
    walk w = {0};
    for (uint64_t base = 0; base < s->n; base += CHUNK) {
        uint32_t m = (uint32_t)(s->n - base < CHUNK ? s->n - base : CHUNK);
        for (uint32_t k = 0; k < m; k++) {
            uint64_t i = base + k, r = draw(i, 0);
            uint32_t t = (uint32_t)(((r & 0xFFFF) * (r & 0xFFFF)) >> 24); /* skewed to low types */
            id[k] = ID_BASE + i;
            type[k] = t;
            size[k] = type_size[t] + (t % 4 == 0 ? (r >> 40) % 1024 * 8 : 0);
            total_size += size[k];
            site[k] = (r >> 16) % 10 == 0 ? HD_NONE : (uint32_t)((r >> 20) % NSITES);
            label[k] = HD_NONE;
            rc[k] = UINT32_MAX;
            gen[k] = (uint8_t)((r >> 32) % 3);
            map[k] = (uint32_t)(i + 1);
            offset[k] = (uint32_t)edges;
            uint32_t m_refs = references(s, &w, i, target + pending, name + pending);
            for (uint32_t j = 0; j < m_refs; j++)
                name[pending + j] = names[name[pending + j]];
            pending += m_refs, edges += m_refs;
            if (pending > CHUNK * 3) {
                ht_hdx_put(o, HDX_EDGE_TARGET, edges_at, target, pending);
                ht_hdx_put(o, HDX_EDGE_NAME, edges_at, name, pending);
                edges_at += pending, pending = 0;
            }
        }
        ht_hdx_put(o, HDX_OBJ_ID, base, id, m), ht_hdx_put(o, HDX_OBJ_SIZE, base, size, m);
        ht_hdx_put(o, HDX_OBJ_TYPE, base, type, m), ht_hdx_put(o, HDX_OBJ_SITE, base, site, m);
        ht_hdx_put(o, HDX_OBJ_LABEL, base, label, m), ht_hdx_put(o, HDX_OBJ_RC, base, rc, m);
        ht_hdx_put(o, HDX_OBJ_GEN, base, gen, m), ht_hdx_put(o, HDX_OBJ_FLAGS, base, flags, m);
        ht_hdx_put(o, HDX_OBJ_MAP, base, map, m), ht_hdx_put(o, HDX_EDGE_OFFSET, base, offset, m);
    }
    ht_hdx_put(o, HDX_EDGE_TARGET, edges_at, target, pending);
    ht_hdx_put(o, HDX_EDGE_NAME, edges_at, name, pending);
    uint32_t last = (uint32_t)edges;
    ht_hdx_put(o, HDX_EDGE_OFFSET, s->n, &last, 1);
    free(id), free(size), free(type), free(site), free(label), free(rc), free(map), free(offset);
    free(gen), free(flags), free(target), free(name);
    return total_size;
}

static uint64_t count_edges(const shape *s)
{
    uint64_t edges = 0;
    walk w = {0};
    for (uint64_t i = 0; i < s->n; i++)
        edges += references(s, &w, i, NULL, NULL);
    return edges;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: gen_binary OBJECTS REFS OUT.hdx [SEED]\n");
        return 2;
    }
    shape s = {.n = strtoull(argv[1], NULL, 10)};
    uint64_t refs = strtoull(argv[2], NULL, 10);
    seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 88172645463325252ull;
    if (s.n < 2 || s.n >= UINT32_MAX - 1) {
        fprintf(stderr, "gen_binary: OBJECTS must be 2 to %u\n", UINT32_MAX - 2);
        return 2;
    }
    s.live = s.n - s.n / 20;
    s.dir = s.live < DIR ? s.live : DIR;
    plan_parts(&s);
    s.extra_x2 = refs > s.live ? (uint32_t)(2 * (refs - s.live) / s.n) : 0; /* the tree has live - 1 */
    uint64_t nedges = count_edges(&s);
    if (nedges > UINT32_MAX) {
        fprintf(stderr, "gen_binary: %" PRIu64 " references do not fit an index\n", nedges);
        return 2;
    }

    strings st = {0};
    intern(&st, "");
    uint32_t producer = intern(&st, "gen_binary"), bench = intern(&st, "bench");
    uint64_t type_id[NTYPES], type_size[NTYPES], site_id[NSITES];
    uint32_t type_name[NTYPES], site_file[NSITES], site_function[NSITES], site_line[NSITES];
    uint8_t type_flags[NTYPES];
    char buf[64];
    for (uint32_t t = 0; t < NTYPES; t++) {
        snprintf(buf, sizeof buf, "bench.T%03u", t);
        type_id[t] = 100 + t, type_size[t] = 16 + 8 * (t % 64), type_flags[t] = t % 5 ? 1 : 0;
        type_name[t] = intern(&st, buf);
    }
    for (uint32_t k = 0; k < NSITES; k++) {
        snprintf(buf, sizeof buf, "bench/mod%u.c", k % 97);
        site_file[k] = intern(&st, buf);
        snprintf(buf, sizeof buf, "alloc_%u", k);
        site_id[k] = 5000 + k, site_function[k] = intern(&st, buf), site_line[k] = 10 + k % 500;
    }
    static const char *const field[] = {"next", "value", "[0]", "__dict__", "", "parent", "data"};
    uint32_t names[7];
    for (int k = 0; k < 7; k++)
        names[k] = intern(&st, field[k]);
    uint32_t root_object[NROOTS], root_kind_name[NROOTS], root_name[NROOTS];
    uint8_t root_kind[NROOTS];
    uint32_t kind_named = intern(&st, "named"), kind_global = intern(&st, "global");
    for (uint32_t r = 0; r < NROOTS; r++) {
        snprintf(buf, sizeof buf, "root%u", r);
        root_object[r] = (uint32_t)(r * s.dir / NROOTS);
        root_kind[r] = r % 2 ? HD_ROOT_GLOBAL : HD_ROOT_NAMED;
        root_kind_name[r] = r % 2 ? kind_global : kind_named;
        root_name[r] = intern(&st, buf);
    }

    uint64_t counts[HT_HDX_NSECTIONS + 1] = {0};
    counts[HDX_STRINGS] = st.len;
    for (uint32_t id = HDX_TYPE_ID; id <= HDX_TYPE_FLAGS; id++)
        counts[id] = NTYPES;
    for (uint32_t id = HDX_SITE_ID; id <= HDX_SITE_LINE; id++)
        counts[id] = NSITES;
    for (uint32_t id = HDX_OBJ_ID; id <= HDX_OBJ_MAP; id++)
        counts[id] = s.n;
    counts[HDX_EDGE_OFFSET] = s.n + 1, counts[HDX_EDGE_TARGET] = counts[HDX_EDGE_NAME] = nedges;
    for (uint32_t id = HDX_ROOT_OBJECT; id <= HDX_ROOT_KIND; id++)
        counts[id] = NROOTS;
    ht_hdx_writer o;
    int err = ht_hdx_begin(&o, argv[3], false);
    if (err) {
        fprintf(stderr, "gen_binary: %s: %s\n", argv[3], strerror(err));
        return 1;
    }
    ht_hdx_place(&o, counts);

    hdx_meta meta = {.version = 1, .producer = producer, .name = bench, .pid = (uint64_t)-1,
                     .map_direct = 1, .map_base = ID_BASE, .map_mask = s.n - 1, .map_used = s.n};
    ht_hdx_put(&o, HDX_STRINGS, 0, st.data, st.len);
    ht_hdx_put(&o, HDX_TYPE_ID, 0, type_id, NTYPES), ht_hdx_put(&o, HDX_TYPE_SIZE, 0, type_size, NTYPES);
    ht_hdx_put(&o, HDX_TYPE_NAME, 0, type_name, NTYPES), ht_hdx_put(&o, HDX_TYPE_FLAGS, 0, type_flags, NTYPES);
    ht_hdx_put(&o, HDX_SITE_ID, 0, site_id, NSITES), ht_hdx_put(&o, HDX_SITE_FILE, 0, site_file, NSITES);
    ht_hdx_put(&o, HDX_SITE_FUNCTION, 0, site_function, NSITES), ht_hdx_put(&o, HDX_SITE_LINE, 0, site_line, NSITES);
    ht_hdx_put(&o, HDX_ROOT_OBJECT, 0, root_object, NROOTS), ht_hdx_put(&o, HDX_ROOT_KIND_NAME, 0, root_kind_name, NROOTS);
    ht_hdx_put(&o, HDX_ROOT_NAME, 0, root_name, NROOTS), ht_hdx_put(&o, HDX_ROOT_KIND, 0, root_kind, NROOTS);
    meta.total_size = write_graph(&o, &s, type_size, names);
    ht_hdx_meta_counts(&o, &meta, 0, 0);
    uint64_t file_size = o.placed_end;
    if ((err = ht_hdx_finish(&o, &meta))) {
        fprintf(stderr, "gen_binary: %s: %s\n", argv[3], strerror(err));
        return 1;
    }
    free(st.data), free(s.part_start), free(s.owned_by), free(s.owned);
    printf("%" PRIu64 " objects, %" PRIu64 " references, %" PRIu64 " bytes\n", s.n, nedges, file_size);
    return 0;
}
