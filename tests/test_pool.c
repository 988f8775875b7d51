/* test_pool.c: the small-object allocator against a shadow model of random alloc/realloc/free
 * sequences (no overlapping live blocks, contents intact, statistics equal to the model's), the
 * byte accounting that sums to the arenas, arenas returned to the OS, fullest-arena-first, lazy
 * carving, the _debugmallocstats text, and objects allocated from the pools. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ASAN 1
#endif

#define HEAP_SUITE pool
#include "heap_test.h"

static size_t class_of(size_t size) { return size ? (size - 1) / 16 : 0; }
static size_t block_of(size_t size) { return (class_of(size) + 1) * 16; }

static void stats(hm_pool_stats *st) { hm_pool_get_stats(h, st); }

/* The parts of the byte accounting always sum to the mapped arenas. */
static void check_accounting(const hm_pool_stats *st)
{
    size_t sum = st->bytes_in_allocated_blocks + st->bytes_in_available_blocks + st->bytes_in_unused_pools +
                 st->bytes_in_pool_headers + st->bytes_lost_to_quantization + st->bytes_lost_to_alignment;
    cr_assert_eq(sum, st->arenas_current * (size_t)HM_ARENA_SIZE, "parts %zu != %zu arenas", sum, st->arenas_current);
    cr_assert_eq(st->arena_bytes, st->arenas_current * (size_t)HM_ARENA_SIZE);
    cr_assert_eq(st->unused_pools * (size_t)HM_POOL_SIZE, st->bytes_in_unused_pools);
    cr_assert_leq(st->arenas_current, st->arenas_highwater);
    cr_assert_eq(st->arenas_allocated - st->arenas_reclaimed, st->arenas_current);
}

/* ---- the oracle ---- */

typedef struct live {
    unsigned char *p;
    size_t size;
    unsigned char fill;
} live;

static int by_addr(const void *a, const void *b)
{
    const live *x = a, *y = b;
    return (x->p > y->p) - (x->p < y->p);
}

static void check_model(live *L, size_t n)
{
    hm_pool_stats st;
    stats(&st);
    check_accounting(&st);
    size_t in_use[HM_POOL_CLASSES] = {0}, large = 0, large_bytes = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += L[i].size;
        if (L[i].size > HM_POOL_SMALL_MAX) {
            large++;
            large_bytes += L[i].size;
        } else {
            in_use[class_of(L[i].size)]++;
        }
        for (size_t k = 0; k < L[i].size; k++)
            cr_assert_eq(L[i].p[k], L[i].fill, "block %p byte %zu overwritten", (void *)L[i].p, k);
    }
    for (size_t c = 0; c < HM_POOL_CLASSES; c++) {
        cr_assert_eq(st.classes[c].blocks_in_use, in_use[c], "class %zu: %zu in use, model %zu", c,
                     st.classes[c].blocks_in_use, in_use[c]);
        cr_assert_eq(st.classes[c].size, (c + 1) * 16);
        size_t per_pool = (HM_POOL_SIZE - 48) / st.classes[c].size;
        cr_assert_eq(st.classes[c].blocks_in_use + st.classes[c].blocks_available, st.classes[c].pools * per_pool);
    }
    cr_assert_eq(st.large_blocks, large);
    cr_assert_eq(st.large_bytes, large_bytes);
    hm_heap_stats hs;
    hm_heap_get_stats(h, &hs);
    cr_assert_eq(hs.bytes, bytes);
    /* No two live blocks overlap, counting the whole block each was given. */
    live *sorted = malloc((n ? n : 1) * sizeof *sorted);
    memcpy(sorted, L, n * sizeof *L);
    qsort(sorted, n, sizeof *sorted, by_addr);
    for (size_t i = 1; i < n; i++) {
        size_t span = sorted[i - 1].size > HM_POOL_SMALL_MAX ? sorted[i - 1].size : block_of(sorted[i - 1].size);
        cr_assert_leq(sorted[i - 1].p + span, sorted[i].p, "blocks overlap");
    }
    free(sorted);
}

/* Mostly small sizes, some zero-byte and some large requests. */
static size_t random_size(void)
{
    int r = rand() % 100;
    if (r < 2)
        return 0;
    if (r < 7)
        return 513 + (size_t)(rand() % 3000);
    if (r < 60)
        return 1 + (size_t)(rand() % 64);
    return 1 + (size_t)(rand() % 512);
}

