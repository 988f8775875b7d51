/* snapshot_index.c: a snapshot as a binary index (formats/heapdump-binary.md, unanalysed), for
 * hm_snapshot_write() to a path ending in ".hdx": the arrays libheapdump would hold after
 * loading the JSON snapshot.c writes of the same heap, so every command answers the same from
 * either, without the JSON being written or parsed.
 *
 * Invariant: each value is the one the loader would make of snapshot.c's record: objects in id
 * order, types and sites in the order the JSON lists them, names interned and labels appended
 * as the loader keeps them, texts as the JSON carries them (a byte that is not UTF-8 becomes the
 * text \xNN). The objects' arrays are placed (a first walk counts them and keeps their ids, 8
 * bytes an object, to number references' targets); references, weakrefs, roots and strings are
 * streamed (src/common/hdx_writer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hdx_writer.h"
#include "runtime/internal.h"
#include "runtime/snapshot.h"

#define CHUNK 8192u

typedef struct chunk {
    uint64_t id[CHUNK], size[CHUNK];
    uint32_t type[CHUNK], site[CHUNK], label[CHUNK], rc[CHUNK], offset[CHUNK];
    uint8_t gen[CHUNK], flags[CHUNK];
} chunk;

typedef struct index_out {
    ht_hdx_writer w;
    hm_heap *h;
    const hm_snapshot_options *opts;
    hm__snapshot_prep prep;
    uint64_t *ids;  /* by object number: increasing */
    uint64_t n;
    uint32_t *slots; /* OBJ_MAP */
    hdx_meta meta;
    uint64_t nedges;
    char *text;     /* scratch for texts with bytes that are not UTF-8 */
    size_t text_cap;
} index_out;

static void fail(index_out *x, int err)
{
    if (!x->w.err)
        x->w.err = err;
}

/* s as the JSON carries it back: hm__out_string writes a byte that is not UTF-8 as \xNN. */
static const char *as_json_reads(index_out *x, const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t odd = 0;
    for (size_t i = 0; i < *len; i++)
        if (p[i] >= 0x80) {
            size_t k = hm__utf8_length(p + i, *len - i);
            odd += !k;
            i += k ? k - 1 : 0;
        }
    if (!odd)
        return s;
    if (*len + 3 * odd > x->text_cap) {
        char *t = hm__sys_realloc(x->h, x->text, *len + 3 * odd);
        if (!t) {
            fail(x, ENOMEM);
            *len = 0;
            return "";
        }
        x->text = t, x->text_cap = *len + 3 * odd;
    }
    size_t at = 0;
    for (size_t i = 0; i < *len;) {
        size_t k = p[i] < 0x80 ? 1 : hm__utf8_length(p + i, *len - i);
        if (k) {
            memcpy(x->text + at, p + i, k), at += k, i += k;
        } else {
            static const char hex[] = "0123456789abcdef";
            x->text[at++] = '\\', x->text[at++] = 'x';
            x->text[at++] = hex[p[i] >> 4], x->text[at++] = hex[p[i] & 15], i++;
        }
    }
    *len = at;
    return x->text;
}

static uint32_t name(index_out *x, const char *s, size_t len)
{
    s = as_json_reads(x, s, &len);
    return ht_hdx_intern(&x->w, s, len);
}

static uint32_t name0(index_out *x, const char *s) { return name(x, s, strlen(s)); }

/* ---- the first walk: the objects' ids, and the id map ---- */

static bool collect_ids(index_out *x)
{
    size_t cap = 0;
    hm__walk it;
    hm__walk_begin(&it, x->h, false);
    for (hm_object *o; (o = hm__walk_next(&it)) != NULL; x->ids[x->n++] = o->id)
        if (x->n == cap) {
            uint64_t *ids = hm__sys_realloc(x->h, x->ids, (cap = cap ? 2 * cap : 1024) * sizeof *ids);
            if (!ids)
                return false;
            x->ids = ids;
        }
    return true;
}

