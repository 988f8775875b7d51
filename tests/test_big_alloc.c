/* test_big_alloc.c: the analyses' large arrays (big_alloc.c): a freed huge-page array is kept
 * and handed back for the next request it holds, the smallest first, its pages past the request
 * given back, until hd_release_scratch; calloc's zeros hold on a kept array too; threads that
 * take and give back at once never share one. */
#include "dump/dump_internal.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

Test(big_alloc, a_freed_array_serves_the_next_request_it_fits)
{
    char *p = hd__ram_alloc(16 * MIB);
    cr_assert_not_null(p);
    memset(p, 7, 16 * MIB);
    hd__big_free(p);
    char *q = hd__ram_alloc(12 * MIB);
    cr_assert_eq(q, p, "a kept array is handed back rather than a fresh one");
    hd__big_free(q);
}

Test(big_alloc, the_smallest_kept_array_that_fits)
{
    char *big = hd__ram_alloc(40 * MIB), *small = hd__ram_alloc(16 * MIB);
    cr_assert(big && small);
    hd__big_free(big);
    hd__big_free(small);
    char *a = hd__ram_alloc(12 * MIB), *b = hd__ram_alloc(24 * MIB);
    cr_assert_eq(a, small);
    cr_assert_eq(b, big, "the 16 MiB one is taken: the 40 MiB one fits 24 MiB");
    hd__big_free(a);
    hd__big_free(b);
}

Test(big_alloc, calloc_zeroes_a_kept_array)
{
    unsigned char *p = hd__ram_alloc(16 * MIB);
    cr_assert_not_null(p);
    memset(p, 0xAB, 16 * MIB);
    hd__big_free(p);
    uint32_t *z = hd__ram_calloc(4 * MIB, sizeof *z);
    cr_assert_eq((void *)z, (void *)p);
    for (size_t i = 0; i < 4 * MIB; i++)
        if (z[i])
            cr_assert_fail("word %zu is %u", i, z[i]);
    hd__big_free(z);
}

/* A kept array much bigger than the request serves it, but its pages past the request (in whole
 * huge pages) go back to the system: resident memory stays within what the requests ask for. */
Test(big_alloc, a_bigger_array_serves_and_gives_back_what_the_request_leaves)
{
    unsigned char *big = hd__ram_alloc(64 * MIB);
    cr_assert_not_null(big);
    memset(big, 0xAB, 64 * MIB);
    hd__big_free(big);
    unsigned char *p = hd__ram_alloc(9 * MIB);
    cr_assert_eq(p, big, "the kept array serves the smaller request");
    cr_assert_eq(p[9 * MIB - 1], 0xAB, "the part asked for is kept as it was");
    long page = sysconf(_SC_PAGESIZE);
    size_t from = 10 * MIB, pages = (64 * MIB - from) / (size_t)page; /* 9 MiB rounded up to 2 MiB */
    unsigned char *resident = malloc(pages);
    cr_assert_not_null(resident);
    cr_assert_eq(mincore(p + from, pages * (size_t)page, resident), 0);
    for (size_t i = 0; i < pages; i++)
        if (resident[i] & 1)
            cr_assert_fail("page %zu past the request is still resident", i);
    cr_assert_eq(p[from], 0, "a page given back reads zero when touched again");
    free(resident);
    hd__big_free(p);
}

Test(big_alloc, release_scratch_empties_the_cache)
{
    unsigned char *p = hd__ram_alloc(16 * MIB);
    cr_assert_not_null(p);
    memset(p, 0xAB, 16 * MIB);
    hd__big_free(p);
    hd_release_scratch();
    unsigned char *q = hd__ram_alloc(12 * MIB);
    cr_assert_not_null(q);
    cr_assert_neq(q[0], 0xAB, "a kept array outlived hd_release_scratch");
    hd__big_free(q);
}

/* Each thread fills every array it holds with its own mark and checks it before giving it
 * back: two threads handed the same array would overwrite each other's marks. */
static void *churn(void *arg)
{
    unsigned char mark = (unsigned char)(uintptr_t)arg;
    for (int round = 0; round < 60; round++) {
        size_t size = (8 + (size_t)(round * 7 + mark) % 17) * MIB;
        unsigned char *p = hd__ram_alloc(size);
        if (!p)
            return (void *)1;
        memset(p, mark, size);
        for (size_t i = 0; i < size; i += 4096)
            if (p[i] != mark)
                return (void *)1;
        hd__big_free(p);
    }
    return NULL;
}

Test(big_alloc, threads_never_share_an_array)
{
    pthread_t t[3];
    for (uintptr_t i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
    for (int i = 0; i < 3; i++) {
        void *failed;
        pthread_join(t[i], &failed);
        cr_assert_null(failed);
    }
}