static void oracle_run(unsigned seed, size_t steps, size_t max_live)
{
    srand(seed);
    live *L = calloc(max_live, sizeof *L);
    size_t n = 0;
    for (size_t step = 0; step < steps; step++) {
        int op = rand() % 10;
        if ((op < 5 && n < max_live) || n == 0) {
            size_t size = random_size();
            unsigned char *p = hm_mem_alloc(h, size);
            cr_assert_not_null(p);
            cr_assert_eq((uintptr_t)p % 16, 0, "16-byte aligned");
            unsigned char fill = (unsigned char)rand();
            memset(p, fill, size);
            L[n++] = (live){p, size, fill};
        } else if (op < 7) {
            size_t i = (size_t)rand() % n;
            size_t size = random_size();
            unsigned char *q = hm_mem_realloc(h, L[i].p, L[i].size, size);
            cr_assert_not_null(q);
            for (size_t k = 0; k < L[i].size && k < size; k++)
                cr_assert_eq(q[k], L[i].fill, "realloc kept the contents");
            memset(q, L[i].fill, size);
            L[i].p = q;
            L[i].size = size;
        } else {
            size_t i = (size_t)rand() % n;
            for (size_t k = 0; k < L[i].size; k++)
                cr_assert_eq(L[i].p[k], L[i].fill);
            hm_mem_free(h, L[i].p, L[i].size);
            L[i] = L[--n];
        }
        if (step % 2000 == 0)
            check_model(L, n);
    }
    check_model(L, n);
    while (n > 0) {
        n--;
        hm_mem_free(h, L[n].p, L[n].size);
    }
    check_model(L, 0);
    hm_pool_stats st;
    stats(&st);
    cr_assert_leq(st.arenas_current, 1, "every arena emptied is returned but one");
    free(L);
}

HEAP_TEST(random_sequences_match_the_shadow_model)
{
    for (unsigned seed = 1; seed <= 6; seed++)
        oracle_run(seed, 30000, 1 + (size_t)seed * 3000);
}

HEAP_TEST(many_live_blocks_span_many_arenas)
{
    oracle_run(99, 120000, 60000);
    hm_pool_stats st;
    stats(&st);
    cr_assert_geq(st.arenas_highwater, 3);
}

/* ---- structure ---- */

HEAP_TEST(blocks_are_carved_lazily)
{
    hm_pool_stats st;
    stats(&st);
    cr_assert_eq(st.arenas_current, 0, "nothing mapped before the first request");
    void *p = hm_mem_alloc(h, 16);
    stats(&st);
    cr_assert_eq(st.arenas_current, 1);
    cr_assert_eq(st.classes[0].pools, 1);
    cr_assert_eq(st.classes[0].blocks_in_use, 1);
    cr_assert_eq(st.classes[0].blocks_available, (HM_POOL_SIZE - 48) / 16 - 1);
    cr_assert_eq(st.unused_pools, HM_ARENA_SIZE / HM_POOL_SIZE - 1);
    cr_assert_eq(st.bytes_in_pool_headers, 48);
    cr_assert_eq(st.bytes_lost_to_quantization, (HM_POOL_SIZE - 48) % 16);
    check_accounting(&st);
    /* A freed block is the next one handed out (LIFO free list). */
    hm_mem_free(h, p, 16);
    void *q = hm_mem_alloc(h, 9);
    cr_assert_eq(q, p);
    hm_mem_free(h, q, 9);
    stats(&st);
    cr_assert_eq(st.classes[0].pools, 0, "an empty pool goes back to its arena");
    cr_assert_eq(st.arenas_current, 1, "the last arena is kept");
}

HEAP_TEST(quantization_of_a_448_byte_class)
{
    void *p = hm_mem_alloc(h, 440); /* class 27, 448-byte blocks: 36 per pool, 208 bytes left */
    hm_pool_stats st;
    stats(&st);
    cr_assert_eq(st.classes[27].size, 448);
    cr_assert_eq(st.classes[27].blocks_available, 35);
    cr_assert_eq(st.bytes_lost_to_quantization, (HM_POOL_SIZE - 48) - 36 * 448);
    check_accounting(&st);
    hm_mem_free(h, p, 440);
}

/* Allocate `arenas` arenas full of 256-byte blocks; returns the blocks (n of them). */
static void **fill_arenas(size_t arenas, size_t *n)
{
    size_t per_pool = (HM_POOL_SIZE - 48) / 256;
    *n = arenas * (HM_ARENA_SIZE / HM_POOL_SIZE) * per_pool;
    void **b = malloc(*n * sizeof *b);
    for (size_t i = 0; i < *n; i++)
        b[i] = hm_mem_alloc(h, 256);
    return b;
}

static uintptr_t arena_of(const void *p) { return (uintptr_t)p & ~(uintptr_t)(HM_ARENA_SIZE - 1); }

