/* writer_index.c: the snapshot child's dump as a binary index (formats/heapdump-binary.md,
 * unanalysed), for a path ending in ".hdx": the arrays libheapdump would hold after loading the
 * JSON that writer.c writes of the same heap, so every command answers the same from either.
 *
 * Invariant: each value is the one the JSON's loader would make of writer.c's record: objects
 * in id order, types and sites in the order the JSON lists them, names interned and texts as
 * the JSON carries them (a byte that is not UTF-8 becomes the text \xNN). The objects' arrays
 * are placed (their count is known); references, interior pointers and strings are streamed,
 * so the heap is scanned once, as for JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hdx_writer.h"
#include "record/writer.h"

#define CHUNK 65536u
#define NAMED_OFFSETS 4096u /* "+0x..." names interned once each for the first words of a block */

typedef struct index_out {
    ht_hdx_writer w;
    const rec_heap *h;
    const rec_naming *n;
    uint32_t *rank;     /* block (by address) -> object number (id order) */
    uint32_t *site_of;  /* node -> site number */
    uint32_t *stack_of; /* node -> stack node number */
    uint32_t offset_name[NAMED_OFFSETS]; /* word -> its name's string + 1; 0 not yet */
} index_out;

/* s as the JSON carries it back: writer.c writes a byte that is not UTF-8 as the text \xNN. */
static uint32_t text(ht_hdx_writer *w, const char *s)
{
    size_t len = strlen(s), odd = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t seq = rec_utf8_seq(p);
        odd += !seq;
        p += seq ? seq : 1;
    }
    if (!odd)
        return ht_hdx_intern(w, s, len);
    char *buf = malloc(len + 3 * odd + 1), *q = buf;
    if (!buf) {
        w->err = w->err ? w->err : ENOMEM;
        return 0;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t seq = rec_utf8_seq(p);
        if (seq) {
            memcpy(q, p, seq), q += seq, p += seq;
        } else {
            q += sprintf(q, "\\x%02x", *p++);
        }
    }
    uint32_t off = ht_hdx_intern(w, buf, (size_t)(q - buf));
    free(buf);
    return off;
}

/* Sites are the leaf nodes, stack nodes the nodes in use, each numbered in node order. */
static void number_nodes(index_out *x, uint64_t counts[])
{
    const rec_naming *n = x->n;
    uint32_t sites = 0, stacks = 0;
    for (size_t k = 0; k < n->nnodes; k++) {
        x->site_of[k] = n->type_of[k] == UINT32_MAX ? HD_NONE : sites++;
        x->stack_of[k] = n->used[k] ? stacks++ : HD_NONE;
    }
    for (uint32_t id = HDX_SITE_ID; id <= HDX_SITE_LINE; id++)
        counts[id] = sites;
    counts[HDX_SITE_STACK] = sites;
    for (uint32_t id = HDX_STACK_ID; id <= HDX_STACK_PARENT; id++)
        counts[id] = stacks;
}

