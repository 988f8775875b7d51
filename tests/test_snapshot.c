/* test_snapshot.c: libhm's snapshot writer against the heap it describes. Random heaps (objects
 * of every built-in kind and two classes, edges, cycles, weakrefs, named roots, interned strings,
 * frozen objects, a garbage list) are written, read back with libheapdump and compared with what
 * the runtime's own API says: every object, its type, size, count, label, generation, flags and
 * named edges, every weakref, and the roots recomputed by the format's counting rule. Then the
 * destinations: atomic paths (a failure leaves the old file and no temporary), gzip, memory,
 * and the at-exit and signal triggers. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEAP_SUITE snapshot
#include "heap_test.h"
#include "heapdump.h"
#include "hm_snapshot.h"
#include "random_numbers.h"

/* ---- a random heap ---- */

static const char *const node_slots[] = {"left", "right", "item", NULL};
static hm_type *Node, *Bag, *Legacy;

static uint64_t rng;
static unsigned rnd(unsigned n) { return (unsigned)(xorshift64(&rng) % n); }

static void legacy_del(hm_object *self) { (void)self; }

static void make_types(void)
{
    Node = hm_class_new(&(hm_class_spec){.name = "Node", .slots = node_slots});
    Bag = hm_class_new(&(hm_class_spec){.name = "Bag"});
    Legacy = hm_class_new(&(hm_class_spec){.name = "Legacy",
                                           .slots = node_slots,
                                           .finalize = legacy_del,
                                           .flags = HM_TYPE_LEGACY_FINALIZER});
    cr_assert(Node && Bag && Legacy);
}

static void free_types(void)
{
    hm_class_free(Node);
    hm_class_free(Bag);
    hm_class_free(Legacy);
}

static const char *const words[] = {"alpha", "beta", "numbers", "[0]", "tab\there",
                                    "quote\"back\\slash", "esc\x1b[31mred", "bad\xff\xfe utf8",
                                    "\xc3\xa9t\xc3\xa9"};
#define NWORDS (sizeof words / sizeof words[0])

static hm_object *random_leaf(void)
{
    switch (rnd(4)) {
    case 0: return hm_int_new(h, (int64_t)rnd(600) - 100); /* some cached, some not */
    case 1: return hm_str_new(h, words[rnd(NWORDS)]);
    case 2: return hm_str_intern(h, words[rnd(NWORDS)]);
    default: return hm_int_new(h, (int64_t)rnd(1u << 30) * 1000);
    }
}

static hm_object *random_container(void)
{
    switch (rnd(6)) {
    case 0: return hm_list_new(h);
    case 1: return hm_dict_new(h);
    case 2: return hm_instance_new(h, Bag);
    case 3: return hm_instance_new(h, rnd(8) ? Node : Legacy);
    default: return hm_instance_new(h, Node);
    }
}

/* Links container c to target in whatever way its kind holds references. */
static void add_edge(hm_object *c, hm_object *target)
{
    if (hm_is(c, &hm_list_type)) {
        hm_list_append(c, target);
    } else if (hm_is(c, &hm_dict_type)) {
        if (rnd(2)) {
            hm_dict_set_str(c, words[rnd(NWORDS)], target);
        } else {
            hm_object *k = hm_int_new(h, rnd(50));
            hm_dict_set(c, k, target);
            hm_decref(k);
        }
    } else if (hm_instance_dict(c)) {
        hm_instance_set(c, words[rnd(3)], target);
    } else {
        hm_instance_set_slot(c, rnd(3), target);
    }
}

typedef struct world {
    hm_object **held; /* the test's own references: external roots */
    size_t n;
} world;