static uint64_t id_at(const void *ids, uint32_t i) { return ((const uint64_t *)ids)[i]; }

static bool make_map(index_out *x)
{
    hdx_meta *m = &x->meta;
    m->map_mask = 15;
    if (!x->n)
        return true;
    bool direct;
    uint64_t lo = x->ids[0];
    uint32_t mask = ht_hdx_map_mask(lo, x->ids[x->n - 1], x->n, &direct);
    if (!(x->slots = hm__sys_calloc(x->h, (size_t)mask + 1, sizeof *x->slots)))
        return false;
    ht_hdx_fill_map(x->slots, mask, direct, lo, x->n, id_at, x->ids);
    m->map_direct = direct, m->map_base = direct ? lo : 0, m->map_mask = mask, m->map_used = x->n;
    return true;
}

/* The number of the object with this id (one of the heap's). */
static uint32_t number_of(const index_out *x, uint64_t id)
{
    if (x->meta.map_direct)
        return x->slots[id - x->meta.map_base] - 1;
    size_t lo = 0, hi = x->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->ids[mid] <= id)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

/* ---- meta, types, frames, stacks, sites ---- */

static void fill_meta(index_out *x)
{
    char when[32];
    hm__snapshot_created(when);
    x->meta.version = 1;
    x->meta.producer = name0(x, "libhm " HT_VERSION);
    x->meta.created = name0(x, when);
    x->meta.pid = (uint64_t)getpid();
    x->meta.name = x->opts->name ? name0(x, x->opts->name) : 0;
}

static void write_types(index_out *x)
{
    for (uint32_t i = 0; i < x->prep.types.n; i++) {
        const hm_type *t = x->prep.types.types[i];
        uint64_t id = i, size = t->basicsize > sizeof(hm_object) ? t->basicsize - sizeof(hm_object) : 0;
        uint32_t type_name = name0(x, t->name ? t->name : "?");
        uint8_t flags = (uint8_t)((t->flags & HM_TYPE_GC ? HD_TYPE_GC : 0) | (t->finalize ? HD_TYPE_FINALIZER : 0) |
                                  (t->flags & HM_TYPE_LEGACY_FINALIZER ? HD_TYPE_LEGACY_FINALIZER : 0));
        ht_hdx_put(&x->w, HDX_TYPE_ID, i, &id, 1), ht_hdx_put(&x->w, HDX_TYPE_SIZE, i, &size, 1);
        ht_hdx_put(&x->w, HDX_TYPE_NAME, i, &type_name, 1), ht_hdx_put(&x->w, HDX_TYPE_FLAGS, i, &flags, 1);
    }
}

/* Frames and stack nodes (as trace_frames.c writes them: node i has id i + 1). */
static void write_stacks(index_out *x, hm__frames *f)
{
    const hm__stacks *s = hm__trace_stacks(x->h);
    for (uint32_t i = 0; i < f->n; i++) {
        hm__frame fr;
        hm__frames_name(f, i, &fr);
        uint64_t id = i;
        uint32_t function = fr.function ? name0(x, fr.function) : 0, file = fr.file ? name0(x, fr.file) : 0,
                 module = name0(x, fr.module), line = fr.file ? fr.line : 0;
        ht_hdx_put(&x->w, HDX_FRAME_ID, i, &id, 1), ht_hdx_put(&x->w, HDX_FRAME_OFFSET, i, &fr.offset, 1);
        ht_hdx_put(&x->w, HDX_FRAME_FUNCTION, i, &function, 1), ht_hdx_put(&x->w, HDX_FRAME_FILE, i, &file, 1);
        ht_hdx_put(&x->w, HDX_FRAME_MODULE, i, &module, 1), ht_hdx_put(&x->w, HDX_FRAME_LINE, i, &line, 1);
        free(fr.function), free(fr.file);
    }
    for (uint32_t i = 0; f->n && i < s->n; i++) {
        uint64_t id = i + 1;
        uint32_t frame = hm__frames_index(f, s->nodes[i].pc), parent = s->nodes[i].parent ? s->nodes[i].parent - 1 : HD_NONE;
        ht_hdx_put(&x->w, HDX_STACK_ID, i, &id, 1), ht_hdx_put(&x->w, HDX_STACK_FRAME, i, &frame, 1);
        ht_hdx_put(&x->w, HDX_STACK_PARENT, i, &parent, 1);
    }
}

