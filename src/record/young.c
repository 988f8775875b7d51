/* young.c: each thread's young blocks, in front of the shared table (blocks.c). Most blocks die
 * young, freed by the thread that made them a little after: such a pair never reaches the shared
 * table, whose radix walk, buckets and growth are most of a malloc's cost at depth 0. A thread
 * keeps its last blocks in a small set-associative table of its own (NSETS sets of WAYS records,
 * by address); a new block that finds its set full moves the set's oldest to the shared table.
 * Invariants:
 * - a live block is in exactly one place: a thread's young blocks or the shared table; it only
 *   ever moves from the first to the second, under its young table's lock, inserted there before
 *   it leaves the young table;
 * - a young table's lock is taken by its owner on each malloc and free, and by another thread
 *   only to free one of its blocks or for a dump: uncontended, it costs one atomic exchange;
 * - lock order: the list's lock, then young tables' locks, then the shared table's;
 * - a block freed by another thread is looked for in the shared table, then in every young
 *   table, then in the shared table again (its owner may have moved it meanwhile): never missed;
 * - a young table is never unmapped: a thread that ends moves its blocks to the shared table and
 *   leaves the table empty for the next thread.
 * A thread whose blocks mostly outlive their stay (more than half of a WINDOW of inserts pushed
 * an older one out) bypasses its young table for the next BYPASS allocations, the table emptied:
 * blocks pushed out arrive in the shared table out of address order, which costs it the locality
 * it is built for (CPython building long-lived structures ran slower through the young table). */
#include <stdlib.h>

#include "record/record.h"

#define SET_BITS 9
#define NSETS (1u << SET_BITS)
#define WAYS 4

#define WINDOW 8192
#define BYPASS 65536

typedef struct young {
    rec_lock lock;
    bool in_use;              /* a running thread's (under list_lock) */
    size_t count;             /* blocks held */
    unsigned inserts, evictions; /* in this window (the owner's alone) */
    struct young *next;       /* every young table made, newest first; never shortened */
    rec_block set[NSETS][WAYS]; /* addr 0: empty */
} young;

static _Atomic(young *) all;
static rec_lock list_lock;
static REC_TLS young *mine;
static REC_TLS bool none; /* the thread ended, or no memory: its blocks go to the shared table */
static REC_TLS unsigned bypass_left; /* allocations still to bypass the (empty) young table */

bool rec_blocks_init(void) { return rec_table_init(); }

/* Spreads neighbouring blocks over neighbouring sets, and strided ones (page-aligned buffers)
 * over all of them. */
static inline rec_block *set_of(young *y, uintptr_t a)
{
    return y->set[((a >> 4) ^ (a >> 13)) & (NSETS - 1)];
}

/* The calling thread's young table: an ended thread's, or a new one. NULL: use the shared table. */
static young *my_young(void)
{
    if (REC_LIKELY(mine) || none)
        return mine;
    rec_lock_take(&list_lock);
    young *y = atomic_load_explicit(&all, memory_order_relaxed);
    while (y && y->in_use)
        y = y->next;
    if (!y && (y = rec_map(sizeof *y))) {
        y->next = atomic_load_explicit(&all, memory_order_relaxed);
        atomic_store_explicit(&all, y, memory_order_release);
    }
    if (y)
        y->in_use = true;
    rec_lock_give(&list_lock);
    none = !y;
    return mine = y;
}

void rec_blocks_prefetch(uintptr_t addr)
{
    if (mine && !bypass_left)
        __builtin_prefetch(set_of(mine, addr), 1);
    else /* the block is in the shared table: its cache miss is the one to start early */
        rec_table_prefetch(addr);
}

/* Moves every block of y to the shared table, under y's lock. */
static void empty(young *y)
{
    for (unsigned i = 0; i < NSETS; i++)
        for (unsigned w = 0; w < WAYS; w++)
            if (y->set[i][w].addr) {
                if (!rec_table_insert(&y->set[i][w]))
                    rec_out_of_memory();
                __atomic_store_n(&y->set[i][w].addr, (uintptr_t)0, __ATOMIC_RELAXED); /* mine_has reads it */
            }
    y->count = 0;
}

/* Ends a window of y's inserts: bypass y for a while when most of them pushed an older block out. */
static void window_end(young *y)
{
    if (y->evictions * 2 > y->inserts) {
        rec_lock_take(&y->lock);
        empty(y);
        rec_lock_give(&y->lock);
        bypass_left = BYPASS;
    }
    y->inserts = y->evictions = 0;
}

bool rec_blocks_insert(const rec_block *b)
{
    if (REC_UNLIKELY(bypass_left)) {
        bypass_left--;
        return rec_table_insert(b);
    }
    young *y = my_young();
    if (!y)
        return rec_table_insert(b);
    if (REC_UNLIKELY(++y->inserts == WINDOW)) {
        window_end(y);
        if (bypass_left)
            return rec_table_insert(b); /* the young table stays empty while bypassed */
    }
    bool ok = true;
    rec_lock_take(&y->lock);
    rec_block *set = set_of(y, b->addr), *slot = NULL;
    for (unsigned w = 0; w < WAYS; w++) {
        if (set[w].addr == b->addr) { /* freed where the recorder could not see it */
            slot = &set[w];
            y->count--;
            break;
        }
        if (!set[w].addr && !slot)
            slot = &set[w];
    }
    if (!slot) { /* the set is full: its oldest goes to the shared table */
        slot = &set[0];
        for (unsigned w = 1; w < WAYS; w++)
            if (set[w].seq < slot->seq)
                slot = &set[w];
        ok = rec_table_insert(slot);
        y->count -= ok;
        y->evictions++;
    }
    if (ok) {
        *slot = *b;
        y->count++;
    }
    rec_lock_give(&y->lock);
    return ok;
}

