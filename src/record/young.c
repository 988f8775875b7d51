/* young.c: each thread's young blocks, in front of the shared table (blocks.c). Most blocks die
 * young, freed by the thread that made them a little after: such a pair never reaches the shared
 * table, whose radix walk, buckets and growth are most of a malloc's cost at depth 0. A thread
 * keeps its last blocks in a small set-associative table of its own (NSETS sets of WAYS records,
 * by address); a new block that finds its set full moves the set's oldest to the shared table.
 * The owner's own malloc and free take no lock and make no atomic read-modify-write (a locked
 * instruction was most of their cost): only the owner ever fills a slot, and another thread only
 * ever empties one, with a compare-and-swap of its address word, to free a block it was given.
 * Invariants:
 * - a live block is in exactly one place: a thread's young blocks or the shared table, except
 *   while it moves from the first to the second: the owner marks its slot (address | MOVING,
 *   one atomic exchange), inserts it in the shared table, then empties the slot; a thread freeing
 *   that block waits for the move to end;
 * - a slot's address word is written last (release) when the owner fills it: whoever reads the
 *   address reads the whole record;
 * - a block freed by another thread is looked for in the shared table, then in every young
 *   table, then in the shared table again (its owner may have moved it meanwhile): never missed;
 * - lock order: the list's lock, then the shared table's;
 * - a young table is never unmapped: a thread that ends moves its blocks to the shared table and
 *   leaves the table empty for the next thread.
 * A fork (a snapshot's, the program's) may copy a table while its owner works on it, when the
 * owner was not stopped: a block moving then is in both tables (a dump keeps one), a block being
 * freed by its owner is already gone.
 * A thread whose blocks mostly outlive their stay (more than half of a WINDOW of inserts pushed
 * an older one out) bypasses its young table for the next BYPASS allocations, the table emptied:
 * blocks pushed out arrive in the shared table out of address order, which costs it the locality
 * it is built for (CPython building long-lived structures ran slower through the young table). */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "record/record.h"

#define SET_BITS 9
#define NSETS (1u << SET_BITS)
#define WAYS 4
#define MOVING ((uintptr_t)1) /* in a slot's address: the block is on its way to the shared table */

#define WINDOW 8192
#define BYPASS 65536