static void write_sites(index_out *x, uint64_t nsite_stacks)
{
    const hm_site *sites;
    size_t n = hm__trace_sites(x->h, &sites);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id = i;
        uint32_t file = name0(x, sites[i].file), line = sites[i].line > 0 ? (uint32_t)sites[i].line : 0,
                 function = sites[i].function ? name0(x, sites[i].function) : 0;
        ht_hdx_put(&x->w, HDX_SITE_ID, i, &id, 1), ht_hdx_put(&x->w, HDX_SITE_FILE, i, &file, 1);
        ht_hdx_put(&x->w, HDX_SITE_FUNCTION, i, &function, 1), ht_hdx_put(&x->w, HDX_SITE_LINE, i, &line, 1);
        if (i < nsite_stacks) {
            uint32_t stack = hm__trace_site_stack(x->h, i);
            stack = stack ? stack - 1 : HD_NONE;
            ht_hdx_put(&x->w, HDX_SITE_STACK, i, &stack, 1);
        }
    }
}

/* ---- objects and their references ---- */

/* An edge's name as snapshot.c writes it: a field's name, "[i]", a dict value under its key's
 * text (a str key as is, another as its label), none for a dict key. */
static int put_edge(hm_object *target, hm_edge e, void *arg)
{
    index_out *x = arg;
    target->gc.gc_refs++; /* the external-root rule's count, as snapshot.c keeps it */
    char buf[HM_LABEL_MAX > 32 ? HM_LABEL_MAX : 32];
    uint32_t edge_name = 0;
    if (e.kind == HM_EDGE_FIELD && e.u.name) {
        edge_name = name0(x, e.u.name);
    } else if (e.kind == HM_EDGE_INDEX) {
        edge_name = name(x, buf, (size_t)snprintf(buf, sizeof buf, "[%zu]", (size_t)e.u.index));
    } else if (e.kind == HM_EDGE_VALUE && e.u.key && hm_is(e.u.key, &hm_str_type)) {
        edge_name = name(x, hm_str_data(e.u.key), hm_str_len(e.u.key));
    } else if (e.kind == HM_EDGE_VALUE && e.u.key) {
        edge_name = name(x, buf, hm_object_label(e.u.key, buf, sizeof buf));
    }
    uint32_t t = number_of(x, target->id);
    ht_hdx_append(&x->w, HDX_EDGE_TARGET, &t, 1);
    ht_hdx_append(&x->w, HDX_EDGE_NAME, &edge_name, 1);
    x->nedges++;
    return x->w.err ? HM_EIO : HM_OK;
}

static uint8_t format_flags(const hm_object *o)
{
    uint32_t f = hm_object_flags(o);
    return (uint8_t)((f & HM_FLAG_TRACKED ? HD_OBJ_TRACKED : 0) | (f & HM_FLAG_FINALIZED ? HD_OBJ_FINALIZED : 0) |
                     (f & HM_FLAG_FROZEN ? HD_OBJ_FROZEN : 0) | (f & HM_FLAG_IMMORTAL ? HD_OBJ_IMMORTAL : 0) |
                     (f & HM_FLAG_INTERNED ? HD_OBJ_INTERNED : 0));
}