static void write_names(index_out *x)
{
    ht_hdx_writer *w = &x->w;
    const rec_naming *n = x->n;
    for (uint32_t t = 0; t < n->ntypes; t++) {
        uint64_t id = t, size = 0;
        uint32_t name = text(w, n->types[t]);
        uint8_t flags = 0;
        ht_hdx_put(w, HDX_TYPE_ID, t, &id, 1), ht_hdx_put(w, HDX_TYPE_SIZE, t, &size, 1);
        ht_hdx_put(w, HDX_TYPE_NAME, t, &name, 1), ht_hdx_put(w, HDX_TYPE_FLAGS, t, &flags, 1);
    }
    for (uint32_t f = 0; f < n->nframes; f++) {
        const rec_frame_info *fr = &n->frames[f];
        uint64_t id = f, offset = fr->module ? fr->offset : 0;
        uint32_t function = fr->function ? text(w, fr->function) : 0, file = fr->file ? text(w, fr->file) : 0,
                 module = fr->module ? text(w, fr->module) : 0, line = fr->file ? fr->line : 0;
        if (!fr->function && !fr->file && !fr->module)
            function = ht_hdx_intern(w, "?", 1);
        ht_hdx_put(w, HDX_FRAME_ID, f, &id, 1), ht_hdx_put(w, HDX_FRAME_OFFSET, f, &offset, 1);
        ht_hdx_put(w, HDX_FRAME_FUNCTION, f, &function, 1), ht_hdx_put(w, HDX_FRAME_FILE, f, &file, 1);
        ht_hdx_put(w, HDX_FRAME_MODULE, f, &module, 1), ht_hdx_put(w, HDX_FRAME_LINE, f, &line, 1);
    }
    for (size_t k = 0; k < n->nnodes; k++) {
        uint32_t s = x->stack_of[k], frame = n->frame_of[k];
        if (s != HD_NONE) {
            uint64_t id = k;
            uint32_t parent = n->nodes[k].parent ? x->stack_of[n->nodes[k].parent - 1] : HD_NONE;
            ht_hdx_put(w, HDX_STACK_ID, s, &id, 1), ht_hdx_put(w, HDX_STACK_FRAME, s, &frame, 1);
            ht_hdx_put(w, HDX_STACK_PARENT, s, &parent, 1);
        }
        if ((s = x->site_of[k]) == HD_NONE)
            continue;
        const rec_frame_info *f = &n->frames[n->frame_of[n->type_frame[k] - 1]];
        uint64_t id = k;
        uint32_t file = f->file ? text(w, f->file) : 0, line = f->file ? f->line : 0,
                 function = text(w, n->types[n->type_of[k]]), stack = x->stack_of[k];
        ht_hdx_put(w, HDX_SITE_ID, s, &id, 1), ht_hdx_put(w, HDX_SITE_FILE, s, &file, 1);
        ht_hdx_put(w, HDX_SITE_FUNCTION, s, &function, 1), ht_hdx_put(w, HDX_SITE_LINE, s, &line, 1);
        ht_hdx_put(w, HDX_SITE_STACK, s, &stack, 1);
    }
}

/* "+0x18": where a reference sits in its holder. */
static uint32_t offset_name(index_out *x, size_t word)
{
    if (word < NAMED_OFFSETS && x->offset_name[word])
        return x->offset_name[word] - 1;
    char name[24];
    int len = snprintf(name, sizeof name, "+0x%llx", (unsigned long long)word * sizeof(uintptr_t));
    uint32_t off = ht_hdx_intern(&x->w, name, (size_t)len);
    if (word < NAMED_OFFSETS)
        x->offset_name[word] = off + 1;
    return off;
}

/* Block b's references, as writer.c finds them: each aligned word pointing into a live block. */
static void write_refs(index_out *x, const rec_block *b, uint64_t *nedges)
{
    const uintptr_t *words = (const uintptr_t *)b->addr;
    for (size_t i = 0; i < b->size / sizeof *words; i++) {
        uint64_t off;
        long t = rec_heap_find(x->h, words[i], &off);
        if (t < 0)
            continue;
        uint32_t target = x->rank[t], name = offset_name(x, i), edge = (uint32_t)*nedges;
        ht_hdx_append(&x->w, HDX_EDGE_TARGET, &target, 1);
        ht_hdx_append(&x->w, HDX_EDGE_NAME, &name, 1);
        if (off) {
            ht_hdx_append(&x->w, HDX_INTERIOR_EDGE, &edge, 1);
            ht_hdx_append(&x->w, HDX_INTERIOR_OFFSET, &off, 1);
        }
        ++*nedges;
    }
}

typedef struct chunk {
    uint64_t id[CHUNK], size[CHUNK], address[CHUNK];
    uint32_t type[CHUNK], site[CHUNK], label[CHUNK], rc[CHUNK], offset[CHUNK], thread[CHUNK];
    uint8_t gen[CHUNK], flags[CHUNK];
} chunk;

static void put_chunk(ht_hdx_writer *w, const chunk *c, uint64_t base, uint32_t m)
{
    ht_hdx_put(w, HDX_OBJ_ID, base, c->id, m), ht_hdx_put(w, HDX_OBJ_SIZE, base, c->size, m);
    ht_hdx_put(w, HDX_OBJ_TYPE, base, c->type, m), ht_hdx_put(w, HDX_OBJ_SITE, base, c->site, m);
    ht_hdx_put(w, HDX_OBJ_LABEL, base, c->label, m), ht_hdx_put(w, HDX_OBJ_RC, base, c->rc, m);
    ht_hdx_put(w, HDX_OBJ_GEN, base, c->gen, m), ht_hdx_put(w, HDX_OBJ_FLAGS, base, c->flags, m);
    ht_hdx_put(w, HDX_EDGE_OFFSET, base, c->offset, m);
    ht_hdx_put(w, HDX_OBJ_ADDRESS, base, c->address, m), ht_hdx_put(w, HDX_OBJ_THREAD, base, c->thread, m);
}

