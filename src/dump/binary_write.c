/* binary_write.c: a loaded dump, with its reachability and dominators when given, written as a
 * binary index (formats/heapdump-binary.md).
 *
 * Invariant: a section's place in the file is fixed when it is added to the layout, before a
 * byte of it is written, and each array is written in one piece, straight from the dump's
 * memory, to its place; the file appears under its name only once complete (hd__atomic). So
 * the graph's sections can go to the file (on a thread of their own, hd_index_build) while the
 * analyses are still being computed: theirs, CHUNK_SUM, META, and the header and table, which
 * come first in the file, are written last.
 */
#include "analysis.h"
#include "binary.h"
#include "budget.h"
#include "error.h"
#include "native.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A big section gets pages of its own (formats/heapdump-binary.md §1): it starts and the next
 * one starts at a multiple of HDX_PAGE_ALIGN, so that a reader can leave it unreadable until it
 * has verified it (binary_lazy.c). */
enum { HDX_LAZY_FROM = 256 << 10, HDX_PAGE_ALIGN = 64 << 10 };
static uint64_t align8(uint64_t x) { return (x + 7) & ~(uint64_t)7; }
static uint64_t align_page(uint64_t x) { return (x + HDX_PAGE_ALIGN - 1) & ~(uint64_t)(HDX_PAGE_ALIGN - 1); }

/* The table is written last, when the number of sections is known: room is left for the most
 * a file can have, and what it does not use is zero padding (allowed by §1). */
#define HDX_TABLE_ROOM ((uint64_t)HDX_ENTRY_SIZE * (HDX_NSECTIONS - 1))

typedef struct layout {
    hdx_entry entries[HDX_NSECTIONS];
    const void *data[HDX_NSECTIONS];
    uint32_t n;
    uint64_t end; /* where the next section may start */
} layout;

/* Places a section after the ones before it; its checksum is taken when it is written. */
static void add(layout *l, uint32_t id, const void *data, uint64_t count)
{
    hdx_entry *e = &l->entries[l->n];
    e->id = id;
    e->elem_size = hd__hdx_elem_size(id);
    e->count = count;
    uint64_t bytes = count * e->elem_size;
    bool big = bytes >= HDX_LAZY_FROM;
    e->offset = big ? align_page(l->end) : align8(l->end);
    l->end = big ? align_page(e->offset + bytes) : e->offset + bytes;
    l->data[l->n++] = count ? data : "";
}
static void fill_meta(hdx_meta *m, const hd_dump *d, const hd_reach *reach, const hd_dominators *dom)
{
    memset(m, 0, sizeof *m);
    m->version = d->version;
    m->format = d->format;
    m->producer = d->producer;
    m->created = d->created;
    m->name = d->name;
    m->pid = (uint64_t)d->pid;
    m->ntypes = d->ntypes;
    m->nsites = d->nsites;
    m->nobjects = d->nobjects;
    m->nedges = d->nedges;
    m->total_size = hd_total_size(d);
    m->nroots = d->nroots;
    m->nweakrefs = d->nweakrefs;
    m->nstrings = d->strings.len;
    m->map_direct = d->obj_map.direct;
    m->map_base = d->obj_map.base;
    m->map_mask = d->obj_map.mask;
    m->map_used = d->obj_map.used;
    const hd_pools *p = &d->pools;
    m->pools_present = (uint64_t)p->present;
    m->arena_size = p->arena_size;
    m->pool_size = p->pool_size;
    m->arenas_allocated = p->arenas_allocated;
    m->arenas_reclaimed = p->arenas_reclaimed;
    m->arenas_highwater = p->arenas_highwater;
    m->arenas_current = p->arenas_current;
    m->large_allocs = p->large_allocs;
    m->large_bytes = p->large_bytes;
    m->nclasses = p->nclasses;
    const hd_gc *g = &d->gc;
    m->gc_present = (uint64_t)g->present;
    m->gc_enabled = (uint64_t)g->enabled;
    uint64_t *gen = &m->g0_threshold; /* five fields a generation, three generations in a row */
    for (int i = 0; i < 3; i++) {
        gen[5 * i + 0] = (uint64_t)g->gen[i].threshold;
        gen[5 * i + 1] = (uint64_t)g->gen[i].count;
        gen[5 * i + 2] = g->gen[i].collections;
        gen[5 * i + 3] = g->gen[i].collected;
        gen[5 * i + 4] = g->gen[i].uncollectable;
    }
    m->gc_frozen = g->frozen;
    m->ngarbage = g->ngarbage;
    const hd__native *n = d->native;
    if (n) {
        m->native = 1;
        m->nframes = n->nframes;
        m->nstacks = n->nstacks;
        m->nsite_stacks = n->nsite_stacks;
        m->native_nobjects = n->nobjects;
        m->ninterior = n->ninterior;
        m->nroot_offsets = n->nroot_offsets;
    }
    hd_memory mem;
    hd_dump_memory(d, &mem);
    m->mem_objects = mem.objects;
    m->mem_references = mem.references;
    m->mem_id_map = mem.id_map;
    m->mem_strings = mem.strings;
    m->mem_other = mem.other;
    m->mem_total = mem.total;
    if (reach) {
        m->has_reach = 1;
        m->nlive = reach->nlive;
        m->nuncollectable = reach->nuncollectable;
        m->nunreachable = reach->nunreachable;
    }
    if (dom) {
        m->has_dom = 1;
        m->dom_reachable = hd_dominators_reachable(dom);
    }
}

