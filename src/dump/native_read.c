/* native_read.c: reads what native producers add (frames, stacks, a site's stack, an object's
 * interior references, address and thread, a root's offset) into the hd__native parts, through
 * hooks in load.c's record readers, and resolves stack ids once the whole document is read.
 *
 * Ids stay raw until resolution, as load.c keeps object ids: a stack node may name a parent or a
 * frame listed after it, a site a stack node listed after it. An object's native members are
 * held aside while its record is read and committed only when load.c keeps the record, so a
 * record dropped in validation mode leaves nothing behind. */
#include "native.h"
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hd__native_loading {
    uint64_t *stack_frame_id, *stack_parent_id; /* per stack node */
    uint8_t *stack_has_parent;
    uint32_t *stack_elem, *frame_elem;          /* the array element each record came from */
    uint64_t *site_stack_id;                    /* per site index, where site_stack[s] != HD_NONE */
    uint32_t *site_elem;

    /* the object record being read */
    bool has_address, has_thread, has_interior;
    uint64_t address, thread;
    uint64_t (*interior)[2];
    uint32_t ninterior, interior_cap;
    hd__pos interior_pos;
} hd__native_loading;

/* Grows parallel arrays to hold index i (new elements unset); false when out of memory. */
static bool grow_to(uint64_t i, uint32_t *cap, size_t n, void **arrays[], const size_t sizes[])
{
    if (i < *cap)
        return true;
    if (i >= UINT32_MAX - 1)
        return false;
    uint64_t want = *cap ? (uint64_t)*cap * 2 : 64;
    while (want <= i)
        want *= 2;
    if (want > UINT32_MAX - 1)
        want = UINT32_MAX - 1;
    for (size_t k = 0; k < n; k++) {
        void *p = realloc(*arrays[k], (size_t)want * sizes[k]);
        if (!p)
            return false;
        *arrays[k] = p;
    }
    *cap = (uint32_t)want;
    return true;
}

static int oom(loader *L)
{
    return hd__problem(L, HD_ENOMEM, L->lx.tok_pos, "out of memory");
}

/* The dump's native parts and their loading state, made on first use; NULL when out of memory. */
static hd__native *native_of(hd_dump *d)
{
    if (!d->native && !(d->native = calloc(1, sizeof *d->native)))
        return NULL;
    hd__native *n = d->native;
    if (!n->loading && !(n->loading = calloc(1, sizeof *n->loading)))
        return NULL;
    return n;
}

/* --- frames and stacks ------------------------------------------------------------------------ */

enum { HAVE_ID = 1, HAVE_FRAME = 2, HAVE_PARENT = 4, HAVE_WHERE = 8, BAD_REQUIRED = 16 };

typedef struct frame_rec {
    uint64_t id, offset, line;
    uint32_t function, file, module;
    unsigned have;
} frame_rec;

static int frame_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    frame_rec *r = state;
    int rc;
    if (!strcmp(key, "id")) {
        rc = hd__read_uint(L, key, &r->id);
        r->have |= rc == 0 ? HAVE_ID : rc == SKIPPED ? BAD_REQUIRED : 0;
        return rc;
    }
    if (!strcmp(key, "line")) {
        if ((rc = hd__read_uint(L, key, &r->line)) == 0 && r->line > UINT32_MAX) {
            r->line = 0;
            return hd__problem(L, HD_EFORMAT, L->lx.tok_pos, "'line' above 2^32-1");
        }
        return rc;
    }
    if (!strcmp(key, "offset"))
        return hd__read_uint(L, key, &r->offset);
    uint32_t *text = !strcmp(key, "function") ? &r->function : !strcmp(key, "file") ? &r->file
                   : !strcmp(key, "module") ? &r->module : NULL;
    if (!text)
        return hd__lex_skip_value(&L->lx);
    if ((rc = hd__read_string(L, key, true, text)) == 0)
        r->have |= HAVE_WHERE;
    return rc;
}

