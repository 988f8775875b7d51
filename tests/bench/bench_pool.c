/* bench_pool.c: libhm's pool allocator against glibc malloc/free on the same precomputed
 * sequences of mixed sizes <= 512 bytes, and a fragmentation scenario that shows arenas going
 * back to the OS. Prints "name value" lines; tests/bench/run_pool.sh makes the table.
 * Usage: bench_pool speed [OPS [RUNS]]     alloc+free pairs, ns per pair (medians)
 *        bench_pool frag pool|glibc [N]     RSS before/after freeing most of N 64-byte blocks */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hm.h"
#include "../random_numbers.h"
#include "timing.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_pool: %s\n", what);
    exit(1);
}

static uint64_t rng = 88172645463325252u;
static uint64_t next_rand(void) { return xorshift64(&rng); }

/* Object-like sizes: mostly small, a tail up to 512. */
static uint32_t mixed_size(void)
{
    uint64_t r = next_rand() % 100;
    if (r < 60)
        return 16 + (uint32_t)(next_rand() % 49);   /* 16..64 */
    if (r < 90)
        return 65 + (uint32_t)(next_rand() % 192);  /* 65..256 */
    return 257 + (uint32_t)(next_rand() % 256);     /* 257..512 */
}

/* The sequences, made once so that both allocators do exactly the same work:
 *  churn: `live` blocks; each step frees a random one and allocates a new size in its place.
 *  batch: allocate `live` blocks, free them all in a shuffled order, repeat.
 * With 1000 blocks everything stays in the CPU caches and the allocators' own work shows; with
 * 10000 and 100000 the cost of touching cold memory, the same for both, takes over. */
#define MAXLIVE 100000

typedef struct plan {
    size_t ops, live;
    uint32_t *size;  /* per step */
    uint32_t *slot;  /* churn: the slot replaced; batch: the free order */
} plan;

static plan make_plan(size_t ops, size_t live, int batch)
{
    plan p = {ops, live, malloc(ops * sizeof(uint32_t)), malloc(ops * sizeof(uint32_t))};
    if (!p.size || !p.slot)
        die("out of memory");
    for (size_t i = 0; i < ops; i++) {
        p.size[i] = mixed_size();
        p.slot[i] = (uint32_t)(next_rand() % live);
    }
    if (batch) { /* shuffled order within each batch */
        for (size_t b = 0; b < ops; b += live) {
            size_t n = ops - b < live ? ops - b : live;
            for (size_t i = 0; i < n; i++)
                p.slot[b + i] = (uint32_t)i;
            for (size_t i = n - 1; i > 0; i--) {
                size_t j = next_rand() % (i + 1);
                uint32_t t = p.slot[b + i];
                p.slot[b + i] = p.slot[b + j];
                p.slot[b + j] = t;
            }
        }
    }
    return p;
}

typedef struct block {
    void *p;
    uint32_t size;
} block;

static block blocks[MAXLIVE];

/* Touch the first word, as a real user of the block would. */
#define USE(b) (*(volatile char *)(b).p = 1)

static double churn_pool(const plan *pl)
{
    hm_heap *h = hm_heap_new();
    for (size_t i = 0; i < pl->live; i++) {
        blocks[i].size = pl->size[i];
        blocks[i].p = hm_mem_alloc(h, blocks[i].size);
    }
    double t = now();
    for (size_t i = 0; i < pl->ops; i++) {
        block *b = &blocks[pl->slot[i]];
        hm_mem_free(h, b->p, b->size);
        b->size = pl->size[i];
        b->p = hm_mem_alloc(h, b->size);
        USE(*b);
    }
    t = now() - t;
    for (size_t i = 0; i < pl->live; i++)
        hm_mem_free(h, blocks[i].p, blocks[i].size);
    hm_heap_destroy(h, NULL);
    return t / (double)pl->ops;
}

static double churn_glibc(const plan *pl)
{
    for (size_t i = 0; i < pl->live; i++) {
        blocks[i].size = pl->size[i];
        blocks[i].p = malloc(blocks[i].size);
    }
    double t = now();
    for (size_t i = 0; i < pl->ops; i++) {
        block *b = &blocks[pl->slot[i]];
        free(b->p);
        b->size = pl->size[i];
        b->p = malloc(b->size);
        USE(*b);
    }
    t = now() - t;
    for (size_t i = 0; i < pl->live; i++)
        free(blocks[i].p);
    return t / (double)pl->ops;
}

static double batch_pool(const plan *pl)
{
    hm_heap *h = hm_heap_new();
    double t = now();
    for (size_t b = 0; b < pl->ops; b += pl->live) {
        size_t n = pl->ops - b < pl->live ? pl->ops - b : pl->live;
        for (size_t i = 0; i < n; i++) {
            blocks[i].size = pl->size[b + i];
            blocks[i].p = hm_mem_alloc(h, blocks[i].size);
            USE(blocks[i]);
        }
        for (size_t i = 0; i < n; i++) {
            block *x = &blocks[pl->slot[b + i]];
            hm_mem_free(h, x->p, x->size);
        }
    }
    t = now() - t;
    hm_heap_destroy(h, NULL);
    return t / (double)pl->ops;
}

