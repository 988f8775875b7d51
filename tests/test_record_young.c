/* test_record_young.c: the recorder's live blocks through the threads' young tables
 * (src/record/young.c) in front of the shared table, against a brute-force oracle: random
 * allocations and frees of one thread (its young table filling, pushing blocks out, bypassed
 * when most of them outlive their stay), then threads freeing each other's blocks, young or
 * moved on, and ending (their young blocks move to the shared table). Each time the count and the
 * address-ordered copy must be exactly the oracle's live blocks. Compiled with the tables and
 * their memory: nothing else of the recorder. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include "random_numbers.h"
#include "record/blocks.c"
#include "record/sysmem.c"
#include "record/young.c"

rec_settings rec_config;
void rec_out_of_memory(void) { cr_assert_fail("out of memory"); }

static uint64_t below(uint64_t *state, uint64_t n) { return splitmix64(state) % n; }

#define SLOTS 20000

static rec_block live[SLOTS]; /* the oracle; addr 0: not live */
static uintptr_t where[SLOTS];

static int by_addr(const void *a, const void *b)
{
    uintptr_t x = ((const rec_block *)a)->addr, y = ((const rec_block *)b)->addr;
    return x < y ? -1 : x > y;
}

static void same_table(void)
{
    static rec_block want[SLOTS], got[SLOTS + 1];
    size_t n = 0;
    for (size_t i = 0; i < SLOTS; i++)
        if (live[i].addr)
            want[n++] = live[i];
    qsort(want, n, sizeof *want, by_addr);
    cr_assert_eq(rec_blocks_count(), n);
    cr_assert_eq(rec_blocks_sorted(got, SLOTS + 1), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(got[i].addr, want[i].addr);
        cr_assert_eq(got[i].seq, want[i].seq, "seq at %#lx", (unsigned long)want[i].addr);
        cr_assert_eq(got[i].size, want[i].size);
    }
}

static void free_block(void *p) { (void)p; }

/* Like a program: a new block never lands on a live one. Phases of short-lived blocks (found
 * young) and of long-lived ones (pushed out, then the young table bypassed). */
Test(record_young, one_thread_agrees_with_an_oracle)
{
    cr_assert(rec_blocks_init());
    uint64_t r = 19, seq = 1;
    for (size_t i = 0; i < SLOTS; i++)
        where[i] = 0x10000000 + i * 48;
    for (int phase = 0; phase < 6; phase++) {
        size_t span = phase % 2 ? SLOTS : 600; /* few live at once, or many */
        for (int step = 0; step < 60000; step++) {
            size_t i = below(&r, span);
            if (!live[i].addr) {
                live[i] = (rec_block){.addr = where[i], .size = 1 + below(&r, 40), .thread = 1, .seq = seq++};
                cr_assert(rec_blocks_insert(&live[i]));
            } else if (below(&r, 3) == 0) {
                rec_block got;
                cr_assert(rec_blocks_remove(where[i], &got));
                cr_assert_eq(got.seq, live[i].seq);
                live[i].addr = 0;
            } else {
                rec_blocks_free((void *)where[i], free_block);
                live[i].addr = 0;
            }
        }
        same_table();
    }
    cr_assert_not(rec_blocks_remove(0x10000000 + SLOTS * 48, NULL)); /* never live */
    same_table();
}

/* A block recorded at the address of one still young (freed where the recorder could not see
 * it) takes that one's slot, whichever way of its set it sits in; a new address in a full set
 * pushes the set's oldest block out to the shared table. Addresses 8 MiB apart share a set. */
Test(record_young, a_set_replaces_a_live_address_and_pushes_out_its_oldest)
{
    cr_assert(rec_blocks_init());
    uint64_t seq = 1;
    for (size_t i = 0; i < 6; i++)
        where[i] = 0x20000000 + i * ((size_t)1 << 23);
    for (size_t i = 0; i < 4; i++) {
        live[i] = (rec_block){.addr = where[i], .size = 16, .thread = 1, .seq = seq++};
        cr_assert(rec_blocks_insert(&live[i]));
    }
    static const size_t order[] = {2, 0, 3, 1, 1, 3};
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        size_t i = order[k];
        live[i] = (rec_block){.addr = where[i], .size = 100 + k, .thread = 1, .seq = seq++};
        cr_assert(rec_blocks_insert(&live[i]));
        same_table();
        cr_assert_eq(rec_table_count(), 0, "replaced in its slot, nothing pushed out");
    }
    /* Oldest now: where[2] (replaced first), then where[0] (second): pushed out in that order. */
    for (size_t i = 4; i < 6; i++) {
        live[i] = (rec_block){.addr = where[i], .size = 16, .thread = 1, .seq = seq++};
        cr_assert(rec_blocks_insert(&live[i]));
        same_table();
    }
    rec_block moved[3];
    cr_assert_eq(rec_table_sorted(moved, 3), 2);
    cr_assert_eq(moved[0].addr, where[0]);
    cr_assert_eq(moved[0].seq, live[0].seq);
    cr_assert_eq(moved[1].addr, where[2]);
    cr_assert_eq(moved[1].seq, live[2].seq);
}

/* rec_block_make lays the words out as the compiler lays out rec_block's bit-fields: each field
 * reads back what was given, cut to its width. */