static int missing(loader *L, const char *member)
{
    char msg[64];
    snprintf(msg, sizeof msg, "missing member '%s'", member);
    return hd__problem(L, HD_EFORMAT, L->lx.tok_pos, "%s", msg);
}

int hd__native_parse_frame(loader *L)
{
    frame_rec r = {0};
    int rc = hd__each_member(L, frame_member, &r);
    if (rc || (r.have & BAD_REQUIRED))
        return rc < 0 ? rc : HD_OK;
    if (!(r.have & HAVE_ID))
        return missing(L, "id");
    if (!(r.have & HAVE_WHERE) &&
        (rc = hd__problem(L, HD_EFORMAT, L->lx.tok_pos,
                             "a frame needs 'function', 'file' or 'module'")))
        return rc;
    hd__native *n = native_of(L->d);
    if (!n)
        return oom(L);
    if (n->nframes >= UINT32_MAX - 2)
        return hd__problem(L, HD_ELIMIT, L->lx.tok_pos, "more than 2^32-2 frames");
    void **arrays[] = {(void **)&n->frame_id, (void **)&n->frame_offset, (void **)&n->frame_function,
                       (void **)&n->frame_file, (void **)&n->frame_module, (void **)&n->frame_line,
                       (void **)&n->loading->frame_elem};
    const size_t sizes[] = {8, 8, 4, 4, 4, 4, 4};
    if (!grow_to(n->nframes, &n->frames_cap, 7, arrays, sizes))
        return oom(L);
    uint32_t f = n->nframes++;
    n->frame_id[f] = r.id;
    n->frame_offset[f] = r.offset;
    n->frame_function[f] = r.function;
    n->frame_file[f] = r.file;
    n->frame_module[f] = r.module;
    n->frame_line[f] = (uint32_t)r.line;
    n->loading->frame_elem[f] = (uint32_t)L->ctx_index;
    return HD_OK;
}

typedef struct stack_rec {
    uint64_t id, frame, parent;
    unsigned have;
} stack_rec;

static int stack_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    stack_rec *r = state;
    unsigned bit = !strcmp(key, "id") ? HAVE_ID : !strcmp(key, "frame") ? HAVE_FRAME
                 : !strcmp(key, "parent") ? HAVE_PARENT : 0;
    if (!bit)
        return hd__lex_skip_value(&L->lx);
    if (bit == HAVE_PARENT && L->lx.tok == HD__T_NULL)
        return HD_OK;
    uint64_t *out = bit == HAVE_ID ? &r->id : bit == HAVE_FRAME ? &r->frame : &r->parent;
    int rc = hd__read_uint(L, key, out);
    r->have |= rc == 0 ? bit : rc == SKIPPED && bit != HAVE_PARENT ? BAD_REQUIRED : 0;
    return rc;
}

int hd__native_parse_stack(loader *L)
{
    stack_rec r = {0};
    int rc = hd__each_member(L, stack_member, &r);
    if (rc || (r.have & BAD_REQUIRED))
        return rc < 0 ? rc : HD_OK;
    if (!(r.have & HAVE_ID))
        return missing(L, "id");
    if (!(r.have & HAVE_FRAME))
        return missing(L, "frame");
    hd__native *n = native_of(L->d);
    if (!n)
        return oom(L);
    if (n->nstacks >= UINT32_MAX - 2)
        return hd__problem(L, HD_ELIMIT, L->lx.tok_pos, "more than 2^32-2 stack nodes");
    hd__native_loading *ld = n->loading;
    void **arrays[] = {(void **)&n->stack_id, (void **)&n->stack_frame, (void **)&n->stack_parent,
                       (void **)&ld->stack_frame_id, (void **)&ld->stack_parent_id,
                       (void **)&ld->stack_has_parent, (void **)&ld->stack_elem};
    const size_t sizes[] = {8, 4, 4, 8, 8, 1, 4};
    if (!grow_to(n->nstacks, &n->stacks_cap, 7, arrays, sizes))
        return oom(L);
    uint32_t s = n->nstacks++;
    n->stack_id[s] = r.id;
    ld->stack_frame_id[s] = r.frame;
    ld->stack_parent_id[s] = r.parent;
    ld->stack_has_parent[s] = (r.have & HAVE_PARENT) != 0;
    ld->stack_elem[s] = (uint32_t)L->ctx_index;
    return HD_OK;
}

