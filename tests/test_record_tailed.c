/* test_record_tailed.c: the recorder's tailed blocks (src/record/tailed.c and record.h): the
 * bitmap of block starts and the records in the blocks' tails, against a brute-force oracle.
 * Random marks and takes over a buffer standing in for the heap, in two regions, then the
 * address-ordered copy and the count compared with the oracle's, for records without stacks (8
 * bytes) and with (16); pointers that are no block start; threads marking and taking blocks
 * whose bits share words; the memory limit; records and chunk sizes the program overwrote; what
 * malloc asks libc for, against glibc. The bitmap is compiled into the test with its memory
 * (sysmem.c): it needs nothing else of the recorder. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "random_numbers.h"
#include "record/maps.c"
#include "record/sysmem.c"
#include "record/tailed.c"

rec_settings rec_config;
/* What tailed.c asks of the rest of the recorder: ids given out so far, stacks, the table. */
atomic_uint_fast64_t rec_next_seq = (uint64_t)1 << 39;
const rec_stack_node *rec_stack_nodes(size_t *count)
{
    *count = 7;
    return NULL;
}
size_t rec_table_bytes(void) { return 0; }
uint32_t rec_threads_numbered(void) { return 1000; }

#define HEAP ((size_t)4 << 20)
#define GRANULES (HEAP / 16)

/* A stand-in heap in its own 1 GiB region (the bitmap's unit), found by trying hints. */
static char *heap_in_own_region(void)
{
    for (uintptr_t hint = (uintptr_t)0x300000000000; hint < (uintptr_t)0x380000000000; hint += (uintptr_t)1 << 32) {
        void *p = mmap((void *)hint, HEAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                       -1, 0);
        if (p != MAP_FAILED && rec_tailed_region((uintptr_t)p) == NULL &&
            ((uintptr_t)p >> REC_REGION_SHIFT) == (((uintptr_t)p + HEAP - 1) >> REC_REGION_SHIFT))
            return p;
        if (p != MAP_FAILED)
            munmap(p, HEAP);
    }
    cr_assert_fail("no free 1 GiB region for the test heap");
    return NULL;
}

/* Blocks here are 64 bytes apart, each with the chunk size glibc would keep for 64 bytes (in use
 * before: 1) in the word in front, so that a block's size may be up to ROOM. */
#define CHUNK 64
#define ROOM (CHUNK - 8 - rec_tail)

/* The stack a record keeps: none in a short one. */
static uint64_t stack_of(uint64_t seq) { return rec_tail == REC_TAIL_LONG ? seq % 7 : 0; }

/* Writes the chunk size and the record of a block at p (as libc and interpose.c do), then marks
 * it. */
static bool make_block_of(char *p, uint64_t chunk, uint64_t size, uint64_t thread, uint64_t seq)
{
    memcpy(p - sizeof chunk, &chunk, sizeof chunk);
    return rec_tail_write(p, size, (uint32_t)thread, seq, (uint32_t)stack_of(seq)) && rec_tailed_mark(p);
}
static bool make_block(char *p, uint64_t size, uint64_t thread, uint64_t seq)
{
    return make_block_of(p, CHUNK | 1, size, thread, seq);
}

typedef struct oracle {
    char *heap[2];
    rec_block live[2][GRANULES]; /* live[h][g].addr: 0 when granule g of heap h starts no block */
} oracle;

static int by_addr(const void *a, const void *b)
{
    uintptr_t x = ((const rec_block *)a)->addr, y = ((const rec_block *)b)->addr;
    return x < y ? -1 : x > y;
}

static void same_blocks(const oracle *o)
{
    static rec_block want[2 * GRANULES], got[2 * GRANULES];
    size_t n = 0;
    for (int h = 0; h < 2; h++)
        for (size_t g = 0; g < GRANULES; g++)
            if (o->live[h][g].addr)
                want[n++] = o->live[h][g];
    qsort(want, n, sizeof *want, by_addr);
    cr_assert_eq(rec_tailed_count(), n);
    cr_assert_eq(rec_tailed_sorted(got, 2 * GRANULES), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(got[i].addr, want[i].addr, "block %zu", i);
        cr_assert_eq(got[i].size, want[i].size);
        cr_assert_eq(got[i].thread, want[i].thread);
        cr_assert_eq(got[i].seq, want[i].seq);
        cr_assert_eq(got[i].stack, want[i].stack);
    }
    if (n > 2) /* a short copy stops at cap, still in order */
        cr_assert_eq(rec_tailed_sorted(got, n / 2), n / 2);
}