static void add_graph(layout *l, const hd_dump *d, const hdx_meta *m, const hd_pool_class *classes)
{
    add(l, HDX_META, m, sizeof *m / 8);
    add(l, HDX_STRINGS, d->strings.data, d->strings.len);
    add(l, HDX_TYPE_ID, d->type_id, d->ntypes);
    add(l, HDX_TYPE_SIZE, d->type_size, d->ntypes);
    add(l, HDX_TYPE_NAME, d->type_name, d->ntypes);
    add(l, HDX_TYPE_FLAGS, d->type_flags, d->ntypes);
    add(l, HDX_SITE_ID, d->site_id, d->nsites);
    add(l, HDX_SITE_FILE, d->site_file, d->nsites);
    add(l, HDX_SITE_FUNCTION, d->site_function, d->nsites);
    add(l, HDX_SITE_LINE, d->site_line, d->nsites);
    add(l, HDX_OBJ_ID, d->obj_id, d->nobjects);
    add(l, HDX_OBJ_SIZE, d->obj_size, d->nobjects);
    add(l, HDX_OBJ_TYPE, d->obj_type, d->nobjects);
    add(l, HDX_OBJ_SITE, d->obj_site, d->nobjects);
    add(l, HDX_OBJ_LABEL, d->obj_label, d->nobjects);
    add(l, HDX_OBJ_RC, d->obj_rc, d->nobjects);
    add(l, HDX_OBJ_GEN, d->obj_gen, d->nobjects);
    add(l, HDX_OBJ_FLAGS, d->obj_flags, d->nobjects);
    add(l, HDX_OBJ_MAP, d->obj_map.slots, d->nobjects ? (uint64_t)d->obj_map.mask + 1 : 0);
    add(l, HDX_EDGE_OFFSET, d->edge_offset, (uint64_t)d->nobjects + 1);
    add(l, HDX_EDGE_TARGET, d->edge_target, d->nedges);
    add(l, HDX_EDGE_NAME, d->edge_name, d->nedges);
    add(l, HDX_ROOT_OBJECT, d->root_object, d->nroots);
    add(l, HDX_ROOT_KIND_NAME, d->root_kind_name, d->nroots);
    add(l, HDX_ROOT_NAME, d->root_name, d->nroots);
    add(l, HDX_ROOT_KIND, d->root_kind, d->nroots);
    add(l, HDX_WEAKREF_OBJECT, d->weakref_object, d->nweakrefs);
    add(l, HDX_WEAKREF_REFERENT, d->weakref_referent, d->nweakrefs);
    add(l, HDX_WEAKREF_CALLBACK, d->weakref_callback, d->nweakrefs);
    add(l, HDX_POOL_CLASS, classes, d->pools.nclasses);
    add(l, HDX_GC_GARBAGE, d->gc_garbage, d->gc.ngarbage);
}

