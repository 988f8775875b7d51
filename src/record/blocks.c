/* blocks.c: the live blocks, keyed by address. 64 shards, each an open-addressing table with
 * linear probing and backward-shift deletion (no tombstones), so that threads allocating at once
 * rarely meet on a lock. A block costs 24 bytes at a load of at most 3/4: 24-32 bytes a block.
 * The hash keeps neighbours together: the 4 KiB page picks the shard and a scattered base slot,
 * the offset in the page is added to it, so blocks allocated one after another (the common case)
 * sit in the same few cache lines of the table instead of one miss each.
 * Frees are deferred: each thread notes what it freed in a buffer of its own and takes a whole
 * buffer out of the table at once, its slots prefetched together, so that their cache misses
 * overlap instead of following one another. Meanwhile libc may hand a freed address out again:
 * the table then holds the old block and the new one under one address, told apart by their
 * ids. A deferred free removes only a block whose id is older than the ids handed out when it
 * was noted; an allocation's id is taken after libc returned it, so after the free that made the
 * address available.
 * Invariants: a slot is empty exactly when its addr is 0, and every live block sits in the run of
 * full slots that starts at its home slot; a block freed but still in the table is in some
 * thread's buffer (rec_blocks_settle takes them all out). */
#include <pthread.h>
#include <string.h>

#include "record/record.h"

#define NSHARDS 64
#define INITIAL_SLOTS 64

typedef struct shard {
    rec_lock lock;
    rec_block *slots;
    size_t mask;  /* slots - 1; slot count is a power of two */
    size_t count;
    size_t twins; /* blocks sharing their address with another (a free deferred meanwhile) */
} shard;

static shard shards[NSHARDS];
static atomic_size_t table_bytes; /* all shards' slots, against rec_config.memory_limit */
atomic_uint_fast64_t rec_next_seq = 1;

/* The page's hash in the high bits, the 16-byte unit within the page in the low 8. */
static inline uint64_t mix(uintptr_t a)
{
    uint64_t h = a >> 12;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (h << 8) + ((a >> 4) & 0xff);
}

static inline shard *shard_of(uint64_t h) { return &shards[(h >> 8) & (NSHARDS - 1)]; }
static inline size_t home(const shard *s, uint64_t h) { return ((h >> 16) + (h & 0xff)) & s->mask; }

static void place(shard *s, const rec_block *b, bool count_twins)
{
    size_t i = home(s, mix(b->addr));
    for (; s->slots[i].addr; i = (i + 1) & s->mask)
        if (count_twins && s->slots[i].addr == b->addr)
            s->twins++;
    s->slots[i] = *b;
}

/* Moves the shard's blocks to a table of n slots (n a power of two that holds them). */
static bool resize(shard *s, size_t n)
{
    size_t old_n = s->mask + 1;
    size_t total = atomic_fetch_add(&table_bytes, n * sizeof(rec_block)) + n * sizeof(rec_block);
    rec_block *old = s->slots;
    rec_block *fresh = rec_config.memory_limit && n > old_n && total - old_n * sizeof(rec_block) > rec_config.memory_limit
                           ? NULL
                           : rec_map(n * sizeof(rec_block));
    if (!fresh) {
        atomic_fetch_sub(&table_bytes, n * sizeof(rec_block));
        return false;
    }
    s->slots = fresh;
    s->mask = n - 1;
    for (size_t i = 0; i < old_n; i++)
        if (old[i].addr)
            place(s, &old[i], false);
    rec_unmap(old, old_n * sizeof(rec_block));
    atomic_fetch_sub(&table_bytes, old_n * sizeof(rec_block));
    return true;
}

/* After a removal: a big shard down to an eighth of its slots halves, so that a table that once
 * held a peak is not walked whole by every dump after it. Small ones stay: a program that builds
 * and drops a structure in a loop would otherwise map and unmap a table each time. */
#define SHRINK_FROM 65536
static void maybe_shrink(shard *s)
{
    size_t n = s->mask + 1;
    if (n > SHRINK_FROM && s->count * 8 < n)
        resize(s, n / 2);
}

void rec_blocks_prefetch(uintptr_t addr)
{
    uint64_t h = mix(addr);
    shard *s = shard_of(h);
    /* Without the lock: the table may be replaced meanwhile, and a prefetch never faults. */
    rec_block *slots = __atomic_load_n(&s->slots, __ATOMIC_RELAXED);
    __builtin_prefetch(&slots[home(s, h)], 1);
}

/* ---- deferred frees ---- */

#define PENDING 32
#define MAX_BUFFERS REC_MAX_THREADS

typedef struct pending {
    atomic_bool used;      /* owned by a thread */
    unsigned n;
    struct {
        uintptr_t addr;
        uint64_t before;   /* ids from this one on were handed out after the free */
    } e[PENDING];
} pending;

static pending *buffers;   /* MAX_BUFFERS, in sysmem: a snapshot child sees every thread's */
static REC_TLS pending *my_buffer;
static pthread_key_t buffer_key;

/* Takes out the block at addr older than before, the shard's lock held. */
static bool take_out(shard *s, uint64_t h, uintptr_t addr, uint64_t before, rec_block *out);

/* Applies a buffer's frees; locked: take each shard's lock (not in a snapshot child, whose
 * copies of the locks are held by the parent's snapshot). */
static void apply(pending *b, bool locked)
{
    for (unsigned i = 0; i < b->n; i++) {
        shard *s = shard_of(mix(b->e[i].addr));
        __builtin_prefetch(&s->slots[home(s, mix(b->e[i].addr))]);
    }
    for (unsigned i = 0; i < b->n; i++) {
        uint64_t h = mix(b->e[i].addr);
        shard *s = shard_of(h);
        if (locked)
            rec_lock_take(&s->lock);
        if (take_out(s, h, b->e[i].addr, b->e[i].before, NULL) && locked)
            maybe_shrink(s);
        if (locked)
            rec_lock_give(&s->lock);
    }
    b->n = 0;
}

