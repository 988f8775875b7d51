/* blocks.c: the live blocks without a record in front (tailed.c: the aligned family's, and
 * realloc's of a block the recorder did not make), keyed by address, in a radix tree over 2 KiB
 * pages of the address space: a directory of regions (256 MiB each), a region of page words, and for each page that
 * holds a block's start a bucket of 16-byte records, one per block starting there. Blocks that
 * sit side by side in the heap sit side by side here, so a malloc or free mostly finds its
 * record in a cache line the heap's neighbouring calls already brought in; and a block costs its
 * 16 bytes at a bucket load of 0.7 to 7/8 while its page fills (buckets grow by about 1.25, and
 * shrink when down to a quarter, to no fewer than 32 records), plus 8 bytes a page: about 19
 * bytes a block on CPython. A dump walks the tree in address order: no sort.
 * A bucket is an open-addressing table over the block's 8-byte unit in the page with an
 * order-keeping home slot (unit * capacity / 256) and linear probing, deleted by backward shift.
 * Invariants: a record is empty exactly when its hi word is 0 (sequence numbers start at 1);
 * every record of a bucket sits in the run of full slots that starts at its home; a page word
 * is 0 or says its bucket, how many records it holds and its capacity class. Pages are spread
 * over 64 shards, each with its lock and its free buckets, so that threads allocating at once
 * rarely meet. */
#include <stdlib.h>
#include <string.h>

#include "record/record.h"

#define PAGE_SHIFT 11                 /* 2 KiB: 256 units of 8 bytes, so a unit fits a byte */
#define REGION_BITS 17                /* pages per region: 2^17 page words, 1 MiB of them */
#define ADDRESS_BITS 48               /* user space on x86-64 and arm64 */
#define DIRECTORY_BITS (ADDRESS_BITS - PAGE_SHIFT - REGION_BITS)
#define MAX_REGIONS 16384             /* 4 TiB of address space holding blocks */
#define NSHARDS 64
#define FLOOR_CLASS 14                /* capacity 32: a bucket shrinks no further but to nothing */

/* lo: unit (8 bits) | thread (16) | size (40); hi: seq (40) | stack (24). */
typedef struct record {
    uint64_t lo, hi;
} record;
#define SIZE_MAX_KEPT ((1ull << 40) - 1)
#define THREAD_MAX_KEPT 0xffffu

/* Capacities, about 1.25 apart, so that the load stays high. */
static const uint16_t capacity[] = {1,  2,  3,  4,  5,  6,  8,   10,  12,  14,  16,  20,  24, 28,
                                    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256};
#define NCLASSES (sizeof capacity / sizeof *capacity)

/* A page word: the bucket's address (16-byte aligned, below 2^48), count in bits 48-56, class
 * in 57-61. */
static inline record *bucket_of(uint64_t w) { return (record *)(uintptr_t)(w & ((1ull << 48) - 1)); }
static inline unsigned count_of(uint64_t w) { return (unsigned)(w >> 48) & 0x1ff; }
static inline unsigned class_of(uint64_t w) { return (unsigned)(w >> 57) & 0x1f; }
static inline uint64_t page_word(record *b, unsigned count, unsigned cls)
{
    return (uint64_t)(uintptr_t)b | (uint64_t)count << 48 | (uint64_t)cls << 57;
}

typedef struct shard {
    rec_lock lock;
    size_t count;                  /* live blocks */
    record *free_list[NCLASSES];   /* buckets given back, linked through their first word */
    char *cur, *end;               /* the rest of the shard's last piece */
} shard;

static shard shards[NSHARDS];
static _Atomic(uint64_t *) *directory; /* region index -> its page words; reserved */
static uint32_t regions[MAX_REGIONS];  /* the regions made, in the order made */
static atomic_size_t nregions;
static rec_lock regions_lock;
static atomic_size_t table_bytes;      /* all shards' pieces, against rec_config.memory_limit */
atomic_uint_fast64_t rec_next_seq = 1;

static inline uint64_t page_of(uintptr_t a) { return a >> PAGE_SHIFT; }
static inline unsigned unit_of(uintptr_t a) { return (unsigned)(a >> 3) & 0xff; }
static inline shard *shard_of(uint64_t page)
{
    return &shards[(page * 0x9e3779b97f4a7c15ULL) >> 58];
}
static inline size_t home(unsigned unit, size_t cap) { return unit * cap >> 8; }

bool rec_table_init(void)
{
    directory = rec_reserve(((size_t)1 << DIRECTORY_BITS) * sizeof *directory);
    return directory != NULL;
}

