/* big_alloc.c: allocation for the large arrays the analyses index at random (a dominator pass
 * touches hundreds of MB out of order): 2 MiB aligned and advised into transparent huge pages
 * where the kernel leaves that to madvise, so a random access rarely misses the TLB. Out of
 * core (budget.h) the arrays walked in order become scratch files instead, while the ones walked
 * at random stay in memory for the pass that needs them and are then spilled to scratch. */
#include "budget.h"
#include "dump_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)

void *hd__ram_alloc(size_t size)
{
    if (size < 4 * (size_t)HUGE_PAGE) /* small arrays gain nothing */
        return malloc(size ? size : 1);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, size) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size & ~(size_t)(HUGE_PAGE - 1), MADV_HUGEPAGE); /* advice only: ignore failure */
#endif
    return p;
}

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
        free(p);
}
