/* sysmem.c: the recorder's own memory, straight from mmap, and its one lock. Nothing here calls
 * the program's allocator, so the recorder can run inside malloc, and in a snapshot child whose
 * parent had other threads holding libc's heap locks at the fork. */
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>

#include "record/record.h"

#define HUGE ((size_t)2 << 20)

/* Tables of 2 MiB and more are whole, aligned huge pages where the system allows, once the
 * recorder has mapped HUGE_AFTER bytes: a fork then copies one page-table entry per 2 MiB of them
 * instead of 512, and the table's walks miss the TLB less. Below that a fork copies few entries
 * anyway, and a small program would pay for zeroing whole 2 MiB pages it barely uses (on a
 * virtual machine, a good part of its run). */
#define HUGE_AFTER ((size_t)8 << 20)
static atomic_size_t mapped;
static size_t rounded(size_t bytes) { return bytes >= HUGE ? (bytes + HUGE - 1) & ~(HUGE - 1) : bytes; }

/* Every mapping of the recorder's own, so that a dump's scan of the program's anonymous
 * mappings leaves them out (the block table alone would make every block reachable). When the
 * list is full, own_overflow says the list cannot be trusted. */
#define MAX_OWN 4096
static rec_range own[MAX_OWN];
static size_t nown;
static bool own_overflow;
static rec_lock own_lock;

static void *remember(void *p, size_t bytes)
{
    rec_lock_take(&own_lock);
    if (nown < MAX_OWN)
        own[nown++] = (rec_range){(uintptr_t)p, (uintptr_t)p + bytes};
    else
        own_overflow = true;
    rec_lock_give(&own_lock);
    return p;
}

static void forget(void *p)
{
    rec_lock_take(&own_lock);
    for (size_t i = 0; i < nown; i++)
        if (own[i].lo == (uintptr_t)p) {
            own[i] = own[--nown];
            break;
        }
    rec_lock_give(&own_lock);
}

const rec_range *rec_own_memory(size_t *n)
{
    *n = own_overflow ? SIZE_MAX : nown;
    return own;
}

void *rec_map(size_t bytes)
{
    size_t n = rounded(bytes), slack = n >= HUGE ? HUGE : 0, before = atomic_fetch_add(&mapped, n);
    char *p = mmap(NULL, n + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (slack) {
        char *aligned = (char *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
        if (aligned > p)
            munmap(p, (size_t)(aligned - p));
        if (aligned + n < p + n + slack)
            munmap(aligned + n, (size_t)(p + n + slack - (aligned + n)));
        if (before >= HUGE_AFTER)
            madvise(aligned, n, MADV_HUGEPAGE);
        p = aligned;
    }
    return remember(p, (n + 4095) & ~(size_t)4095);
}

void rec_unmap(void *p, size_t bytes)
{
    if (p) {
        forget(p);
        munmap(p, rounded(bytes));
    }
}

void *rec_reserve(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : remember(p, bytes);
}

/* The lock was held at the first try: wait for it. */
void rec_lock_wait(rec_lock *l)
{
    for (unsigned spins = 0; atomic_flag_test_and_set_explicit(&l->held, memory_order_acquire);) {
        if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield(); /* the holder may be descheduled: with 2 cores, spinning only delays it */
        }
    }
}