/* Objects in id order, a chunk at a time; returns the sum of their sizes. */
static uint64_t write_objects(index_out *x, chunk *c)
{
    const rec_heap *h = x->h;
    uint64_t nedges = 0, total = 0;
    memset(c->label, 0xff, sizeof c->label), memset(c->rc, 0xff, sizeof c->rc);
    memset(c->gen, HD_GEN_UNKNOWN, sizeof c->gen), memset(c->flags, 0, sizeof c->flags);
    for (uint64_t base = 0; base < h->n; base += CHUNK) {
        uint32_t m = (uint32_t)(h->n - base < CHUNK ? h->n - base : CHUNK);
        for (uint32_t k = 0; k < m; k++) {
            const rec_block *b = &h->blocks[h->by_id[base + k]];
            c->id[k] = b->seq, c->size[k] = b->size, c->address[k] = b->addr, c->thread[k] = b->thread;
            c->type[k] = b->stack ? x->n->type_of[b->stack - 1] : 0;
            c->site[k] = b->stack ? x->site_of[b->stack - 1] : HD_NONE;
            c->offset[k] = (uint32_t)nedges;
            total = total + b->size < total ? UINT64_MAX : total + b->size;
            write_refs(x, b, &nedges);
        }
        put_chunk(&x->w, c, base, m);
    }
    uint32_t last = (uint32_t)nedges;
    ht_hdx_put(&x->w, HDX_EDGE_OFFSET, h->n, &last, 1);
    return total;
}

static uint64_t seq_at(const void *heap, uint32_t i)
{
    const rec_heap *h = heap;
    return h->blocks[h->by_id[i]].seq;
}

/* The id map libheapdump builds over the objects' ids (increasing here). */
static void write_map(index_out *x, hdx_meta *m)
{
    const rec_heap *h = x->h;
    m->map_mask = 15; /* an empty map has 16 slots, none written */
    if (!h->n)
        return;
    uint64_t lo = h->blocks[h->by_id[0]].seq, hi = h->blocks[h->by_id[h->n - 1]].seq;
    bool direct;
    uint32_t mask = ht_hdx_map_mask(lo, hi, h->n, &direct);
    uint32_t *slots = calloc((size_t)mask + 1, sizeof *slots);
    if (!slots) {
        x->w.err = x->w.err ? x->w.err : ENOMEM;
        return;
    }
    ht_hdx_fill_map(slots, mask, direct, lo, (uint32_t)h->n, seq_at, h);
    ht_hdx_put(&x->w, HDX_OBJ_MAP, 0, slots, (uint64_t)mask + 1);
    free(slots);
    m->map_direct = direct, m->map_base = direct ? lo : 0, m->map_mask = mask, m->map_used = h->n;
}

static void write_roots(index_out *x, rec_symbols *sym, const rec_root *roots, size_t nroots)
{
    ht_hdx_writer *w = &x->w;
    for (uint32_t i = 0; i < nroots; i++) {
        const rec_root *r = &roots[i];
        char name[700];
        rec_root_name(sym, r, name, sizeof name);
        const char *kind = rec_root_kinds[r->kind];
        uint32_t object = x->rank[r->block], kind_name = ht_hdx_intern(w, kind, strlen(kind)),
                 name_at = text(w, name);
        uint8_t kind_number = ht_hdx_root_kind(kind);
        ht_hdx_put(w, HDX_ROOT_OBJECT, i, &object, 1), ht_hdx_put(w, HDX_ROOT_KIND_NAME, i, &kind_name, 1);
        ht_hdx_put(w, HDX_ROOT_NAME, i, &name_at, 1), ht_hdx_put(w, HDX_ROOT_KIND, i, &kind_number, 1);
        if (r->offset)
            ht_hdx_put(w, HDX_ROOT_OFFSET, i, &r->offset, 1);
    }
}