Test(record_young, a_record_made_word_by_word_reads_back_through_its_fields)
{
    static const uint64_t sizes[] = {0, 1, 48, (1ull << 44) - 1, (1ull << 44) + 9};
    static const uint64_t threads[] = {1, 31, 0xfffff, 0x100000, 0x123456};
    static const uint64_t seqs[] = {1, 2, (1ull << 40) - 1, 1ull << 40, (1ull << 41) + 7};
    static const uint64_t stacks[] = {0, 1, 0xffffff, 0x1000000, 0x1234567};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        uint64_t thread = threads[k], seq = seqs[k], stack = stacks[k];
        rec_block b = rec_block_make(0x7f0012345670, sizes[k], thread, seq, stack);
        cr_assert_eq(b.addr, 0x7f0012345670);
        cr_assert_eq(b.size, sizes[k] & ((1ull << 44) - 1));
        cr_assert_eq(b.thread, thread & 0xfffff);
        cr_assert_eq(b.seq, seq & ((1ull << 40) - 1));
        cr_assert_eq(b.stack, stack & 0xffffff);
    }
}

#define THREADS 4
#define PER_THREAD (SLOTS / THREADS)
static pthread_barrier_t made, freed;

/* Thread t allocates its share, frees a third of the next thread's blocks (young there, or moved
 * on) and a third of its own, and ends. */
static void *worker(void *arg)
{
    size_t t = (size_t)arg, next = (t + 1) % THREADS;
    for (size_t k = 0; k < PER_THREAD; k++) {
        size_t i = t * PER_THREAD + k;
        live[i] = (rec_block){.addr = where[i], .size = k + 1, .thread = (uint32_t)t + 1, .seq = i + 1};
        cr_assert(rec_blocks_insert(&live[i]));
    }
    pthread_barrier_wait(&made);
    for (size_t k = 0; k < PER_THREAD; k += 3) {
        size_t i = next * PER_THREAD + k;
        rec_blocks_free((void *)where[i], free_block);
        live[i].addr = 0;
    }
    for (size_t k = 1; k < PER_THREAD; k += 3) {
        size_t i = t * PER_THREAD + k;
        rec_block got;
        cr_assert(rec_blocks_remove(where[i], &got));
        cr_assert_eq(got.seq, i + 1);
        live[i].addr = 0;
    }
    pthread_barrier_wait(&freed); /* all remote frees done before any thread's blocks move on */
    if (t % 2)
        rec_blocks_thread_exit();
    return NULL;
}

Test(record_young, threads_free_each_others_blocks)
{
    cr_assert(rec_blocks_init());
    for (size_t i = 0; i < SLOTS; i++)
        where[i] = 0x40000000 + i * 32;
    pthread_barrier_init(&made, NULL, THREADS);
    pthread_barrier_init(&freed, NULL, THREADS);
    pthread_t th[THREADS];
    for (size_t t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, worker, (void *)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    same_table();
    for (size_t i = 0; i < SLOTS; i++) /* the rest, freed from here: no young table of its own */
        if (live[i].addr && i % 2) {
            rec_blocks_free((void *)where[i], free_block);
            live[i].addr = 0;
        }
    same_table();
}

/* One thread allocates while another frees (or takes out) its blocks a little behind it: each of
 * them young there, or being moved to the shared table at that very moment (its set full), or
 * moved on; the owner's young table also bypassed and emptied meanwhile. The blocks are 32 bytes
 * apart: the owner's 2048th block after one pushes it out. */
static atomic_size_t made_upto, freed_upto;
#define LEAD 2060 /* the owner's most blocks ahead of the chaser */

static void *owner(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < SLOTS; i++) {
        while (atomic_load_explicit(&freed_upto, memory_order_acquire) + LEAD < i)
            ;
        live[i] = (rec_block){.addr = where[i], .size = i % 500 + 1, .thread = 1, .seq = i + 1};
        cr_assert(rec_blocks_insert(&live[i]));
        atomic_store_explicit(&made_upto, i + 1, memory_order_release);
    }
    return NULL;
}

static void *chaser(void *arg)
{
    (void)arg;
    uint64_t r = 7;
    for (size_t i = 0; i < SLOTS; i++) {
        /* Mostly about when the owner's young table, 2048 blocks, is full and pushes it out. */
        size_t lag = below(&r, 4) ? 2040 + below(&r, 16) : below(&r, LEAD);
        while (atomic_load_explicit(&made_upto, memory_order_acquire) < (i + lag < SLOTS ? i + lag : SLOTS))
            ;
        if (i % 3 == 0) {
            rec_block got;
            cr_assert(rec_blocks_remove(where[i], &got), "block %zu", i);
            cr_assert_eq(got.seq, i + 1);
            cr_assert_eq(got.size, i % 500 + 1);
        } else {
            rec_blocks_free((void *)where[i], free_block);
        }
        live[i].addr = 0;
        atomic_store_explicit(&freed_upto, i + 1, memory_order_release);
    }
    return NULL;
}

Test(record_young, frees_race_the_owners_moves)
{
    cr_assert(rec_blocks_init());
    for (size_t i = 0; i < SLOTS; i++)
        where[i] = 0x80000000 + i * 32;
    pthread_t a, b;
    cr_assert_eq(pthread_create(&a, NULL, owner, NULL), 0);
    cr_assert_eq(pthread_create(&b, NULL, chaser, NULL), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    same_table();
}