static void build(world *w, size_t n, bool trace)
{
    if (trace)
        hm_trace_start(h);
    w->held = calloc(n, sizeof *w->held);
    w->n = n;
    for (size_t i = 0; i < n; i++) {
        unsigned k = rnd(10);
        if (k < 3)
            w->held[i] = random_leaf();
        else if (k < 9 || i == 0)
            w->held[i] = random_container();
        else
            w->held[i] = hm_weakref_new(w->held[rnd((unsigned)i)], NULL, NULL);
        if (k == 9 && !w->held[i]) /* the referent cannot be weakly referenced: a leaf instead */
            w->held[i] = random_leaf();
        cr_assert(w->held[i]);
    }
    for (size_t e = 0; e < 2 * n; e++) {
        hm_object *c = w->held[rnd((unsigned)n)];
        if (hm_is(c, &hm_int_type) || hm_is(c, &hm_str_type) || hm_is_weakref(c))
            continue;
        add_edge(c, w->held[rnd((unsigned)n)]);
    }
    for (int r = 0; r < 3; r++) {
        char name[16];
        snprintf(name, sizeof name, "root%d", r);
        cr_assert_eq(hm_root_set(h, name, w->held[rnd((unsigned)n)]), HM_OK);
    }
    if (rnd(2)) { /* some objects frozen */
        hm_gc_freeze(h);
        hm_object *x = random_container();
        w->held[0] = (hm_decref(w->held[0]), x);
    }
    /* Let go of most of them: some die, some live on through edges, some cycles become garbage
     * (uncollectable ones, with Legacy members, go to the garbage list when collected). */
    for (size_t i = 0; i < n; i++)
        if (rnd(3)) {
            hm_decref(w->held[i]);
            w->held[i] = NULL;
        }
    if (rnd(2))
        hm_gc_collect(h, HM_GC_FULL, NULL);
}

static void release(world *w)
{
    for (size_t i = 0; i < w->n; i++)
        hm_xdecref(w->held[i]);
    free(w->held);
    /* Break what is left (garbage list, cycles) so the heap ends empty. */
    while (hm_root_count(h)) {
        char name[16];
        for (int r = 0; r < 3; r++) {
            snprintf(name, sizeof name, "root%d", r);
            hm_root_remove(h, name);
        }
    }
    hm_gc_unfreeze(h);
    hm_object *garbage = hm_gc_garbage(h);
    hm_list_clear(garbage);
    hm_decref(garbage);
    hm_object *objs = hm_gc_get_objects(h, -1);
    for (size_t i = 0; objs && i < hm_list_len(objs); i++) {
        hm_object *o = hm_list_get(objs, i);
        if (o->type->clear)
            o->type->clear(o);
    }
    hm_xdecref(objs);
    hm_gc_collect(h, HM_GC_FULL, NULL);
}

/* ---- what the runtime says ---- */

typedef struct expected_edge {
    uint64_t target;
    char name[HM_LABEL_MAX + 8];
} expected_edge;

typedef struct edges_of {
    expected_edge *e;
    size_t n, cap;
} edges_of;

/* The format's edge names, computed here independently of the writer. */
static int record_edge(hm_object *target, hm_edge edge, void *arg)
{
    edges_of *eo = arg;
    if (eo->n == eo->cap) {
        eo->cap = eo->cap ? 2 * eo->cap : 8;
        eo->e = realloc(eo->e, eo->cap * sizeof *eo->e);
    }
    expected_edge *x = &eo->e[eo->n++];
    x->target = hm_object_id(target);
    x->name[0] = '\0';
    switch (edge.kind) {
    case HM_EDGE_FIELD: snprintf(x->name, sizeof x->name, "%s", edge.u.name); break;
    case HM_EDGE_INDEX: snprintf(x->name, sizeof x->name, "[%zu]", edge.u.index); break;
    case HM_EDGE_VALUE:
        if (hm_is(edge.u.key, &hm_str_type))
            snprintf(x->name, sizeof x->name, "%s", hm_str_data(edge.u.key));
        else
            hm_object_label(edge.u.key, x->name, sizeof x->name);
        break;
    case HM_EDGE_KEY: break;
    }
    return 0;
}

/* The writer's JSON encoding of a string, decoded by the reader: invalid UTF-8 comes back as the
 * text \xNN. */
static void decoded(const char *s, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, n = strlen(s);
    for (size_t i = 0; i < n && o + 5 < size; i++) {
        /* The only multi-byte text in words[] is "é" (c3 a9); anything else above 0x7f is not
         * valid UTF-8 there, nor is half an "é" cut by a label's length limit. */
        bool lead = p[i] == 0xc3 && i + 1 < n && p[i + 1] == 0xa9;
        bool trail = p[i] == 0xa9 && i > 0 && p[i - 1] == 0xc3;
        if (p[i] < 0x80 || lead || trail)
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", p[i]);
    }
    out[o] = '\0';
}

typedef struct census {
    const hd_dump *d;
    hm_object *garbage_list;
    size_t objects;
    uint64_t last_id;
} census;

