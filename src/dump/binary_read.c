/* binary_read.c: a binary index opened in place: its arrays become the dump's, nothing parsed or
 * copied.
 *
 * Invariant: nothing in the file is used before it is checked: the header and table against
 * their checksum, every section's extent against the file's size and its count against META,
 * every section against its checksum, and every value that indexes something (a type, an
 * object, an edge, a string, a stack's parent, a dominator) against what it indexes, with the
 * parent chains of stacks, reachability and the dominator tree proved to end. A dump that passes
 * can be walked by every analysis without a read outside the file or a loop without end.
 * "Before it is used" is at open for the small sections and META, and on first touch for the
 * sections with pages of their own, which stay unreadable in the dump's view until then: a
 * chunk at a time when the file has chunk checksums (binary_lazy.c; formats/heapdump-binary.md
 * §7.1, §7.2). The checks (binary_check.c) read only the other mapping.
 */
#include "binary.h"
#include "binary_reader.h"
#include "budget.h"
#include "error.h"
#include "native.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Few enough verification units that the view's protections stay far below the kernel's limit
 * on mappings (vm.max_map_count, 65530 by default): each unit made readable may split one. */
enum { HDX_MAX_UNITS = 8192 };
/* A section read all over (a walk of the whole graph) would fault once a chunk: after this many
 * faults the rest of it is verified at once, so chunks cost a question about a few objects
 * little and a pass over everything no more than a fault or two a section. */
enum { HDX_FAULTS_BEFORE_WHOLE = 32 };

