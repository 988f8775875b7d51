/* pool.c: the slow paths of the small-object allocator (pool.h has the invariants and the fast
 * paths): pools taken from the fullest arena and placed next to their class's previous pool,
 * arenas mapped from and returned to the OS, and the statistics sys._debugmallocstats() prints. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/internal.h"

static size_t class_size(unsigned idx) { return ((size_t)idx + 1) * HM__POOL_ALIGN; }

/* Blocks a pool of this class holds; the rest of the pool (after the header) is quantization. */
static size_t class_blocks(unsigned idx) { return (HM__POOL_SIZE - HM__POOL_OVERHEAD) / class_size(idx); }

/* Maps twice the size and trims it to an arena-aligned megabyte: every arena then holds the full
 * 64 pools (an unaligned mapping would lose one to alignment) at the price of two munmap calls
 * per arena, which is rare. */
static uint8_t *map_arena(void)
{
    size_t len = 2 * HM__ARENA_SIZE;
    uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uint8_t *a = (uint8_t *)(((uintptr_t)m + HM__ARENA_SIZE - 1) & ~(uintptr_t)(HM__ARENA_SIZE - 1));
    if (a > m)
        munmap(m, (size_t)(a - m));
    if (a + HM__ARENA_SIZE < m + len)
        munmap(a + HM__ARENA_SIZE, (size_t)(m + len - (a + HM__ARENA_SIZE)));
    return a;
}

static hm__arena *new_arena(hm__pools *P)
{
    if (hm__fault_hit(P->fault))
        return NULL;
    hm__arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->base = map_arena();
    if (!a->base) {
        free(a);
        return NULL;
    }
    HM__POISON(a->base, HM__ARENA_SIZE);
    a->nfreepools = (unsigned)HM__POOLS_PER_ARENA;
    a->next_all = P->all;
    if (P->all)
        P->all->prev_all = a;
    P->all = a;
    P->arenas_allocated++;
    if (++P->arenas_current > P->arenas_highwater)
        P->arenas_highwater = P->arenas_current;
    return a;
}

static void release_arena(hm__pools *P, hm__arena *a)
{
    if (a->prev_all)
        a->prev_all->next_all = a->next_all;
    else
        P->all = a->next_all;
    if (a->next_all)
        a->next_all->prev_all = a->prev_all;
    /* ASan keeps shadow state for the range: leave it clean for whoever maps it next. */
    HM__UNPOISON(a->base, HM__ARENA_SIZE);
    munmap(a->base, HM__ARENA_SIZE);
    free(a);
    P->arenas_current--;
    P->arenas_reclaimed++;
}

/* Which free pool of arena a class idx gets. The class's previous pool if it has emptied since
 * (its memory is warm), else the one right after it if free, so that the class's blocks continue
 * in one ascending run. Otherwise the class starts a run in the longest stretch of free pools: at
 * its start if nothing precedes it, else in its middle, leaving the run on its left room to grow. */
static unsigned choose_pool(const hm__pools *P, const hm__arena *a, unsigned idx)
{
    uint64_t free_map = ~a->inuse;
    uintptr_t last = P->last_pool[idx], base = (uintptr_t)a->base;
    if (last - base < HM__ARENA_SIZE) {
        unsigned prev = (unsigned)((last - base) / HM__POOL_SIZE);
        if (free_map >> prev & 1)
            return prev;
        if (prev + 1 < HM__POOLS_PER_ARENA && (free_map >> (prev + 1) & 1))
            return prev + 1;
    }
    unsigned best = 0, best_len = 0;
    for (unsigned i = 0; i < HM__POOLS_PER_ARENA;) {
        if (!(free_map >> i & 1)) {
            i++;
            continue;
        }
        unsigned start = i;
        while (i < HM__POOLS_PER_ARENA && (free_map >> i & 1))
            i++;
        if (i - start > best_len) {
            best = start;
            best_len = i - start;
        }
    }
    return best == 0 ? 0 : best + best_len / 2;
}

/* A pool for class idx from the head of `usable` (the fullest arena with room). Taking a pool
 * lowers the arena's count, which keeps it first. */
static hm__pool_hdr *take_pool(hm__pools *P, unsigned idx)
{
    if (!P->usable) {
        hm__arena *a = new_arena(P);
        if (!a)
            return NULL;
        a->nextarena = a->prevarena = NULL;
        P->usable = a;
        P->lasta[a->nfreepools] = a;
    }
    hm__arena *a = P->usable;
    if (P->lasta[a->nfreepools] == a)
        P->lasta[a->nfreepools] = NULL;
    if (a->nfreepools > 1)
        P->lasta[a->nfreepools - 1] = a;

    unsigned i = choose_pool(P, a, idx);
    a->inuse |= UINT64_C(1) << i;
    hm__pool_hdr *p = (hm__pool_hdr *)(void *)(a->base + (size_t)i * HM__POOL_SIZE);
    P->last_pool[idx] = (uintptr_t)p;
    if (--a->nfreepools == 0) { /* wholly allocated: off the usable list */
        P->usable = a->nextarena;
        if (P->usable)
            P->usable->prevarena = NULL;
        a->nextarena = a->prevarena = NULL;
    }
    HM__UNPOISON(p, HM__POOL_OVERHEAD);
    p->arena = a;
    return p;
}