static void object_at(index_out *x, chunk *c, uint32_t k, hm_object *o)
{
    c->id[k] = o->id;
    c->type[k] = hm__snapshot_type(&x->prep, o->type);
    c->size[k] = hm_object_size(o);
    x->meta.total_size = x->meta.total_size + c->size[k] < x->meta.total_size ? UINT64_MAX
                                                                               : x->meta.total_size + c->size[k];
    c->rc[k] = o->rc == HM_RC_IMMORTAL ? UINT32_MAX : o->rc >= UINT32_MAX - 1 ? UINT32_MAX - 1 : o->rc;
    if (!hm__trace_site_index(x->h, o->id, &c->site[k]))
        c->site[k] = HD_NONE;
    c->label[k] = HD_NONE;
    if (!x->opts->no_labels) {
        char label[HM_LABEL_MAX];
        size_t n = hm_object_label(o, label, sizeof label);
        const char *s = as_json_reads(x, label, &n);
        c->label[k] = ht_hdx_label(&x->w, s, n);
    }
    c->gen[k] = (o->flags & HM_FLAG_TRACKED) && !(o->flags & HM_FLAG_FROZEN) ? (uint8_t)hm__gen_of(o) : HD_GEN_UNKNOWN;
    c->flags[k] = format_flags(o);
    c->offset[k] = (uint32_t)x->nedges;
    if (o->type->traverse)
        o->type->traverse(o, put_edge, x);
}

static void write_objects(index_out *x, chunk *c)
{
    hm__walk it;
    hm__walk_begin(&it, x->h, true);
    uint64_t base = 0;
    uint32_t k = 0;
    for (hm_object *o; !x->w.err && (o = hm__walk_next(&it)) != NULL;) {
        object_at(x, c, k++, o);
        if (k == CHUNK || base + k == x->n) {
            ht_hdx_put(&x->w, HDX_OBJ_ID, base, c->id, k), ht_hdx_put(&x->w, HDX_OBJ_SIZE, base, c->size, k);
            ht_hdx_put(&x->w, HDX_OBJ_TYPE, base, c->type, k), ht_hdx_put(&x->w, HDX_OBJ_SITE, base, c->site, k);
            ht_hdx_put(&x->w, HDX_OBJ_LABEL, base, c->label, k), ht_hdx_put(&x->w, HDX_OBJ_RC, base, c->rc, k);
            ht_hdx_put(&x->w, HDX_OBJ_GEN, base, c->gen, k), ht_hdx_put(&x->w, HDX_OBJ_FLAGS, base, c->flags, k);
            ht_hdx_put(&x->w, HDX_EDGE_OFFSET, base, c->offset, k);
            base += k, k = 0;
        }
    }
    if (x->nedges > UINT32_MAX - 2)
        fail(x, EFBIG);
    uint32_t last = (uint32_t)x->nedges;
    ht_hdx_put(&x->w, HDX_EDGE_OFFSET, x->n, &last, 1);
    if (x->n)
        ht_hdx_put(&x->w, HDX_OBJ_MAP, 0, x->slots, (uint64_t)x->meta.map_mask + 1);
}

/* ---- weakrefs, roots, pools, gc ---- */

static void write_weakrefs(index_out *x)
{
    hm__walk it;
    hm__walk_begin(&it, x->h, false);
    for (hm_object *o; (o = hm__walk_next(&it)) != NULL;) {
        if (!hm_is_weakref(o))
            continue;
        uint64_t referent = hm_weakref_referent_id(o);
        uint32_t object = number_of(x, o->id), to = referent ? number_of(x, referent) : HD_NONE;
        uint8_t callback = hm_weakref_has_callback(o) ? 1 : 0;
        ht_hdx_append(&x->w, HDX_WEAKREF_OBJECT, &object, 1);
        ht_hdx_append(&x->w, HDX_WEAKREF_REFERENT, &to, 1);
        ht_hdx_append(&x->w, HDX_WEAKREF_CALLBACK, &callback, 1);
    }
}

