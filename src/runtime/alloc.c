/* alloc.c: the one door through which a heap gets and returns memory, and where its byte
 * counters are kept. Small requests go to the heap's pools (pool.h), larger ones to malloc; the
 * callers always say how big the block they free is, so no block carries a header and a free
 * needs no lookup to tell a pooled block from a malloc one. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

static void count_alloc(hm_heap *h, size_t size)
{
    h->stats.bytes += size;
    if (h->stats.bytes > h->stats.peak_bytes)
        h->stats.peak_bytes = h->stats.bytes;
}

/* Zero-byte requests get the smallest block, so that alloc and free agree on the class. */
static size_t real_size(size_t size) { return size ? size : 1; }

#ifdef HM_POOL_PASSTHROUGH
static inline bool pooled(size_t n) { (void)n; return false; }
#else
static inline bool pooled(size_t n) { return n <= HM__POOL_SMALL_MAX; }
#endif

/* Counting an allocation for failure injection is bookkeeping, not a change to the heap: it goes
 * through pools.fault (which points at h->fault), so that queries on a const heap that return new
 * memory (hm_trace_statistics) count too. */
static bool fault_hit(const hm_heap *h) { return hm__fault_hit(h->pools.fault); }

static void *raw_alloc(hm_heap *h, size_t n)
{
    if (fault_hit(h))
        return NULL;
    if (pooled(n))
        return hm__pool_alloc(&h->pools, n);
    void *p = malloc(n);
    if (p) {
        h->pools.large_blocks++;
        h->pools.large_bytes += n;
    }
    return p;
}

static void raw_free(hm_heap *h, void *p, size_t n)
{
    if (pooled(n)) {
        hm__pool_free(&h->pools, p, n);
        return;
    }
    h->pools.large_blocks--;
    h->pools.large_bytes -= n;
    free(p);
}

void *hm__alloc(hm_heap *h, size_t size)
{
    void *p = raw_alloc(h, real_size(size));
    if (p)
        count_alloc(h, size);
    return p;
}

void *hm__realloc(hm_heap *h, void *p, size_t old_size, size_t new_size)
{
    if (!p)
        return hm__alloc(h, new_size);
    size_t o = real_size(old_size), n = real_size(new_size);
    void *q;
    if (pooled(o) && pooled(n) && hm__pool_class(o) == hm__pool_class(n)) {
        q = p; /* the block already fits */
    } else if (!pooled(o) && !pooled(n)) {
        q = hm__sys_realloc(h, p, n);
        if (!q)
            return NULL;
        h->pools.large_bytes += n - o;
    } else {
        q = raw_alloc(h, n);
        if (!q)
            return NULL;
        memcpy(q, p, o < n ? o : n);
        raw_free(h, p, o);
    }
    h->stats.bytes -= old_size;
    count_alloc(h, new_size);
    return q;
}

void hm__free(hm_heap *h, void *p, size_t size)
{
    if (!p)
        return;
    h->stats.bytes -= size;
    raw_free(h, p, real_size(size));
}

void *hm__sys_malloc(const hm_heap *h, size_t size)
{
    return fault_hit(h) ? NULL : malloc(size);
}

void *hm__sys_calloc(const hm_heap *h, size_t n, size_t size)
{
    return fault_hit(h) ? NULL : calloc(n, size);
}

void *hm__sys_realloc(const hm_heap *h, void *p, size_t size)
{
    return fault_hit(h) ? NULL : realloc(p, size);
}

char *hm__sys_strdup(const hm_heap *h, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = hm__sys_malloc(h, n);
    return copy ? memcpy(copy, s, n) : NULL;
}

void hm_fault_fail_at(hm_heap *h, uint64_t n, bool persistent)
{
    if (h)
        h->fault = (hm__fault){.on = true, .persistent = persistent, .fail_at = n};
}

void hm_fault_stop(hm_heap *h)
{
    if (h)
        h->fault = (hm__fault){0};
}

uint64_t hm_fault_count(const hm_heap *h) { return h ? h->fault.count : 0; }

void *hm_mem_alloc(hm_heap *h, size_t size) { return h ? hm__alloc(h, size) : NULL; }

void *hm_mem_realloc(hm_heap *h, void *p, size_t old_size, size_t new_size)
{
    return h ? hm__realloc(h, p, old_size, new_size) : NULL;
}

void hm_mem_free(hm_heap *h, void *p, size_t size)
{
    if (h)
        hm__free(h, p, size);
}
