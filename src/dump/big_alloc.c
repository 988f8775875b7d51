/* big_alloc.c: allocation for the large arrays the analyses index at random (a dominator pass
 * touches hundreds of MB out of order): 2 MiB aligned and advised into transparent huge pages
 * where the kernel leaves that to madvise, so a random access rarely misses the TLB. Out of
 * core (budget.h) the arrays walked in order become scratch files instead, while the ones walked
 * at random stay in memory for the pass that needs them and are then spilled to scratch. */
#include "budget.h"
#include "dump_internal.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)
#define SMALL (4 * (size_t)HUGE_PAGE) /* below this, arrays gain nothing from huge pages */

/* Freed huge-page arrays, kept for the next request they hold. The analyses (and the query's
 * export, which runs them one after another and side by side) each free hundreds of MB of
 * scratch and then ask for as much again: a fresh page costs a fault and the kernel's zeroing
 * (in a virtual machine, a good part of an export), a kept one nothing. A request takes the
 * smallest kept array that holds it; the pages past what it asked for (in whole huge pages) are
 * given back to the system, and a request that none holds releases them all first: a request
 * never holds more resident memory than it asked for, and the kept arrays together never more
 * than the analyses before had in use at once. A borrow (hd__ram_borrow) is the one exception:
 * it takes its array whole, pages and all, and gives it back before anything else is asked for,
 * so that the next analysis finds those pages still there. The cache is emptied once the
 * analyses are done (hd_release_scratch). Out of core (budget.h) nothing is kept: the watcher's
 * budget counts resident memory. */
#define KEPT 16
static struct {
    pthread_mutex_t lock;
    void *p[KEPT];
    size_t size[KEPT];
    unsigned n;
} kept = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Frees every kept array; the lock held. */
static void release_kept(void)
{
    for (unsigned i = 0; i < kept.n; i++)
        free(kept.p[i]);
    kept.n = 0;
}

/* The smallest kept array of at least size bytes, taken out of the cache, its resident pages
 * past size dropped unless whole; else NULL, the cache emptied. */
static void *take_kept(size_t size, bool whole)
{
    pthread_mutex_lock(&kept.lock);
    unsigned best = kept.n;
    for (unsigned i = 0; i < kept.n; i++)
        if (kept.size[i] >= size && (best == kept.n || kept.size[i] < kept.size[best]))
            best = i;
    char *p = NULL;
    size_t have = 0;
    if (best < kept.n) {
        p = kept.p[best];
        have = kept.size[best];
        kept.n--;
        kept.p[best] = kept.p[kept.n];
        kept.size[best] = kept.size[kept.n];
    } else {
        release_kept();
    }
    pthread_mutex_unlock(&kept.lock);
    size_t used = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    if (p && !whole && have >= used + HUGE_PAGE) /* the array stays whole: untouched pages cost nothing */
        madvise(p + used, (have - used) & ~(size_t)(HUGE_PAGE - 1), MADV_DONTNEED);
    return p;
}

/* Keeps p when it is a huge-page array (aligned, big) and there is room; else frees it. */
static void keep_or_free(void *p)
{
    size_t size = p && !((uintptr_t)p & (HUGE_PAGE - 1)) ? malloc_usable_size(p) : 0;
    if (size >= SMALL && !hd__budget_on()) {
        pthread_mutex_lock(&kept.lock);
        if (kept.n < KEPT) {
            kept.p[kept.n] = p;
            kept.size[kept.n++] = size;
            p = NULL;
        }
        pthread_mutex_unlock(&kept.lock);
    }
    free(p);
}

static void *ram_alloc(size_t size, bool whole)
{
    if (size < SMALL)
        return malloc(size ? size : 1);
    void *p = take_kept(size, whole);
    if (p)
        return p; /* advised when it was first made */
    if (posix_memalign(&p, HUGE_PAGE, size) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size & ~(size_t)(HUGE_PAGE - 1), MADV_HUGEPAGE); /* advice only: ignore failure */
#endif
    return p;
}

void *hd__ram_alloc(size_t size) { return ram_alloc(size, false); }
void *hd__ram_borrow(size_t size) { return ram_alloc(size, true); }

void *hd__ram_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = hd__ram_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *hd__big_alloc(size_t size)
{
    if (hd__budget_on()) /* out of core: a file mapping */
        return hd__scratch_alloc(size);
    return hd__ram_alloc(size);
}

void *hd__big_calloc(size_t n, size_t size)
{
    if (!hd__budget_on())
        return hd__ram_calloc(n, size);
    if (size && n > SIZE_MAX / size)
        return NULL;
    return hd__scratch_alloc(n * size); /* scratch files start zero */
}

void *hd__spill(void *p, size_t size)
{
    if (!p || !hd__budget_on())
        return p;
    void *copy = hd__scratch_alloc(size);
    if (!copy)
        return p; /* it stays in memory: only the budget suffers */
    memcpy(copy, p, size);
    free(p);
    return copy;
}

void hd__big_free(void *p)
{
    if (!hd__scratch_free(p))
        keep_or_free(p);
}

void hd_release_scratch(void)
{
    pthread_mutex_lock(&kept.lock);
    release_kept();
    pthread_mutex_unlock(&kept.lock);
}