static void add_native(layout *l, const hd__native *n)
{
    static const hd__native none;
    if (!n)
        n = &none;
    add(l, HDX_FRAME_ID, n->frame_id, n->nframes);
    add(l, HDX_FRAME_OFFSET, n->frame_offset, n->nframes);
    add(l, HDX_FRAME_FUNCTION, n->frame_function, n->nframes);
    add(l, HDX_FRAME_FILE, n->frame_file, n->nframes);
    add(l, HDX_FRAME_MODULE, n->frame_module, n->nframes);
    add(l, HDX_FRAME_LINE, n->frame_line, n->nframes);
    add(l, HDX_STACK_ID, n->stack_id, n->nstacks);
    add(l, HDX_STACK_FRAME, n->stack_frame, n->nstacks);
    add(l, HDX_STACK_PARENT, n->stack_parent, n->nstacks);
    add(l, HDX_SITE_STACK, n->site_stack, n->nsite_stacks);
    add(l, HDX_OBJ_ADDRESS, n->obj_address, n->nobjects);
    add(l, HDX_OBJ_THREAD, n->obj_thread, n->nobjects);
    add(l, HDX_INTERIOR_EDGE, n->interior_edge, n->ninterior);
    add(l, HDX_INTERIOR_OFFSET, n->interior_offset, n->ninterior);
    add(l, HDX_ROOT_OFFSET, n->root_offset, n->nroot_offsets);
}

static void add_reach(layout *l, uint32_t nobjects, const hd_reach *reach)
{
    if (reach) {
        add(l, HDX_REACH_STATE, reach->state, nobjects);
        add(l, HDX_REACH_DEPTH, reach->depth, nobjects);
        add(l, HDX_REACH_PARENT, reach->parent, nobjects);
        add(l, HDX_REACH_VIA, reach->via, nobjects);
    }
}

static void add_dominators(layout *l, uint32_t nobjects, const hd_dominators *dom)
{
    if (dom) {
        add(l, HDX_DOM_IDOM, hd__dominators_idom(dom), nobjects);
        add(l, HDX_DOM_RETAINED, hd__dominators_retained(dom), nobjects);
    }
}

/* TYPE_OBJECTS and TYPE_BYTES: per type, its objects and their shallow size (saturating), so
 * that hd_stats_by_type reads two small sections instead of OBJ_TYPE and OBJ_SIZE. */
static uint64_t *type_summary(const hd_dump *d)
{
    uint64_t *objects = calloc(2 * (size_t)d->ntypes + 1, sizeof *objects), *bytes = objects + d->ntypes;
    if (!objects)
        return NULL;
    for (uint32_t o = 0; o < d->nobjects; o++) {
        uint32_t t = d->obj_type[o];
        objects[t]++;
        bytes[t] = bytes[t] + d->obj_size[o] < bytes[t] ? UINT64_MAX : bytes[t] + d->obj_size[o];
    }
    return objects;
}

/* CYCLE_START, CYCLE_MEMBER, CYCLE_PATH_START and CYCLE_PATH (formats/heapdump-binary.md §4):
 * the cyclic components as hd_cycles_find lists them, CSR offsets and members, then CSR offsets
 * and each one's shortest cycle as its edges; and CYCLE_DENSE, the first component's members as
 * a bitmap (its CYCLE_MEMBER range then empty), when that saves HDX_CYCLE_DENSE_SAVING bytes.
 * Returns the one allocation behind them, which the caller frees after the write; NULL when out
 * of memory. */