/* Region r's page words, made now; NULL without memory. Out of line: it runs once a region. */
static __attribute__((noinline)) uint64_t *region_new(uint64_t r)
{
    rec_lock_take(&regions_lock);
    uint64_t *words = atomic_load_explicit(&directory[r], memory_order_acquire);
    if (!words && atomic_load(&nregions) < MAX_REGIONS &&
        (words = rec_reserve(((size_t)1 << REGION_BITS) * sizeof *words))) {
        regions[atomic_load(&nregions)] = (uint32_t)r;
        atomic_store_explicit(&directory[r], words, memory_order_release);
        atomic_fetch_add(&nregions, 1);
    }
    rec_lock_give(&regions_lock);
    return words;
}

/* The page word of page, or NULL when its region was never made (make: make it). Inline: every
 * insert and free in the shared table starts here. */
static inline __attribute__((always_inline)) _Atomic uint64_t *word_of(uint64_t page, bool make)
{
    uint64_t r = page >> REGION_BITS;
    if (REC_UNLIKELY(r >> DIRECTORY_BITS))
        return NULL; /* beyond the address space the tree covers: not recorded */
    uint64_t *words = atomic_load_explicit(&directory[r], memory_order_acquire);
    if (REC_UNLIKELY(!words) && (!make || !(words = region_new(r))))
        return NULL;
    return (_Atomic uint64_t *)&words[page & ((1u << REGION_BITS) - 1)];
}

/* ---- buckets' memory: pieces of shared huge pages, free lists by class ---- */

#define PIECE ((size_t)16 << 10)
#define POOL_CHUNK ((size_t)2 << 20)
static char *pool_cur, *pool_end; /* the rest of the last chunk, in whole pieces */
static rec_lock pool_lock;        /* taken with a shard's lock held, never the other way */

/* A 16 KiB piece for a shard, cut from 2 MiB chunks all shards share: the table lies in whole
 * huge pages (a fork copies one page-table entry per 2 MiB of it instead of 512, which is most
 * of a dump's pause), and a shard leaves at most one piece's tail unused. */
static char *piece(void)
{
    if (rec_config.memory_limit &&
        atomic_load(&table_bytes) + PIECE + atomic_load(&rec_tailed_bytes) > rec_config.memory_limit)
        return NULL;
    rec_lock_take(&pool_lock);
    if (pool_cur == pool_end && (pool_cur = rec_map(POOL_CHUNK)))
        pool_end = pool_cur + POOL_CHUNK;
    char *p = pool_cur;
    if (p)
        pool_cur += PIECE;
    else
        pool_end = NULL;
    rec_lock_give(&pool_lock);
    if (p)
        atomic_fetch_add(&table_bytes, PIECE);
    return p;
}

/* A zeroed bucket of class cls, under the shard's lock. */
static record *bucket_new(shard *s, unsigned cls)
{
    size_t bytes = capacity[cls] * sizeof(record);
    record *b = s->free_list[cls];
    if (b) {
        s->free_list[cls] = *(record **)b;
        memset(b, 0, bytes);
        return b;
    }
    if ((size_t)(s->end - s->cur) < bytes) {
        char *fresh = piece();
        if (!fresh)
            return NULL;
        s->cur = fresh; /* the old piece's tail (under 4 KiB) stays unused */
        s->end = fresh + PIECE;
    }
    b = (record *)s->cur;
    s->cur += bytes;
    return b; /* fresh mappings are zero */
}

static void bucket_free(shard *s, record *b, unsigned cls)
{
    *(record **)b = s->free_list[cls];
    s->free_list[cls] = b;
}

/* ---- one bucket ---- */

/* Places r in b (capacity cap): in its unit's slot when that unit is there already (a block
 * freed where the recorder could not see it, its address given out again), else in the first
 * empty slot from home. Returns true when a record was added, false when one was replaced. */
static inline __attribute__((always_inline)) bool place(record *b, size_t cap, record r)
{
    unsigned unit = (unsigned)(r.lo >> 56);
    size_t i = home(unit, cap);
    for (size_t probes = 0; probes < cap; probes++, i = i + 1 == cap ? 0 : i + 1) {
        if (!b[i].hi) {
            b[i] = r;
            return true;
        }
        if ((unsigned)(b[i].lo >> 56) == unit) {
            b[i] = r;
            return false;
        }
    }
    return false; /* cannot happen: a bucket has room for every unit it may hold */
}

/* The slot of unit in b, or cap when it is not there. */
static inline __attribute__((always_inline)) size_t find(const record *b, size_t cap, unsigned unit)
{
    size_t i = home(unit, cap);
    for (size_t probes = 0; probes < cap && b[i].hi; probes++, i = i + 1 == cap ? 0 : i + 1)
        if ((unsigned)(b[i].lo >> 56) == unit)
            return i;
    return cap;
}