/* At the thread's end (a key's destructor, run again for frees made by later destructors). */
static void release_buffer(void *b)
{
    rec_busy++;
    apply(b, true);
    atomic_store(&((pending *)b)->used, false);
    my_buffer = NULL;
    rec_leave();
}

static pending *claim_buffer(void)
{
    for (size_t i = 0; buffers && i < MAX_BUFFERS; i++)
        if (!atomic_load_explicit(&buffers[i].used, memory_order_relaxed) && !atomic_exchange(&buffers[i].used, true)) {
            pthread_setspecific(buffer_key, &buffers[i]);
            return my_buffer = &buffers[i];
        }
    return NULL;
}

void rec_blocks_free(void *p, void (*release)(void *))
{
    pending *b = my_buffer ? my_buffer : claim_buffer();
    uint64_t before = atomic_load_explicit(&rec_next_seq, memory_order_relaxed);
    release(p);
    if (REC_UNLIKELY(!b)) { /* no buffer left: now */
        uint64_t h = mix((uintptr_t)p);
        shard *s = shard_of(h);
        rec_lock_take(&s->lock);
        if (take_out(s, h, (uintptr_t)p, before, NULL))
            maybe_shrink(s);
        rec_lock_give(&s->lock);
        return;
    }
    b->e[b->n].addr = (uintptr_t)p;
    b->e[b->n].before = before;
    atomic_signal_fence(memory_order_release); /* the entry is whole before it counts */
    if (++b->n == PENDING)
        apply(b, true);
}

void rec_blocks_settle(void)
{
    for (size_t i = 0; buffers && i < MAX_BUFFERS; i++)
        if (buffers[i].n)
            apply(&buffers[i], false);
}

void rec_blocks_after_fork_child(void)
{
    for (size_t i = 0; buffers && i < MAX_BUFFERS; i++) {
        if (buffers[i].n)
            apply(&buffers[i], true);
        if (&buffers[i] != my_buffer)
            atomic_store(&buffers[i].used, false); /* their threads are gone */
    }
}

/* ---- the table ---- */

bool rec_blocks_insert(const rec_block *b)
{
    shard *s = shard_of(mix(b->addr));
    rec_lock_take(&s->lock);
    bool ok = true;
    if ((s->count + 1) * 4 > (s->mask + 1) * 3)
        ok = resize(s, (s->mask + 1) * 2);
    if (ok) {
        place(s, b, true);
        s->count++;
    }
    rec_lock_give(&s->lock);
    return ok;
}

static bool take_out(shard *s, uint64_t h, uintptr_t addr, uint64_t before, rec_block *out)
{
    /* The newest block at addr older than before. Without twins in the shard, the first block
     * at addr is the only one. */
    size_t i = SIZE_MAX;
    bool twin = false;
    for (size_t j = home(s, h); s->slots[j].addr; j = (j + 1) & s->mask) {
        if (s->slots[j].addr != addr)
            continue;
        if (s->slots[j].seq < before && (i == SIZE_MAX || s->slots[j].seq > s->slots[i].seq)) {
            twin |= i != SIZE_MAX;
            i = j;
        } else {
            twin = true;
        }
        if (!s->twins)
            break;
    }
    if (i == SIZE_MAX)
        return false;
    if (twin)
        s->twins--;
    if (out)
        *out = s->slots[i];
    /* Backward shift: pull later members of the run into the hole when their home allows. */
    for (size_t j = (i + 1) & s->mask; s->slots[j].addr; j = (j + 1) & s->mask) {
        size_t k = home(s, mix(s->slots[j].addr));
        if (((j - k) & s->mask) >= ((j - i) & s->mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].addr = 0;
    s->count--;
    return true;
}

bool rec_blocks_remove(uintptr_t addr, rec_block *out)
{
    uint64_t h = mix(addr);
    shard *s = shard_of(h);
    rec_lock_take(&s->lock);
    bool found = take_out(s, h, addr, UINT64_MAX, out);
    if (found)
        maybe_shrink(s);
    rec_lock_give(&s->lock);
    return found;
}

void rec_blocks_lock_all(void)
{
    for (size_t i = 0; i < NSHARDS; i++)
        rec_lock_take(&shards[i].lock);
}

void rec_blocks_unlock_all(void)
{
    for (size_t i = 0; i < NSHARDS; i++)
        rec_lock_give(&shards[i].lock);
}

size_t rec_blocks_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NSHARDS; i++)
        n += shards[i].count;
    return n;
}

size_t rec_blocks_addresses(rec_keyed *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < NSHARDS; i++)
        for (size_t j = 0; j <= shards[i].mask && n < cap; j++)
            if (shards[i].slots[j].addr)
                out[n++] = (rec_keyed){.key = shards[i].slots[j].addr, .index = (uint64_t)i << 48 | j};
    return n;
}

const rec_block *rec_blocks_at(uint64_t index) { return &shards[index >> 48].slots[index & ((1ull << 48) - 1)]; }

bool rec_blocks_init(void)
{
    for (size_t i = 0; i < NSHARDS; i++) {
        shards[i].slots = rec_map(INITIAL_SLOTS * sizeof(rec_block));
        if (!shards[i].slots)
            return false;
        shards[i].mask = INITIAL_SLOTS - 1;
    }
    table_bytes = NSHARDS * INITIAL_SLOTS * sizeof(rec_block);
    buffers = rec_reserve(MAX_BUFFERS * sizeof *buffers);
    return buffers && pthread_key_create(&buffer_key, release_buffer) == 0;
}