static int fail(reader *r, uint64_t offset, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(reader *r, uint64_t offset, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hd__error_set(r->err, HD_EFORMAT, r->name, (hd__pos){offset, 0, 0}, "index: %s", msg);
    return HD_EFORMAT;
}

static const char *sname(uint32_t id) { return hd__hdx_section_name(id); }

/* A bad value in section id, element i (of size bytes): "section X at offset N: ...". */
int hd__hdx_fail_in(reader *r, uint32_t id, uint64_t i, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint64_t at = r->at[id]->offset + i * r->at[id]->elem_size;
    return fail(r, at, "section %s at offset %llu (element %llu): %s", sname(id), (unsigned long long)at,
                (unsigned long long)i, msg);
}

static int read_header(reader *r, hdx_header *h)
{
    if (r->size < HDX_HEADER_SIZE)
        return fail(r, r->size, "truncated: %zu bytes, shorter than the %d-byte header", r->size, HDX_HEADER_SIZE);
    memcpy(h, r->base, sizeof *h);
    if (memcmp(h->magic, HDX_MAGIC, HDX_MAGIC_LEN))
        return fail(r, 0, "header at offset 0: not a heapdump binary index (bad magic)");
    if (h->version != HDX_VERSION) {
        hd__error_set(r->err, HD_EVERSION, r->name, (hd__pos){8, 0, 0},
                      "index: header at offset 8: format version %u, this heaptool reads version %d; rebuild it with 'heaptool index'",
                      h->version, HDX_VERSION);
        return HD_EVERSION;
    }
    if (h->nsections == 0 || h->nsections >= HDX_NSECTIONS)
        return fail(r, 12, "header at offset 12: %u sections, expected 1 to %d", h->nsections, HDX_NSECTIONS - 1);
    size_t head = HDX_HEADER_SIZE + (size_t)h->nsections * HDX_ENTRY_SIZE;
    if (r->size < head)
        return fail(r, r->size, "truncated: %zu bytes, inside the section table (%zu bytes with the header)",
                    r->size, head);
    unsigned char *copy = malloc(head);
    if (!copy)
        return hd__error_oom(r->err, r->name);
    memcpy(copy, r->base, head);
    memset(copy + offsetof(hdx_header, checksum), 0, sizeof h->checksum);
    uint64_t sum = hd__hdx_checksum(copy, head);
    free(copy);
    if (sum != h->checksum)
        return fail(r, 0, "header or section table at offset 0: checksum mismatch (corrupted)");
    return HD_OK;
}

/* Every entry: a known section, once, of the right element size, 8-aligned, inside the file. */
static int read_table(reader *r, const hdx_header *h)
{
    const hdx_entry *table = (const hdx_entry *)(r->base + HDX_HEADER_SIZE);
    uint64_t head = HDX_HEADER_SIZE + (uint64_t)h->nsections * HDX_ENTRY_SIZE;
    for (uint32_t i = 0; i < h->nsections; i++) {
        const hdx_entry *e = &table[i];
        uint64_t where = HDX_HEADER_SIZE + (uint64_t)i * HDX_ENTRY_SIZE;
        if (!sname(e->id) || r->at[e->id])
            return fail(r, where, "section table entry %u at offset %llu: %s section id %u", i,
                        (unsigned long long)where, sname(e->id) ? "repeated" : "unknown", e->id);
        if (e->elem_size != hd__hdx_elem_size(e->id) || e->offset % 8 || e->offset < head)
            return fail(r, where, "section table entry %u at offset %llu: section %s: element size %u or offset %llu is wrong",
                        i, (unsigned long long)where, sname(e->id), e->elem_size, (unsigned long long)e->offset);
        if (e->count > (UINT64_MAX - e->offset) / e->elem_size || e->offset + e->count * e->elem_size > r->size)
            return fail(r, r->size, "truncated: section %s at offset %llu needs %llu bytes, %zu remain",
                        sname(e->id), (unsigned long long)e->offset,
                        (unsigned long long)(e->count * e->elem_size), r->size - (size_t)(e->offset < r->size ? e->offset : r->size));
        r->at[e->id] = e;
    }
    if (h->file_size != r->size)
        return fail(r, r->size, "truncated or extended: %zu bytes, the header says %llu", r->size,
                    (unsigned long long)h->file_size);
    return HD_OK;
}

static int by_offset(const void *a, const void *b)
{
    const hdx_entry *x = *(const hdx_entry *const *)a, *y = *(const hdx_entry *const *)b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    /* An empty section may share its offset with the next one: it comes first, whatever qsort's order. */
    uint64_t xs = x->count * x->elem_size, ys = y->count * y->elem_size;
    return xs != ys ? (xs < ys ? -1 : 1) : (x->id > y->id) - (x->id < y->id);
}

/* The sections the file has, in sorted[], by offset; returns how many. */
static uint32_t sections_by_offset(const reader *r, const hdx_entry **sorted)
{
    uint32_t n = 0;
    for (uint32_t id = 1; id < HDX_NSECTIONS; id++)
        if (r->at[id])
            sorted[n++] = r->at[id];
    qsort(sorted, n, sizeof *sorted, by_offset);
    return n;
}

/* Sections do not overlap and every byte between them is zero, so that no byte of the file
 * escapes both the checksums and this check. */
static int check_gaps(reader *r, const hdx_header *h)
{
    const hdx_entry *sorted[HDX_NSECTIONS];
    uint32_t n = sections_by_offset(r, sorted);
    uint64_t at = HDX_HEADER_SIZE + (uint64_t)h->nsections * HDX_ENTRY_SIZE;
    for (uint32_t i = 0; i <= n; i++) {
        uint64_t next = i < n ? sorted[i]->offset : r->size;
        if (next < at)
            return fail(r, next, "section %s at offset %llu overlaps the one before", sname(sorted[i]->id),
                        (unsigned long long)next);
        for (uint64_t k = at; k < next; k++) {
            for (uint64_t w; k % 8 == 0 && k + 8 <= next && (memcpy(&w, r->base + k, 8), w == 0);)
                k += 8; /* a word at a time: a big section's padding is up to 64 KiB */
            if (k < next && r->base[k])
                return fail(r, k, "padding byte at offset %llu is not zero (corrupted)", (unsigned long long)k);
        }
        if (i < n)
            at = next + sorted[i]->count * sorted[i]->elem_size;
    }
    return HD_OK;
}

/* The section's array (in view) when it has exactly count elements; the dump will read it. */
static int section(reader *r, uint32_t id, uint64_t count, void *out)
{
    const hdx_entry *e = r->at[id];
    if (!e)
        return fail(r, HDX_HEADER_SIZE, "section table at offset %d: section %s is missing", HDX_HEADER_SIZE, sname(id));
    if (e->count != count)
        return fail(r, e->offset, "section %s at offset %llu: %llu elements, META says %llu", sname(id),
                    (unsigned long long)e->offset, (unsigned long long)e->count, (unsigned long long)count);
    void *p = r->view + e->offset;
    memcpy(out, &p, sizeof p);
    r->used[id] = true;
    return HD_OK;
}


static int read_meta(reader *r)
{
    const hdx_entry *e = r->at[HDX_META];
    if (!e || e->count < HDX_META_REQUIRED)
        return fail(r, e ? e->offset : HDX_HEADER_SIZE, "section META at offset %llu: missing or short",
                    (unsigned long long)(e ? e->offset : HDX_HEADER_SIZE));
    memcpy(&r->m, r->base + e->offset, e->count < sizeof r->m / 8 ? e->count * 8 : sizeof r->m);
    r->has_total_size = e->count >= sizeof r->m / 8;
    const hdx_meta *m = &r->m;
    uint64_t limit = UINT32_MAX - 1; /* counts index with uint32_t, HD_NONE excluded */
    if (m->ntypes > limit || m->nsites > limit || m->nobjects > limit || m->nedges > UINT32_MAX ||
        m->nroots > limit || m->nweakrefs > limit || m->nstrings == 0 || m->nstrings > UINT32_MAX ||
        m->nclasses > limit || m->ngarbage > limit || m->nframes > limit || m->nstacks > limit ||
        m->nsite_stacks > m->nsites || m->native_nobjects > m->nobjects || m->ninterior > m->nedges ||
        m->nroot_offsets > m->nroots || m->format > HD_FORMAT_V8 || m->map_direct > 1 ||
        m->map_mask >= UINT32_MAX || m->producer >= m->nstrings || m->created >= m->nstrings ||
        m->name >= m->nstrings || m->native > 1 || m->has_reach > 1 || m->has_dom > 1 ||
        (m->has_reach && m->nlive + m->nuncollectable + m->nunreachable != m->nobjects) ||
        (m->has_dom && m->dom_reachable > m->nobjects))
        return hd__hdx_fail_in(r, HDX_META, 0, "a count or offset is out of range");
    return HD_OK;
}

/* Sections whose values only hold whole (chains that must end) are verified whole: STACK_PARENT,
 * and DOM_IDOM without the reachability depths that prove its chains end element by element. */
static bool chunkable(const reader *r, uint32_t id)
{
    return id != HDX_STACK_PARENT && (id != HDX_DOM_IDOM || r->used[HDX_REACH_DEPTH]);
}

static int checksum_mismatch(reader *r, uint32_t id, uint64_t at)
{
    return fail(r, at, "section %s at offset %llu: checksum mismatch (corrupted)", sname(id), (unsigned long long)at);
}

static int make_readable(reader *r, uint32_t id, uint64_t from, uint64_t to)
{
    if (mprotect(r->view + from, to - from, PROT_READ)) {
        hd__error_set(r->err, HD_EIO, r->name, (hd__pos){from, 0, 0}, "index: cannot map section %s: %s", sname(id),
                      strerror(errno));
        return HD_EIO;
    }
    return HD_OK;
}

static uint64_t nchunks(const reader *r, uint32_t id)
{
    return (r->at[id]->count * r->at[id]->elem_size + r->chunk - 1) / r->chunk;
}

/* A section's bytes against its chunk checksums when the file has them (a reader verifies by
 * those, whole or in part, so both answer alike), else against its table entry's. */
static int checksums_hold(reader *r, uint32_t id)
{
    const hdx_entry *e = r->at[id];
    uint64_t bytes = e->count * e->elem_size;
    if (!r->chunk_sum[id])
        return hd__hdx_checksum(r->base + e->offset, bytes) == e->checksum ? HD_OK : checksum_mismatch(r, id, e->offset);
    for (uint64_t k = 0, at = 0; at < bytes; k++, at += r->chunk)
        if (hd__hdx_checksum(r->base + e->offset + at, bytes - at < r->chunk ? bytes - at : r->chunk) != r->chunk_sum[id][k])
            return checksum_mismatch(r, id, e->offset + at);
    return HD_OK;
}

/* Chunk k of a section verified chunk by chunk: its checksum, its elements' values, then its
 * pages readable in view; the whole-section checks once it is the last. */
static int verify_chunk(reader *r, uint32_t id, uint64_t k)
{
    if (r->chunk_done[id][k])
        return HD_OK;
    const hdx_entry *e = r->at[id];
    uint64_t bytes = e->count * e->elem_size, from = k * r->chunk, to = from + r->chunk < bytes ? from + r->chunk : bytes;
    int rc;
    if (hd__hdx_checksum(r->base + e->offset + from, to - from) != r->chunk_sum[id][k])
        return checksum_mismatch(r, id, e->offset + from);
    if (r->used[id] && (rc = hd__hdx_check_values(r, id, (span){from / e->elem_size, to / e->elem_size})))
        return rc;
    /* The last chunk waits for the whole-section checks: a section that fails them never becomes
     * readable, and is refused again by every later verify. */
    bool last = r->chunks_left[id] == 1;
    if (last && r->used[id] && (rc = hd__hdx_check_whole(r, id)))
        return rc;
    uint64_t end = k + 1 == nchunks(r, id) ? r->page_to[id] : e->offset + to;
    if ((rc = make_readable(r, id, e->offset + from, end)))
        return rc;
    r->chunk_done[id][k] = 1;
    r->chunks_left[id]--;
    if (last) {
        r->lazy[id] = false;
        r->checked[id] = true;
    }
    return HD_OK;
}

/* Verifies a section once: its checksum, then its values. Unchunked, the reachability forest is
 * checked as one over its four arrays and ROOT_OBJECT, which are verified with it. A lazy
 * section's pages become readable in the view only once it has passed. */
static int verify(reader *r, uint32_t id)
{
    if (!r->at[id] || r->checked[id])
        return HD_OK;
    int rc;
    if (r->chunk_done[id]) {
        for (uint64_t k = 0, n = nchunks(r, id); k < n; k++)
            if ((rc = verify_chunk(r, id, k)))
                return rc;
        return HD_OK;
    }
    bool reach = id >= HDX_REACH_STATE && id <= HDX_REACH_VIA && r->used[id] && !r->chunk_done[HDX_REACH_STATE];
    uint32_t first = reach ? HDX_REACH_STATE : id, last = reach ? HDX_REACH_VIA : id;
    if (reach && (rc = verify(r, HDX_ROOT_OBJECT)))
        return rc;
    for (uint32_t k = first; k <= last; k++)
        if ((rc = checksums_hold(r, k)))
            return rc;
    if (r->used[first] && ((rc = hd__hdx_check_values(r, first, (span){0, r->at[first]->count})) || (rc = hd__hdx_check_whole(r, first))))
        return rc;
    for (uint32_t k = first; k <= last; k++) {
        if (r->lazy[k] && (rc = make_readable(r, k, r->page_from[k], r->page_to[k])))
            return rc;
        r->lazy[k] = false;
        r->checked[k] = true;
    }
    return HD_OK;
}

int hd__hdx_verify(reader *r, uint32_t id) { return verify(r, id); }

/* Verifies the part of a section that holds element i: its chunk, or the whole section. */
int hd__hdx_verify_element(reader *r, uint32_t id, uint64_t i)
{
    if (r->at[id] && r->chunk_done[id] && !r->checked[id])
        return verify_chunk(r, id, i * r->at[id]->elem_size / r->chunk);
    return verify(r, id);
}

static int read_types_sites(reader *r, hd_dump *d)
{
    const hdx_meta *m = &r->m;
    d->ntypes = (uint32_t)m->ntypes;
    d->nsites = (uint32_t)m->nsites;
    int rc;
    if ((rc = section(r, HDX_TYPE_ID, m->ntypes, &d->type_id)) || (rc = section(r, HDX_TYPE_SIZE, m->ntypes, &d->type_size)) ||
        (rc = section(r, HDX_TYPE_NAME, m->ntypes, &d->type_name)) ||
        (rc = section(r, HDX_TYPE_FLAGS, m->ntypes, &d->type_flags)) ||
        (rc = section(r, HDX_SITE_ID, m->nsites, &d->site_id)) || (rc = section(r, HDX_SITE_FILE, m->nsites, &d->site_file)) ||
        (rc = section(r, HDX_SITE_FUNCTION, m->nsites, &d->site_function)) ||
        (rc = section(r, HDX_SITE_LINE, m->nsites, &d->site_line)))
        return rc;
    return HD_OK;
}

static int read_objects(reader *r, hd_dump *d)
{
    const hdx_meta *m = &r->m;
    uint64_t n = m->nobjects;
    d->nobjects = (uint32_t)n;
    d->nedges = m->nedges;
    hd__idmap *map = &d->obj_map;
    map->direct = m->map_direct;
    map->base = m->map_base;
    map->mask = (uint32_t)m->map_mask;
    map->used = (uint32_t)m->map_used;
    int rc;
    if ((rc = section(r, HDX_OBJ_ID, n, &d->obj_id)) || (rc = section(r, HDX_OBJ_SIZE, n, &d->obj_size)) ||
        (rc = section(r, HDX_OBJ_TYPE, n, &d->obj_type)) || (rc = section(r, HDX_OBJ_SITE, n, &d->obj_site)) ||
        (rc = section(r, HDX_OBJ_LABEL, n, &d->obj_label)) || (rc = section(r, HDX_OBJ_RC, n, &d->obj_rc)) ||
        (rc = section(r, HDX_OBJ_GEN, n, &d->obj_gen)) || (rc = section(r, HDX_OBJ_FLAGS, n, &d->obj_flags)) ||
        (rc = section(r, HDX_EDGE_OFFSET, n + 1, &d->edge_offset)) ||
        (rc = section(r, HDX_EDGE_TARGET, m->nedges, &d->edge_target)) ||
        (rc = section(r, HDX_EDGE_NAME, m->nedges, &d->edge_name)) ||
        (rc = section(r, HDX_OBJ_MAP, n ? m->map_mask + 1 : 0, &map->slots)))
        return rc;
    return HD_OK;
}

static int read_roots_weakrefs(reader *r, hd_dump *d)
{
    const hdx_meta *m = &r->m;
    d->nroots = (uint32_t)m->nroots;
    d->nweakrefs = (uint32_t)m->nweakrefs;
    int rc;
    if ((rc = section(r, HDX_ROOT_OBJECT, m->nroots, &d->root_object)) ||
        (rc = section(r, HDX_ROOT_KIND_NAME, m->nroots, &d->root_kind_name)) ||
        (rc = section(r, HDX_ROOT_NAME, m->nroots, &d->root_name)) ||
        (rc = section(r, HDX_ROOT_KIND, m->nroots, &d->root_kind)) ||
        (rc = section(r, HDX_WEAKREF_OBJECT, m->nweakrefs, &d->weakref_object)) ||
        (rc = section(r, HDX_WEAKREF_REFERENT, m->nweakrefs, &d->weakref_referent)) ||
        (rc = section(r, HDX_WEAKREF_CALLBACK, m->nweakrefs, &d->weakref_callback)) ||
        (rc = section(r, HDX_GC_GARBAGE, m->ngarbage, &d->gc_garbage)) ||
        (rc = section(r, HDX_POOL_CLASS, m->nclasses, &d->pool_classes)))
        return rc;
    return HD_OK;
}
static void read_scalars(reader *r, hd_dump *d)
{
    const hdx_meta *m = &r->m;
    d->version = (uint32_t)m->version;
    d->format = (enum hd_format)m->format;
    d->producer = (uint32_t)m->producer;
    d->created = (uint32_t)m->created;
    d->name = (uint32_t)m->name;
    d->pid = (int64_t)m->pid;
    hd_pools *p = &d->pools;
    p->present = m->pools_present != 0;
    p->arena_size = m->arena_size;
    p->pool_size = m->pool_size;
    p->arenas_allocated = m->arenas_allocated;
    p->arenas_reclaimed = m->arenas_reclaimed;
    p->arenas_highwater = m->arenas_highwater;
    p->arenas_current = m->arenas_current;
    p->large_allocs = m->large_allocs;
    p->large_bytes = m->large_bytes;
    p->nclasses = (uint32_t)m->nclasses;
    p->classes = d->pool_classes;
    hd_gc *g = &d->gc;
    g->present = m->gc_present != 0;
    g->enabled = m->gc_enabled != 0;
    const uint64_t *gen = &m->g0_threshold;
    for (int i = 0; i < 3; i++) {
        g->gen[i].threshold = (int64_t)gen[5 * i + 0];
        g->gen[i].count = (int64_t)gen[5 * i + 1];
        g->gen[i].collections = gen[5 * i + 2];
        g->gen[i].collected = gen[5 * i + 3];
        g->gen[i].uncollectable = gen[5 * i + 4];
    }
    g->frozen = m->gc_frozen;
    g->ngarbage = (uint32_t)m->ngarbage;
    g->garbage = d->gc_garbage;
}

static int read_native(reader *r, hd_dump *d)
{
    const hdx_meta *m = &r->m;
    if (!m->native)
        return HD_OK;
    hd__native *n = d->native = calloc(1, sizeof *n);
    if (!n)
        return hd__error_oom(r->err, r->name);
    n->nframes = (uint32_t)m->nframes;
    n->nstacks = (uint32_t)m->nstacks;
    n->nsite_stacks = (uint32_t)m->nsite_stacks;
    n->nobjects = (uint32_t)m->native_nobjects;
    n->ninterior = m->ninterior;
    n->nroot_offsets = (uint32_t)m->nroot_offsets;
    int rc;
    if ((rc = section(r, HDX_FRAME_ID, m->nframes, &n->frame_id)) ||
        (rc = section(r, HDX_FRAME_OFFSET, m->nframes, &n->frame_offset)) ||
        (rc = section(r, HDX_FRAME_FUNCTION, m->nframes, &n->frame_function)) ||
        (rc = section(r, HDX_FRAME_FILE, m->nframes, &n->frame_file)) ||
        (rc = section(r, HDX_FRAME_MODULE, m->nframes, &n->frame_module)) ||
        (rc = section(r, HDX_FRAME_LINE, m->nframes, &n->frame_line)) ||
        (rc = section(r, HDX_STACK_ID, m->nstacks, &n->stack_id)) ||
        (rc = section(r, HDX_STACK_FRAME, m->nstacks, &n->stack_frame)) ||
        (rc = section(r, HDX_STACK_PARENT, m->nstacks, &n->stack_parent)) ||
        (rc = section(r, HDX_SITE_STACK, m->nsite_stacks, &n->site_stack)) ||
        (rc = section(r, HDX_OBJ_ADDRESS, m->native_nobjects, &n->obj_address)) ||
        (rc = section(r, HDX_OBJ_THREAD, m->native_nobjects, &n->obj_thread)) ||
        (rc = section(r, HDX_INTERIOR_EDGE, m->ninterior, &n->interior_edge)) ||
        (rc = section(r, HDX_INTERIOR_OFFSET, m->ninterior, &n->interior_offset)) ||
        (rc = section(r, HDX_ROOT_OFFSET, m->nroot_offsets, &n->root_offset)))
        return rc;
    return HD_OK;
}

/* The cyclic components, when the file has them (all four sections or none, and CYCLE_DENSE
 * only with them): CYCLE_START and CYCLE_PATH_START have one more element than there are
 * components, CYCLE_MEMBER at most one an object, CYCLE_PATH at most one a member (a shortest
 * cycle visits a member once: with CYCLE_DENSE, whose members are counted when it is verified,
 * the bound here is the objects) and CYCLE_DENSE a bit an object. What the offsets hold against
 * the lists is their values' check (binary_check.c). */
static int read_cycles(reader *r, hd__index *ix)
{
    const hdx_entry *start = r->at[HDX_CYCLE_START], *member = r->at[HDX_CYCLE_MEMBER];
    const hdx_entry *path_start = r->at[HDX_CYCLE_PATH_START], *path = r->at[HDX_CYCLE_PATH];
    const hdx_entry *dense = r->at[HDX_CYCLE_DENSE];
    if (!start && !member && !path_start && !path && !dense)
        return HD_OK;
    uint64_t ncycles = start ? start->count : 0, nmembers = member ? member->count : 0;
    if (start && (ncycles == 0 || ncycles > r->m.nobjects + 1))
        return hd__hdx_fail_in(r, HDX_CYCLE_START, 0, "%llu elements, not 1 to %llu", (unsigned long long)ncycles,
                               (unsigned long long)r->m.nobjects + 1);
    if (member && nmembers > r->m.nobjects)
        return hd__hdx_fail_in(r, HDX_CYCLE_MEMBER, 0, "%llu members, more than the %llu objects",
                               (unsigned long long)nmembers, (unsigned long long)r->m.nobjects);
    if (dense && ncycles < 2) /* its members are component 0's: there must be one */
        return hd__hdx_fail_in(r, HDX_CYCLE_DENSE, 0, "holds the members of a component CYCLE_START does not have");
    uint64_t bound = dense ? r->m.nobjects : nmembers;
    if (path && path->count > bound)
        return hd__hdx_fail_in(r, HDX_CYCLE_PATH, 0, "%llu edges, more than the %llu members",
                               (unsigned long long)path->count, (unsigned long long)bound);
    int rc;
    if ((rc = section(r, HDX_CYCLE_START, ncycles, &ix->cycle_start)) ||
        (rc = section(r, HDX_CYCLE_MEMBER, nmembers, &ix->cycle_member)) ||
        (rc = section(r, HDX_CYCLE_PATH_START, ncycles, &ix->cycle_path_start)) ||
        (rc = section(r, HDX_CYCLE_PATH, path ? path->count : 0, &ix->cycle_path)) ||
        (dense && (rc = section(r, HDX_CYCLE_DENSE, (r->m.nobjects + 63) / 64, &ix->cycle_dense))))
        return rc;
    ix->ncycles = (uint32_t)(ncycles - 1);
    return HD_OK;
}

/* The precomputed analyses: their arrays, and their counts from META (which their checks hold
 * against the arrays before hd__index_need hands them out). */
static int read_analyses(reader *r, hd__index *ix)
{
    const hdx_meta *m = &r->m;
    uint64_t n = m->nobjects;
    int rc;
    if (m->has_reach &&
        ((rc = section(r, HDX_REACH_STATE, n, &ix->reach_state)) || (rc = section(r, HDX_REACH_DEPTH, n, &ix->reach_depth)) ||
         (rc = section(r, HDX_REACH_PARENT, n, &ix->reach_parent)) || (rc = section(r, HDX_REACH_VIA, n, &ix->reach_via))))
        return rc;
    if (m->has_dom &&
        ((rc = section(r, HDX_DOM_IDOM, n, &ix->dom_idom)) || (rc = section(r, HDX_DOM_RETAINED, n, &ix->dom_retained))))
        return rc;
    if ((r->at[HDX_TYPE_OBJECTS] || r->at[HDX_TYPE_BYTES]) &&
        ((rc = section(r, HDX_TYPE_OBJECTS, m->ntypes, &ix->type_objects)) ||
         (rc = section(r, HDX_TYPE_BYTES, m->ntypes, &ix->type_bytes))))
        return rc;
    if (r->at[HDX_DOM_TOP] && (!m->has_dom || r->at[HDX_DOM_TOP]->count > HDX_DOM_TOP_MAX ||
                               r->at[HDX_DOM_TOP]->count > m->dom_reachable))
        return hd__hdx_fail_in(r, HDX_DOM_TOP, 0, "%llu objects: more than %u or than DOM_IDOM's reachable ones",
                               (unsigned long long)r->at[HDX_DOM_TOP]->count, HDX_DOM_TOP_MAX);
    if (r->at[HDX_DOM_TOP] && (rc = section(r, HDX_DOM_TOP, r->at[HDX_DOM_TOP]->count, &ix->dom_top)))
        return rc;
    ix->ndom_top = ix->dom_top ? (uint32_t)r->at[HDX_DOM_TOP]->count : 0;
    /* REF_BLOCK's count gives its block size: the writers' or the first files' */
    bool first = r->at[HDX_REF_BLOCK] && r->at[HDX_REF_BLOCK]->count == hd__ref_blocks(n, HDX_REF_BLOCK_BITS_FIRST);
    ix->ref_block_bits = r->ref_block_bits = first ? HDX_REF_BLOCK_BITS_FIRST : HDX_REF_BLOCK_BITS;
    if ((r->at[HDX_REF_BLOCK] || r->at[HDX_REF_EDGE]) &&
        ((rc = section(r, HDX_REF_BLOCK, hd__ref_blocks(n, r->ref_block_bits), &ix->ref_block)) ||
         (rc = section(r, HDX_REF_EDGE, m->nedges, &ix->ref_edge))))
        return rc;
    if ((rc = read_cycles(r, ix)))
        return rc;
    ix->nlive = (uint32_t)m->nlive;
    ix->nuncollectable = (uint32_t)m->nuncollectable;
    ix->nunreachable = (uint32_t)m->nunreachable;
    ix->dom_reachable = (uint32_t)m->dom_reachable;
    ix->has_total_size = r->has_total_size;
    ix->total_size = m->total_size;
    return HD_OK;
}

/* CHUNK_SUM, when the file has it: the chunk size (a power of two from 4 KiB to 1 GiB), then
 * for every other section but META, in increasing id, the checksums of its chunks. */
static int read_chunk_sums(reader *r)
{
    const hdx_entry *e = r->at[HDX_CHUNK_SUM];
    int rc;
    if (!e || (rc = verify(r, HDX_CHUNK_SUM)))
        return e ? rc : HD_OK;
    const uint64_t *sums = raw(r, HDX_CHUNK_SUM);
    uint64_t chunk = e->count ? sums[0] : 0;
    if (chunk < 4096 || chunk > (1u << 30) || (chunk & (chunk - 1)))
        return hd__hdx_fail_in(r, HDX_CHUNK_SUM, 0, "chunk size %llu is not a power of two from 4096 to 2^30",
                               (unsigned long long)chunk);
    r->chunk = chunk;
    uint64_t need = 1; /* the size, then every chunk (sections are within the file: no overflow) */
    for (uint32_t id = 2; id < HDX_NSECTIONS; id++)
        need += r->at[id] && id != HDX_CHUNK_SUM ? nchunks(r, id) : 0;
    if (need != e->count)
        return hd__hdx_fail_in(r, HDX_CHUNK_SUM, 0, "%llu elements, its sections have %llu chunks and the size",
                               (unsigned long long)e->count, (unsigned long long)need - 1);
    const uint64_t *next = sums + 1;
    for (uint32_t id = 2; id < HDX_NSECTIONS; id++)
        if (r->at[id] && id != HDX_CHUNK_SUM) {
            r->chunk_sum[id] = next;
            next += nchunks(r, id);
        }
    return HD_OK;
}

/* A lazy section is verified chunk by chunk when the file has chunk sums, the section starts on
 * a page and its values hold chunk by chunk (chunkable). */
static void plan_chunks(reader *r, uint32_t id, uint64_t page)
{
    if (!r->chunk || r->chunk % page || r->at[id]->offset % page || !chunkable(r, id))
        return;
    r->chunks_left[id] = nchunks(r, id);
    r->chunk_done[id] = calloc(r->chunks_left[id], 1);
    if (id >= HDX_REACH_STATE && id <= HDX_REACH_VIA && !r->reach_checked)
        r->reach_checked = calloc(r->m.nobjects / REACH_BLOCK + 1, 1);
}

/* How many chunks a fault verifies at once: 1, or more in a file of more than HDX_MAX_UNITS. */
static void plan_group(reader *r)
{
    uint64_t total = 0;
    for (uint32_t id = 1; id < HDX_NSECTIONS; id++)
        total += r->chunk_done[id] ? r->chunks_left[id] : 0;
    for (r->group = 1; total / r->group > HDX_MAX_UNITS;)
        r->group *= 2;
}

/* A section is left for its first use when it is in a second mapping (view) and its pages hold
 * nothing else, so that making them readable shows no byte of another section; every other
 * section is verified now. */
static void plan_lazy(reader *r, const hdx_header *h)
{
    if (r->view == r->base)
        return;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    const hdx_entry *sorted[HDX_NSECTIONS];
    uint32_t n = sections_by_offset(r, sorted);
    uint64_t prev_end = HDX_HEADER_SIZE + (uint64_t)h->nsections * HDX_ENTRY_SIZE;
    for (uint32_t i = 0; i < n; i++) {
        const hdx_entry *e = sorted[i];
        uint64_t end = e->offset + e->count * e->elem_size, next = i + 1 < n ? sorted[i + 1]->offset : r->size;
        uint64_t from = e->offset / page * page, to = (end + page - 1) / page * page;
        if (!r->checked[e->id] && end > e->offset && from >= prev_end && (to <= next || next == r->size)) {
            r->lazy[e->id] = true;
            r->page_from[e->id] = from;
            r->page_to[e->id] = to;
            plan_chunks(r, e->id, page);
        }
        prev_end = end;
    }
    plan_group(r);
}

/* The view: readable but for the lazy sections' pages. */
static int protect_lazy(reader *r)
{
    for (uint32_t id = 1; id < HDX_NSECTIONS; id++)
        if (r->lazy[id] && mprotect(r->view + r->page_from[id], r->page_to[id] - r->page_from[id], PROT_NONE)) {
            hd__error_set(r->err, HD_EIO, r->name, (hd__pos){0, 0, 0}, "index: cannot map '%s': %s", r->name,
                          strerror(errno));
            return HD_EIO;
        }
    return HD_OK;
}

static int read_all(reader *r, hd_dump *d, hd__index *ix)
{
    hdx_header h;
    int rc;
    if ((rc = read_header(r, &h)) || (rc = read_table(r, &h)) || (rc = check_gaps(r, &h)) ||
        (rc = verify(r, HDX_META)) || (rc = read_meta(r)) || (rc = read_chunk_sums(r)))
        return rc;
    ix->header = h;
    if ((rc = section(r, HDX_STRINGS, r->m.nstrings, &d->strings.data)))
        return rc;
    d->strings.len = d->strings.size = r->m.nstrings;
    if ((rc = read_types_sites(r, d)) || (rc = read_objects(r, d)) || (rc = read_roots_weakrefs(r, d)) ||
        (rc = read_native(r, d)) || (rc = read_analyses(r, ix)))
        return rc;
    read_scalars(r, d);
    const hdx_meta *m = &r->m;
    ix->memory = (hd_memory){m->mem_objects, m->mem_references, m->mem_id_map, m->mem_strings, m->mem_other, m->mem_total};
    plan_lazy(r, &h);
    /* Protected first: a check of a section verified now may verify a lazy one's chunk (a cycle
     * reads the edges it takes), which then becomes readable and must stay so. */
    if ((rc = protect_lazy(r)))
        return rc;
    for (uint32_t id = 1; id < HDX_NSECTIONS; id++)
        if (!r->lazy[id] && (rc = verify(r, id)))
            return rc;
    return HD_OK;
}

int hd__binary_peek(const void *head, size_t n, uint64_t file_size, const char *name, hdx_header *h,
                    hd_error *err)
{
    reader r = {.base = (unsigned char *)(uintptr_t)head, .size = n, .err = err};
    snprintf(r.name, sizeof r.name, "%s", name);
    int rc = read_header(&r, h);
    if (!rc && h->file_size != file_size)
        rc = fail(&r, file_size, "truncated or extended: %llu bytes, the header says %llu",
                  (unsigned long long)file_size, (unsigned long long)h->file_size);
    return rc;
}

/* The lazy section (or chunk) holding addr in ix's view, verified now: HD_OK when it passes,
 * with *found HD_ADDR_VERIFIED; HD_ADDR_READABLE when it already was (by another thread, or
 * the fault was not a read), HD_ADDR_ELSEWHERE when addr is in no lazy section. Else the
 * failure is in *err. The chunks of the group holding it are verified together; a group that
 * follows a verified chunk is taken as a sequential read, verified with the chunks after it up
 * to HDX_READ_AHEAD. Called with the lazy lock held. */
enum { HDX_READ_AHEAD = 16 };
int hd__index_verify_addr(hd__index *ix, uintptr_t addr, enum hd__addr_found *found, hd_error *err)
{
    reader *r = ix->checks;
    *found = HD_ADDR_ELSEWHERE;
    if (!r || addr < (uintptr_t)r->view || addr - (uintptr_t)r->view >= r->size)
        return HD_OK;
    uint64_t at = addr - (uintptr_t)r->view;
    for (uint32_t id = 1; id < HDX_NSECTIONS; id++)
        if (r->at[id] && r->page_from[id] <= at && at < r->page_to[id]) {
            r->err = err;
            uint64_t k = at < r->at[id]->offset ? 0 : (at - r->at[id]->offset) / (r->chunk ? r->chunk : 1);
            if (r->checked[id] || (r->chunk_done[id] && r->chunk_done[id][k])) {
                *found = HD_ADDR_READABLE;
                return HD_OK;
            }
            *found = HD_ADDR_VERIFIED;
            if (!r->chunk_done[id])
                return verify(r, id);
            uint64_t first = k / r->group * r->group, last = nchunks(r, id), n = r->group;
            if (first > 0 && r->chunk_done[id][first - 1] && n < HDX_READ_AHEAD)
                n = HDX_READ_AHEAD;
            if (++r->faults[id] > HDX_FAULTS_BEFORE_WHOLE)
                return verify(r, id);
            int rc = HD_OK;
            for (uint64_t i = first; i < first + n && i < last && !rc && !r->checked[id]; i++)
                rc = verify_chunk(r, id, i);
            return rc;
        }
    return HD_OK;
}

int hd__index_verify_section(hd__index *ix, uint32_t id, hd_error *err)
{
    reader *r = ix->checks;
    if (!r)
        return HD_OK;
    r->err = err;
    return verify(r, id);
}

bool hd__index_has_lazy(const hd__index *ix)
{
    const reader *r = ix->checks;
    for (uint32_t id = 1; r && id < HDX_NSECTIONS; id++)
        if (r->lazy[id])
            return true;
    return false;
}

static void reader_free(reader *r)
{
    for (uint32_t id = 1; r && id < HDX_NSECTIONS; id++)
        free(r->chunk_done[id]);
    if (r)
        free(r->reach_checked);
    free(r);
}

void hd__index_close(hd__index *ix)
{
    if (!ix)
        return;
    hd__lazy_forget(ix);
    if (ix->mapped) {
        hd__budget_untrack(ix->base), munmap(ix->base, ix->size);
        if (ix->view && ix->view != ix->base)
            hd__budget_untrack(ix->view), munmap(ix->view, ix->size);
    } else
        free(ix->base);
    reader_free(ix->checks);
    free(ix);
}

int hd__binary_open(void *base, void *view, size_t size, bool mapped, const char *name, hd_dump **out, hd_error *err)
{
    *out = NULL;
    hd_dump *d = calloc(1, sizeof *d);
    hd__index *ix = calloc(1, sizeof *ix);
    reader *r = calloc(1, sizeof *r);
    if (!d || !ix || !r) {
        free(d);
        free(ix);
        free(r);
        if (mapped) {
            hd__budget_untrack(base), munmap(base, size);
            if (view != base)
                hd__budget_untrack(view), munmap(view, size);
        } else
            free(base);
        return hd__error_oom(err, name);
    }
    *ix = (hd__index){.base = base, .view = view, .size = size, .mapped = mapped, .checks = r};
    d->index = ix;
    *r = (reader){.base = base, .view = view, .size = size, .err = err};
    snprintf(r->name, sizeof r->name, "%s", name);
    int rc = read_all(r, d, ix);
    if (!rc && hd__index_has_lazy(ix))
        rc = hd__lazy_watch(ix, err);
    if (rc) {
        hd_dump_free(d);
        return rc;
    }
    r->err = &r->fault;
    *out = d;
    return HD_OK;
}