static void *add_cycles(layout *l, const hd_cycles *cy, uint32_t nobjects)
{
    uint64_t edges = 0, n = cy->count, words = ((uint64_t)nobjects + 63) / 64;
    for (uint32_t k = 0; k < cy->count; k++)
        edges += cy->cycles[k].length;
    uint64_t first = n ? cy->cycles[0].nmembers : 0;
    bool dense = 4 * first >= 8 * words + HDX_CYCLE_DENSE_SAVING;
    uint64_t listed = cy->in_cycles - (dense ? first : 0);
    uint64_t *bits = calloc((dense ? words : 0) + (2 * (n + 1) + listed + edges + 1) / 2, sizeof *bits);
    if (!bits)
        return NULL;
    uint32_t *start = (uint32_t *)(bits + (dense ? words : 0));
    uint32_t *member = start + n + 1, *path_start = member + listed, *path = path_start + n + 1;
    start[0] = path_start[0] = 0;
    for (uint32_t k = 0; k < cy->count; k++) {
        const hd_cycle *c = &cy->cycles[k];
        bool in_bits = dense && k == 0;
        for (uint32_t i = 0; in_bits && i < c->nmembers; i++)
            bits[c->members[i] / 64] |= 1ull << (c->members[i] % 64);
        if (!in_bits)
            memcpy(member + start[k], c->members, c->nmembers * sizeof *member);
        memcpy(path + path_start[k], c->edges, c->length * sizeof *path);
        start[k + 1] = start[k] + (in_bits ? 0 : c->nmembers);
        path_start[k + 1] = path_start[k] + c->length;
    }
    add(l, HDX_CYCLE_START, start, n + 1);
    add(l, HDX_CYCLE_MEMBER, member, listed);
    add(l, HDX_CYCLE_PATH_START, path_start, n + 1);
    add(l, HDX_CYCLE_PATH, path, edges);
    if (dense)
        add(l, HDX_CYCLE_DENSE, bits, words);
    return bits;
}

/* An index being written (invariant above). Sections are written in table order, from 1 on,
 * by whoever writes (the thread of hd_index_build, or the caller): each once the caller has
 * published it (ready), by which time it has its data. META, section 0, is filled in and written
 * at the end; so are CHUNK_SUM and the head. Between publish and the end, the writer alone
 * touches the entries it writes and sums. */
typedef struct index_writer {
    const hd_dump *d;
    const char *path;
    layout l;
    hdx_meta meta;
    hd_pool_class *classes;
    pthread_mutex_t lock;
    pthread_cond_t more;
    uint32_t ready, next; /* sections [1, ready) may be written; next is the next to write */
    bool closed;          /* nothing more will be published */
    uint64_t *sums, nsums, cap; /* CHUNK_SUM: the chunk size, then every written section's (§5.1) */
    bool oom;
    hd__atomic a;
} index_writer;

/* Section i to its place, with its checksum, and (summed) its chunks' checksums appended. */
static void write_section(index_writer *w, uint32_t i, bool summed)
{
    hdx_entry *e = &w->l.entries[i];
    const unsigned char *p = w->l.data[i];
    uint64_t bytes = e->count * e->elem_size, chunks = (bytes + HDX_CHUNK_SIZE - 1) / HDX_CHUNK_SIZE;
    if (summed && w->nsums + chunks > w->cap) {
        uint64_t cap = 2 * (w->nsums + chunks);
        uint64_t *more = realloc(w->sums, cap * sizeof *more);
        if (!more) {
            w->oom = true;
            return;
        }
        w->sums = more;
        w->cap = cap;
    }
    if (summed) {
        e->checksum = hd__hdx_checksum_chunks(p, bytes, HDX_CHUNK_SIZE, w->sums + w->nsums);
        w->nsums += chunks;
    } else {
        e->checksum = hd__hdx_checksum(p, bytes);
    }
    hd__atomic_write_at(&w->a, e->offset, p, bytes);
}