typedef struct young {
    bool in_use;              /* a running thread's (under list_lock) */
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

static inline uintptr_t addr_of(const rec_block *slot) { return __atomic_load_n(&slot->addr, __ATOMIC_ACQUIRE); }

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

/* The owner moves its slot's block to the shared table; false when that has no memory (the
 * block then stays). Another thread may empty the slot first: then there is nothing to move. */
static bool evict(rec_block *slot)
{
    uintptr_t a = addr_of(slot);
    if (!a || !__atomic_compare_exchange_n(&slot->addr, &a, a | MOVING, false, __ATOMIC_ACQ_REL,
                                           __ATOMIC_ACQUIRE))
        return true;
    rec_block b = *slot;
    b.addr = a;
    bool ok = rec_table_insert(&b);
    __atomic_store_n(&slot->addr, ok ? 0 : a, __ATOMIC_RELEASE);
    return ok;
}

/* Moves every block of the caller's table y to the shared table. */
static void empty(young *y)
{
    for (unsigned i = 0; i < NSETS; i++)
        for (unsigned w = 0; w < WAYS; w++)
            if (!evict(&y->set[i][w]))
                rec_out_of_memory();
}

/* Ends a window of y's inserts: bypass y for a while when most of them pushed an older block out. */
static void window_end(young *y)
{
    if (y->evictions * 2 > y->inserts) {
        empty(y);
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
    if (REC_UNLIKELY(!y))
        return rec_table_insert(b);
    if (REC_UNLIKELY(++y->inserts == WINDOW)) {
        window_end(y);
        if (bypass_left)
            return rec_table_insert(b); /* the young table stays empty while bypassed */
    }
    rec_block *set = set_of(y, b->addr), *slot = NULL;
    for (unsigned w = 0; w < WAYS; w++) {
        uintptr_t a = __atomic_load_n(&set[w].addr, __ATOMIC_RELAXED);
        if (a == b->addr) { /* freed where the recorder could not see it: no one else looks for it */
            slot = &set[w];
            break;
        }
        if (!a && !slot)
            slot = &set[w];
    }
    if (REC_UNLIKELY(!slot)) { /* the set is full: its oldest goes to the shared table */
        slot = &set[0];
        for (unsigned w = 1; w < WAYS; w++)
            if (set[w].seq < slot->seq)
                slot = &set[w];
        if (!evict(slot))
            return false;
        y->evictions++;
    }
    /* The address last: a slot is whole once another thread can see it. The other fields are
     * copied as words (a copy of the record with its address zeroed would stall the load on the
     * store to the stack). */
    memcpy((char *)slot + sizeof slot->addr, (const char *)b + sizeof b->addr, sizeof *b - sizeof b->addr);
    __atomic_store_n(&slot->addr, b->addr, __ATOMIC_RELEASE);
    return true;
}

/* The caller's slot of addr in its own table, or NULL. Only the owner fills a slot, and a block
 * being freed by its owner is taken out by no one else meanwhile, so the answer for addr cannot
 * change under the read (other slots may). */
static inline rec_block *mine_of(uintptr_t addr)
{
    rec_block *set = set_of(mine, addr);
    for (unsigned w = 0; w < WAYS; w++)
        if (__atomic_load_n(&set[w].addr, __ATOMIC_RELAXED) == addr)
            return &set[w];
    return NULL;
}

/* Another thread's block addr, taken out of y, copied to *out when non-NULL; false when it is not
 * there. Waits while its owner moves it to the shared table. */
static bool take(young *y, uintptr_t addr, rec_block *out)
{
    rec_block *set = set_of(y, addr);
    for (unsigned w = 0; w < WAYS; w++) {
        for (unsigned spins = 0;; spins++) {
            uintptr_t a = addr_of(&set[w]);
            if (a == (addr | MOVING)) {
                if (spins >= 64)
                    sched_yield(); /* the owner may have been preempted mid-move */
                continue;
            }
            if (a != addr)
                break;
            rec_block copy = set[w]; /* whole: the owner changes no field while addr is there */
            if (__atomic_compare_exchange_n(&set[w].addr, &a, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                if (out) {
                    *out = copy;
                    out->addr = addr;
                }
                return true;
            }
        }
    }
    return false;
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
    rec_block *slot;
    if (mine && !bypass_left && (slot = mine_of(addr))) {
        if (out)
            *out = *slot;
        __atomic_store_n(&slot->addr, (uintptr_t)0, __ATOMIC_RELAXED);
        return true;
    }
    return rec_table_remove(addr, out) || take_elsewhere(addr, out);
}

void rec_blocks_free(void *p, void (*release)(void *))
{
    rec_block *slot;
    if (REC_LIKELY(mine && !bypass_left) && (slot = mine_of((uintptr_t)p))) {
        __atomic_store_n(&slot->addr, (uintptr_t)0, __ATOMIC_RELAXED);
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
    empty(y);
    y->inserts = y->evictions = 0;
    rec_lock_take(&list_lock);
    y->in_use = false;
    rec_lock_give(&list_lock);
}

void rec_blocks_after_fork_child(void)
{
    /* A move the fork cut short (its thread is gone) is undone: the block stays young. */
    for (young *y = atomic_load(&all); y; y = y->next)
        for (unsigned i = 0; i < NSETS; i++)
            for (unsigned w = 0; w < WAYS; w++) {
                uintptr_t a = addr_of(&y->set[i][w]);
                if (a & MOVING) {
                    rec_table_remove(a & ~MOVING, NULL);
                    __atomic_store_n(&y->set[i][w].addr, a & ~MOVING, __ATOMIC_RELEASE);
                }
            }
}

void rec_blocks_lock_all(void)
{
    rec_lock_take(&list_lock);
    rec_table_lock_all();
}

void rec_blocks_unlock_all(void)
{
    rec_table_unlock_all();
    rec_lock_give(&list_lock);
}

/* The blocks in the young tables (a moving one counted here too). */
static size_t young_count(void)
{
    size_t n = 0;
    for (young *y = atomic_load(&all); y; y = y->next)
        for (unsigned i = 0; i < NSETS; i++)
            for (unsigned w = 0; w < WAYS; w++)
                n += addr_of(&y->set[i][w]) != 0;
    return n;
}

size_t rec_blocks_count(void) { return rec_table_count() + young_count(); }

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
    size_t m = young_count();
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
                if (y->set[i][w].addr) { /* a moving one is also in the shared table: merged */
                    young_blocks[got] = y->set[i][w];
                    young_blocks[got++].addr &= ~MOVING;
                }
    qsort(young_blocks, got, sizeof *young_blocks, by_address);
    n = merge(out, n, young_blocks, got);
    free(young_blocks);
    return n;
}
