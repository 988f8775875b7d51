/* tailed.c: the blocks that carry their record in their tail, and the bitmap that says where
 * they start. Every block the recorder sees through malloc, calloc, realloc and reallocarray is
 * libc's block at libc's address; its last rec_tail bytes (record.h) hold its record, past the
 * program's bytes, and malloc_usable_size says the program's end. A malloc then writes one or two
 * words where libc's own header lies near, and sets one bit; a free clears one bit: no table to
 * search or grow, no lock, and libc sees the program's pointers as they are.
 * Invariants:
 * - a bit is set exactly while the block starting at that address is live and tailed: malloc
 *   writes the record, then sets the bit; free clears the bit, then gives libc the block, so
 *   that a thread that gets the address back from libc sets the bit after it was cleared;
 * - a block without its bit (made before setup, while the recorder was busy, from the aligned
 *   family, or when the bitmap had no memory) is in the shared table or is libc's own: either
 *   way it goes to libc as it is;
 * - the bitmap covers user space (below 2^48) in regions of 1 GiB, each 8 MiB of address space
 *   reserved on first use and touched only where blocks are; a region is never unmapped;
 * - in front of a region's bitmap, a byte for each of its pages is set before a bit of the page
 *   is (rec_tailed_mark), so that a dump reads only the pages that may hold a bit: reading the
 *   rest would fault in 2048 zero pages a region. */
#include <stdlib.h>

#include "record/record.h"

#define PAGE_WORDS 512 /* a 4 KiB page of the bitmap */

_Atomic(uint64_t *) rec_tailed_directory[REC_REGIONS];
#define MAX_REGIONS 4096 /* 4 TiB of address space holding blocks */
static uint32_t regions[MAX_REGIONS]; /* the regions made, in the order made */
static atomic_size_t nregions;
static rec_lock regions_lock;
size_t rec_tail;
atomic_size_t rec_tailed_bytes; /* records' bytes, counted only under a memory limit */
size_t rec_damaged_records;     /* in a snapshot child: records found overwritten */

/* Around the program's fork: a child must not inherit the lock held by a thread it lacks. */
void rec_tailed_lock(void) { rec_lock_take(&regions_lock); }
void rec_tailed_unlock(void) { rec_lock_give(&regions_lock); }

uint64_t *rec_tailed_region_new(uintptr_t a)
{
    size_t r = a >> REC_REGION_SHIFT;
    if (r >= REC_REGIONS)
        return NULL; /* beyond the user space of x86-64 and arm64 */
    rec_lock_take(&regions_lock);
    uint64_t *words = atomic_load_explicit(&rec_tailed_directory[r], memory_order_acquire);
    if (!words && atomic_load(&nregions) < MAX_REGIONS &&
        (words = rec_reserve(REC_SUMMARY + REC_REGION_WORDS * sizeof *words))) {
        words = (uint64_t *)((char *)words + REC_SUMMARY);
        regions[atomic_load(&nregions)] = (uint32_t)r;
        atomic_store_explicit(&rec_tailed_directory[r], words, memory_order_release);
        atomic_fetch_add(&nregions, 1);
    }
    rec_lock_give(&regions_lock);
    return words;
}

bool rec_tailed_over_limit(void)
{
    size_t had = atomic_fetch_add_explicit(&rec_tailed_bytes, rec_tail, memory_order_relaxed);
    if (had + rec_tail + rec_table_bytes() <= rec_config.memory_limit)
        return false;
    atomic_fetch_sub_explicit(&rec_tailed_bytes, rec_tail, memory_order_relaxed);
    return true;
}

