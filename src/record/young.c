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
 * freed by its owner may be in the copy or not.
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

/* A slot's address and the rest of its record apart: a free reads only addresses, a set's in
 * half a cache line, and neighbouring blocks (32 bytes apart at least, malloc's smallest chunk)
 * fall in neighbouring sets. */
typedef struct young {
    bool in_use;              /* a running thread's (under list_lock) */
    unsigned inserts, evictions; /* in this window (the owner's alone) */
    struct young *next;       /* every young table made, newest first; never shortened */
    uintptr_t addr[NSETS * WAYS]; /* a set's WAYS slots side by side; 0: empty */
    uint64_t rest[NSETS * WAYS][2]; /* the record but its address */
} young;
_Static_assert(sizeof(rec_block) == sizeof(uintptr_t) + 2 * sizeof(uint64_t), "a record is its address and two words");

/* rest[k][1] holds the record's last word: seq in its low bits (rec_block_make). */
#define SEQ_MASK ((1ull << REC_SEQ_BITS) - 1)

static _Atomic(young *) all;
static rec_lock list_lock;
static REC_TLS young *mine;
static REC_TLS bool none; /* the thread ended, or no memory: its blocks go to the shared table */
static REC_TLS unsigned bypass_left; /* allocations still to bypass the (empty) young table */

bool rec_blocks_init(void) { return rec_table_init(); }

static inline uintptr_t addr_at(const young *y, size_t k) { return __atomic_load_n(&y->addr[k], __ATOMIC_ACQUIRE); }

/* The first slot of a's set. Strided blocks (page-aligned buffers) spread over all sets too. */
static inline size_t set_of(uintptr_t a) { return (((a >> 5) ^ (a >> 14)) & (NSETS - 1)) * WAYS; }

/* Slot k's record, at address a. */
static inline rec_block read_slot(const young *y, size_t k, uintptr_t a)
{
    rec_block b;
    memcpy((char *)&b + sizeof b.addr, y->rest[k], sizeof y->rest[k]);
    b.addr = a;
    return b;
}

/* Slot k's sequence number, read from its word alone (choosing a set's oldest reads four). */
static inline uint64_t seq_at(const young *y, size_t k) { return y->rest[k][1] & SEQ_MASK; }

/* The owner fills slot k: the address last, so that a slot is whole once another thread can
 * see it. */
static inline void fill(young *y, size_t k, const rec_block *b)
{
    memcpy(y->rest[k], (const char *)b + sizeof b->addr, sizeof y->rest[k]);
    __atomic_store_n(&y->addr[k], b->addr, __ATOMIC_RELEASE);
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
    if (mine && !bypass_left) {
        size_t k = set_of(addr);
        __builtin_prefetch(&mine->addr[k], 1);
        __builtin_prefetch(&mine->rest[k], 1);
    } else { /* the block is in the shared table: its cache miss is the one to start early */
        rec_table_prefetch(addr);
    }
}

/* The owner moves slot k's block to the shared table; false when that has no memory (the block
 * then stays). Another thread may empty the slot first: then there is nothing to move. */
static bool evict(young *y, size_t k)
{
    uintptr_t a = addr_at(y, k);
    if (!a || !__atomic_compare_exchange_n(&y->addr[k], &a, a | MOVING, false, __ATOMIC_ACQ_REL,
                                           __ATOMIC_ACQUIRE))
        return true;
    rec_block b = read_slot(y, k, a);
    bool ok = rec_table_insert(&b);
    __atomic_store_n(&y->addr[k], ok ? 0 : a, __ATOMIC_RELEASE);
    return ok;
}