/* Empties slot i of b, pulling later members of its run back when their home allows. */
static inline __attribute__((always_inline)) void take_slot(record *b, size_t cap, size_t i)
{
    size_t j = i;
    for (size_t probes = 1; probes < cap; probes++) {
        j = j + 1 == cap ? 0 : j + 1;
        if (!b[j].hi)
            break;
        size_t k = home((unsigned)(b[j].lo >> 56), cap);
        size_t from_home = j >= k ? j - k : j + cap - k, from_hole = j >= i ? j - i : j + cap - i;
        if (from_home >= from_hole) {
            b[i] = b[j];
            i = j;
        }
    }
    b[i].hi = 0;
    b[i].lo = 0;
}

/* Moves the bucket of page word *w to class cls; false when there is no memory for it. */
static __attribute__((noinline)) bool rehash(shard *s, _Atomic uint64_t *w, unsigned cls)
{
    uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
    record *from = bucket_of(old), *to = bucket_new(s, cls);
    if (!to)
        return false;
    size_t old_cap = capacity[class_of(old)];
    for (size_t i = 0; from && i < old_cap; i++)
        if (from[i].hi)
            place(to, capacity[cls], from[i]);
    if (from)
        bucket_free(s, from, class_of(old));
    atomic_store_explicit(w, page_word(to, count_of(old), cls), memory_order_relaxed);
    return true;
}

/* Records a bucket may hold before it grows: all of them while small, 7/8 beyond (capacity
 * less an eighth, rounded down; the largest class all of them). */
static const uint16_t rooms[] = {1,  2,  3,  4,  5,  6,  8,  9,  11,  13,  14,  18,  21, 25,
                                 28, 35, 42, 49, 56, 70, 84, 98, 112, 140, 168, 196, 256};
_Static_assert(sizeof rooms == sizeof capacity, "a room for every class");
static inline size_t room(unsigned cls) { return rooms[cls]; }

/* A new page's bucket: room for as many blocks of this size as the page holds (with malloc's
 * 16-byte header), since neighbours are often alike; growing a bucket step by step costs more
 * than the records themselves. */
static unsigned first_class(size_t size)
{
    size_t fit = (2048 >> 4) / ((size >> 4) + 1);
    unsigned cls = 0;
    while (cls + 1 < NCLASSES && room(cls) < fit)
        cls++;
    return cls;
}

/* ---- the table ---- */

static inline record pack(const rec_block *b)
{
    uint64_t size = b->size > SIZE_MAX_KEPT ? SIZE_MAX_KEPT : b->size;
    uint64_t thread = b->thread > THREAD_MAX_KEPT ? THREAD_MAX_KEPT : b->thread;
    return (record){.lo = (uint64_t)unit_of(b->addr) << 56 | thread << 40 | size,
                    .hi = (uint64_t)b->seq << 24 | b->stack};
}

static inline rec_block unpack(uint64_t page, record r)
{
    return (rec_block){.addr = (uintptr_t)(page << PAGE_SHIFT | (r.lo >> 56) << 3),
                       .size = r.lo & SIZE_MAX_KEPT,
                       .thread = (r.lo >> 40) & THREAD_MAX_KEPT,
                       .seq = r.hi >> 24,
                       .stack = r.hi & 0xffffff};
}

bool rec_table_insert(const rec_block *b)
{
    uint64_t page = page_of(b->addr);
    _Atomic uint64_t *w = word_of(page, true);
    if (!w)
        return false;
    shard *s = shard_of(page);
    rec_lock_take(&s->lock);
    uint64_t v = atomic_load_explicit(w, memory_order_relaxed);
    bool ok = true;
    if (!v)
        ok = rehash(s, w, first_class(b->size));
    else if (count_of(v) + 1 > room(class_of(v)) && class_of(v) + 1 < NCLASSES)
        ok = rehash(s, w, class_of(v) + 1);
    if (ok) {
        v = atomic_load_explicit(w, memory_order_relaxed);
        if (place(bucket_of(v), capacity[class_of(v)], pack(b))) {
            atomic_store_explicit(w, v + (1ull << 48), memory_order_relaxed);
            s->count++;
        }
    }
    rec_lock_give(&s->lock);
    return ok;
}

/* The slot of addr in its page's bucket (page word v), or SIZE_MAX when it is not there. */
static inline __attribute__((always_inline)) size_t slot_of(uint64_t v, uintptr_t addr)
{
    if (!v)
        return SIZE_MAX;
    size_t cap = capacity[class_of(v)], i = find(bucket_of(v), cap, unit_of(addr));
    return i == cap ? SIZE_MAX : i;
}