static uint64_t incoming(hm_object *target);

static int check_object(hm_object *o, int generation, void *user)
{
    census *c = user;
    if (o == c->garbage_list)
        return 0;
    c->objects++;
    const hd_dump *d = c->d;
    uint32_t i = hd_object_find(d, hm_object_id(o));
    cr_assert_neq(i, HD_NONE, "object %llu missing", (unsigned long long)hm_object_id(o));
    cr_assert_str_eq(hd_type_name(d, hd_object_type(d, i)), o->type->name);
    cr_assert_eq(hd_object_size(d, i), hm_object_size(o));
    if (o->rc == HM_RC_IMMORTAL)
        cr_assert_eq(hd_object_rc(d, i), HD_RC_UNKNOWN);
    else
        cr_assert_eq(hd_object_rc(d, i), o->rc);
    char label[HM_LABEL_MAX], want[4 * HM_LABEL_MAX];
    hm_object_label(o, label, sizeof label);
    decoded(label, want, sizeof want);
    cr_assert_str_eq(hd_object_label(d, i), want);
    unsigned gen = hd_object_gen(d, i);
    if (generation >= 0 && generation < HM_GC_GENERATIONS)
        cr_assert_eq(gen, (unsigned)generation);
    else
        cr_assert_eq(gen, HD_GEN_UNKNOWN);
    uint32_t f = hm_object_flags(o);
    unsigned df = hd_object_flags(d, i);
    cr_assert_eq(!!(df & HD_OBJ_TRACKED), !!(f & HM_FLAG_TRACKED));
    cr_assert_eq(!!(df & HD_OBJ_FROZEN), !!(f & HM_FLAG_FROZEN));
    cr_assert_eq(!!(df & HD_OBJ_IMMORTAL), !!(f & HM_FLAG_IMMORTAL));
    cr_assert_eq(!!(df & HD_OBJ_INTERNED), !!(f & HM_FLAG_INTERNED));
    cr_assert_eq(!!(df & HD_OBJ_FINALIZED), !!(f & HM_FLAG_FINALIZED));

    edges_of eo = {0};
    if (o->type->traverse)
        o->type->traverse(o, record_edge, &eo);
    uint64_t first, end;
    hd_object_edges(d, i, &first, &end);
    cr_assert_eq(end - first, eo.n, "object %llu: %llu edges, want %zu",
                 (unsigned long long)hm_object_id(o), (unsigned long long)(end - first), eo.n);
    for (size_t k = 0; k < eo.n; k++) {
        cr_assert_eq(hd_object_id(d, hd_edge_target(d, first + k)), eo.e[k].target);
        decoded(eo.e[k].name, want, sizeof want);
        cr_assert_str_eq(hd_edge_name(d, first + k), want);
    }
    free(eo.e);

    /* Roots by the format's rule, recomputed: external when the count exceeds what the heap
     * explains; the other kinds from the object's own state. */
    bool external = false, named = false, interned = false, cache = false, frozen = false,
         garbage = false;
    for (uint32_t r = 0; r < hd_root_count(d); r++) {
        if (hd_root_object(d, r) != i)
            continue;
        switch (hd_root_kind(d, r)) {
        case HD_ROOT_EXTERNAL: external = true; break;
        case HD_ROOT_NAMED: named = true; break;
        case HD_ROOT_INTERNED: interned = true; break;
        case HD_ROOT_CACHE: cache = true; break;
        case HD_ROOT_FROZEN: frozen = true; break;
        case HD_ROOT_GARBAGE: garbage = true; break;
        default: cr_assert_fail("unexpected root kind");
        }
    }
    cr_assert_eq(external, o->rc != HM_RC_IMMORTAL && o->rc > incoming(o),
                 "object %llu rc %u", (unsigned long long)hm_object_id(o), o->rc);
    bool is_named = false;
    for (int r = 0; r < 3; r++) {
        char name[16];
        snprintf(name, sizeof name, "root%d", r);
        is_named |= hm_root_get(h, name) == o;
    }
    cr_assert_eq(named, is_named);
    cr_assert_eq(interned, !!(f & HM_FLAG_INTERNED));
    cr_assert_eq(cache, !!(f & HM_FLAG_CACHED));
    cr_assert_eq(frozen, !!(f & HM_FLAG_FROZEN));
    bool listed = false;
    for (size_t k = 0; k < hm_list_len(c->garbage_list); k++)
        listed |= hm_list_get(c->garbage_list, k) == o;
    cr_assert_eq(garbage, listed);

    if (hm_is_weakref(o)) {
        bool found = false;
        for (uint32_t k = 0; k < hd_weakref_count(d); k++) {
            if (hd_weakref_object(d, k) != i)
                continue;
            found = true;
            uint32_t ref = hd_weakref_referent(d, k);
            uint64_t want_id = hm_weakref_referent_id(o);
            cr_assert_eq(ref == HD_NONE ? 0 : hd_object_id(d, ref), want_id);
        }
        cr_assert(found);
    }
    return 0;
}