/* Moves every block of the caller's table y to the shared table. */
static void empty(young *y)
{
    for (size_t k = 0; k < NSETS * WAYS; k++)
        if (!evict(y, k))
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

/* The set of a full young set's oldest block goes to the shared table, b takes its slot. Out
 * of line, as every path but the common one: the common one then needs no saved registers. */
static __attribute__((noinline)) bool insert_evicting(young *y, size_t set, const rec_block *b)
{
    size_t k = set;
    for (size_t w = set + 1; w < set + WAYS; w++)
        if (seq_at(y, w) < seq_at(y, k))
            k = w;
    if (!evict(y, k))
        return false;
    y->evictions++;
    fill(y, k, b);
    return true;
}

/* Puts b in y, the caller's young table. */
static inline bool insert_young(young *y, const rec_block *b)
{
    uintptr_t addr = b->addr;
    size_t set = set_of(addr);
    const uintptr_t *a = &y->addr[set];
    /* acquire: a slot another thread emptied is done being read */
    uintptr_t a0 = __atomic_load_n(&a[0], __ATOMIC_ACQUIRE), a1 = __atomic_load_n(&a[1], __ATOMIC_ACQUIRE),
              a2 = __atomic_load_n(&a[2], __ATOMIC_ACQUIRE), a3 = __atomic_load_n(&a[3], __ATOMIC_ACQUIRE);
    size_t k;
    _Static_assert(WAYS == 4, "a set's ways are read one by one");
    /* An address still there was freed where the recorder could not see it: its slot is taken
     * again (no one else looks for it). Else the first empty slot. */
    if (a0 == addr)
        k = 0;
    else if (a1 == addr)
        k = 1;
    else if (a2 == addr)
        k = 2;
    else if (a3 == addr)
        k = 3;
    else if (!a0)
        k = 0;
    else if (!a1)
        k = 1;
    else if (!a2)
        k = 2;
    else if (!a3)
        k = 3;
    else
        return insert_evicting(y, set, b);
    fill(y, set + k, b);
    return true;
}

/* The inserts the common path does not take: bypassed, no young table yet, or ending a window. */
static __attribute__((noinline)) bool insert_slow(const rec_block *b)
{
    if (bypass_left) {
        bypass_left--;
        return rec_table_insert(b);
    }
    young *y = my_young();
    if (REC_UNLIKELY(!y))
        return rec_table_insert(b);
    if (++y->inserts == WINDOW) {
        window_end(y);
        if (bypass_left)
            return rec_table_insert(b); /* the young table stays empty while bypassed */
    }
    return insert_young(y, b);
}

bool rec_blocks_insert(const rec_block *b)
{
    young *y = mine;
    if (REC_LIKELY(y && !bypass_left && y->inserts + 1 < WINDOW)) {
        y->inserts++;
        return insert_young(y, b);
    }
    return insert_slow(b);
}

/* The caller's slot of addr in its own table, or SIZE_MAX. Only the owner fills a slot, and a
 * block being freed by its owner is taken out by no one else meanwhile, so the answer for addr
 * cannot change under the read (other slots may). */
static inline size_t mine_of(uintptr_t addr)
{
    size_t set = set_of(addr);
    const uintptr_t *a = &mine->addr[set];
    if (__atomic_load_n(&a[0], __ATOMIC_RELAXED) == addr)
        return set;
    if (__atomic_load_n(&a[1], __ATOMIC_RELAXED) == addr)
        return set + 1;
    if (__atomic_load_n(&a[2], __ATOMIC_RELAXED) == addr)
        return set + 2;
    if (__atomic_load_n(&a[3], __ATOMIC_RELAXED) == addr)
        return set + 3;
    return SIZE_MAX;
}

/* Another thread's block addr, taken out of y, copied to *out when non-NULL; false when it is not
 * there. Waits while its owner moves it to the shared table. */
static bool take(young *y, uintptr_t addr, rec_block *out)
{
    size_t set = set_of(addr);
    for (size_t k = set; k < set + WAYS; k++) {
        for (unsigned spins = 0;; spins++) {
            uintptr_t a = addr_at(y, k);
            if (a == (addr | MOVING)) {
                if (spins >= 64)
                    sched_yield(); /* the owner may have been preempted mid-move */
                continue;
            }
            if (a != addr)
                break;
            rec_block copy = read_slot(y, k, addr); /* whole: the owner changes nothing while addr is there */
            if (__atomic_compare_exchange_n(&y->addr[k], &a, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                if (out)
                    *out = copy;
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
    size_t k;
    if (mine && !bypass_left && (k = mine_of(addr)) != SIZE_MAX) {
        if (out)
            *out = read_slot(mine, k, addr);
        __atomic_store_n(&mine->addr[k], (uintptr_t)0, __ATOMIC_RELAXED);
        return true;
    }
    return rec_table_remove(addr, out) || take_elsewhere(addr, out);
}

/* A block that is not the caller's young one. */
static __attribute__((noinline)) void free_elsewhere(void *p, void (*release)(void *))
{
    if (rec_table_free(p, release))
        return;
    take_elsewhere((uintptr_t)p, NULL);
    release(p);
}

void rec_blocks_free(void *p, void (*release)(void *))
{
    size_t k;
    if (REC_LIKELY(mine && !bypass_left) && (k = mine_of((uintptr_t)p)) != SIZE_MAX) {
        __atomic_store_n(&mine->addr[k], (uintptr_t)0, __ATOMIC_RELAXED);
        release(p);
        return;
    }
    free_elsewhere(p, release);
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
        for (size_t k = 0; k < NSETS * WAYS; k++) {
            uintptr_t a = addr_at(y, k);
            if (a & MOVING) {
                rec_table_remove(a & ~MOVING, NULL);
                __atomic_store_n(&y->addr[k], a & ~MOVING, __ATOMIC_RELEASE);
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
        for (size_t k = 0; k < NSETS * WAYS; k++)
            n += addr_at(y, k) != 0;
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
        for (size_t k = 0; k < NSETS * WAYS && got < m; k++)
            if (y->addr[k]) /* a moving one is also in the shared table: merged */
                young_blocks[got++] = read_slot(y, k, y->addr[k] & ~MOVING);
    qsort(young_blocks, got, sizeof *young_blocks, by_address);
    n = merge(out, n, young_blocks, got);
    free(young_blocks);
    return n;
}