/* Takes slot i (of addr) out of its page's bucket, the shard's lock held. */
static inline __attribute__((always_inline)) void remove_at(shard *s, _Atomic uint64_t *w, uintptr_t addr, size_t i,
                                                            rec_block *out)
{
    uint64_t v = atomic_load_explicit(w, memory_order_relaxed);
    record *b = bucket_of(v);
    unsigned cls = class_of(v);
    size_t cap = capacity[cls];
    if (out)
        *out = unpack(page_of(addr), b[i]);
    take_slot(b, cap, i);
    s->count--;
    unsigned left = count_of(v) - 1;
    if (!left) {
        bucket_free(s, b, cls);
        atomic_store_explicit(w, 0, memory_order_relaxed);
        return;
    }
    atomic_store_explicit(w, v - (1ull << 48), memory_order_relaxed);
    /* A bucket down to a quarter of a class below goes there, so memory follows the live; not
     * below FLOOR_CLASS: a page that empties (most do) would shrink at every step on its way
     * down and grow step by step when refilled, rehashing each time (on CPython 870k rehashes
     * were 13% of the recorder's instructions; with the floor, 220k, and the same peak RSS). */
    if (cls >= FLOOR_CLASS + 2 && left * 4 < capacity[cls - 2])
        rehash(s, w, cls - 2); /* without memory for it, the bucket simply stays */
}

/* Takes addr out of its page's bucket, the shard's lock held. */
static bool take_out(shard *s, _Atomic uint64_t *w, uintptr_t addr, rec_block *out)
{
    size_t i = slot_of(atomic_load_explicit(w, memory_order_relaxed), addr);
    if (i != SIZE_MAX)
        remove_at(s, w, addr, i, out);
    return i != SIZE_MAX;
}

bool rec_table_remove(uintptr_t addr, rec_block *out)
{
    _Atomic uint64_t *w = word_of(page_of(addr), false);
    if (!w)
        return false;
    shard *s = shard_of(page_of(addr));
    rec_lock_take(&s->lock);
    bool found = take_out(s, w, addr, out);
    rec_lock_give(&s->lock);
    return found;
}

bool rec_table_free(void *p, void (*release)(void *))
{
    _Atomic uint64_t *w = word_of(page_of((uintptr_t)p), false);
    if (!w)
        return false;
    shard *s = shard_of(page_of((uintptr_t)p));
    rec_lock_take(&s->lock);
    size_t i = slot_of(atomic_load_explicit(w, memory_order_relaxed), (uintptr_t)p);
    if (i != SIZE_MAX) {
        release(p);
        remove_at(s, w, (uintptr_t)p, i, NULL);
    }
    rec_lock_give(&s->lock);
    return i != SIZE_MAX;
}

void rec_table_lock_all(void)
{
    for (size_t i = 0; i < NSHARDS; i++)
        rec_lock_take(&shards[i].lock);
    rec_lock_take(&regions_lock);
}

void rec_table_unlock_all(void)
{
    rec_lock_give(&regions_lock);
    for (size_t i = 0; i < NSHARDS; i++)
        rec_lock_give(&shards[i].lock);
}

size_t rec_table_bytes(void) { return atomic_load(&table_bytes); }

size_t rec_table_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NSHARDS; i++)
        n += shards[i].count;
    return n;
}

static int by_region(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Copies one page's records to out in address order (a bucket is nearly in order already:
 * insertion sort). */
static size_t copy_page(uint64_t page, uint64_t v, rec_block *out)
{
    const record *b = bucket_of(v);
    size_t n = 0, cap = capacity[class_of(v)];
    for (size_t i = 0; i < cap; i++) {
        if (!b[i].hi)
            continue;
        rec_block x = unpack(page, b[i]);
        size_t j = n++;
        for (; j > 0 && out[j - 1].addr > x.addr; j--)
            out[j] = out[j - 1];
        out[j] = x;
    }
    return n;
}

size_t rec_table_sorted(rec_block *out, size_t cap)
{
    size_t nr = atomic_load(&nregions), n = 0;
    qsort(regions, nr, sizeof *regions, by_region); /* only with every lock held, or in a child */
    for (size_t r = 0; r < nr; r++) {
        const uint64_t *words = atomic_load(&directory[regions[r]]);
        for (size_t p = 0; p < ((size_t)1 << REGION_BITS); p++) {
            uint64_t v = words[p];
            if (v && n + count_of(v) <= cap)
                n += copy_page((uint64_t)regions[r] << REGION_BITS | p, v, out + n);
        }
    }
    return n;
}