/* References the heap holds to target, by brute force: every object's traverse, the named roots
 * and the garbage list. */
static hm_object *counting_target;
static uint64_t counted;
static hm_object *garbage_list_of_test;

static int count_to(hm_object *t, hm_edge e, void *arg)
{
    (void)e;
    (void)arg;
    counted += t == counting_target;
    return 0;
}

static int count_in(hm_object *o, int generation, void *user)
{
    (void)generation;
    (void)user;
    if (o != garbage_list_of_test && o->type->traverse)
        o->type->traverse(o, count_to, NULL);
    return 0;
}

static uint64_t incoming(hm_object *target)
{
    counting_target = target;
    counted = 0;
    hm_heap_foreach(h, count_in, NULL);
    for (int r = 0; r < 3; r++) {
        char name[16];
        snprintf(name, sizeof name, "root%d", r);
        counted += hm_root_get(h, name) == target;
    }
    for (size_t k = 0; k < hm_list_len(garbage_list_of_test); k++)
        counted += hm_list_get(garbage_list_of_test, k) == target;
    /* The test's caller holds garbage_list_of_test; the list itself is not in the dump. */
    return counted;
}

static hd_dump *load(const char *data, size_t size)
{
    hd_dump *d = NULL;
    hd_error err;
    int r = hd_load_buffer(data, size, "snapshot", NULL, &d, &err);
    cr_assert_eq(r, HD_OK, "reader: %s", err.message);
    return d;
}

static void check_against_heap(const hd_dump *d)
{
    census c = {.d = d, .garbage_list = garbage_list_of_test};
    hm_heap_foreach(h, check_object, &c);
    cr_assert_eq(hd_object_count(d), c.objects);
    for (uint32_t i = 1; i < hd_object_count(d); i++)
        cr_assert_lt(hd_object_id(d, i - 1), hd_object_id(d, i), "objects in id order");
    const hd_gc *gc = hd_dump_gc(d);
    cr_assert(gc->present);
    cr_assert_eq(gc->ngarbage, hm_list_len(garbage_list_of_test));
    cr_assert_eq(gc->frozen, hm_gc_get_freeze_count(h));
    const hd_pools *p = hd_dump_pools(d);
    hm_pool_stats ps;
    hm_pool_get_stats(h, &ps);
    cr_assert(p->present);
    cr_assert_eq(p->arenas_current, ps.arenas_current);
}

Test(snapshot, random_heaps_round_trip, .init = make_types, .fini = free_types, .timeout = 120)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rng = seed * 0x9E3779B97F4A7C15u;
        h = hm_heap_new();
        world w;
        build(&w, 40 + rnd(200), seed % 2 == 0);
        garbage_list_of_test = hm_gc_garbage(h);
        char *data;
        size_t size;
        cr_assert_eq(hm_snapshot_write_buffer(h, &data, &size, &(hm_snapshot_options){.name = "r"}),
                     HM_OK);
        hd_dump *d = load(data, size);
        cr_assert_str_eq(hd_meta_name(d), "r");
        check_against_heap(d);
        hd_dump_free(d);
        free(data);
        /* The heap is intact after the writer borrowed its lists: collect, then write again. */
        hm_gc_collect(h, HM_GC_FULL, NULL);
        cr_assert_eq(hm_snapshot_write_buffer(h, &data, &size, NULL), HM_OK);
        d = load(data, size);
        check_against_heap(d);
        hd_dump_free(d);
        free(data);
        hm_decref(garbage_list_of_test);
        release(&w);
        heap_test_finish();
    }
}

