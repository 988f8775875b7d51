/* scan.c: in the snapshot child, the conservative scan, as memcheck and LeakSanitizer do it:
 * every aligned word of a root range (the writable segments of every module, every registered
 * thread's stack, static TLS and registers) and of every live block that
 * holds the address of a live block's byte is a pointer to that block: at its start, or into its
 * middle (interior). One exception: pointers into a block's middle from libc's own data are not
 * counted, because malloc's bookkeeping there (the top chunk, the bins) points at chunk headers,
 * which lie in the last 16 bytes of the block before: they would make any block look "possibly
 * lost". A program's pointer from libc's data (stdio's list of open FILEs) is a start pointer.
 * Lookup: blocks sorted by address; a hash of 4 KiB pages gives the blocks that start in a word's
 * page, and a short list of the blocks that cross page boundaries covers the others. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "record/record.h"

#define PAGE_SHIFT 12

struct rec_page {
    uint64_t page;   /* page number + 1; 0: empty slot */
    uint32_t first;  /* first block starting in it */
    uint32_t count;
};

/* LSD radix sort on key, 16 bits a pass, as many passes as the largest key needs; tmp holds n
 * records and count 65536. */
static void radix_sort(rec_keyed *a, rec_keyed *tmp, size_t *count, size_t n)
{
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        max |= a[i].key;
    for (unsigned shift = 0; shift < 64 && (max >> shift); shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(a[i].key >> shift) & 0xffff]++;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(a[i].key >> shift) & 0xffff]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
}

static inline size_t page_hash(uint64_t page, size_t mask)
{
    return (size_t)((page * 0x9e3779b97f4a7c15ULL) >> 20) & mask;
}

static int index_pages(rec_heap *h)
{
    size_t npages = 0;
    for (size_t i = 0; i < h->n; i++)
        if (i == 0 || h->blocks[i].addr >> PAGE_SHIFT != h->blocks[i - 1].addr >> PAGE_SHIFT)
            npages++;
    size_t slots = 16;
    while (slots < npages * 2)
        slots *= 2;
    h->pages = calloc(slots, sizeof *h->pages);
    h->spanning = malloc((h->n + 1) * sizeof *h->spanning);
    if (!h->pages || !h->spanning)
        return ENOMEM;
    h->page_mask = slots - 1;
    rec_page *cur = NULL;
    for (size_t i = 0; i < h->n; i++) {
        uintptr_t a = h->blocks[i].addr, end = a + h->blocks[i].size;
        uint64_t page = (a >> PAGE_SHIFT) + 1;
        if (!cur || cur->page != page) {
            size_t s = page_hash(page, h->page_mask);
            while (h->pages[s].page)
                s = (s + 1) & h->page_mask;
            cur = &h->pages[s];
            *cur = (rec_page){.page = page, .first = (uint32_t)i};
        }
        cur->count++;
        if (end > 0 && (end - 1) >> PAGE_SHIFT != a >> PAGE_SHIFT)
            h->spanning[h->nspanning++] = (uint32_t)i;
        h->hi = end > h->hi ? end : h->hi;
    }
    h->lo = h->n ? h->blocks[0].addr : 0;
    return 0;
}

/* Gives block i an id no block has: its record claimed one another block has (the program
 * overwrote a record with one that passed for real). Fresh ids follow every id given out. */
static void fresh_id(rec_heap *h, size_t i)
{
    rec_block *b = &h->blocks[i];
    *b = rec_block_make(b->addr, b->size, 0, atomic_fetch_add(&rec_next_seq, 1), 0);
    rec_damaged_records++;
}

/* by_id: the blocks' indices in id order. Ids are unique (fresh_id): when they span at most 4
 * times as many numbers as there are blocks (a heap built up front), each index goes straight to
 * its id's place in a table over the span, in a quarter of a radix sort's memory; otherwise the
 * radix sort. */