/* Writes what is published, in order, until the caller closes the layout. */
static void *write_published(void *arg)
{
    index_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (w->next >= w->ready && !w->closed)
            pthread_cond_wait(&w->more, &w->lock);
        bool more = w->next < w->ready;
        pthread_mutex_unlock(&w->lock);
        if (!more)
            return NULL;
        write_section(w, w->next++, true);
    }
}

/* The sections added so far may be written; last: there will be no others. */
static void publish(index_writer *w, bool last)
{
    pthread_mutex_lock(&w->lock);
    w->ready = w->l.n;
    w->closed = last;
    pthread_cond_signal(&w->more);
    pthread_mutex_unlock(&w->lock);
}

static void writer_free(index_writer *w)
{
    free(w->classes);
    free(w->sums);
    pthread_cond_destroy(&w->more);
    pthread_mutex_destroy(&w->lock);
}

static int writer_begin(index_writer *w, const hd_dump *d, const char *path, hd_error *err)
{
    memset(w, 0, sizeof *w);
    w->d = d;
    w->path = path;
    w->next = 1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->more, NULL);
    /* An index's sections are written straight from its mapping by write(2), which would fail
     * on a section not yet verified (the kernel does not fault it in): all are verified first. */
    int rc = hd_index_verify(d, err);
    if (rc) {
        writer_free(w);
        return rc;
    }
    /* hd_pool_class has 4 bytes of padding after size: written from a zeroed copy. */
    w->classes = calloc(d->pools.nclasses ? d->pools.nclasses : 1, sizeof *w->classes);
    w->sums = malloc((w->cap = 1 << 10) * sizeof *w->sums);
    if (!w->classes || !w->sums) {
        writer_free(w);
        return hd__error_oom(err, path);
    }
    for (uint32_t i = 0; i < d->pools.nclasses; i++) {
        w->classes[i].size = d->pool_classes[i].size;
        w->classes[i].pools = d->pool_classes[i].pools;
        w->classes[i].blocks_in_use = d->pool_classes[i].blocks_in_use;
        w->classes[i].blocks_free = d->pool_classes[i].blocks_free;
    }
    w->sums[w->nsums++] = HDX_CHUNK_SIZE;
    w->l.end = HDX_HEADER_SIZE + HDX_TABLE_ROOM;
    add_graph(&w->l, d, &w->meta, w->classes);
    add_native(&w->l, d->native);
    if ((rc = hd__atomic_begin(&w->a, path, err)))
        writer_free(w);
    else
        hd__atomic_direct(&w->a);
    return rc;
}

/* The header and the table, at the start of the file, once every section has its checksum. */
static void write_head(index_writer *w, const hd_index_source *source)
{
    hdx_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, HDX_MAGIC, HDX_MAGIC_LEN);
    h.version = HDX_VERSION;
    h.nsections = w->l.n;
    h.file_size = align8(w->l.end);
    if (source) {
        h.source_size = source->size;
        h.source_mtime_ns = source->mtime_ns;
        h.source_hash = source->hash;
    }
    unsigned char head[HDX_HEADER_SIZE + HDX_TABLE_ROOM];
    size_t len = sizeof h + (size_t)w->l.n * sizeof(hdx_entry);
    memcpy(head, &h, sizeof h); /* the checksum covers the header with that field zero, then the table */
    memcpy(head + sizeof h, w->l.entries, len - sizeof h);
    h.checksum = hd__hdx_checksum(head, len);
    memcpy(head, &h, sizeof h);
    hd__atomic_write_at(&w->a, 0, head, len);
    hd__atomic_resize(&w->a, h.file_size);
}

