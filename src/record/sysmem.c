/* sysmem.c: the recorder's own memory, straight from mmap, and its one lock. Nothing here calls
 * the program's allocator, so the recorder can run inside malloc, and in a snapshot child whose
 * parent had other threads holding libc's heap locks at the fork. */
#include <sched.h>
#include <sys/mman.h>

#include "record/record.h"

void *rec_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void rec_unmap(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
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