HEAP_TEST(wholly_free_arenas_go_back_to_the_os_but_one)
{
    size_t n;
    void **b = fill_arenas(5, &n);
    hm_pool_stats st;
    stats(&st);
    cr_assert_eq(st.arenas_current, 5);
    cr_assert_eq(st.unused_pools, 0);
    cr_assert_eq(st.bytes_in_available_blocks, 0);
    check_accounting(&st);
    for (size_t i = 0; i < n; i++)
        hm_mem_free(h, b[i], 256);
    stats(&st);
    cr_assert_eq(st.arenas_current, 1);
    cr_assert_eq(st.arenas_reclaimed, 4);
    cr_assert_eq(st.arenas_highwater, 5);
    cr_assert_eq(st.arenas_allocated, 5);
    cr_assert_eq(st.bytes_in_allocated_blocks, 0);
    check_accounting(&st);
    /* The kept arena serves the next burst without a new mapping. */
    void *p = hm_mem_alloc(h, 32);
    stats(&st);
    cr_assert_eq(st.arenas_allocated, 5);
    hm_mem_free(h, p, 32);
    free(b);
}

HEAP_TEST(new_pools_come_from_the_fullest_arena)
{
    size_t n;
    void **b = fill_arenas(3, &n);
    uintptr_t A = arena_of(b[0]), B = arena_of(b[n / 2]), C = arena_of(b[n - 1]);
    cr_assert(A != B && B != C && A != C);
    /* Empty most of A, a little of B and half of C: B is the fullest with a free pool. */
    size_t freed_a = 0, freed_b = 0, freed_c = 0, per_pool = (HM_POOL_SIZE - 48) / 256;
    for (size_t i = 0; i < n; i++) {
        uintptr_t a = arena_of(b[i]);
        size_t pool_no = ((uintptr_t)b[i] - a) / HM_POOL_SIZE;
        bool drop = (a == A && pool_no < 60) || (a == B && pool_no < 2) || (a == C && pool_no < 30);
        if (drop) {
            hm_mem_free(h, b[i], 256);
            b[i] = NULL;
            freed_a += a == A;
            freed_b += a == B;
            freed_c += a == C;
        }
    }
    cr_assert_eq(freed_b, 2 * per_pool);
    (void)freed_a;
    (void)freed_c;
    /* A new size class needs new pools: the first two come from B, then C (30 free) before A. */
    void *x = hm_mem_alloc(h, 100);
    cr_assert_eq(arena_of(x), B, "first pool from the fullest arena");
    void *more[(HM_POOL_SIZE - 48) / 32 * 3];
    size_t nm = 0;
    for (unsigned k = 0; k < 3; k++) /* three fresh pools of the 32-byte class */
        for (size_t i = 0; i < (HM_POOL_SIZE - 48) / 32; i++)
            more[nm++] = hm_mem_alloc(h, 32);
    cr_assert_eq(arena_of(more[0]), B);
    cr_assert_eq(arena_of(more[nm - 1]), C, "B is full: next fullest is C, not A");
    for (size_t i = 0; i < nm; i++)
        hm_mem_free(h, more[i], 32);
    hm_mem_free(h, x, 100);
    for (size_t i = 0; i < n; i++)
        if (b[i])
            hm_mem_free(h, b[i], 256);
    free(b);
    hm_pool_stats st;
    stats(&st);
    cr_assert_eq(st.arenas_current, 1);
}

static uintptr_t pool_of(const void *p) { return (uintptr_t)p & ~(uintptr_t)(HM_POOL_SIZE - 1); }

/* Each block of seq either follows the previous one in its pool or starts the pool right after. */
static void assert_one_run(void *const *seq, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        cr_assert_gt((uintptr_t)seq[i], (uintptr_t)seq[i - 1], "block %zu goes back", i);
        if (pool_of(seq[i]) != pool_of(seq[i - 1]))
            cr_assert_eq(pool_of(seq[i]), pool_of(seq[i - 1]) + HM_POOL_SIZE, "block %zu skips pools", i);
    }
}