void *hm__pool_alloc_slow(hm__pools *P, unsigned idx)
{
    hm__pool_hdr *p = take_pool(P, idx);
    if (!p)
        return NULL;
    size_t size = class_size(idx);
    p->szidx = idx;
    p->ref = 0;
    p->freeblock = NULL;
    p->nextoffset = (uint32_t)HM__POOL_OVERHEAD;
    p->maxnextoffset = (uint32_t)(HM__POOL_SIZE - size);
    p->prev = NULL;
    p->next = NULL; /* the list is empty, or we would not be here */
    P->used[idx] = P->used_tail[idx] = p;
    return hm__pool_alloc(P, size);
}

/* An empty pool goes back to its arena; the arena moves along `usable` to stay sorted, or goes
 * back to the OS when wholly free, unless it is the last one on the list (kept to absorb the next
 * burst: an allocate/free loop at an arena boundary would otherwise map and unmap every time). */
static void return_pool(hm__pools *P, hm__pool_hdr *p)
{
    hm__arena *a = p->arena;
    HM__POISON((uint8_t *)p + HM__POOL_OVERHEAD, HM__POOL_SIZE - HM__POOL_OVERHEAD);
    a->inuse &= ~(UINT64_C(1) << (((uint8_t *)p - a->base) / HM__POOL_SIZE));
    unsigned nf = a->nfreepools;
    hm__arena *lastnf = P->lasta[nf];
    if (lastnf == a) { /* a no longer has nf free pools: its left neighbour may be the last now */
        hm__arena *prev = a->prevarena;
        P->lasta[nf] = (prev && prev->nfreepools == nf) ? prev : NULL;
    }
    a->nfreepools = ++nf;

    if (nf == HM__POOLS_PER_ARENA && a->nextarena != NULL) {
        if (a->prevarena)
            a->prevarena->nextarena = a->nextarena;
        else
            P->usable = a->nextarena;
        a->nextarena->prevarena = a->prevarena;
        release_arena(P, a);
        return;
    }
    if (nf == 1) { /* it was full, so on no list: it is now the fullest with room */
        a->nextarena = P->usable;
        a->prevarena = NULL;
        if (P->usable)
            P->usable->prevarena = a;
        P->usable = a;
        if (!P->lasta[1])
            P->lasta[1] = a;
        return;
    }
    if (!P->lasta[nf])
        P->lasta[nf] = a;
    if (a == lastnf) /* it was the last with nf - 1: still in order */
        return;
    /* Move it after the last arena that had nf - 1 free pools. */
    if (a->prevarena)
        a->prevarena->nextarena = a->nextarena;
    else
        P->usable = a->nextarena;
    a->nextarena->prevarena = a->prevarena;
    a->prevarena = lastnf;
    a->nextarena = lastnf->nextarena;
    if (a->nextarena)
        a->nextarena->prevarena = a;
    lastnf->nextarena = a;
}

void hm__pool_free_slow(hm__pools *P, hm__pool_hdr *p, int was_full)
{
    if (p->ref == 0) {
        if (!was_full) { /* off the class's used list */
            if (p->prev)
                p->prev->next = p->next;
            else
                P->used[p->szidx] = p->next;
            if (p->next)
                p->next->prev = p->prev;
            else
                P->used_tail[p->szidx] = p->prev;
        }
        return_pool(P, p);
        return;
    }
    /* A full pool got a block back: last in line, to gather more frees before it is used again
     * (pool.h). */
    hm__pool_hdr *t = P->used_tail[p->szidx];
    p->next = NULL;
    p->prev = t;
    if (t)
        t->next = p;
    else
        P->used[p->szidx] = p;
    P->used_tail[p->szidx] = p;
}

void hm__pools_fini(hm__pools *P)
{
    while (P->all)
        release_arena(P, P->all);
    memset(P, 0, sizeof *P);
}

/* ---- statistics ---- */

