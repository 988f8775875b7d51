/* pool.h: the per-heap small-object allocator after CPython's obmalloc: its structures and the
 * inline fast paths alloc.c uses; pool.c has the slow paths (new pools, arenas, statistics).
 *
 * Invariants: a pool with a free or uncarved block and at least one block in use is on its size
 * class's `used` list; a full pool is on no list; a pool holds blocks exactly when its bit is set
 * in its arena's `inuse` map (an empty pool's bit is clear, whether it was used before or not).
 * A full pool that gets a block back joins the tail of its class's list, not the head (CPython's
 * usedpools puts it first): at the head the next allocation of the class fills it again at once,
 * and under random churn with the live blocks near the pools' capacity about half of all frees and
 * allocations then went through the full<->used transition (a mispredicted branch and list
 * surgery each); at the tail it gathers more frees before allocation comes back to it.
 * The `usable` arena list holds the arenas with a free pool, sorted by free pools ascending, so
 * that new pools come from the fullest arena and nearly empty arenas get a chance to empty and be
 * returned to the OS. Within that arena a class's new pool goes right after its previous one when
 * that pool is free (pool.c, choose_pool): objects made one after another then lie in one
 * ascending run of memory, which is what the hardware prefetcher follows when the collector walks
 * them in that order. */
#ifndef HM_POOL_H
#define HM_POOL_H

#include <stdint.h>
#include <stddef.h>

#define HM__POOL_ALIGN 16u
#define HM__POOL_SMALL_MAX 512u
#define HM__POOL_CLASSES (HM__POOL_SMALL_MAX / HM__POOL_ALIGN)
#define HM__POOL_SIZE ((size_t)16 * 1024)
#define HM__ARENA_SIZE ((size_t)1024 * 1024)
#define HM__POOLS_PER_ARENA (HM__ARENA_SIZE / HM__POOL_SIZE)

/* Under ASan the allocator still runs (its statistics stay testable) but freed and never-carved
 * blocks are poisoned, so a use after free or an overrun into a neighbour is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define HM__POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HM__POOL_ASAN 1
#endif
#endif
#ifdef HM__POOL_ASAN
#include <sanitizer/asan_interface.h>
#define HM__POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define HM__UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define HM__POISON(p, n) ((void)(p), (void)(n))
#define HM__UNPOISON(p, n) ((void)(p), (void)(n))
#endif

typedef struct hm__arena hm__arena;

/* At the start of every pool; pools are HM__POOL_SIZE-aligned, so a block finds its header by
 * masking its address. */
typedef struct hm__pool_hdr {
    uint8_t *freeblock;           /* freed blocks, linked through their first word */
    struct hm__pool_hdr *next, *prev; /* the class's used list */
    hm__arena *arena;
    uint32_t ref;                 /* blocks in use; 0 for an empty pool */
    uint32_t szidx;               /* size class: blocks of (szidx + 1) * 16 bytes */
    uint32_t nextoffset;          /* first block never handed out (lazy carving) */
    uint32_t maxnextoffset;       /* last offset a whole block fits at */
} hm__pool_hdr;

/* The header's room in a pool, rounded so that blocks stay 16-byte aligned. */
#define HM__POOL_OVERHEAD ((sizeof(hm__pool_hdr) + HM__POOL_ALIGN - 1) & ~(size_t)(HM__POOL_ALIGN - 1))

/* Arena descriptors live outside the arenas (malloc), as CPython's arena_objects do. Arenas are
 * mapped arena-aligned, so each holds exactly HM__POOLS_PER_ARENA pools: one bit each. */
_Static_assert(HM__POOLS_PER_ARENA == 64, "the inuse map is one 64-bit word");
struct hm__arena {
    uint8_t *base;       /* the mapping, HM__ARENA_SIZE bytes */
    uint64_t inuse;      /* bit i: pool i holds blocks of some class */
    unsigned nfreepools; /* pools whose bit is clear */
    hm__arena *nextarena, *prevarena; /* the usable list */
    hm__arena *next_all, *prev_all;   /* every arena, for statistics and teardown */
};

typedef struct hm__pools {
    hm__pool_hdr *used[HM__POOL_CLASSES]; /* pools with room, by class */
    hm__pool_hdr *used_tail[HM__POOL_CLASSES]; /* the last of each, where a refilled pool joins */
    /* The address of the pool each class took last: only compared, never dereferenced (the pool
     * may have been returned, and its arena unmapped, since). */
    uintptr_t last_pool[HM__POOL_CLASSES];
    hm__arena *usable;                   /* arenas with a free pool, fullest first */
    /* lasta[n]: the last arena on `usable` with n free pools, so that keeping the list sorted
     * costs O(1) per pool returned (CPython's nfp2lasta). */
    hm__arena *lasta[HM__POOLS_PER_ARENA + 1];
    hm__arena *all;
    uint64_t arenas_allocated, arenas_reclaimed;
    size_t arenas_current, arenas_highwater;
    size_t large_blocks, large_bytes; /* requests above HM__POOL_SMALL_MAX, given to malloc */
    struct hm__fault *fault;          /* the heap's failure injection: a new arena counts once */
} hm__pools;

void *hm__pool_alloc_slow(hm__pools *P, unsigned idx);
void hm__pool_free_slow(hm__pools *P, hm__pool_hdr *p, int was_full);
void hm__pools_fini(hm__pools *P);

static inline unsigned hm__pool_class(size_t size) { return (unsigned)((size - 1) >> 4); }

static inline int hm__pool_full(const hm__pool_hdr *p)
{
    return p->freeblock == NULL && p->nextoffset > p->maxnextoffset;
}

/* size in 1..HM__POOL_SMALL_MAX */
static inline void *hm__pool_alloc(hm__pools *P, size_t size)
{
    unsigned idx = hm__pool_class(size);
    hm__pool_hdr *p = P->used[idx];
    if (__builtin_expect(p == NULL, 0))
        return hm__pool_alloc_slow(P, idx);
    size_t bsize = ((size_t)idx + 1) * HM__POOL_ALIGN;
    uint8_t *b = p->freeblock;
    if (b) {
        HM__UNPOISON(b, bsize);
        p->freeblock = *(uint8_t **)(void *)b;
    } else {
        b = (uint8_t *)p + p->nextoffset;
        p->nextoffset += (uint32_t)bsize;
        HM__UNPOISON(b, bsize);
    }
    p->ref++;
    if (hm__pool_full(p)) { /* full pools leave the list until a block comes back */
        P->used[idx] = p->next;
        if (p->next)
            p->next->prev = NULL;
        else
            P->used_tail[idx] = NULL;
        p->next = p->prev = NULL;
    }
    return b;
}

static inline void hm__pool_free(hm__pools *P, void *ptr, size_t size)
{
    hm__pool_hdr *p = (hm__pool_hdr *)((uintptr_t)ptr & ~(uintptr_t)(HM__POOL_SIZE - 1));
    int was_full = hm__pool_full(p);
    *(uint8_t **)ptr = p->freeblock;
    p->freeblock = ptr;
    HM__POISON(ptr, ((size_t)hm__pool_class(size) + 1) * HM__POOL_ALIGN);
    if (__builtin_expect(--p->ref == 0 || was_full, 0))
        hm__pool_free_slow(P, p, was_full);
}

#endif /* HM_POOL_H */