int hd__native_site_stack(loader *L, uint32_t s, uint64_t id)
{
    hd__native *n = native_of(L->d);
    if (!n)
        return oom(L);
    uint32_t had = n->site_stacks_cap;
    void **arrays[] = {(void **)&n->site_stack, (void **)&n->loading->site_stack_id,
                       (void **)&n->loading->site_elem};
    const size_t sizes[] = {4, 8, 4};
    if (!grow_to(s, &n->site_stacks_cap, 3, arrays, sizes))
        return oom(L);
    for (uint32_t i = had; i < n->site_stacks_cap; i++)
        n->site_stack[i] = HD_NONE;
    n->site_stack[s] = 0; /* named; resolved later */
    n->loading->site_stack_id[s] = id;
    n->loading->site_elem[s] = (uint32_t)L->ctx_index;
    if (s >= n->nsite_stacks)
        n->nsite_stacks = s + 1;
    return HD_OK;
}

int hd__native_root_offset(loader *L, uint32_t r, uint64_t offset)
{
    hd__native *n = native_of(L->d);
    if (!n)
        return oom(L);
    uint32_t had = n->root_offsets_cap;
    void **arrays[] = {(void **)&n->root_offset};
    const size_t sizes[] = {8};
    if (!grow_to(r, &n->root_offsets_cap, 1, arrays, sizes))
        return oom(L);
    memset(n->root_offset + had, 0, (size_t)(n->root_offsets_cap - had) * sizeof *n->root_offset);
    n->root_offset[r] = offset;
    if (r >= n->nroot_offsets)
        n->nroot_offsets = r + 1;
    return HD_OK;
}

/* --- an object's native members --------------------------------------------------------------- */

static int comma_expected(hd__lexer *lx)
{
    return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected ',' or ']', found %s", hd__tok_name(lx->tok));
}

/* One element of "interior", with '[' current: [k, offset] into pair; SKIPPED when malformed. */
static int read_interior_pair(loader *L, uint64_t index, uint64_t pair[2])
{
    hd__lexer *lx = &L->lx;
    char msg[80];
    snprintf(msg, sizeof msg, "'interior[%llu]' must be a [k, offset] pair of unsigned integers",
             (unsigned long long)index);
    hd__pos at = lx->tok_pos;
    int rc;
    if (lx->tok != HD__T_LBRACKET) {
        if ((rc = hd__problem(L, HD_EFORMAT, at, "%s", msg)) || (rc = hd__lex_skip_value(lx)))
            return rc;
        return SKIPPED;
    }
    unsigned got = 0;
    bool bad = false;
    for (;;) {
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACKET && got == 0)
            break;
        if (lx->tok == HD__T_NUMBER && lx->num_kind == HD__N_UINT && got < 2)
            pair[got] = lx->num;
        else if ((rc = hd__lex_skip_value(lx)))
            return rc;
        else
            bad = true;
        got++;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACKET)
            break;
        if (lx->tok != HD__T_COMMA)
            return comma_expected(lx);
    }
    if (!bad && got == 2)
        return HD_OK;
    return (rc = hd__problem(L, HD_EFORMAT, at, "%s", msg)) ? rc : SKIPPED;
}