HEAP_TEST(a_class_continues_its_run_of_pools)
{
    /* Two classes allocated in turn, as a program making objects and their fields does: each
     * class's blocks still lie in one ascending run of adjacent pools (about ten pools each). */
    enum { N = 2500 };
    static void *a[N], *b[N];
    for (size_t i = 0; i < N; i++) {
        a[i] = hm_mem_alloc(h, 64);
        b[i] = hm_mem_alloc(h, 48);
    }
    cr_assert_eq(arena_of(a[0]), arena_of(a[N - 1]));
    cr_assert_eq(arena_of(a[0]), arena_of(b[N - 1]));
    assert_one_run(a, N);
    assert_one_run(b, N);
    /* A class whose last pool empties gets that pool back first: its memory is warm. */
    uintptr_t last = pool_of(b[N - 1]);
    size_t kept = N;
    while (pool_of(b[kept - 1]) == last)
        hm_mem_free(h, b[--kept], 48);
    void *again = hm_mem_alloc(h, 48);
    cr_assert_eq(pool_of(again), last);
    hm_mem_free(h, again, 48);
    for (size_t i = 0; i < N; i++) {
        hm_mem_free(h, a[i], 64);
        if (i < kept)
            hm_mem_free(h, b[i], 48);
    }
    hm_pool_stats st;
    stats(&st);
    cr_assert_eq(st.classes[2].pools + st.classes[3].pools, 0);
    check_accounting(&st);
}

HEAP_TEST(a_full_pool_that_gets_a_block_back_waits_at_the_tail)
{
    /* Three full pools of the 256-byte class and a fourth with room at the head of the list. */
    enum { PER = (HM_POOL_SIZE - 48) / 256, N = 3 * PER + 10 };
    static void *b[N];
    for (size_t i = 0; i < N; i++)
        b[i] = hm_mem_alloc(h, 256);
    uintptr_t p1 = pool_of(b[0]), p3 = pool_of(b[2 * PER]), p4 = pool_of(b[N - 1]);
    cr_assert_eq(pool_of(b[PER - 1]), p1);
    cr_assert_eq(pool_of(b[3 * PER]), p4);
    /* p1 gets a block back and joins behind p4; p2 joins too and then empties while last, so p3
     * must join behind p1. */
    hm_mem_free(h, b[5], 256);
    for (size_t i = PER; i < 2 * PER; i++)
        hm_mem_free(h, b[i], 256);
    hm_mem_free(h, b[2 * PER + 3], 256);
    void *x[PER - 10];
    for (size_t i = 0; i < PER - 10; i++) {
        x[i] = hm_mem_alloc(h, 256);
        cr_assert_eq(pool_of(x[i]), p4, "the head pool is used up first");
    }
    void *y = hm_mem_alloc(h, 256), *z = hm_mem_alloc(h, 256), *w = hm_mem_alloc(h, 256);
    cr_assert_eq(y, b[5], "then the pools that got blocks back, in the order they did");
    cr_assert_eq(z, b[2 * PER + 3]);
    cr_assert(pool_of(w) != p1 && pool_of(w) != p3 && pool_of(w) != p4, "then a new pool");
    hm_mem_free(h, w, 256);
    for (size_t i = 0; i < PER - 10; i++)
        hm_mem_free(h, x[i], 256);
    b[5] = y;
    b[2 * PER + 3] = z;
    for (size_t i = 0; i < N; i++)
        if (i < PER || i >= 2 * PER)
            hm_mem_free(h, b[i], 256);
    hm_pool_stats st;
    stats(&st);
    cr_assert_eq(st.classes[15].pools, 0);
    check_accounting(&st);
}

HEAP_TEST(realloc_moves_across_classes_and_to_malloc)
{
    unsigned char *p = hm_mem_realloc(h, NULL, 0, 20);
    memset(p, 7, 20);
    unsigned char *q = hm_mem_realloc(h, p, 20, 30);
    cr_assert_eq(q, p, "same 32-byte class: same block");
    q = hm_mem_realloc(h, q, 30, 100);
    cr_assert_eq(q[19], 7);
    q = hm_mem_realloc(h, q, 100, 5000);
    cr_assert_eq(q[0], 7);
    hm_pool_stats st;
    stats(&st);
    cr_assert_eq(st.large_blocks, 1);
    cr_assert_eq(st.large_bytes, 5000);
    q = hm_mem_realloc(h, q, 5000, 8);
    cr_assert_eq(q[7], 7);
    stats(&st);
    cr_assert_eq(st.large_blocks, 0);
    cr_assert_eq(st.classes[0].blocks_in_use, 1);
    hm_mem_free(h, q, 8);
    hm_mem_free(h, NULL, 8);
    cr_assert_null(hm_mem_alloc(NULL, 8));
}

/* ---- objects ---- */