static void random_marks_and_takes(size_t tail)
{
    rec_tail = tail;
    static oracle o;
    o.heap[0] = heap_in_own_region();
    o.heap[1] = heap_in_own_region();
    uint64_t state = 42, seq = 1;
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < 200000; k++) {
            int h = (int)(splitmix64(&state) & 1);
            /* Dense in the first 64 KiB (neighbours share a word), sparse elsewhere; every fourth
             * granule, so that blocks are CHUNK bytes apart. */
            size_t g = 2 + 4 * (splitmix64(&state) % (k & 1 ? 1023 : GRANULES / 4 - 1));
            char *p = o.heap[h] + g * 16;
            rec_block *want = &o.live[h][g];
            cr_assert_eq(rec_tailed_is(p), want->addr != 0);
            if (want->addr) {
                cr_assert(rec_tailed_take(p));
                cr_assert_not(rec_tailed_take(p), "a second take finds the bit clear");
                want->addr = 0;
            } else {
                uint64_t size = splitmix64(&state) % (ROOM + 1), thread = 1 + k % 9;
                cr_assert(make_block(p, size, thread, seq));
                *want = rec_block_make((uintptr_t)p, size, thread, seq, stack_of(seq));
                seq++;
            }
        }
        same_blocks(&o);
    }
}

Test(record_tailed, short_records_agree_with_an_oracle) { random_marks_and_takes(REC_TAIL_SHORT); }
Test(record_tailed, long_records_agree_with_an_oracle) { random_marks_and_takes(REC_TAIL_LONG); }

Test(record_tailed, only_a_block_start_is_tailed)
{
    rec_tail = REC_TAIL_SHORT;
    char *heap = heap_in_own_region();
    char *p = heap + 4096;
    cr_assert(make_block(p, 10, 1, 1));
    for (int off = 1; off < 16; off++) {
        cr_assert_not(rec_tailed_is(p + off), "%d bytes in", off);
        cr_assert_not(rec_tailed_take(p + off), "%d bytes in", off);
    }
    cr_assert_not(rec_tailed_take(p + 16));
    cr_assert_not(rec_tailed_take(heap + ((size_t)2 << 20)), "a page of the bitmap never touched");
    cr_assert_not(rec_tailed_take((void *)((uintptr_t)1 << 50)), "beyond 2^48");
    cr_assert_not(rec_tailed_mark((void *)((uintptr_t)1 << 50)), "beyond 2^48: no bitmap");
    cr_assert(rec_tailed_is(p));
    cr_assert(rec_tailed_take(p));
}

#define THREADS 4
#define PER 15000

typedef struct worker {
    char *heap;
    int t;
} worker;

static char mark_failed[] = "mark", take_failed[] = "take";

/* Thread t owns every THREADS-th block, so that all threads' bits share each word. */
static void *churn(void *arg)
{
    const worker *w = arg;
    for (int round = 0; round < 20; round++)
        for (size_t k = 0; k < PER; k++) {
            char *p = w->heap + 32 + (k * THREADS + (size_t)w->t) * CHUNK;
            if (round % 2 == 0) {
                if (!make_block(p, k % ROOM, (uint64_t)w->t + 1, k + 1))
                    return mark_failed;
            } else if (!rec_tailed_take(p)) {
                return take_failed;
            }
        }
    for (size_t k = 0; k < PER; k += 2) /* half of each thread's blocks stay */
        if (!make_block(w->heap + 32 + (k * THREADS + (size_t)w->t) * CHUNK, k % ROOM, (uint64_t)w->t + 1, k + 1))
            return mark_failed;
    return NULL;
}

Test(record_tailed, threads_sharing_words_lose_no_bit)
{
    rec_tail = REC_TAIL_LONG;
    char *heap = heap_in_own_region();
    size_t before = rec_tailed_count();
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){heap, t};
        pthread_create(&th[t], NULL, churn, &w[t]);
    }
    for (int t = 0; t < THREADS; t++) {
        void *failed;
        pthread_join(th[t], &failed);
        cr_assert_null(failed, "thread %d: a %s failed", t, (const char *)failed);
    }
    cr_assert_eq(rec_tailed_count() - before, THREADS * PER / 2);
    for (size_t k = 0; k < PER; k++)
        for (int t = 0; t < THREADS; t++)
            cr_assert_eq(rec_tailed_is(heap + 32 + (k * THREADS + (size_t)t) * CHUNK), k % 2 == 0, "block %zu of %d", k,
                         t);
}

Test(record_tailed, the_memory_limit_counts_records)
{
    char *heap = heap_in_own_region();
    rec_tail = REC_TAIL_LONG;
    rec_config.memory_limit = 10 * REC_TAIL_LONG;
    for (int i = 0; i < 10; i++)
        cr_assert(make_block(heap + CHUNK * (i + 1), 8, 1, (uint64_t)i + 1));
    cr_assert_not(make_block(heap + CHUNK * 11, 8, 1, 11), "past the limit");
    cr_assert_not(rec_tailed_is(heap + CHUNK * 11));
    cr_assert(rec_tailed_take(heap + CHUNK));
    cr_assert(make_block(heap + CHUNK * 11, 8, 1, 11), "a take gives its bytes back");
    cr_assert(rec_tailed_mark_as(heap + CHUNK * 12, false), "unlimited: a block marked again after a failed realloc");
    cr_assert_not(make_block(heap + CHUNK * 13, 8, 1, 13), "which counts");
    rec_config.memory_limit = 0;
}