static void put_root(void *arg, const hm_object *o, const char *kind, const char *root_name)
{
    index_out *x = arg;
    uint32_t object = number_of(x, o->id), kind_name = name0(x, kind), at = root_name ? name0(x, root_name) : 0;
    uint8_t kind_number = ht_hdx_root_kind(kind);
    ht_hdx_append(&x->w, HDX_ROOT_OBJECT, &object, 1), ht_hdx_append(&x->w, HDX_ROOT_KIND_NAME, &kind_name, 1);
    ht_hdx_append(&x->w, HDX_ROOT_NAME, &at, 1), ht_hdx_append(&x->w, HDX_ROOT_KIND, &kind_number, 1);
}

static void write_pools(index_out *x)
{
    hm_pool_stats s;
    hm_pool_get_stats(x->h, &s);
    hdx_meta *m = &x->meta;
    m->pools_present = 1, m->arena_size = HM_ARENA_SIZE, m->pool_size = HM_POOL_SIZE;
    m->arenas_allocated = s.arenas_allocated, m->arenas_reclaimed = s.arenas_reclaimed;
    m->arenas_highwater = s.arenas_highwater, m->arenas_current = s.arenas_current;
    m->large_allocs = s.large_blocks, m->large_bytes = s.large_bytes;
    for (size_t i = 0; i < HM_POOL_CLASSES; i++) {
        const hm_pool_class_stats *c = &s.classes[i];
        if (!c->pools)
            continue;
        hd_pool_class pc;
        memset(&pc, 0, sizeof pc); /* the 4 bytes after size are zero in the file */
        pc.size = (uint32_t)c->size, pc.pools = c->pools, pc.blocks_in_use = c->blocks_in_use;
        pc.blocks_free = c->blocks_available;
        ht_hdx_append(&x->w, HDX_POOL_CLASS, &pc, 1);
    }
}

static void write_gc(index_out *x)
{
    hm_heap *h = x->h;
    hdx_meta *m = &x->meta;
    long counts[HM_GC_GENERATIONS], thresholds[HM_GC_GENERATIONS];
    hm_gc_get_count(h, counts);
    hm_gc_get_threshold(h, thresholds);
    m->gc_present = 1, m->gc_enabled = hm_gc_isenabled(h) ? 1 : 0;
    uint64_t *gen = &m->g0_threshold; /* five fields a generation, three in a row */
    for (int g = 0; g < HM_GC_GENERATIONS && g < 3; g++) {
        hm_gc_stats st;
        hm_gc_get_stats(h, g, &st);
        gen[5 * g + 0] = thresholds[g] > 0 ? (uint64_t)thresholds[g] : 0;
        gen[5 * g + 1] = counts[g] > 0 ? (uint64_t)counts[g] : 0;
        gen[5 * g + 2] = st.collections, gen[5 * g + 3] = st.collected, gen[5 * g + 4] = st.uncollectable;
    }
    m->gc_frozen = hm_gc_get_freeze_count(h);
    for (size_t i = 0, n = h->garbage ? hm_list_len(h->garbage) : 0; i < n; i++) {
        uint32_t o = number_of(x, hm_list_get(h->garbage, i)->id);
        ht_hdx_append(&x->w, HDX_GC_GARBAGE, &o, 1);
    }
}

/* ---- the whole ---- */

