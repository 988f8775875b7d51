/* binary_write.c: a loaded dump, with its reachability and dominators when given, written as a
 * binary index (formats/heapdump-binary.md).
 *
 * Invariant: the layout (every section's offset) is fixed before a byte is written, so the
 * header and table go first and each array follows in one write, straight from the dump's
 * memory; the file appears under its name only once complete (hd__atomic).
 */
#include "analysis.h"
#include "binary.h"
#include "budget.h"
#include "error.h"
#include "native.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct layout {
    hdx_entry entries[HDX_NSECTIONS];
    const void *data[HDX_NSECTIONS];
    uint32_t n;
    uint64_t end;
} layout;

static void add(layout *l, uint32_t id, const void *data, uint64_t count)
{
    uint32_t size = hd__hdx_elem_size(id);
    hdx_entry *e = &l->entries[l->n];
    e->id = id;
    e->elem_size = size;
    e->count = count;
    e->checksum = hd__hdx_checksum(count ? data : "", count * size);
    l->data[l->n++] = data;
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

static void add_analyses(layout *l, uint32_t nobjects, const hd_reach *reach, const hd_dominators *dom)
{
    if (reach) {
        add(l, HDX_REACH_STATE, reach->state, nobjects);
        add(l, HDX_REACH_DEPTH, reach->depth, nobjects);
        add(l, HDX_REACH_PARENT, reach->parent, nobjects);
        add(l, HDX_REACH_VIA, reach->via, nobjects);
    }
    if (dom) {
        add(l, HDX_DOM_IDOM, hd__dominators_idom(dom), nobjects);
        add(l, HDX_DOM_RETAINED, hd__dominators_retained(dom), nobjects);
    }
}

/* CHUNK_SUM (formats/heapdump-binary.md §5.1): the chunk size, then the checksum of each
 * HDX_CHUNK_SIZE bytes of every section but META, in increasing id (the order add() was called
 * in), so that a reader can verify a big section a chunk at a time. NULL when out of memory. */
static uint64_t *chunk_sums(const layout *l, uint64_t *count)
{
    uint64_t n = 1;
    for (uint32_t i = 1; i < l->n; i++)
        n += (l->entries[i].count * l->entries[i].elem_size + HDX_CHUNK_SIZE - 1) / HDX_CHUNK_SIZE;
    uint64_t *sums = malloc(n * sizeof *sums), *next = sums;
    if (!sums)
        return NULL;
    *next++ = HDX_CHUNK_SIZE;
    for (uint32_t i = 1; i < l->n; i++) {
        const unsigned char *p = l->data[i];
        uint64_t bytes = l->entries[i].count * l->entries[i].elem_size;
        for (uint64_t at = 0; at < bytes; at += HDX_CHUNK_SIZE)
            *next++ = hd__hdx_checksum(p + at, bytes - at < HDX_CHUNK_SIZE ? bytes - at : HDX_CHUNK_SIZE);
    }
    *count = n;
    return sums;
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
 * and each one's shortest cycle as its edges. Returns the one allocation behind the four, which
 * the caller frees after the write; NULL when out of memory. */
static uint32_t *add_cycles(layout *l, const hd_cycles *cy)
{
    uint64_t edges = 0, n = cy->count;
    for (uint32_t k = 0; k < cy->count; k++)
        edges += cy->cycles[k].length;
    uint32_t *start = malloc((2 * (n + 1) + cy->in_cycles + edges) * sizeof *start);
    if (!start)
        return NULL;
    uint32_t *member = start + n + 1, *path_start = member + cy->in_cycles, *path = path_start + n + 1;
    start[0] = path_start[0] = 0;
    for (uint32_t k = 0; k < cy->count; k++) {
        const hd_cycle *c = &cy->cycles[k];
        memcpy(member + start[k], c->members, c->nmembers * sizeof *member);
        memcpy(path + path_start[k], c->edges, c->length * sizeof *path);
        start[k + 1] = start[k] + c->nmembers;
        path_start[k + 1] = path_start[k] + c->length;
    }
    add(l, HDX_CYCLE_START, start, n + 1);
    add(l, HDX_CYCLE_MEMBER, member, cy->in_cycles);
    add(l, HDX_CYCLE_PATH_START, path_start, n + 1);
    add(l, HDX_CYCLE_PATH, path, edges);
    return start;
}

static uint64_t align8(uint64_t x) { return (x + 7) & ~(uint64_t)7; }

/* A big section gets pages of its own (formats/heapdump-binary.md §1): it starts and the next
 * one starts at a multiple of HDX_PAGE_ALIGN, so that a reader can leave it unreadable until it
 * has verified it (binary_lazy.c). */
enum { HDX_LAZY_FROM = 256 << 10, HDX_PAGE_ALIGN = 64 << 10 };
static uint64_t align_page(uint64_t x) { return (x + HDX_PAGE_ALIGN - 1) & ~(uint64_t)(HDX_PAGE_ALIGN - 1); }

static void write_zeros(hd__atomic *a, uint64_t n)
{
    static const char zeros[HDX_PAGE_ALIGN];
    for (; n > sizeof zeros; n -= sizeof zeros)
        hd__atomic_write(a, zeros, sizeof zeros);
    hd__atomic_write(a, zeros, n);
}

static int write_layout(const layout *l, const hd_index_source *source, const char *path, hd_error *err)
{
    hdx_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, HDX_MAGIC, HDX_MAGIC_LEN);
    h.version = HDX_VERSION;
    h.nsections = l->n;
    h.file_size = l->end;
    if (source) {
        h.source_size = source->size;
        h.source_mtime_ns = source->mtime_ns;
        h.source_hash = source->hash;
    }
    size_t table = (size_t)l->n * sizeof(hdx_entry);
    unsigned char *head = malloc(sizeof h + table);
    if (!head)
        return hd__error_oom(err, path);
    h.checksum = 0; /* the checksum covers the header with this field zero, then the table */
    memcpy(head, &h, sizeof h);
    memcpy(head + sizeof h, l->entries, table);
    h.checksum = hd__hdx_checksum(head, sizeof h + table);
    memcpy(head, &h, sizeof h);
    hd__atomic a;
    int rc = hd__atomic_begin(&a, path, err);
    if (rc) {
        free(head);
        return rc;
    }
    hd__atomic_write(&a, head, sizeof h + table);
    uint64_t at = sizeof h + table;
    for (uint32_t i = 0; i < l->n; i++) {
        const hdx_entry *e = &l->entries[i];
        write_zeros(&a, e->offset - at);
        hd__atomic_write(&a, l->data[i], e->count * e->elem_size);
        at = e->offset + e->count * e->elem_size;
    }
    write_zeros(&a, l->end - at);
    free(head);
    /* No fsync: a file torn by a crash fails its checksums and is rebuilt, never used. */
    return hd__atomic_commit(&a, false, err);
}

int hd_index_write_cycles(const hd_dump *d, const hd_reach *reach, const hd_dominators *dom, const hd_cycles *cycles,
                          const hd_index_source *source, const char *path, hd_error *err)
{
    if (!d || !path || (reach && reach->nobjects != d->nobjects)) {
        hd__error_set(err, HD_EINVAL, path, (hd__pos){0, 0, 0}, "no dump or no path");
        return HD_EINVAL;
    }
    /* An index's sections are written straight from its mapping by write(2), which would fail
     * on a section not yet verified (the kernel does not fault it in): all are verified first. */
    int rc = hd_index_verify(d, err);
    if (rc)
        return rc;
    hdx_meta meta;
    fill_meta(&meta, d, reach, dom);
    /* hd_pool_class has 4 bytes of padding after size: written from a zeroed copy. */
    hd_pool_class *classes = calloc(d->pools.nclasses ? d->pools.nclasses : 1, sizeof *classes);
    if (!classes)
        return hd__error_oom(err, path);
    for (uint32_t i = 0; i < d->pools.nclasses; i++) {
        classes[i].size = d->pool_classes[i].size;
        classes[i].pools = d->pool_classes[i].pools;
        classes[i].blocks_in_use = d->pool_classes[i].blocks_in_use;
        classes[i].blocks_free = d->pool_classes[i].blocks_free;
    }
    layout l = {.n = 0};
    add_graph(&l, d, &meta, classes);
    add_native(&l, d->native);
    add_analyses(&l, d->nobjects, reach, dom);
    uint64_t *types = type_summary(d), nsums = 0;
    if (types) {
        add(&l, HDX_TYPE_OBJECTS, types, d->ntypes);
        add(&l, HDX_TYPE_BYTES, types + d->ntypes, d->ntypes);
    }
    uint32_t *cycle_arrays = cycles ? add_cycles(&l, cycles) : NULL;
    uint64_t *sums = types && (!cycles || cycle_arrays) ? chunk_sums(&l, &nsums) : NULL;
    if (!sums) {
        free(classes);
        free(types);
        free(cycle_arrays);
        return hd__error_oom(err, path);
    }
    add(&l, HDX_CHUNK_SUM, sums, nsums);
    uint64_t at = HDX_HEADER_SIZE + (uint64_t)l.n * HDX_ENTRY_SIZE;
    for (uint32_t i = 0; i < l.n; i++) {
        uint64_t bytes = l.entries[i].count * l.entries[i].elem_size;
        bool big = bytes >= HDX_LAZY_FROM;
        l.entries[i].offset = at = big ? align_page(at) : align8(at);
        at += bytes;
        if (big)
            at = align_page(at);
    }
    l.end = align8(at);
    rc = write_layout(&l, source, path, err);
    free(classes);
    free(types);
    free(cycle_arrays);
    free(sums);
    return rc;
}

/* The cycles are stored with the other analyses, but not out of core: Tarjan's walk at random
 * wants some 22 bytes an object in memory, which the budget is there to spare. */
int hd_index_write(const hd_dump *d, const hd_reach *reach, const hd_dominators *dom,
                   const hd_index_source *source, const char *path, hd_error *err)
{
    hd_cycles *cycles = NULL;
    if (d && reach && reach->nobjects == d->nobjects && !hd__budget_on() && hd_cycles_find(d, reach, &cycles))
        return hd__error_oom(err, path);
    int rc = hd_index_write_cycles(d, reach, dom, cycles, source, path, err);
    hd_cycles_free(cycles);
    return rc;
}