void hm_pool_get_stats(const hm_heap *h, hm_pool_stats *out)
{
    memset(out, 0, sizeof *out);
    const hm__pools *P = &h->pools;
#ifdef HM_POOL_PASSTHROUGH
    out->pooled = false;
#else
    out->pooled = true;
#endif
    for (unsigned i = 0; i < HM__POOL_CLASSES; i++)
        out->classes[i].size = class_size(i);
    size_t pools_in_use = 0;
    for (const hm__arena *a = P->all; a; a = a->next_all) {
        for (uint64_t m = a->inuse; m; m &= m - 1) {
            size_t i = (size_t)__builtin_ctzll(m);
            const hm__pool_hdr *p = (const hm__pool_hdr *)(const void *)(a->base + i * HM__POOL_SIZE);
            hm_pool_class_stats *c = &out->classes[p->szidx];
            c->pools++;
            c->blocks_in_use += p->ref;
            c->blocks_available += class_blocks(p->szidx) - p->ref;
            pools_in_use++;
        }
    }
    for (unsigned i = 0; i < HM__POOL_CLASSES; i++) {
        const hm_pool_class_stats *c = &out->classes[i];
        out->bytes_in_allocated_blocks += c->blocks_in_use * c->size;
        out->bytes_in_available_blocks += c->blocks_available * c->size;
        out->bytes_lost_to_quantization += c->pools * ((HM__POOL_SIZE - HM__POOL_OVERHEAD) % c->size);
    }
    out->arenas_allocated = P->arenas_allocated;
    out->arenas_reclaimed = P->arenas_reclaimed;
    out->arenas_highwater = P->arenas_highwater;
    out->arenas_current = P->arenas_current;
    out->arena_bytes = P->arenas_current * HM__ARENA_SIZE;
    size_t pool_space = P->arenas_current * HM__POOLS_PER_ARENA * HM__POOL_SIZE;
    out->unused_pools = P->arenas_current * HM__POOLS_PER_ARENA - pools_in_use;
    out->bytes_in_unused_pools = out->unused_pools * HM__POOL_SIZE;
    out->bytes_in_pool_headers = pools_in_use * HM__POOL_OVERHEAD;
    out->bytes_lost_to_alignment = out->arena_bytes - pool_space; /* 0: arenas are aligned */
    out->large_blocks = P->large_blocks;
    out->large_bytes = P->large_bytes;
}

/* The text goes to a FILE or into a buffer, snprintf-style (counting what did not fit). */
typedef struct sink {
    FILE *f;
    char *buf;
    size_t size, len;
} sink;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void emit(sink *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s->f) {
        vfprintf(s->f, fmt, ap);
    } else {
        size_t room = s->len < s->size ? s->size - s->len : 0;
        int r = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
        if (r > 0)
            s->len += (size_t)r;
    }
    va_end(ap);
}

/* 1234567 -> "1,234,567", as CPython's printone does. */
static const char *commas(uint64_t v, char buf[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    int j = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = tmp[i];
    }
    buf[j] = '\0';
    return buf;
}

static void line(sink *s, const char *label, uint64_t v)
{
    char b[32];
    emit(s, "%-35s= %20s\n", label, commas(v, b));
}

static void format_stats(const hm_heap *h, sink *s)
{
    hm_pool_stats st;
    hm_pool_get_stats(h, &st);
    emit(s, "Small block threshold = %u, in %u size classes.\n\n", HM__POOL_SMALL_MAX,
         HM__POOL_CLASSES);
    emit(s, "class   size   num pools   blocks in use  avail blocks\n");
    emit(s, "-----   ----   ---------   -------------  ------------\n");
    for (unsigned i = 0; i < HM__POOL_CLASSES; i++) {
        const hm_pool_class_stats *c = &st.classes[i];
        if (c->pools)
            emit(s, "%5u %6zu %11zu %15zu %13zu\n", i, c->size, c->pools, c->blocks_in_use,
                 c->blocks_available);
    }
    emit(s, "\n");
    line(s, "# arenas allocated total", st.arenas_allocated);
    line(s, "# arenas reclaimed", st.arenas_reclaimed);
    line(s, "# arenas highwater mark", st.arenas_highwater);
    line(s, "# arenas allocated current", st.arenas_current);
    char label[64];
    snprintf(label, sizeof label, "%zu arenas * %zu bytes/arena", st.arenas_current, HM__ARENA_SIZE);
    line(s, label, st.arena_bytes);
    emit(s, "\n");
    line(s, "# bytes in allocated blocks", st.bytes_in_allocated_blocks);
    line(s, "# bytes in available blocks", st.bytes_in_available_blocks);
    snprintf(label, sizeof label, "%zu unused pools * %zu bytes", st.unused_pools, HM__POOL_SIZE);
    line(s, label, st.bytes_in_unused_pools);
    line(s, "# bytes lost to pool headers", st.bytes_in_pool_headers);
    line(s, "# bytes lost to quantization", st.bytes_lost_to_quantization);
    line(s, "# bytes lost to arena alignment", st.bytes_lost_to_alignment);
    line(s, "Total", st.bytes_in_allocated_blocks + st.bytes_in_available_blocks +
                         st.bytes_in_unused_pools + st.bytes_in_pool_headers +
                         st.bytes_lost_to_quantization + st.bytes_lost_to_alignment);
    emit(s, "\n");
    line(s, "# large blocks (malloc)", st.large_blocks);
    line(s, "# bytes in large blocks", st.large_bytes);
}

int hm_pool_print_stats(const hm_heap *h, FILE *f)
{
    if (!h || !f)
        return HM_EINVAL;
    sink s = {.f = f};
    format_stats(h, &s);
    return HM_OK; /* write errors are the stream's: ferror(f), as after fprintf */
}

size_t hm_pool_format_stats(const hm_heap *h, char *buf, size_t size)
{
    if (!h)
        return 0;
    sink s = {.buf = buf, .size = buf ? size : 0};
    format_stats(h, &s);
    return s.len;
}