/* REF_EDGE and REF_BLOCK's arrays, both NULL when they cannot be made (memory: they are optional). */
static void referrers(const hd_dump *d, uint32_t **edges, uint32_t **blocks)
{
    *edges = *blocks = NULL;
    hd__referrer_sections(d, edges, blocks);
}

/* Adds what follows the analyses (with the referrer arrays, when made; it frees them), writes
 * what is left (the writer thread, if any, is joined after close), then CHUNK_SUM, META and the
 * head; the file then takes its name. */
static int writer_finish(index_writer *w, const hd_reach *reach, const hd_dominators *dom, const hd_cycles *cycles,
                         uint32_t *ref_edges, uint32_t *ref_blocks, const hd_index_source *source, pthread_t *thread,
                         hd_error *err)
{
    const hd_dump *d = w->d;
    fill_meta(&w->meta, d, reach, dom);
    uint64_t *types = type_summary(d);
    if (types) {
        add(&w->l, HDX_TYPE_OBJECTS, types, d->ntypes);
        add(&w->l, HDX_TYPE_BYTES, types + d->ntypes, d->ntypes);
    }
    publish(w, false);
    /* What follows is optional: a section that cannot be made (memory) is left out. */
    uint32_t *top = dom ? malloc(HDX_DOM_TOP_MAX * sizeof *top) : NULL;
    if (top) /* DOM_TOP: the first of the ranking `top` and `show` ask for, so that they need not rank */
        add(&w->l, HDX_DOM_TOP, top, hd_dominators_top(dom, HDX_DOM_TOP_MAX, top));
    if (ref_edges) {
        add(&w->l, HDX_REF_BLOCK, ref_blocks, hd__ref_blocks(d->nobjects, HDX_REF_BLOCK_BITS));
        add(&w->l, HDX_REF_EDGE, ref_edges, d->nedges);
    }
    void *cycle_arrays = cycles ? add_cycles(&w->l, cycles, d->nobjects) : NULL;
    publish(w, true);
    if (thread)
        pthread_join(*thread, NULL);
    while (w->next < w->l.n)
        write_section(w, w->next++, true);
    int rc = HD_OK;
    if (!types || w->oom) {
        hd__atomic_abort(&w->a);
        rc = hd__error_oom(err, w->path);
    } else {
        add(&w->l, HDX_CHUNK_SUM, w->sums, w->nsums);
        write_section(w, w->l.n - 1, false);
        write_section(w, 0, false); /* META, now filled in */
        write_head(w, source);
        /* No fsync: a file torn by a crash fails its checksums and is rebuilt, never used. */
        rc = hd__atomic_commit(&w->a, false, err);
    }
    free(types);
    free(top);
    free(cycle_arrays);
    hd__big_free(ref_edges), hd__big_free(ref_blocks);
    writer_free(w);
    return rc;
}

/* The cycles are stored with the other analyses, but not out of core: Tarjan's walk at random
 * wants some 22 bytes an object in memory, which the budget is there to spare. */
static bool cycles_stored(void) { return !hd__budget_on(); }

int hd_index_write(const hd_dump *d, const hd_reach *reach, const hd_dominators *dom,
                   const hd_index_source *source, const char *path, hd_error *err)
{
    if (!d || !path || (reach && reach->nobjects != d->nobjects)) {
        hd__error_set(err, HD_EINVAL, path, (hd__pos){0, 0, 0}, "no dump or no path");
        return HD_EINVAL;
    }
    hd_cycles *cycles = NULL;
    if (reach && cycles_stored() && hd_cycles_find(d, reach, &cycles)) {
        hd_cycles_free(cycles); /* optional: an index without them is whole */
        cycles = NULL;
    }
    index_writer w;
    int rc = writer_begin(&w, d, path, err);
    if (!rc) {
        add_reach(&w.l, d->nobjects, reach);
        uint32_t *ref_edges, *ref_blocks;
        referrers(d, &ref_edges, &ref_blocks);
        add_dominators(&w.l, d->nobjects, dom);
        rc = writer_finish(&w, reach, dom, cycles, ref_edges, ref_blocks, source, NULL, err);
    }
    hd_cycles_free(cycles);
    return rc;
}

