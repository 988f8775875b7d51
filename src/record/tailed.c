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
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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

/* Reads len bytes at src that may not be mapped: through a pipe, whose write says EFAULT where a
 * load would fault. fds: the pipe, made on first use. */
static bool read_guarded(int fds[2], const void *src, void *dst, size_t len)
{
    if (fds[0] < 0 && pipe2(fds, O_CLOEXEC) != 0)
        return false;
    return write(fds[1], src, len) == (ssize_t)len && read(fds[0], dst, len) == (ssize_t)len;
}

#define PAGE_OF(a) ((uintptr_t)(a) >> 12)

/* A record lies in the program's heap, where a write past the end of a block lands on it, and a
 * dump reads the block by its size: a record is taken as it is when libc's chunk size in front
 * of the block is one and ends before the next block, its id was given out, its stack exists and
 * its size fits. Else the block gets the bytes libc's block holds for it (none when its chunk size
 * is no size), no stack and an id no block has, and the dump says how many were so. A record is
 * read directly where it lies on a page known mapped (the block's first, or the next block's),
 * else guarded: a chunk size the program overwrote may point anywhere. */
static void read_records(rec_block *b, size_t n)
{
    size_t nstacks, tail = rec_tail;
    rec_stack_nodes(&nstacks);
    uint64_t next_seq = atomic_load(&rec_next_seq);
    int fds[2] = {-1, -1};
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
            room = usable - tail;
            uintptr_t r = p + room, first = PAGE_OF(p - 8), last = PAGE_OF(next - 8);
            if ((PAGE_OF(r) == first || PAGE_OF(r) == last) &&
                (PAGE_OF(r + tail - 1) == first || PAGE_OF(r + tail - 1) == last)) {
                memcpy(w, (const void *)r, tail);
                read = true;
            } else if (!(read = read_guarded(fds, (const void *)r, w, tail))) {
                room = 0;
            }
        }
        uint64_t word;
        uint32_t stack = 0;
        memcpy(&word, (const char *)w + tail - sizeof word, sizeof word);
        if (tail == REC_TAIL_LONG)
            memcpy(&stack, w, sizeof stack);
        uint64_t slack = word >> REC_SEQ_BITS & ((1u << REC_SLACK_BITS) - 1);
        rec_block got = rec_block_make(p, room - slack, word >> (REC_SEQ_BITS + REC_SLACK_BITS), word, stack);
        if (read && slack <= room && got.seq && got.seq < next_seq && stack <= nstacks) {
            b[i] = got;
            continue;
        }
        b[i] = rec_block_make(p, room, 0, atomic_fetch_add(&rec_next_seq, 1), 0);
        rec_damaged_records++;
    }
    if (fds[0] >= 0)
        close(fds[0]), close(fds[1]);
}

size_t rec_tailed_sorted(rec_block *out, size_t cap)
{
    size_t n = walk(out, cap);
    read_records(out, n);
    return n;
}