/* hd_dump_write_json's text, "created" blanked (two writes may fall in two seconds). */
typedef struct text {
    char *data;
    size_t len;
} text;

static int append_text(const void *data, size_t len, void *user)
{
    text *t = user;
    t->data = realloc(t->data, t->len + len + 1);
    cr_assert(t->data);
    memcpy(t->data + t->len, data, len);
    t->len += len;
    t->data[t->len] = '\0';
    return 0;
}

static text json_of(const hd_dump *d)
{
    text t = {0};
    cr_assert_eq(hd_dump_write_json(d, append_text, &t), 0);
    char *c = strstr(t.data, "\"created\": \"");
    if (c)
        memset(c + 12, '-', 20);
    return t;
}

/* A .hdx path gets the binary index of the heap the JSON of the same moment describes: loaded,
 * both give the same JSON and the same in-memory figures (the oracle: the JSON path). The
 * random heaps have every root kind, weakrefs, texts that are not UTF-8, sites and stacks,
 * frozen objects, the garbage list, and ids dense or sparse (direct or hashed id maps). */
Test(snapshot, random_heaps_index_form, .init = make_types, .fini = free_types, .timeout = 120)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/hm-index-%ld.hdx", (long)getpid());
    bool hashed = false, direct = false;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rng = seed * 0x9E3779B97F4A7C15u;
        h = hm_heap_new();
        world w;
        build(&w, 40 + rnd(200), seed % 2 == 0);
        garbage_list_of_test = hm_gc_garbage(h);
        hm_object *later = seed % 3 ? NULL : hm_list_new(h); /* ids past a gap: a hashed id map */
        for (size_t i = 0; later && i < 6 * w.n; i++)
            hm_decref(hm_list_new(h));
        for (size_t i = 0; later && i < 8; i++) {
            hm_object *x = hm_str_new(h, words[i]);
            hm_list_append(later, x);
            hm_decref(x);
        }
        char *data;
        size_t size;
        hm_snapshot_options opts = {.name = "r\xff"};
        cr_assert_eq(hm_snapshot_write_buffer(h, &data, &size, &opts), HM_OK);
        cr_assert_eq(hm_snapshot_write(h, path, &opts), HM_OK);
        hd_dump *from_json = load(data, size), *from_index = NULL;
        hd_error err;
        cr_assert_eq(hd_load(path, NULL, &from_index, &err), HD_OK, "%s", err.message);
        hd_memory a, b;
        hd_dump_memory(from_json, &a), hd_dump_memory(from_index, &b);
        cr_assert(!memcmp(&a, &b, sizeof a), "seed %llu: in-memory figures %llu and %llu", (unsigned long long)seed,
                  (unsigned long long)a.total, (unsigned long long)b.total);
        text x = json_of(from_json), y = json_of(from_index);
        cr_assert_str_eq(y.data, x.data, "seed %llu: the index loads as another heap", (unsigned long long)seed);
        uint64_t span = hd_object_count(from_json)
                            ? hd_object_id(from_json, hd_object_count(from_json) - 1) - hd_object_id(from_json, 0)
                            : 0;
        *(span >= 2 * (uint64_t)hd_object_count(from_json) ? &hashed : &direct) = true;
        free(x.data), free(y.data), free(data);
        hd_dump_free(from_json), hd_dump_free(from_index);
        if (later)
            hm_decref(later);
        hm_decref(garbage_list_of_test);
        release(&w);
        heap_test_finish();
    }
    unlink(path);
    cr_assert(hashed && direct, "both kinds of id map were tried");
}

/* ---- destinations ---- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hm-snapshot-XXXXXX");
    cr_assert(mkdtemp(tmpdir));
}

/* Files in tmpdir, all removed with it; returns how many there were. */
static int remove_tmpdir(void)
{
    DIR *dir = opendir(tmpdir);
    int n = 0;
    for (struct dirent *e; dir && (e = readdir(dir)) != NULL;) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char path[sizeof tmpdir + sizeof e->d_name + 2];
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
        n++;
    }
    if (dir)
        closedir(dir);
    rmdir(tmpdir);
    return n;
}

static char *in_tmp(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static uint32_t objects_in(const char *path)
{
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load(path, NULL, &d, &err), HD_OK, "%s: %s", path, err.message);
    uint32_t n = hd_object_count(d);
    hd_dump_free(d);
    return n;
}