static int by_number(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The tailed blocks' addresses in address order, at most cap of them copied to out's addr (NULL:
 * only counted, at any time). Copying sorts the regions' list: only in a snapshot child. */
static size_t walk(rec_block *out, size_t cap)
{
    size_t nr = atomic_load(&nregions), n = 0;
    if (out)
        qsort(regions, nr, sizeof *regions, by_number);
    for (size_t r = 0; r < nr; r++) {
        const uint64_t *words = atomic_load(&rec_tailed_directory[regions[r]]);
        const uint8_t *touched = (const uint8_t *)words - REC_SUMMARY;
        uintptr_t base = (uintptr_t)regions[r] << REC_REGION_SHIFT;
        for (size_t page = 0; page < REC_REGION_WORDS / PAGE_WORDS; page++) {
            if (!touched[page])
                continue;
            for (size_t w = page * PAGE_WORDS; w < (page + 1) * PAGE_WORDS; w++) {
                uint64_t bits = words[w];
                if (!bits)
                    continue;
                if (!out) {
                    n += (size_t)__builtin_popcountll(bits);
                    continue;
                }
                for (; bits && n < cap; bits &= bits - 1)
                    out[n++].addr = base + (w << 10) + ((uintptr_t)__builtin_ctzll(bits) << 4);
            }
        }
    }
    return n;
}

size_t rec_tailed_count(void) { return walk(NULL, 0); }

#define PAGE_OF(a) ((uintptr_t)(a) >> 12)

/* A record lies in the program's heap, where a write past the end of a block lands on it, and a
 * dump reads the block by its size: a record is taken as it is when libc's chunk size in front
 * of the block is one and ends before the next block, in memory mapped readable, its id was
 * given out, its thread numbered, its stack exists and its size fits. Else the block gets the
 * bytes libc's block holds for it (none when its chunk size is no size), no stack, no thread and
 * an id no block has, and the dump says how many were so. A block that ends on the page where it
 * starts is mapped; any other is looked up in the process's mappings (a chunk size the program
 * overwrote may point anywhere). */
static void read_records(rec_block *b, size_t n)
{
    size_t nstacks, tail = rec_tail;
    rec_stack_nodes(&nstacks);
    uint64_t next_seq = atomic_load(&rec_next_seq);
    uint32_t threads = rec_threads_numbered();
    rec_maps maps;
    bool maps_tried = false, have_maps = false;
    for (size_t i = 0; i < n; i++) {
        if (i + 16 < n)
            __builtin_prefetch((const char *)b[i + 16].addr - 8);
        uintptr_t p = b[i].addr, next = i + 1 < n ? b[i + 1].addr : UINTPTR_MAX;
        uint64_t chunk;
        memcpy(&chunk, (const char *)p - sizeof chunk, sizeof chunk); /* the block's: mapped */
        uint64_t bytes = chunk & ~(uint64_t)7, usable = bytes - (chunk & 2 ? 16 : 8);
        uint64_t room = 0, w[2] = {0, 0};
        bool read = false;
        /* Up to the next block's chunk size, which this block's last word may be before it. */
        if (bytes % 16 == 0 && bytes >= 32 && !(bytes >> 44) && usable >= tail && usable <= next - 8 - p) {
            bool one_page = PAGE_OF(p - 8) == PAGE_OF(p + usable - 1);
            if (!one_page && !maps_tried) {
                maps_tried = true;
                have_maps = rec_maps_read(&maps) == 0;
            }
            if (one_page || (have_maps && rec_maps_readable(&maps, p - 8, p + usable))) {
                room = usable - tail;
                memcpy(w, (const void *)(p + room), tail);
                read = true;
            }
        }
        uint64_t word;
        uint32_t stack = 0;
        memcpy(&word, (const char *)w + tail - sizeof word, sizeof word);
        if (tail == REC_TAIL_LONG)
            memcpy(&stack, w, sizeof stack);
        uint64_t slack = word >> REC_SEQ_BITS & ((1u << REC_SLACK_BITS) - 1);
        rec_block got = rec_block_make(p, room - slack, word >> (REC_SEQ_BITS + REC_SLACK_BITS), word, stack);
        if (read && slack <= room && got.seq && got.seq < next_seq && got.thread && got.thread <= threads &&
            stack <= nstacks) {
            b[i] = got;
            continue;
        }
        b[i] = rec_block_make(p, room, 0, atomic_fetch_add(&rec_next_seq, 1), 0);
        rec_damaged_records++;
    }
    if (have_maps)
        free(maps.readable), free(maps.anonymous);
}

size_t rec_tailed_sorted(rec_block *out, size_t cap)
{
    size_t n = walk(out, cap);
    read_records(out, n);
    return n;
}