static void place(index_out *x, const hm__frames *f, uint64_t nsite_stacks)
{
    uint64_t counts[HT_HDX_NSECTIONS + 1];
    for (uint32_t id = 1; id <= HT_HDX_NSECTIONS; id++)
        counts[id] = HT_HDX_STREAMED;
    size_t nsites = hm__trace_sites(x->h, &(const hm_site *){NULL});
    const hm__stacks *s = hm__trace_stacks(x->h);
    for (uint32_t id = HDX_TYPE_ID; id <= HDX_TYPE_FLAGS; id++)
        counts[id] = x->prep.types.n;
    for (uint32_t id = HDX_SITE_ID; id <= HDX_SITE_LINE; id++)
        counts[id] = nsites;
    for (uint32_t id = HDX_OBJ_ID; id <= HDX_OBJ_FLAGS; id++)
        counts[id] = x->n;
    counts[HDX_OBJ_MAP] = x->n ? (uint64_t)x->meta.map_mask + 1 : 0;
    counts[HDX_EDGE_OFFSET] = x->n + 1;
    for (uint32_t id = HDX_FRAME_ID; id <= HDX_FRAME_LINE; id++)
        counts[id] = f->n;
    for (uint32_t id = HDX_STACK_ID; id <= HDX_STACK_PARENT; id++)
        counts[id] = f->n ? s->n : 0;
    counts[HDX_SITE_STACK] = nsite_stacks;
    counts[HDX_OBJ_ADDRESS] = counts[HDX_OBJ_THREAD] = 0;
    counts[HDX_INTERIOR_EDGE] = counts[HDX_INTERIOR_OFFSET] = counts[HDX_ROOT_OFFSET] = 0;
    ht_hdx_place(&x->w, counts);
}

/* The sites before the last one with a stack: the loader's site_stack covers those. */
static uint64_t site_stacks(hm_heap *h)
{
    size_t n = hm__trace_sites(h, &(const hm_site *){NULL}), last = 0;
    for (size_t i = 0; i < n; i++)
        if (hm__trace_site_stack(h, i))
            last = i + 1;
    return last;
}

static void write_all(index_out *x, chunk *c)
{
    hm__frames f;
    int status = HM_OK;
    if (!hm__frames_open(x->h, &f, &status) && status != HM_OK) {
        fail(x, ENOMEM);
        return;
    }
    uint64_t nsite_stacks = site_stacks(x->h);
    place(x, &f, nsite_stacks);
    fill_meta(x);
    write_types(x);
    write_stacks(x, &f);
    write_sites(x, nsite_stacks);
    write_objects(x, c);
    write_weakrefs(x);
    hm__snapshot_each_root(x->h, &x->prep, put_root, x);
    write_pools(x);
    write_gc(x);
    bool direct;
    uint32_t frame_mask = ht_hdx_map_mask(0, f.n ? f.n - 1 : 0, f.n, &direct);
    const hm__stacks *s = hm__trace_stacks(x->h);
    uint64_t nstacks = f.n ? s->n : 0;
    uint32_t stack_mask = ht_hdx_map_mask(1, nstacks ? nstacks : 1, nstacks, &direct);
    ht_hdx_meta_counts(&x->w, &x->meta, frame_mask, stack_mask);
    hm__frames_close(&f);
}

int hm__snapshot_write_index(hm_heap *h, const char *path, const hm_snapshot_options *opts)
{
    static const hm_snapshot_options defaults;
    index_out *x = hm__sys_calloc(h, 1, sizeof *x);
    chunk *c = hm__sys_malloc(h, sizeof *c);
    int err = x && c ? ht_hdx_begin(&x->w, path, true) : ENOMEM;
    if (err) {
        free(x), free(c);
        return err == ENOMEM ? HM_ENOMEM : (errno = err, HM_EIO);
    }
    x->h = h, x->opts = opts ? opts : &defaults;
    bool prepared = hm__snapshot_prepare(h, &x->prep);
    if (prepared && collect_ids(x) && make_map(x))
        write_all(x, c);
    else
        fail(x, ENOMEM);
    hm__snapshot_restore(h, &x->prep);
    if (x->w.err)
        ht_hdx_abort(&x->w);
    else
        x->w.err = ht_hdx_finish(&x->w, &x->meta);
    err = x->w.err;
    free(x->ids), free(x->slots), free(x->text), free(x), free(c);
    if (err)
        errno = err;
    return !err ? HM_OK : err == ENOMEM ? HM_ENOMEM : HM_EIO;
}