/* A list of n ints, held by the caller. */
static hm_object *some_objects(size_t n)
{
    hm_object *l = hm_list_new(h);
    for (size_t i = 0; i < n; i++) {
        hm_object *x = hm_int_new(h, 1000 + (int64_t)i);
        hm_list_append(l, x);
        hm_decref(x);
    }
    return l;
}

HEAP_TEST(path_and_gzip_are_written_whole_and_alone)
{
    make_tmpdir();
    hm_object *l = some_objects(100);
    cr_assert_eq(hm_snapshot_write(h, in_tmp("a.json"), NULL), HM_OK);
    cr_assert_eq(hm_snapshot_write(h, in_tmp("a.json.gz"), NULL), HM_OK);
    cr_assert_eq(objects_in(in_tmp("a.json")), 101);
    cr_assert_eq(objects_in(in_tmp("a.json.gz")), 101);
    FILE *f = fopen(in_tmp("a.json.gz"), "rb");
    unsigned char magic[2] = {0};
    cr_assert_eq(fread(magic, 1, 2, f), 2);
    fclose(f);
    cr_assert(magic[0] == 0x1f && magic[1] == 0x8b, "gzip magic");
    /* Overwriting an existing dump replaces it whole. */
    hm_list_clear(l);
    cr_assert_eq(hm_snapshot_write(h, in_tmp("a.json"), NULL), HM_OK);
    cr_assert_eq(objects_in(in_tmp("a.json")), 1);
    hm_decref(l);
    cr_assert_eq(remove_tmpdir(), 2, "no temporary file left behind");
}

HEAP_TEST(missing_directory_is_an_io_error)
{
    cr_assert_eq(hm_snapshot_write(h, "/nonexistent-dir/x.json", NULL), HM_EIO);
    cr_assert_eq(errno, ENOENT);
    cr_assert_eq(hm_snapshot_write(h, "", NULL), HM_EINVAL);
    cr_assert_eq(hm_snapshot_write(NULL, "x.json", NULL), HM_EINVAL);
    cr_assert_eq(hm_snapshot_write(h, "x.hdx.gz", NULL), HM_EINVAL, "an index is not compressed");
    cr_assert_eq(access("x.hdx.gz", F_OK), -1);
}

/* A write that fails halfway (the file size limit) leaves the old file as it was and no
 * temporary beside it. In a child: the limit is per process. */
HEAP_TEST(failed_write_keeps_the_old_file)
{
    make_tmpdir();
    FILE *f = fopen(in_tmp("keep.json"), "w");
    fputs("precious", f);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {.rlim_cur = 100000, .rlim_max = RLIM_INFINITY};
        setrlimit(RLIMIT_FSIZE, &rl);
        hm_object *l = some_objects(20000);
        int r = hm_snapshot_write(h, in_tmp("keep.json"), NULL);
        int r2 = hm_snapshot_write(h, in_tmp("keep.json.gz"), NULL);
        int r3 = hm_snapshot_write(h, in_tmp("keep.hdx"), NULL);
        hm_decref(l);
        _exit(r == HM_EIO && r2 == HM_EIO && r3 == HM_EIO ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writes failed with HM_EIO");
    char buf[32] = {0};
    f = fopen(in_tmp("keep.json"), "r");
    cr_assert(fgets(buf, sizeof buf, f));
    fclose(f);
    cr_assert_str_eq(buf, "precious");
    cr_assert_eq(remove_tmpdir(), 1, "only the old file is there");
}

HEAP_TEST(labels_can_be_left_out)
{
    hm_object *s = hm_str_new(h, "secret");
    char *data;
    size_t size;
    cr_assert_eq(hm_snapshot_write_buffer(h, &data, &size, &(hm_snapshot_options){.no_labels = true}),
                 HM_OK);
    cr_assert_null(memmem(data, size, "secret", 6));
    cr_assert_null(memmem(data, size, "\"label\"", 7));
    free(data);
    cr_assert_eq(hm_snapshot_write_buffer(h, &data, &size, NULL), HM_OK);
    cr_assert_not_null(memmem(data, size, "secret", 6));
    free(data);
    hm_decref(s);
}

static int busy_status = 1;
static void snapshot_in_del(hm_object *self)
{
    (void)self;
    char *data = NULL;
    size_t size;
    busy_status = hm_snapshot_write_buffer(hm_object_heap(self), &data, &size, NULL);
    free(data);
}

HEAP_TEST(no_snapshot_during_a_collection)
{
    static const char *const slots[] = {"peer", NULL};
    hm_type *T = hm_class_new(&(hm_class_spec){.name = "T", .slots = slots, .finalize = snapshot_in_del});
    hm_object *a = hm_instance_new(h, T), *b = hm_instance_new(h, T);
    hm_instance_set_slot(a, 0, b);
    hm_instance_set_slot(b, 0, a);
    hm_decref(a);
    hm_decref(b);
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert_eq(busy_status, HM_EBUSY);
    hm_class_free(T);
}

/* ---- in-process analysis: the README's example, as a test ---- */

static hm_type *Leaky;
static size_t live_of_type(const char *name)
{
    char *data;
    size_t size;
    cr_assert_eq(hm_snapshot_write_buffer(h, &data, &size, NULL), HM_OK);
    hd_dump *d = load(data, size);
    free(data);
    hd_type_stat *st = calloc(hd_type_count(d) + 1, sizeof *st);
    uint32_t n = hd_stats_by_type(d, HD_SORT_COUNT, st);
    size_t count = 0;
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(hd_type_name(d, st[i].type), name) == 0)
            count = st[i].count;
    free(st);
    hd_dump_free(d);
    return count;
}