HEAP_TEST(every_object_comes_from_the_pools)
{
    hm_pool_stats before, after;
    stats(&before);
    hm_object *l = hm_list_new(h);
    size_t list_size = hm_object_size(l); /* empty list: no buffer yet */
    hm_object *items[100];
    for (int i = 0; i < 100; i++) {
        items[i] = hm_int_new(h, 1000 + i);
        hm_list_append(l, items[i]);
    }
    stats(&after);
    size_t ints = after.classes[class_of(hm_object_size(items[0]))].blocks_in_use -
                  before.classes[class_of(hm_object_size(items[0]))].blocks_in_use;
    cr_assert_geq(ints, 100);
    cr_assert_gt(after.classes[class_of(list_size)].blocks_in_use, before.classes[class_of(list_size)].blocks_in_use);
    hm_heap_stats hs;
    hm_heap_get_stats(h, &hs);
    cr_assert_leq(hs.bytes, after.bytes_in_allocated_blocks + after.large_bytes, "requests fit their blocks");
    for (int i = 0; i < 100; i++)
        hm_decref(items[i]);
    hm_decref(l);
    stats(&after);
    check_accounting(&after);
}

HEAP_TEST(a_collection_returns_its_garbage_to_the_pools)
{
    static const char *const slots[] = {"next", NULL};
    hm_type *Node = hm_class_new(&(hm_class_spec){.name = "Node", .slots = slots});
    hm_gc_disable(h);
    hm_object *first = hm_instance_new(h, Node), *prev = first;
    hm_incref(first);
    for (int i = 0; i < 50000; i++) {
        hm_object *n = hm_instance_new(h, Node);
        hm_instance_set_slot(prev, 0, n);
        hm_decref(prev);
        prev = n;
    }
    hm_instance_set_slot(prev, 0, first); /* one 50001-object ring */
    hm_decref(prev);
    hm_decref(first);
    hm_pool_stats st;
    stats(&st);
    cr_assert_geq(st.arenas_current, 3);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 50001);
    stats(&st);
    cr_assert_eq(st.arenas_current, 1, "the ring's arenas are unmapped, one kept");
    check_accounting(&st);
    heap_test_finish();
    h = hm_heap_new();
    hm_class_free(Node);
}

/* ---- text ---- */

HEAP_TEST(debugmallocstats_text)
{
    void *p = hm_mem_alloc(h, 24), *q = hm_mem_alloc(h, 1000);
    size_t need = hm_pool_format_stats(h, NULL, 0);
    cr_assert_gt(need, 100);
    char *buf = malloc(need + 1);
    cr_assert_eq(hm_pool_format_stats(h, buf, need + 1), need);
    cr_assert_eq(strlen(buf), need);
    cr_assert_not_null(strstr(buf, "Small block threshold = 512, in 32 size classes."));
    cr_assert_not_null(strstr(buf, "class   size   num pools   blocks in use  avail blocks"));
    cr_assert_not_null(strstr(buf, "    1     32           1               1           509\n"), "%s", buf);
    cr_assert_not_null(strstr(buf, "1 arenas * 1048576 bytes/arena     =            1,048,576"), "%s", buf);
    cr_assert_not_null(strstr(buf, "Total                              =            1,048,576"), "%s", buf);
    cr_assert_not_null(strstr(buf, "63 unused pools * 16384 bytes      =            1,032,192"), "%s", buf);
    cr_assert_not_null(strstr(buf, "# bytes in large blocks            =                1,000"), "%s", buf);
    /* Truncated like snprintf: terminated, and the full length reported. */
    char small[16];
    cr_assert_eq(hm_pool_format_stats(h, small, sizeof small), need);
    cr_assert_eq(strlen(small), sizeof small - 1);
    cr_assert_eq(strncmp(small, buf, sizeof small - 1), 0);
    /* The FILE form writes the same text. */
    FILE *f = tmpfile();
    cr_assert_eq(hm_pool_print_stats(h, f), HM_OK);
    cr_assert_eq((size_t)ftell(f), need);
    rewind(f);
    char *back = calloc(1, need + 1);
    cr_assert_eq(fread(back, 1, need, f), need);
    cr_assert_str_eq(back, buf);
    fclose(f);
    cr_assert_eq(hm_pool_print_stats(NULL, stdout), HM_EINVAL);
    free(back);
    free(buf);
    hm_mem_free(h, p, 24);
    hm_mem_free(h, q, 1000);
}

#ifdef ASAN
HEAP_TEST(freed_blocks_are_poisoned_under_asan)
{
    char *p = hm_mem_alloc(h, 40);
    cr_assert(!__asan_region_is_poisoned(p, 40));
    cr_assert(__asan_address_is_poisoned(p + 48), "the next block is not carved yet");
    hm_mem_free(h, p, 40);
    cr_assert(__asan_address_is_poisoned(p));
    cr_assert(__asan_address_is_poisoned(p + 47));
}
#endif
