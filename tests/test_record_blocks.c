/* test_record_blocks.c: the recorder's shared live-block table (src/record/blocks.c) against a
 * brute-force oracle: random inserts, removals and address reuse on pages filled sparsely and
 * densely (every 8-byte unit of a page, which fills the largest bucket and wraps its probes),
 * across regions, then the table's address-ordered copy compared with the oracle's; and threads
 * working at once on pages they share. The table is compiled into the test with its memory
 * (sysmem.c): it needs nothing else of the recorder. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include "random_numbers.h"
#include "record/blocks.c"
#include "record/sysmem.c"

rec_settings rec_config;
atomic_size_t rec_tailed_bytes; /* tailed.c's, counted with the table's against the memory limit */

static uint64_t below(uint64_t *state, uint64_t n) { return splitmix64(state) % n; }

#define SLOTS 6000

typedef struct oracle {
    uintptr_t addr[SLOTS];
    rec_block block[SLOTS]; /* block[i].addr == 0: not live */
} oracle;

static int by_addr(const void *a, const void *b)
{
    uintptr_t x = ((const rec_block *)a)->addr, y = ((const rec_block *)b)->addr;
    return x < y ? -1 : x > y;
}

static void same_block(const rec_block *got, const rec_block *want)
{
    cr_assert_eq(got->addr, want->addr);
    cr_assert_eq(got->size, want->size, "size of %#lx", (unsigned long)want->addr);
    cr_assert_eq(got->thread, want->thread);
    cr_assert_eq(got->seq, want->seq);
    cr_assert_eq(got->stack, want->stack);
}

/* Every live block of the oracle, and only those, in address order. */
static void same_table(const oracle *o)
{
    static rec_block want[SLOTS], got[SLOTS + 1];
    size_t n = 0;
    for (size_t i = 0; i < SLOTS; i++)
        if (o->block[i].addr)
            want[n++] = o->block[i];
    qsort(want, n, sizeof *want, by_addr);
    cr_assert_eq(rec_table_count(), n);
    cr_assert_eq(rec_table_sorted(got, SLOTS + 1), n);
    for (size_t i = 0; i < n; i++)
        same_block(&got[i], &want[i]);
}

Test(record_blocks, random_operations_agree_with_an_oracle)
{
    cr_assert(rec_table_init());
    static oracle o;
    uint64_t r = 18;
    /* Addresses: three dense pages (all 256 units), sparse ones spread over two regions. */
    uintptr_t dense = (uintptr_t)0x10000000;
    size_t n = 0;
    for (int p = 0; p < 3; p++)
        for (int u = 0; u < 256; u++)
            o.addr[n++] = dense + (uintptr_t)p * 2048 + (uintptr_t)u * 8;
    for (; n < SLOTS; n++)
        o.addr[n] = (n % 2 ? (uintptr_t)0x7f0000000000 : (uintptr_t)0x20000000) + below(&r, 1u << 20) * 16;
    for (size_t i = 0; i < SLOTS; i++) /* sparse addresses drawn twice are one slot */
        for (size_t j = 0; j < i; j++)
            if (o.addr[j] == o.addr[i])
                o.addr[i] = 0;
    uint64_t seq = 1;
    for (int step = 0; step < 200000; step++) {
        size_t i = below(&r, SLOTS);
        if (!o.addr[i])
            continue;
        rec_block *b = &o.block[i];
        unsigned op = below(&r, 10);
        if (op < 5 || (!b->addr && op < 8)) { /* allocate there: a live one is replaced */
            *b = (rec_block){.addr = o.addr[i], .size = below(&r, 5000), .thread = 1 + below(&r, 9),
                             .seq = seq++, .stack = below(&r, 1u << 24)};
            cr_assert(rec_table_insert(b));
        } else {
            rec_block got;
            bool live = b->addr != 0;
            cr_assert_eq(rec_table_remove(o.addr[i], &got), live, "remove %#lx", (unsigned long)o.addr[i]);
            if (live)
                same_block(&got, b);
            b->addr = 0;
        }
        if (step % 20000 == 0)
            same_table(&o);
    }
    same_table(&o);
    /* Beyond the address space the tree covers: refused, never recorded elsewhere. */
    rec_block far = {.addr = (uintptr_t)1 << 50, .size = 1, .seq = seq++};
    cr_assert_not(rec_table_insert(&far));
    cr_assert_not(rec_table_remove(far.addr, NULL));
    same_table(&o);
}

#define THREADS 4
#define PER_THREAD 20000

/* Each thread allocates and frees blocks at interleaved addresses: they share pages. */
static void *worker(void *arg)
{
    uintptr_t t = (uintptr_t)arg;
    for (int round = 0; round < 3; round++) {
        for (uintptr_t k = 0; k < PER_THREAD; k++) {
            rec_block b = {.addr = 0x40000000 + (k * THREADS + t) * 32, .size = k, .thread = (uint32_t)t + 1,
                           .seq = (round * PER_THREAD + k) * THREADS + t + 1};
            cr_assert(rec_table_insert(&b));
        }
        for (uintptr_t k = 0; k < PER_THREAD; k += round + 1)
            cr_assert(rec_table_remove(0x40000000 + (k * THREADS + t) * 32, NULL));
        for (uintptr_t k = 0; k < PER_THREAD; k++)
            rec_table_remove(0x40000000 + (k * THREADS + t) * 32, NULL);
    }
    for (uintptr_t k = 0; k < PER_THREAD; k += 7) {
        rec_block b = {.addr = 0x40000000 + (k * THREADS + t) * 32, .size = k, .thread = (uint32_t)t + 1, .seq = k + 1};
        cr_assert(rec_table_insert(&b));
    }
    return NULL;
}

Test(record_blocks, threads_sharing_pages)
{
    cr_assert(rec_table_init());
    size_t before = rec_table_count();
    pthread_t th[THREADS];
    for (uintptr_t t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, worker, (void *)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    size_t per = (PER_THREAD + 6) / 7;
    cr_assert_eq(rec_table_count() - before, per * THREADS);
    for (uintptr_t t = 0; t < THREADS; t++)
        for (uintptr_t k = 0; k < PER_THREAD; k++) {
            rec_block got;
            bool live = k % 7 == 0;
            cr_assert_eq(rec_table_remove(0x40000000 + (k * THREADS + t) * 32, &got), live);
            if (live)
                cr_assert(got.size == k && got.thread == t + 1);
        }
    cr_assert_eq(rec_table_count(), before);
}