HEAP_TEST(no_node_survives_the_scenario)
{
    static const char *const slots[] = {"next", NULL};
    Leaky = hm_class_new(&(hm_class_spec){.name = "Leaky", .slots = slots});
    hm_object *a = hm_instance_new(h, Leaky), *b = hm_instance_new(h, Leaky);
    hm_instance_set_slot(a, 0, b);
    hm_instance_set_slot(b, 0, a);
    hm_decref(a);
    hm_decref(b);
    cr_assert_eq(live_of_type("Leaky"), 2, "the cycle outlives its names");
    hm_gc_collect(h, HM_GC_FULL, NULL);
    cr_assert_eq(live_of_type("Leaky"), 0, "collected");
    hm_class_free(Leaky);
}

/* ---- named roots ---- */

HEAP_TEST(named_roots_hold_a_reference)
{
    hm_object *x = hm_list_new(h), *y = hm_list_new(h);
    cr_assert_eq(hm_root_set(h, "config", x), HM_OK);
    cr_assert_eq(hm_object_refcount(x), 2);
    cr_assert_eq(hm_root_get(h, "config"), x);
    cr_assert_eq(hm_root_set(h, "config", y), HM_OK);
    cr_assert_eq(hm_object_refcount(x), 1);
    cr_assert_eq(hm_root_count(h), 1);
    cr_assert_eq(hm_root_remove(h, "config"), HM_OK);
    cr_assert_eq(hm_root_remove(h, "config"), HM_EKEY);
    cr_assert_null(hm_root_get(h, "config"));
    cr_assert_eq(hm_object_refcount(y), 1);
    /* A root left set is dropped by hm_heap_destroy (the harness checks nothing is left). */
    cr_assert_eq(hm_root_set(h, "left", y), HM_OK);
    hm_decref(x);
    hm_decref(y);
}

/* ---- triggers ---- */

Test(snapshot, at_exit_dump_on_heap_destroy)
{
    make_tmpdir();
    h = hm_heap_new();
    hm_object *l = some_objects(10);
    cr_assert_eq(hm_snapshot_at_exit(h, in_tmp("exit-%n.json"), NULL), HM_OK);
    hm_root_set(h, "l", l); /* dropped by destroy, after the dump */
    hm_decref(l);
    cr_assert_eq(hm_heap_destroy(h, NULL), 0);
    cr_assert_eq(objects_in(in_tmp("exit-1.json")), 11);
    cr_assert_eq(remove_tmpdir(), 1);
}