/* What goes beside the dominators, on a thread of its own in memory: the reachability, whose
 * sections the writer then has at once, the cycles, which need it, and the referrer arrays
 * unless the dominators' thread comes to them first. Until it ends, it alone adds to the layout
 * (the dominators' sections come after the reachability's). Out of core it runs alone, before
 * the dominators, which the referrers then follow. */
typedef struct reach_job {
    index_writer *w;
    hd_reach *reach;
    hd_cycles *cycles;
    uint32_t *ref_edges, *ref_blocks;
    atomic_flag ref_taken; /* by whichever thread makes the referrer arrays */
    bool apart;            /* on a thread of its own */
    int rc;                /* the reachability's */
} reach_job;

static void referrers_once(reach_job *j)
{
    if (!atomic_flag_test_and_set(&j->ref_taken))
        referrers(j->w->d, &j->ref_edges, &j->ref_blocks);
}

static void *reach_and_cycles(void *arg)
{
    reach_job *j = arg;
    const hd_dump *d = j->w->d;
    if ((j->rc = hd_reach_compute(d, &j->reach)))
        return NULL;
    add_reach(&j->w->l, d->nobjects, j->reach);
    publish(j->w, false);
    if (cycles_stored() && hd_cycles_find(d, j->reach, &j->cycles)) {
        hd_cycles_free(j->cycles); /* optional: an index without them is whole */
        j->cycles = NULL;
    }
    if (j->apart)
        referrers_once(j);
    return NULL;
}

int hd_index_build(const hd_dump *d, const hd_index_source *source, const char *path, hd_error *err)
{
    if (!d || !path) {
        hd__error_set(err, HD_EINVAL, path, (hd__pos){0, 0, 0}, "no dump or no path");
        return HD_EINVAL;
    }
    index_writer w;
    int rc = writer_begin(&w, d, path, err);
    if (rc)
        return rc;
    /* Out of core the page cache is the analyses' working memory: everything is written after,
     * and the analyses run one after the other. */
    pthread_t writer, job;
    bool beside = !hd__budget_on() && pthread_create(&writer, NULL, write_published, &w) == 0;
    publish(&w, false);
    reach_job j = {&w, NULL, NULL, NULL, NULL, ATOMIC_FLAG_INIT, !hd__budget_on(), HD_OK};
    bool apart = j.apart && pthread_create(&job, NULL, reach_and_cycles, &j) == 0;
    if (!apart) {
        j.apart = false;
        reach_and_cycles(&j);
    }
    hd_dominators *dom = NULL;
    int analyses = apart || !j.rc ? hd_dominators_compute(d, &dom) : j.rc;
    if (!analyses)
        referrers_once(&j);
    if (apart)
        pthread_join(job, NULL);
    analyses = j.rc ? j.rc : analyses;
    if (!analyses) {
        add_dominators(&w.l, d->nobjects, dom);
        rc = writer_finish(&w, j.reach, dom, j.cycles, j.ref_edges, j.ref_blocks, source, beside ? &writer : NULL,
                           err);
    } else {
        hd__big_free(j.ref_edges), hd__big_free(j.ref_blocks);
        publish(&w, true);
        if (beside)
            pthread_join(writer, NULL);
        hd__atomic_abort(&w.a);
        writer_free(&w);
        hd__error_set(err, analyses, path, (hd__pos){0, 0, 0}, "%s", hd_status_message(analyses));
        rc = analyses;
    }
    hd_reach_free(j.reach);
    hd_dominators_free(dom);
    hd_cycles_free(j.cycles);
    return rc;
}