static int read_interior(loader *L, hd__native_loading *ld)
{
    hd__lexer *lx = &L->lx;
    int rc;
    ld->interior_pos = lx->tok_pos;
    if (lx->tok != HD__T_LBRACKET) {
        if ((rc = hd__problem(L, HD_EFORMAT, lx->tok_pos, "'interior' must be an array")))
            return rc;
        return hd__lex_skip_value(lx);
    }
    ld->ninterior = 0;
    ld->has_interior = true;
    if ((rc = hd__lex_next(lx)) || lx->tok == HD__T_RBRACKET)
        return rc;
    for (uint64_t i = 0;; i++) {
        uint64_t pair[2];
        if ((rc = read_interior_pair(L, i, pair)) < 0)
            return rc;
        if (rc == 0) {
            void **arrays[] = {(void **)&ld->interior};
            const size_t sizes[] = {sizeof *ld->interior};
            if (!grow_to(ld->ninterior, &ld->interior_cap, 1, arrays, sizes))
                return oom(L);
            memcpy(ld->interior[ld->ninterior++], pair, sizeof pair);
        }
        if ((rc = hd__lex_next(lx)) || lx->tok == HD__T_RBRACKET)
            return rc;
        if (lx->tok != HD__T_COMMA)
            return comma_expected(lx);
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
}

int hd__native_object_member(loader *L, const char *key)
{
    hd__native *n = native_of(L->d);
    if (!n)
        return oom(L);
    hd__native_loading *ld = n->loading;
    if (!strcmp(key, "interior"))
        return read_interior(L, ld);
    bool address = !strcmp(key, "address");
    uint64_t v = 0;
    int rc = hd__read_uint(L, key, &v);
    if (rc)
        return rc;
    if (!address && v > UINT32_MAX)
        return hd__problem(L, HD_ELIMIT, L->lx.tok_pos, "'thread' above 2^32-1");
    *(address ? &ld->address : &ld->thread) = v;
    *(address ? &ld->has_address : &ld->has_thread) = true;
    return HD_OK;
}

void hd__native_object_drop(hd_dump *d)
{
    hd__native_loading *ld = d->native ? d->native->loading : NULL;
    if (ld)
        ld->has_address = ld->has_thread = ld->has_interior = false;
}

/* Makes the per-object arrays cover object o, zero (unknown) where nothing was said. */
static bool cover_object(hd__native *n, uint32_t o)
{
    uint32_t had = n->objects_cap;
    void **arrays[] = {(void **)&n->obj_address, (void **)&n->obj_thread};
    const size_t sizes[] = {8, 4};
    if (!grow_to(o, &n->objects_cap, 2, arrays, sizes))
        return false;
    if (had < n->objects_cap) {
        memset(n->obj_address + had, 0, (size_t)(n->objects_cap - had) * 8);
        memset(n->obj_thread + had, 0, (size_t)(n->objects_cap - had) * 4);
    }
    if (o >= n->nobjects)
        n->nobjects = o + 1;
    return true;
}

static bool push_interior(hd__native *n, uint64_t edge, uint64_t offset)
{
    if (n->ninterior == n->interior_cap) {
        uint64_t want = n->interior_cap ? n->interior_cap * 2 : 64;
        uint32_t *e = realloc(n->interior_edge, want * sizeof *e);
        if (e)
            n->interior_edge = e;
        uint64_t *off = realloc(n->interior_offset, want * sizeof *off);
        if (off)
            n->interior_offset = off;
        if (!e || !off)
            return false;
        n->interior_cap = want;
    }
    n->interior_edge[n->ninterior] = (uint32_t)edge;
    n->interior_offset[n->ninterior++] = offset;
    return true;
}

/* The interior list checked against the record's references: each k names one of them, in
 * increasing order, with an offset of at least 1. */
static int keep_interior(loader *L, hd__native *n, uint64_t first_edge)
{
    hd__native_loading *ld = n->loading;
    uint64_t nrefs = L->d->nedges - first_edge;
    char msg[160];
    for (uint32_t i = 0; i < ld->ninterior; i++) {
        uint64_t k = ld->interior[i][0], offset = ld->interior[i][1];
        if (k >= nrefs)
            snprintf(msg, sizeof msg, "'interior[%u]' names refs[%llu], but the object has %llu references",
                     i, (unsigned long long)k, (unsigned long long)nrefs);
        else if (i > 0 && k <= ld->interior[i - 1][0])
            snprintf(msg, sizeof msg, "'interior[%u]': refs[%llu] is not after the previous entry's "
                     "(each reference once, in increasing order)", i, (unsigned long long)k);
        else if (offset == 0)
            snprintf(msg, sizeof msg, "'interior[%u]': offset 0 (a start pointer is not listed)", i);
        else if (!push_interior(n, first_edge + k, offset))
            return oom(L);
        else
            continue;
        int rc = hd__problem(L, HD_EFORMAT, ld->interior_pos, "%s", msg);
        if (rc)
            return rc;
    }
    return HD_OK;
}

int hd__native_object_keep(loader *L, uint32_t o, uint64_t first_edge)
{
    hd__native *n = L->d->native;
    hd__native_loading *ld = n ? n->loading : NULL;
    if (!ld || !(ld->has_address || ld->has_thread || ld->has_interior))
        return HD_OK;
    int rc = HD_OK;
    if (ld->has_address || ld->has_thread) {
        if (!cover_object(n, o))
            rc = oom(L);
        else {
            n->obj_address[o] = ld->has_address ? ld->address : 0;
            n->obj_thread[o] = ld->has_thread ? (uint32_t)ld->thread : 0;
        }
    }
    if (rc == HD_OK && ld->has_interior)
        rc = keep_interior(L, n, first_edge);
    hd__native_object_drop(L->d);
    return rc;
}

/* --- resolution ------------------------------------------------------------------------------- */

#define LATER(section, index, ...)                                                               \
    do {                                                                                         \
        char msg_[200];                                                                          \
        snprintf(msg_, sizeof msg_, __VA_ARGS__);                                                \
        if ((rc = hd__later(L, section, index, HD_EINTEGRITY, "%s", msg_)))                                        \
            return rc;                                                                           \
    } while (0)

/* An id map over ids[0..count); duplicates are reported against the first of them. */
static int map_ids(loader *L, hd__idmap *map, const uint64_t *ids, uint32_t count,
                   const uint32_t *elem, enum section section, const char *what)
{
    int rc;
    if (hd__idmap_init_for(map, ids, count))
        return oom(L);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t at = hd__idmap_insert(map, ids, i);
        if (at == UINT32_MAX - 1)
            return oom(L);
        if (at != i)
            LATER(section, elem[i], "%s[%u]: duplicate %s id %llu (first at %s[%u])",
                  hd__section_names[section], elem[i], what, (unsigned long long)ids[i],
                  hd__section_names[section], elem[at]);
    }
    return HD_OK;
}