static int order_by_id(rec_heap *h)
{
    size_t n = h->n, k = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = h->blocks[i].seq < lo ? h->blocks[i].seq : lo;
        hi = h->blocks[i].seq > hi ? h->blocks[i].seq : hi;
    }
    if (n && hi - lo < 4 * (uint64_t)n) {
        uint32_t *at = calloc(hi - lo + 1, sizeof *at); /* index + 1; 0: no block has that id */
        if (!at)
            return ENOMEM;
        for (size_t i = 0; i < n; i++) {
            if (at[h->blocks[i].seq - lo])
                fresh_id(h, i); /* past hi: placed after the others */
            else
                at[h->blocks[i].seq - lo] = (uint32_t)i + 1;
        }
        for (size_t id = 0; id <= hi - lo; id++)
            if (at[id])
                h->by_id[k++] = at[id] - 1;
        for (size_t i = 0; i < n; i++)
            if (h->blocks[i].seq > hi)
                h->by_id[k++] = (uint32_t)i;
        free(at);
        return 0;
    }
    rec_keyed *sorted = malloc(n * sizeof *sorted + 1), *tmp = malloc(n * sizeof *tmp + 1);
    size_t *count = malloc(65536 * sizeof *count);
    if (!sorted || !tmp || !count)
        return ENOMEM;
    for (size_t i = 0; i < n; i++)
        sorted[i] = (rec_keyed){.key = h->blocks[i].seq, .index = i};
    radix_sort(sorted, tmp, count, n);
    size_t ndup = 0; /* the blocks given fresh ids, in tmp: placed after the others */
    for (size_t i = 0; i < n; i++) {
        if (i && sorted[i].key == sorted[i - 1].key) {
            fresh_id(h, sorted[i].index);
            tmp[ndup++].index = sorted[i].index;
        } else {
            h->by_id[k++] = (uint32_t)sorted[i].index;
        }
    }
    for (size_t i = 0; i < ndup; i++)
        h->by_id[k++] = (uint32_t)tmp[i].index;
    free(sorted), free(tmp), free(count);
    return 0;
}

/* Memory is what costs most here (fresh pages are zeroed, and a snapshot child's are never given
 * back): the blocks come from the table already in address order. */
int rec_heap_build(rec_heap *h)
{
    *h = (rec_heap){0};
    size_t cap = rec_blocks_count();
    h->blocks = malloc(cap * sizeof *h->blocks + 1);
    h->by_id = malloc(cap * sizeof *h->by_id + 1);
    if (!h->blocks || !h->by_id)
        return ENOMEM;
    h->n = rec_blocks_sorted(h->blocks, cap);
    int err = order_by_id(h);
    return err ? err : index_pages(h);
}

static inline bool covers(const rec_block *b, uintptr_t w)
{
    return w >= b->addr && (w - b->addr < b->size || w == b->addr);
}

long rec_heap_find(const rec_heap *h, uintptr_t w, uint64_t *offset)
{
    if (w < h->lo || w >= h->hi)
        return -1;
    uint64_t page = (w >> PAGE_SHIFT) + 1;
    size_t s = page_hash(page, h->page_mask);
    while (h->pages[s].page && h->pages[s].page != page)
        s = (s + 1) & h->page_mask;
    long found = -1;
    if (h->pages[s].page) {
        /* The last block of the page starting at or before w; else the block before the page. */
        size_t lo = h->pages[s].first, hi = lo + h->pages[s].count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (h->blocks[mid].addr <= w)
                lo = mid + 1;
            else
                hi = mid;
        }
        found = (long)lo - 1;
    } else {
        size_t lo = 0, hi = h->nspanning;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (h->blocks[h->spanning[mid]].addr <= w)
                lo = mid + 1;
            else
                hi = mid;
        }
        found = lo ? (long)h->spanning[lo - 1] : -1;
    }
    if (found < 0 || !covers(&h->blocks[found], w))
        return -1;
    *offset = w - h->blocks[found].addr;
    return found;
}

/* ---- roots ---- */

typedef struct roots {
    rec_root *a;
    size_t n, cap;
    const rec_heap *heap;
    rec_maps maps;
} roots;

static int push(roots *r, rec_root root)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        rec_root *a = realloc(r->a, cap * sizeof *a);
        if (!a)
            return ENOMEM;
        r->a = a;
        r->cap = cap;
    }
    r->a[r->n++] = root;
    return 0;
}

/* Scans the aligned words of [lo, hi), which must be readable. */
static int scan_words(roots *r, uintptr_t lo, uintptr_t hi, rec_root proto, bool start_only)
{
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        uint64_t off;
        long k = rec_heap_find(r->heap, *(const uintptr_t *)p, &off);
        if (k < 0 || (start_only && off))
            continue;
        proto.block = (uint32_t)k;
        proto.offset = off;
        proto.where = p;
        if (push(r, proto))
            return ENOMEM;
    }
    return 0;
}

/* Scans the words of [lo, hi) that are mapped readable; words in [skip_lo, skip_hi) are left
 * to another range. */