/* What is placed, and how many: everything but references, interior pointers and strings. */
static void count_sections(index_out *x, const rec_root *roots, size_t nroots, uint64_t counts[])
{
    const rec_heap *h = x->h;
    const rec_naming *n = x->n;
    number_nodes(x, counts);
    for (uint32_t id = HDX_TYPE_ID; id <= HDX_TYPE_FLAGS; id++)
        counts[id] = n->ntypes;
    for (uint32_t id = HDX_OBJ_ID; id <= HDX_OBJ_FLAGS; id++)
        counts[id] = h->n;
    bool direct;
    counts[HDX_OBJ_MAP] = h->n ? (uint64_t)ht_hdx_map_mask(h->blocks[h->by_id[0]].seq,
                                                           h->blocks[h->by_id[h->n - 1]].seq, h->n, &direct) + 1 : 0;
    counts[HDX_EDGE_OFFSET] = h->n + 1;
    counts[HDX_OBJ_ADDRESS] = counts[HDX_OBJ_THREAD] = h->n;
    for (uint32_t id = HDX_ROOT_OBJECT; id <= HDX_ROOT_KIND; id++)
        counts[id] = nroots;
    for (size_t i = 0; i < nroots; i++)
        if (roots[i].offset)
            counts[HDX_ROOT_OFFSET] = i + 1;
    for (uint32_t id = HDX_FRAME_ID; id <= HDX_FRAME_LINE; id++)
        counts[id] = n->nframes;
    counts[HDX_STRINGS] = counts[HDX_EDGE_TARGET] = counts[HDX_EDGE_NAME] = HT_HDX_STREAMED;
    counts[HDX_INTERIOR_EDGE] = counts[HDX_INTERIOR_OFFSET] = HT_HDX_STREAMED;
}

/* The masks of the frame and stack id maps libheapdump makes (they count in its figures). */
static void id_map_masks(const index_out *x, uint32_t *frame_mask, uint32_t *stack_mask)
{
    const rec_naming *n = x->n;
    bool direct;
    *frame_mask = ht_hdx_map_mask(0, n->nframes ? n->nframes - 1 : 0, n->nframes, &direct);
    uint64_t lo = UINT64_MAX, hi = 0, count = 0;
    for (size_t k = 0; k < n->nnodes; k++)
        if (n->used[k])
            lo = k < lo ? k : lo, hi = k, count++;
    *stack_mask = ht_hdx_map_mask(count ? lo : 0, hi, count, &direct);
}

static void fill_meta(index_out *x, const rec_world *w, hdx_meta *m)
{
    char when[64];
    rec_created(when, sizeof when);
    static const char producer[] = "heaptool-record " HT_VERSION;
    m->version = 1;
    m->producer = ht_hdx_intern(&x->w, producer, sizeof producer - 1);
    m->created = ht_hdx_intern(&x->w, when, strlen(when));
    m->name = w->name ? text(&x->w, w->name) : 0;
    m->pid = (uint64_t)w->pid;
}

int rec_write_index(const char *path, const rec_world *w, const rec_heap *h, const rec_naming *n,
                    rec_symbols *sym, const rec_root *roots, size_t nroots)
{
    index_out *x = calloc(1, sizeof *x);
    chunk *c = malloc(sizeof *c);
    if (x) {
        x->h = h, x->n = n;
        x->rank = malloc((h->n + 1) * sizeof *x->rank);
        x->site_of = malloc((n->nnodes + 1) * sizeof *x->site_of);
        x->stack_of = malloc((n->nnodes + 1) * sizeof *x->stack_of);
    }
    if (!x || !c || !x->rank || !x->site_of || !x->stack_of)
        return ENOMEM; /* the child exits: its memory goes with it */
    for (uint32_t i = 0; i < h->n; i++)
        x->rank[h->by_id[i]] = i;
    int err = ht_hdx_begin(&x->w, path, true);
    if (err)
        return err;
    uint64_t counts[HT_HDX_NSECTIONS + 1] = {0};
    count_sections(x, roots, nroots, counts);
    ht_hdx_place(&x->w, counts);
    hdx_meta meta = {0};
    write_map(x, &meta);
    fill_meta(x, w, &meta); /* first, as the JSON lists meta first (the strings' order) */
    write_names(x);
    meta.total_size = write_objects(x, c);
    write_roots(x, sym, roots, nroots);
    uint32_t frame_mask, stack_mask;
    id_map_masks(x, &frame_mask, &stack_mask);
    ht_hdx_meta_counts(&x->w, &meta, frame_mask, stack_mask);
    if (x->w.err) {
        err = x->w.err;
        ht_hdx_abort(&x->w);
        return err;
    }
    return ht_hdx_finish(&x->w, &meta);
}
