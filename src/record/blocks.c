/* blocks.c: the live blocks, keyed by address. 64 shards, each an open-addressing table with
 * linear probing and backward-shift deletion (no tombstones), so that threads allocating at once
 * rarely meet on a lock. A block costs 24 bytes at a load of at most 3/4: 24-32 bytes a block.
 * The hash keeps neighbours together: the 4 KiB page picks the shard and a scattered base slot,
 * the offset in the page is added to it, so blocks allocated one after another (the common case)
 * sit in the same few cache lines of the table instead of one miss each.
 * Invariant: a slot is empty exactly when its addr is 0, and every live block sits in the run of
 * full slots that starts at its home slot. */
#include <string.h>

#include "record/record.h"

#define NSHARDS 64
#define INITIAL_SLOTS 64

typedef struct shard {
    rec_lock lock;
    rec_block *slots;
    size_t mask;  /* slots - 1; slot count is a power of two */
    size_t count;
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

bool rec_blocks_init(void)
{
    for (size_t i = 0; i < NSHARDS; i++) {
        shards[i].slots = rec_map(INITIAL_SLOTS * sizeof(rec_block));
        if (!shards[i].slots)
            return false;
        shards[i].mask = INITIAL_SLOTS - 1;
    }
    table_bytes = NSHARDS * INITIAL_SLOTS * sizeof(rec_block);
    return true;
}

static void place(shard *s, const rec_block *b)
{
    size_t i = home(s, mix(b->addr));
    while (s->slots[i].addr)
        i = (i + 1) & s->mask;
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
            place(s, &old[i]);
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

bool rec_blocks_insert(const rec_block *b)
{
    shard *s = shard_of(mix(b->addr));
    rec_lock_take(&s->lock);
    bool ok = true;
    if ((s->count + 1) * 4 > (s->mask + 1) * 3)
        ok = resize(s, (s->mask + 1) * 2);
    if (ok) {
        place(s, b);
        s->count++;
    }
    rec_lock_give(&s->lock);
    return ok;
}

/* Takes addr out of its shard, the shard's lock held. */
static bool take_out(shard *s, uint64_t h, uintptr_t addr, rec_block *out)
{
    size_t i = home(s, h);
    while (s->slots[i].addr && s->slots[i].addr != addr)
        i = (i + 1) & s->mask;
    if (s->slots[i].addr != addr)
        return false;
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
    bool found = take_out(s, h, addr, out);
    if (found)
        maybe_shrink(s);
    rec_lock_give(&s->lock);
    return found;
}

void rec_blocks_free(void *p, void (*release)(void *))
{
    uint64_t h = mix((uintptr_t)p);
    shard *s = shard_of(h);
    rec_lock_take(&s->lock);
    __builtin_prefetch(&s->slots[home(s, h)]);
    release(p); /* libc's work hides the table's cache miss */
    if (take_out(s, h, (uintptr_t)p, NULL))
        maybe_shrink(s);
    rec_lock_give(&s->lock);
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