static int scan_range(roots *r, uintptr_t lo, uintptr_t hi, uintptr_t skip_lo, uintptr_t skip_hi,
                      rec_root proto, bool start_only)
{
    for (size_t m = 0; m < r->maps.nreadable; m++) {
        uintptr_t a = lo > r->maps.readable[m].lo ? lo : r->maps.readable[m].lo;
        uintptr_t b = hi < r->maps.readable[m].hi ? hi : r->maps.readable[m].hi;
        if (a >= b)
            continue;
        if (skip_lo < b && skip_hi > a) {
            if ((skip_lo > a && scan_words(r, a, skip_lo, proto, start_only)) ||
                (skip_hi < b && scan_words(r, skip_hi, b, proto, start_only)))
                return ENOMEM;
        } else if (scan_words(r, a, b, proto, start_only)) {
            return ENOMEM;
        }
    }
    return 0;
}

/* ---- the program's own anonymous mappings ---- */

/* A heap of one of glibc's malloc arenas but the main one: at most 64 MiB at an address aligned
 * to 64 MiB, starting with its heap_info (arena, previous heap, size, protected size). Its end,
 * or 0 when at is no such heap. */
#define ARENA_HEAP_MAX ((uintptr_t)64 << 20)
static uintptr_t arena_heap_end(uintptr_t at, uintptr_t hi)
{
    const uintptr_t *info = (const uintptr_t *)at;
    if (at % ARENA_HEAP_MAX || hi - at < 4 * sizeof *info)
        return 0;
    uintptr_t size = info[2], protected = info[3];
    if (!info[0] || !size || size > protected || protected > ARENA_HEAP_MAX || size % 4096)
        return 0;
    return at + protected;
}

static int by_lo(const void *a, const void *b)
{
    uintptr_t x = ((const rec_range *)a)->lo, y = ((const rec_range *)b)->lo;
    return x < y ? -1 : x > y;
}