/* Following parent links from any node ends: a link that closes a loop is reported and cut, so
 * that the loaded tree is a tree even in validation mode. */
static int cut_loops(loader *L, hd__native *n)
{
    uint8_t *state = calloc(n->nstacks ? n->nstacks : 1, 1); /* 0 new, 1 on the walk, 2 done */
    if (!state)
        return oom(L);
    int rc = HD_OK;
    for (uint32_t s = 0; s < n->nstacks && rc == HD_OK; s++) {
        uint32_t v = s, last = HD_NONE;
        while (v != HD_NONE && state[v] == 0) {
            state[v] = 1;
            last = v;
            v = n->stack_parent[v];
        }
        if (v != HD_NONE && state[v] == 1) {
            uint32_t at = n->loading->stack_elem[last];
            char msg[200];
            snprintf(msg, sizeof msg, "stacks[%u]: following 'parent' from stack node %llu loops "
                     "back to node %llu", at, (unsigned long long)n->stack_id[last],
                     (unsigned long long)n->stack_id[v]);
            rc = hd__later(L, S_STACKS, at, HD_EINTEGRITY, "%s", msg);
            n->stack_parent[last] = HD_NONE;
        }
        for (v = s; v != HD_NONE && state[v] == 1; v = n->stack_parent[v])
            state[v] = 2;
    }
    free(state);
    return rc;
}

