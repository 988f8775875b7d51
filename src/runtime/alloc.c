/* alloc.c: the one door through which a heap gets and returns memory, and where its byte
 * counters are kept. Backed by malloc for now; a size-class pool allocator goes behind it later,
 * which is why the callers always say how big the block they free is. */
#include <stdlib.h>

#include "runtime/internal.h"

static void count_alloc(hm_heap *h, size_t size)
{
    h->stats.bytes += size;
    if (h->stats.bytes > h->stats.peak_bytes)
        h->stats.peak_bytes = h->stats.bytes;
}

void *hm__alloc(hm_heap *h, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p)
        count_alloc(h, size);
    return p;
}

void *hm__realloc(hm_heap *h, void *p, size_t old_size, size_t new_size)
{
    void *q = realloc(p, new_size ? new_size : 1);
    if (q) {
        h->stats.bytes -= old_size;
        count_alloc(h, new_size);
    }
    return q;
}

void hm__free(hm_heap *h, void *p, size_t size)
{
    if (!p)
        return;
    h->stats.bytes -= size;
    free(p);
}