/* A program that writes past the end of a block overwrites its record, or the chunk size of the
 * block after: the copy keeps every block, none reaching past libc's block or into memory not
 * mapped, with an id no other has. */
static void overwritten(size_t tail)
{
    rec_tail = tail;
    rec_damaged_records = 0;
    char *heap = heap_in_own_region();
    char *a = heap + 2 * CHUNK, *b = a + CHUNK, *c = b + CHUNK, *d = c + CHUNK;
    /* e: a large block, its record 3 pages on (looked up in the mappings, and found); f: a thread
     * never numbered; z: the last block, its chunk size overwritten to reach past the heap's
     * last page (not readable) and a gap, to a page holding a record that looks right. */
    char *e = heap + ((size_t)1 << 20), *f = e + 4 * 4096, *z = heap + HEAP - 2 * 4096;
    cr_assert(make_block(a, ROOM, 1, 100));
    cr_assert(make_block(b, 10, 1, 101));
    cr_assert(make_block(c, 10, 1, 102));
    cr_assert(make_block(d, 10, 1, 103));
    cr_assert(make_block_of(e, (3 * 4096 + 64) | 1, 3 * 4096, 2, 104));
    cr_assert(make_block(f, 10, 5000, 105));
    cr_assert(make_block(z, 10, 1, 106));
    cr_assert_eq(mprotect(heap + HEAP - 4096, 4096, PROT_NONE), 0);
    memset(b + ROOM, 0xff, tail); /* b's record: an id never given, a huge size */
    memset(c - 8, 0x41, 8);       /* c's chunk size: text */
    char *far = heap + HEAP + ((size_t)64 << 20);
    cr_assert_eq(mmap(far, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
                 far);
    uint64_t reach = (uint64_t)(far + 4096 - z) + 8; /* z's chunk: its record at far's end */
    memcpy(z - 8, &reach, sizeof reach);
    cr_assert(rec_tail_write(z, reach - 8 - tail, 1, 106, (uint32_t)stack_of(106)));
    uint64_t first_new = atomic_load(&rec_next_seq);
    rec_block got[7];
    cr_assert_eq(rec_tailed_sorted(got, 7), 7);
    cr_assert_eq(rec_damaged_records, 4);
    cr_assert_eq(got[0].seq, 100);
    cr_assert_eq(got[0].size, ROOM, "a block that fills libc's block is whole");
    cr_assert_eq(got[1].size, ROOM, "b: what its chunk holds");
    cr_assert_eq(got[1].stack, 0);
    cr_assert_eq(got[1].thread, 0, "b: its thread unknown");
    cr_assert_geq(got[1].seq, first_new);
    cr_assert_eq(got[2].size, 0, "c: its chunk size is no size");
    cr_assert_geq(got[2].seq, first_new);
    cr_assert_neq(got[1].seq, got[2].seq);
    cr_assert_eq(got[3].seq, 103);
    cr_assert_eq(got[4].seq, 104, "e: its record found");
    cr_assert_eq(got[4].size, 3 * 4096);
    cr_assert_eq(got[4].thread, 2);
    cr_assert_geq(got[5].seq, first_new, "f: a thread never numbered");
    cr_assert_eq(got[6].size, 0, "z: it does not lie in memory mapped readable");
    cr_assert_geq(got[6].seq, first_new);
    mprotect(heap + HEAP - 4096, 4096, PROT_READ | PROT_WRITE);
    munmap(far, 4096);
}

Test(record_tailed, overwritten_short_records_are_cut_to_what_libc_holds) { overwritten(REC_TAIL_SHORT); }
Test(record_tailed, overwritten_long_records_are_cut_to_what_libc_holds) { overwritten(REC_TAIL_LONG); }

/* What malloc asks libc for leaves the record's bytes spare in glibc's chunk, and asks for them
 * more only when it must: checked against glibc itself (not under AddressSanitizer, whose malloc
 * is its own). */
#if defined(__SANITIZE_ADDRESS__)
#define GLIBC_MALLOC false
#else
#define GLIBC_MALLOC true
#endif
Test(record_tailed, requests_leave_room_for_the_record, .disabled = !GLIBC_MALLOC)
{
    static const size_t tails[] = {REC_TAIL_SHORT, REC_TAIL_LONG};
    for (int k = 0; k < 2; k++)
        for (size_t n = 0, tail = tails[k]; n < 2000; n++) {
            size_t ask = rec_tail_request(n, tail);
            void *p = malloc(ask), *q = malloc(n);
            __asm__("" : "+r"(p)); /* libc's block, whose chunk size lies in front: not an array */
            cr_assert_geq(malloc_usable_size(p), n + tail, "n %zu tail %zu", n, tail);
            cr_assert_eq(rec_libc_usable(p), malloc_usable_size(p));
            if (ask != n)
                cr_assert_lt(malloc_usable_size(q), n + tail, "n %zu: asked %zu more for nothing", n, tail);
            free(p), free(q);
        }
}