static int resolve_stacks(loader *L, hd__native *n)
{
    hd__native_loading *ld = n->loading;
    int rc;
    for (uint32_t s = 0; s < n->nstacks; s++) {
        uint32_t f = hd__idmap_find(&n->frame_map, n->frame_id, ld->stack_frame_id[s]);
        if (f == UINT32_MAX)
            LATER(S_STACKS, ld->stack_elem[s], "stacks[%u]: frame %llu is not in 'frames'",
                  ld->stack_elem[s], (unsigned long long)ld->stack_frame_id[s]);
        n->stack_frame[s] = f == UINT32_MAX ? HD_NONE : f;
        uint32_t p = HD_NONE;
        if (ld->stack_has_parent[s] &&
            (p = hd__idmap_find(&n->stack_map, n->stack_id, ld->stack_parent_id[s])) == UINT32_MAX) {
            p = HD_NONE;
            LATER(S_STACKS, ld->stack_elem[s], "stacks[%u]: parent %llu is not in 'stacks'",
                  ld->stack_elem[s], (unsigned long long)ld->stack_parent_id[s]);
        }
        n->stack_parent[s] = p;
    }
    return cut_loops(L, n);
}

static void free_loading(hd__native *n)
{
    hd__native_loading *ld = n->loading;
    if (!ld)
        return;
    free(ld->stack_frame_id);
    free(ld->stack_parent_id);
    free(ld->stack_has_parent);
    free(ld->stack_elem);
    free(ld->frame_elem);
    free(ld->site_stack_id);
    free(ld->site_elem);
    free(ld->interior);
    free(ld);
    n->loading = NULL;
}

int hd__native_resolve(loader *L)
{
    hd__native *n = L->d->native;
    if (!n || !n->loading)
        return HD_OK;
    hd__native_loading *ld = n->loading;
    int rc;
    if ((rc = map_ids(L, &n->frame_map, n->frame_id, n->nframes, ld->frame_elem, S_FRAMES, "frame")) ||
        (rc = map_ids(L, &n->stack_map, n->stack_id, n->nstacks, ld->stack_elem, S_STACKS, "stack node")) ||
        (rc = resolve_stacks(L, n)))
        return rc;
    for (uint32_t s = 0; s < n->nsite_stacks; s++) {
        if (n->site_stack[s] == HD_NONE)
            continue;
        n->site_stack[s] = hd__idmap_find(&n->stack_map, n->stack_id, ld->site_stack_id[s]);
        if (n->site_stack[s] == UINT32_MAX)
            LATER(S_SITES, ld->site_elem[s], "sites[%u]: stack %llu is not in 'stacks'",
                  ld->site_elem[s], (unsigned long long)ld->site_stack_id[s]);
    }
    free_loading(n);
    return HD_OK;
}
#undef LATER

bool hd__native_merge(hd_dump *d, hd_dump *p, uint32_t n1, uint64_t e1)
{
    hd__native *from = p->native;
    if (!from || (!from->nobjects && !from->ninterior))
        return true;
    hd__native *to = native_of(d);
    if (!to)
        return false;
    if (from->nobjects) {
        if (!cover_object(to, n1 + from->nobjects - 1))
            return false;
        memcpy(to->obj_address + n1, from->obj_address, (size_t)from->nobjects * 8);
        memcpy(to->obj_thread + n1, from->obj_thread, (size_t)from->nobjects * 4);
    }
    for (uint64_t i = 0; i < from->ninterior; i++)
        if (!push_interior(to, from->interior_edge[i] + e1, from->interior_offset[i]))
            return false;
    return true;
}

void hd__native_free(hd__native *n)
{
    if (!n)
        return;
    free_loading(n);
    void *arrays[] = {n->frame_id, n->frame_offset, n->frame_function, n->frame_file,
                      n->frame_module, n->frame_line, n->stack_id, n->stack_frame, n->stack_parent,
                      n->site_stack, n->obj_address, n->obj_thread, n->interior_edge,
                      n->interior_offset, n->root_offset};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    hd__idmap_free(&n->frame_map);
    hd__idmap_free(&n->stack_map);
    free(n);
}
