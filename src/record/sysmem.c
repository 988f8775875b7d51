/* sysmem.c: the recorder's own memory, straight from mmap, and its one lock. Nothing here calls
 * the program's allocator, so the recorder can run inside malloc, and in a snapshot child whose
 * parent had other threads holding libc's heap locks at the fork. */
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>

#include "record/record.h"

#define HUGE ((size_t)2 << 20)

/* Tables of 2 MiB and more are whole, aligned huge pages where the system allows: a fork then
 * copies one page-table entry per 2 MiB of them instead of 512, which is most of a dump's pause. */
static size_t rounded(size_t bytes) { return bytes >= HUGE ? (bytes + HUGE - 1) & ~(HUGE - 1) : bytes; }

void *rec_map(size_t bytes)
{
    size_t n = rounded(bytes), slack = n >= HUGE ? HUGE : 0;
    char *p = mmap(NULL, n + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (slack) {
        char *aligned = (char *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
        if (aligned > p)
            munmap(p, (size_t)(aligned - p));
        if (aligned + n < p + n + slack)
            munmap(aligned + n, (size_t)(p + n + slack - (aligned + n)));
        madvise(aligned, n, MADV_HUGEPAGE);
        p = aligned;
    }
    return p;
}

void rec_unmap(void *p, size_t bytes)
{
    if (p)
        munmap(p, rounded(bytes));
}

void *rec_reserve(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void rec_lock_take(rec_lock *l)
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