static double batch_glibc(const plan *pl)
{
    double t = now();
    for (size_t b = 0; b < pl->ops; b += pl->live) {
        size_t n = pl->ops - b < pl->live ? pl->ops - b : pl->live;
        for (size_t i = 0; i < n; i++) {
            blocks[i].size = pl->size[b + i];
            blocks[i].p = malloc(blocks[i].size);
            USE(blocks[i]);
        }
        for (size_t i = 0; i < n; i++)
            free(blocks[pl->slot[b + i]].p);
    }
    t = now() - t;
    return t / (double)pl->ops;
}

static void speed(size_t ops, int runs)
{
    static const struct {
        const char *name;
        size_t live;
        int batch;
    } shapes[] = {
        {"churn1000", 1000, 0}, {"batch1000", 1000, 1}, {"churn10000", 10000, 0}, {"batch100000", 100000, 1},
    };
    enum { NSHAPES = sizeof shapes / sizeof shapes[0] };
    plan plans[NSHAPES];
    double *v[NSHAPES][2];
    for (int k = 0; k < NSHAPES; k++) {
        plans[k] = make_plan(ops, shapes[k].live, shapes[k].batch);
        v[k][0] = malloc((size_t)runs * sizeof(double));
        v[k][1] = malloc((size_t)runs * sizeof(double));
    }
    /* Interleaved, so that both see the same machine state. */
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < NSHAPES; k++) {
            v[k][0][r] = shapes[k].batch ? batch_pool(&plans[k]) : churn_pool(&plans[k]);
            v[k][1][r] = shapes[k].batch ? batch_glibc(&plans[k]) : churn_glibc(&plans[k]);
        }
    }
    for (int k = 0; k < NSHAPES; k++) {
        printf("%s_pool_ns %.2f\n", shapes[k].name, median(v[k][0], runs) * 1e9);
        printf("%s_glibc_ns %.2f\n", shapes[k].name, median(v[k][1], runs) * 1e9);
        free(v[k][0]);
        free(v[k][1]);
        free(plans[k].size);
        free(plans[k].slot);
    }
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Allocate n 64-byte blocks, then free 90% of them in an arena-emptying pattern: the blocks
 * allocated in 9 of every 10 stretches of 100000 (about 6 arenas each), so whole arenas empty.
 * The same pattern under glibc shows what free() alone gives back. */
static void frag(const char *who, size_t n)
{
    int pool = strcmp(who, "pool") == 0;
    void **b = malloc(n * sizeof *b);
    if (!b)
        die("out of memory");
    hm_heap *h = pool ? hm_heap_new() : NULL;
    long rss0 = rss_kib();
    for (size_t i = 0; i < n; i++) {
        b[i] = pool ? hm_mem_alloc(h, 64) : malloc(64);
        memset(b[i], 1, 64);
    }
    long rss1 = rss_kib();
    hm_pool_stats st;
    if (pool)
        hm_pool_get_stats(h, &st);
    size_t arenas_full = pool ? st.arenas_current : 0;
    size_t freed = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i / 100000) % 10 != 9) {
            if (pool)
                hm_mem_free(h, b[i], 64);
            else
                free(b[i]);
            b[i] = NULL;
            freed++;
        }
    }
    long rss2 = rss_kib();
    printf("frag_%s_blocks %zu\n", who, n);
    printf("frag_%s_freed %zu\n", who, freed);
    printf("frag_%s_rss_before_kib %ld\n", who, rss1 - rss0);
    printf("frag_%s_rss_after_kib %ld\n", who, rss2 - rss0);
    if (pool) {
        hm_pool_get_stats(h, &st);
        printf("frag_pool_arenas_full %zu\n", arenas_full);
        printf("frag_pool_arenas_after %zu\n", st.arenas_current);
        printf("frag_pool_arenas_reclaimed %llu\n", (unsigned long long)st.arenas_reclaimed);
    }
    for (size_t i = 0; i < n; i++)
        if (b[i]) {
            if (pool)
                hm_mem_free(h, b[i], 64);
            else
                free(b[i]);
        }
    if (pool)
        hm_heap_destroy(h, NULL);
    free(b);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "speed";
    if (strcmp(mode, "speed") == 0) {
        size_t ops = argc > 2 ? (size_t)atol(argv[2]) : 10000000;
        int runs = argc > 3 ? atoi(argv[3]) : 5;
        if (ops < MAXLIVE || runs < 1)
            die("usage: bench_pool speed [OPS >= 100000 [RUNS]]");
        speed(ops, runs);
    } else if (strcmp(mode, "frag") == 0 && argc > 2 &&
               (strcmp(argv[2], "pool") == 0 || strcmp(argv[2], "glibc") == 0)) {
        frag(argv[2], argc > 3 ? (size_t)atol(argv[3]) : 2000000);
    } else {
        die("usage: bench_pool speed [OPS [RUNS]] | frag pool|glibc [N]");
    }
    return 0;
}