/* A template ending in .hdx dumps the binary index. */
Test(snapshot, at_exit_dump_as_an_index)
{
    make_tmpdir();
    h = hm_heap_new();
    hm_object *l = some_objects(10);
    cr_assert_eq(hm_snapshot_at_exit(h, in_tmp("exit-%n.hdx"), NULL), HM_OK);
    hm_root_set(h, "l", l);
    hm_decref(l);
    cr_assert_eq(hm_heap_destroy(h, NULL), 0);
    FILE *f = fopen(in_tmp("exit-1.hdx"), "rb");
    char magic[4] = {0};
    cr_assert(f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "\x89HDX", 4), "an index, by its magic");
    fclose(f);
    cr_assert_eq(objects_in(in_tmp("exit-1.hdx")), 11);
    cr_assert_eq(remove_tmpdir(), 1);
}

Test(snapshot, at_exit_dump_on_process_exit)
{
    make_tmpdir();
    pid_t pid = fork();
    if (pid == 0) {
        h = hm_heap_new();
        hm_object *l = some_objects(5);
        (void)l; /* still alive at exit */
        setenv("HM_SNAPSHOT", in_tmp("proc-%p.json"), 1);
        exit(hm_snapshot_from_env(h) == HM_OK ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char name[64];
    snprintf(name, sizeof name, "proc-%ld.json", (long)pid);
    cr_assert_eq(objects_in(in_tmp(name)), 6);
    cr_assert_eq(remove_tmpdir(), 1);
}

HEAP_TEST(signal_dumps_at_the_next_safe_point)
{
    make_tmpdir();
    cr_assert_eq(hm_snapshot_on_signal(h, SIGUSR1, in_tmp("sig-%n-%%.json"), NULL), HM_OK);
    cr_assert_eq(hm_snapshot_poll(h), 0, "no signal yet");
    raise(SIGUSR1);
    cr_assert_eq(access(in_tmp("sig-1-%.json"), F_OK), -1, "not in the handler");
    hm_object *x = hm_list_new(h); /* a creation: the safe point */
    cr_assert_eq(objects_in(in_tmp("sig-1-%.json")), 0, "taken before x existed");
    raise(SIGUSR1);
    raise(SIGUSR1);
    cr_assert_eq(hm_snapshot_poll(h), 1, "two signals, one dump");
    cr_assert_eq(objects_in(in_tmp("sig-2-%.json")), 1);
    cr_assert_eq(hm_snapshot_poll(h), 0);
    cr_assert_eq(hm_snapshot_on_signal(h, SIGUSR1, NULL, NULL), HM_OK);
    raise(SIGUSR1);
    cr_assert_eq(hm_snapshot_poll(h), 0, "disarmed");
    hm_decref(x);
    cr_assert_eq(remove_tmpdir(), 2);
}

HEAP_TEST(environment_names_the_signal)
{
    setenv("HM_SNAPSHOT_SIGNAL", "SIGNOPE", 1);
    cr_assert_eq(hm_snapshot_from_env(h), HM_EINVAL);
    setenv("HM_SNAPSHOT_SIGNAL", "USR2", 1);
    setenv("HM_SNAPSHOT_SIGNAL_PATH", "/nonexistent-dir/x-%n.json", 1);
    cr_assert_eq(hm_snapshot_from_env(h), HM_OK);
    raise(SIGUSR2);
    cr_assert_eq(hm_snapshot_poll(h), HM_EIO, "the failure is reported by poll");
    unsetenv("HM_SNAPSHOT_SIGNAL");
    unsetenv("HM_SNAPSHOT_SIGNAL_PATH");
    cr_assert_eq(hm_snapshot_on_signal(h, SIGKILL, "x", NULL), HM_EINVAL);
}

/* Crash safety: a writer killed with SIGKILL at random moments never leaves a truncated dump
 * under the target name: what is there is the previous whole dump, or a new whole one. */
HEAP_TEST(sigkill_never_leaves_a_truncated_dump)
{
    make_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s", in_tmp("victim.json"));
    hm_object *l = some_objects(30000);
    cr_assert_eq(hm_snapshot_write(h, path, NULL), HM_OK);
    uint64_t seed = 12345;
    for (int round = 0; round < 12; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) /* keeps rewriting the dump until killed */
                hm_snapshot_write(h, path, round % 2 ? &(hm_snapshot_options){.name = "odd"} : NULL);
        }
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        usleep((useconds_t)(1000 + (seed >> 33) % 40000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFSIGNALED(status));
        cr_assert_eq(objects_in(path), 30001, "round %d: the dump under the name is whole", round);
    }
    hm_decref(l);
    remove_tmpdir(); /* killed writers leave their temporaries beside it: removed with the dir */
}