/* The first block at or after address a. */
static size_t first_block_from(const rec_heap *h, uintptr_t a)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->blocks[mid].addr < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Scans [lo, hi) but the sorted ranges of skip and the live blocks (with the 16 bytes before
 * each, malloc's chunk header). */
static int scan_between(roots *r, uintptr_t lo, uintptr_t hi, const rec_range *skip, size_t nskip,
                        rec_root proto)
{
    const rec_heap *h = r->heap;
    size_t k = first_block_from(h, lo), s = 0;
    for (uintptr_t p = lo; p < hi;) {
        while (s < nskip && skip[s].hi <= p)
            s++;
        while (k < h->n && h->blocks[k].addr + h->blocks[k].size <= p)
            k++;
        uintptr_t next = hi, resume = hi;
        if (s < nskip && skip[s].lo < next)
            next = skip[s].lo, resume = skip[s].hi;
        if (k < h->n && h->blocks[k].addr - 16 < next) {
            next = h->blocks[k].addr - 16;
            resume = h->blocks[k].addr + (h->blocks[k].size ? h->blocks[k].size : 1);
        }
        if (next > p && scan_words(r, p, next < hi ? next : hi, proto, false))
            return ENOMEM;
        p = resume > p ? resume : p + 8;
    }
    return 0;
}

/* Private writable anonymous mappings are roots, as memcheck counts them: what a program keeps
 * in memory it mapped itself (or a custom allocator's arenas). Left out: the recorder's own
 * memory, the modules' data and the threads' stacks (scanned as such), malloc's arenas and
 * chunks, and the heap's blocks themselves. */
static int scan_mappings(roots *r, const rec_world *w)
{
    size_t nown;
    const rec_range *own = rec_own_memory(&nown);
    if (nown == SIZE_MAX)
        return 0; /* the recorder's memory cannot be told apart: no mapping is trusted */
    size_t cap = nown + w->nmodules * 4 + w->nthreads, n = 0;
    for (size_t i = 0; i < r->maps.nanonymous; i++) /* room for an arena heap at each aligned address */
        cap += (r->maps.anonymous[i].hi - r->maps.anonymous[i].lo) / ARENA_HEAP_MAX + 1;
    rec_range *skip = malloc(cap * sizeof *skip);
    if (!skip)
        return ENOMEM;
    for (size_t i = 0; i < nown; i++)
        skip[n++] = own[i];
    for (size_t m = 0; m < w->nmodules; m++)
        for (int s = 0; s < w->modules[m].nrw; s++)
            skip[n++] = (rec_range){w->modules[m].rw_lo[s], w->modules[m].rw_hi[s]};
    for (size_t t = 0; t < w->nthreads; t++)
        skip[n++] = (rec_range){w->threads[t].stack_lo, w->threads[t].stack_hi};
    size_t fixed = n;
    int err = 0;
    for (size_t i = 0; !err && i < r->maps.nanonymous; i++) {
        rec_range m = r->maps.anonymous[i];
        n = fixed;
        for (uintptr_t at = (m.lo + ARENA_HEAP_MAX - 1) & ~(ARENA_HEAP_MAX - 1); at < m.hi && at >= m.lo;
             at += ARENA_HEAP_MAX) {
            uintptr_t end = arena_heap_end(at, m.hi);
            if (end)
                skip[n++] = (rec_range){at, end};
        }
        qsort(skip, n, sizeof *skip, by_lo);
        rec_root proto = {.kind = ROOT_GLOBAL, .module = -1, .base = m.lo};
        err = scan_between(r, m.lo, m.hi, skip, n, proto);
        fixed = n; /* sorted now; the arenas found stay: they lie in this mapping only */
    }
    free(skip);
    return err;
}

/* A thread's roots: its static TLS blocks (just below its thread pointer) and its control block
 * (from the thread pointer on) as tls, the rest of its stack as stack. An exited thread whose
 * stack glibc still caches has only its control block. */
static int scan_thread(roots *r, const rec_world *w, const rec_thread *th)
{
    uintptr_t tls_lo = th->tp, tls_hi = th->tp + w->tcb_size;
    rec_root tls = {.kind = ROOT_TLS, .thread = th->number, .exited = th->exited};
    for (size_t m = 0; !th->exited && m < w->nmodules; m++) {
        const rec_module *mod = &w->modules[m];
        if (!mod->tls_size || mod->self)
            continue;
        uintptr_t a = th->tp + mod->tls_offset;
        tls_lo = a < tls_lo ? a : tls_lo;
        if (scan_range(r, a, a + mod->tls_size, 0, 0, tls, mod->libc))
            return ENOMEM;
    }
    if (scan_range(r, th->tp, tls_hi, 0, 0, tls, false))
        return ENOMEM;
    if (th->exited)
        return 0;
    /* A stopped thread's stack from its stack pointer, less the red zone a leaf function may
     * use below it; the thread that asked, from the frame that asked. */
    uintptr_t lo = th->stack_lo;
    const greg_t *regs = NULL;
    if (th->number == w->current_thread) {
        lo = w->current_sp;
        regs = ((const ucontext_t *)w->regs)->uc_mcontext.gregs;
    } else if (th->has_regs) {
        lo = (uintptr_t)th->regs[REG_RSP] - 128;
        regs = th->regs;
    }
    rec_root stack = {.kind = ROOT_STACK, .thread = th->number};
    rec_root registers = {.kind = ROOT_REGISTERS, .thread = th->number};
    if (regs && scan_range(r, (uintptr_t)regs, (uintptr_t)(regs + NGREG), 0, 0, registers, false))
        return ENOMEM;
    if (lo < th->stack_lo || lo >= th->stack_hi) /* on an alternate signal stack: all of it */
        lo = th->stack_lo;
    return scan_range(r, lo, th->stack_hi, tls_lo, tls_hi, stack, false);
}

static int scan_threads(roots *r, const rec_world *w)
{
    for (size_t t = 0; t < w->nthreads; t++)
        if (scan_thread(r, w, &w->threads[t]))
            return ENOMEM;
    return 0;
}

static const rec_heap *sort_heap;
static int by_block_id(const void *a, const void *b)
{
    uint64_t x = sort_heap->blocks[((const rec_root *)a)->block].seq;
    uint64_t y = sort_heap->blocks[((const rec_root *)b)->block].seq;
    return x < y ? -1 : x > y;
}

int rec_scan_roots(const rec_heap *h, const rec_world *w, rec_root **out, size_t *n)
{
    roots r = {.heap = h};
    int err = rec_maps_read(&r.maps);
    for (size_t m = 0; !err && m < w->nmodules; m++) {
        const rec_module *mod = &w->modules[m];
        rec_root proto = {.kind = ROOT_GLOBAL, .module = (int16_t)m};
        for (int s = 0; !err && !mod->self && s < mod->nrw; s++)
            err = scan_range(&r, mod->rw_lo[s], mod->rw_hi[s], 0, 0, proto, mod->libc);
    }
    if (!err)
        err = scan_threads(&r, w);
    if (!err)
        err = scan_mappings(&r, w);
    if (err)
        return err;
    sort_heap = h;
    qsort(r.a, r.n, sizeof *r.a, by_block_id);
    *out = r.a;
    *n = r.n;
    return 0;
}
