/* headed.c: the blocks that carry their record in front of them, and the bitmap that says where
 * they start. Every block the recorder sees through malloc, calloc, realloc and reallocarray is
 * libc's block of REC_HEAD more bytes: the first REC_HEAD bytes hold the record (rec_block's two
 * words after its address), the program gets the rest. A malloc then writes two words and sets
 * one bit, a free clears one bit: no table to search or grow, no lock, and the record lies in the
 * cache line the program is touching anyway.
 * Invariants:
 * - a bit is set exactly while the block starting at that address is live and headed: malloc
 *   writes the record, then sets the bit; free clears the bit, then gives libc the block, so
 *   that a thread that gets the address back from libc sets the bit after it was cleared;
 * - a block without its bit (made before setup, while the recorder was busy, from the aligned
 *   family, or when the bitmap had no memory) is libc's own block: it goes to libc untouched;
 * - the bitmap covers user space (below 2^48) in regions of 1 GiB, each 8 MiB of address space
 *   reserved on first use and touched only where blocks are; a region is never unmapped;
 * - in front of a region's bitmap, a byte for each of its pages is set before a bit of the page
 *   is (rec_headed_mark), so that a dump reads only the pages that may hold a bit: reading the
 *   rest would fault in 2048 zero pages a region. */
#include <stdlib.h>

#include "record/record.h"

#define PAGE_WORDS 512                                       /* a 4 KiB page of the bitmap */

_Atomic(uint64_t *) rec_headed_directory[REC_REGIONS];
#define MAX_REGIONS 4096 /* 4 TiB of address space holding blocks */
static uint32_t regions[MAX_REGIONS]; /* the regions made, in the order made */
static atomic_size_t nregions;
static rec_lock regions_lock;
atomic_size_t rec_headed_bytes; /* headers' bytes, counted only under a memory limit */
size_t rec_damaged_records;     /* in a snapshot child: records found overwritten */

/* Around the program's fork: a child must not inherit the lock held by a thread it lacks. */
void rec_headed_lock(void) { rec_lock_take(&regions_lock); }
void rec_headed_unlock(void) { rec_lock_give(&regions_lock); }

uint64_t *rec_headed_region_new(uintptr_t a)
{
    size_t r = a >> REC_REGION_SHIFT;
    if (r >= REC_REGIONS)
        return NULL; /* beyond the user space of x86-64 and arm64 */
    rec_lock_take(&regions_lock);
    uint64_t *words = atomic_load_explicit(&rec_headed_directory[r], memory_order_acquire);
    if (!words && atomic_load(&nregions) < MAX_REGIONS &&
        (words = rec_reserve(REC_SUMMARY + REC_REGION_WORDS * sizeof *words))) {
        words = (uint64_t *)((char *)words + REC_SUMMARY);
        regions[atomic_load(&nregions)] = (uint32_t)r;
        atomic_store_explicit(&rec_headed_directory[r], words, memory_order_release);
        atomic_fetch_add(&nregions, 1);
    }
    rec_lock_give(&regions_lock);
    return words;
}

bool rec_headed_over_limit(void)
{
    size_t had = atomic_fetch_add_explicit(&rec_headed_bytes, REC_HEAD, memory_order_relaxed);
    if (had + REC_HEAD + rec_table_bytes() <= rec_config.memory_limit)
        return false;
    atomic_fetch_sub_explicit(&rec_headed_bytes, REC_HEAD, memory_order_relaxed);
    return true;
}

static int by_number(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The headed blocks in address order, at most cap of them copied to out (NULL: only counted,
 * at any time). Copying sorts the regions' list: only in a snapshot child. */
static size_t walk(rec_block *out, size_t cap)
{
    size_t nr = atomic_load(&nregions), n = 0;
    if (out)
        qsort(regions, nr, sizeof *regions, by_number);
    for (size_t r = 0; r < nr; r++) {
        const uint64_t *words = atomic_load(&rec_headed_directory[regions[r]]);
        const uint8_t *touched = (const uint8_t *)words - REC_SUMMARY;
        uintptr_t base = (uintptr_t)regions[r] << REC_REGION_SHIFT;
        for (size_t w = 0; w < REC_REGION_WORDS; w++) {
            if (!touched[w / PAGE_WORDS]) {
                w += PAGE_WORDS - 1;
                continue;
            }
            uint64_t bits = words[w];
            if (!out) {
                n += (size_t)__builtin_popcountll(bits);
                continue;
            }
            /* The word's blocks lie in 1 KiB of heap: their records are fetched at once. */
            for (uint64_t ahead = bits; ahead; ahead &= ahead - 1) {
                uintptr_t a = base + (w << 10) + ((uintptr_t)__builtin_ctzll(ahead) << 4);
                __builtin_prefetch((const char *)a - REC_HEAD);
            }
            for (; bits && n < cap; bits &= bits - 1) {
                rec_block b;
                b.addr = base + (w << 10) + ((uintptr_t)__builtin_ctzll(bits) << 4);
                memcpy((char *)&b + sizeof b.addr, (const char *)b.addr - REC_HEAD, REC_HEAD);
                out[n++] = b;
            }
        }
    }
    return n;
}

size_t rec_headed_count(void) { return walk(NULL, 0); }

/* The bytes libc's block in front of b can hold after the record: glibc keeps the block's chunk
 * size (flags in its low 3 bits, 2: mapped on its own) in the word before it. 0 when that word is
 * no chunk size either. */
static uint64_t room_of(const rec_block *b)
{
    uint64_t chunk;
    memcpy(&chunk, (const char *)b->addr - REC_HEAD - sizeof chunk, sizeof chunk);
    uint64_t bytes = chunk & ~(uint64_t)7, overhead = (chunk & 2 ? 16 : 8) + REC_HEAD;
    return bytes % 16 || bytes <= overhead || bytes >> 44 ? 0 : bytes - overhead;
}

/* A record lies in the program's heap, where a write before a block's start, or past the end of
 * the block before, lands on it, and a dump reads the block by its size: a record is taken as it
 * is when its id was given out, its stack exists and the block fits in libc's block and before the
 * next one. Else the block gets the bytes libc's block holds for it (none when that is unknown),
 * no stack and an id no block has, and the dump says how many were so. */
#define NEXT_HEAD (REC_HEAD + 8) /* the next block's record and chunk size: not this block's */
static void check_records(rec_block *b, size_t n)
{
    size_t nstacks;
    rec_stack_nodes(&nstacks);
    uint64_t next_seq = atomic_load(&rec_next_seq);
    for (size_t i = 0; i < n; i++) {
        uint64_t room = room_of(&b[i]);
        uint64_t gap = i + 1 < n ? b[i + 1].addr - b[i].addr : UINT64_MAX; /* to the next record */
        if (gap < room + NEXT_HEAD)
            room = gap < NEXT_HEAD ? 0 : gap - NEXT_HEAD;
        if (b[i].seq && b[i].seq < next_seq && b[i].stack <= nstacks && b[i].size <= room)
            continue;
        b[i] = rec_block_make(b[i].addr, room, b[i].thread, atomic_fetch_add(&rec_next_seq, 1), 0);
        rec_damaged_records++;
    }
}

size_t rec_headed_sorted(rec_block *out, size_t cap)
{
    size_t n = walk(out, cap);
    check_records(out, n);
    return n;
}