/* addr is in the caller's own young table: read without the lock. Only the owner puts a block
 * there, and a block being freed by its owner is taken out by no one else meanwhile, so the
 * answer for addr cannot change under the read (other slots may). */
static bool mine_has(uintptr_t addr)
{
    rec_block *set = set_of(mine, addr);
    for (unsigned w = 0; w < WAYS; w++)
        if (__atomic_load_n(&set[w].addr, __ATOMIC_RELAXED) == addr)
            return true;
    return false;
}

/* Takes addr out of y, copying it to *out when non-NULL; false when it is not there. */
static bool take(young *y, uintptr_t addr, rec_block *out)
{
    rec_lock_take(&y->lock);
    rec_block *set = set_of(y, addr);
    unsigned w = 0;
    while (w < WAYS && set[w].addr != addr)
        w++;
    if (w < WAYS) {
        if (out)
            *out = set[w];
        __atomic_store_n(&set[w].addr, (uintptr_t)0, __ATOMIC_RELAXED); /* mine_has reads it */
        y->count--;
    }
    rec_lock_give(&y->lock);
    return w < WAYS;
}

/* A block that is neither the caller's young one nor in the shared table a moment ago: another
 * thread's young one, or moved from there to the shared table since; or not live at all. */
static bool take_elsewhere(uintptr_t addr, rec_block *out)
{
    for (young *y = atomic_load_explicit(&all, memory_order_acquire); y; y = y->next)
        if (y != mine && take(y, addr, out))
            return true;
    return rec_table_remove(addr, out);
}

bool rec_blocks_remove(uintptr_t addr, rec_block *out)
{
    if (mine && !bypass_left && mine_has(addr) && take(mine, addr, out))
        return true;
    return rec_table_remove(addr, out) || take_elsewhere(addr, out);
}

void rec_blocks_free(void *p, void (*release)(void *))
{
    if (mine && !bypass_left && mine_has((uintptr_t)p) && take(mine, (uintptr_t)p, NULL)) {
        release(p);
        return;
    }
    if (rec_table_free(p, release))
        return;
    take_elsewhere((uintptr_t)p, NULL);
    release(p);
}

void rec_blocks_thread_exit(void)
{
    young *y = mine;
    none = true;
    mine = NULL;
    if (!y)
        return;
    rec_lock_take(&y->lock);
    empty(y);
    y->inserts = y->evictions = 0;
    rec_lock_give(&y->lock);
    rec_lock_take(&list_lock);
    y->in_use = false;
    rec_lock_give(&list_lock);
}

void rec_blocks_lock_all(void)
{
    rec_lock_take(&list_lock);
    for (young *y = atomic_load(&all); y; y = y->next)
        rec_lock_take(&y->lock);
    rec_table_lock_all();
}

void rec_blocks_unlock_all(void)
{
    rec_table_unlock_all();
    for (young *y = atomic_load(&all); y; y = y->next)
        rec_lock_give(&y->lock);
    rec_lock_give(&list_lock);
}

size_t rec_blocks_count(void)
{
    size_t n = rec_table_count();
    for (young *y = atomic_load(&all); y; y = y->next)
        n += y->count;
    return n;
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = ((const rec_block *)a)->addr, y = ((const rec_block *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Merges the sorted young blocks into out[0..n), sorted, from the back; returns the new count.
 * Two blocks at one address (the shared table's was freed where the recorder could not see it):
 * the young table's is kept, the one placed after it here (ids, taken in batches by each thread,
 * do not tell which is younger across threads). */
static size_t merge(rec_block *out, size_t n, const rec_block *young_blocks, size_t m)
{
    size_t k = n + m, i = n, j = m;
    while (j > 0) {
        if (i > 0 && out[i - 1].addr > young_blocks[j - 1].addr)
            out[--k] = out[--i];
        else
            out[--k] = young_blocks[--j];
    }
    size_t kept = 0;
    for (size_t r = 0; r < n + m; r++) {
        if (kept && out[kept - 1].addr == out[r].addr) {
            out[kept - 1] = out[r];
            continue;
        }
        out[kept++] = out[r];
    }
    return kept;
}

size_t rec_blocks_sorted(rec_block *out, size_t cap)
{
    size_t m = 0;
    for (young *y = atomic_load(&all); y; y = y->next)
        m += y->count;
    size_t n = rec_table_sorted(out, cap > m ? cap - m : 0);
    if (!m)
        return n;
    rec_block *young_blocks = malloc(m * sizeof *young_blocks); /* in a snapshot child: its own heap */
    if (!young_blocks)
        return n;
    size_t got = 0;
    for (young *y = atomic_load(&all); y; y = y->next)
        for (unsigned i = 0; i < NSETS; i++)
            for (unsigned w = 0; w < WAYS && got < m; w++)
                if (y->set[i][w].addr)
                    young_blocks[got++] = y->set[i][w];
    qsort(young_blocks, got, sizeof *young_blocks, by_address);
    n = merge(out, n, young_blocks, got);
    free(young_blocks);
    return n;
}
