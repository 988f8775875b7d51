/* fault.h: allocation failure injection (hm_fault_fail_at). Every place a heap obtains memory (an
 * object's block, a pool arena, a side table) asks hm__fault_hit() first; a test walks the failing
 * allocation over a whole scenario to reach every out-of-memory path. Disarmed, the check is one
 * increment and one compare that is never true. */
#ifndef HM_RUNTIME_FAULT_H
#define HM_RUNTIME_FAULT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hm__fault {
    uint64_t count;   /* allocations asked for since the heap was made */
    uint64_t fail_at; /* the count that fails; UINT64_MAX when disarmed */
    bool persistent;  /* every allocation from fail_at on fails, not only that one */
} hm__fault;

#define HM__FAULT_INIT ((hm__fault){0, UINT64_MAX, false})

static inline bool hm__fault_hit(hm__fault *f)
{
    if (__builtin_expect(++f->count < f->fail_at, 1))
        return false;
    return f->count == f->fail_at || f->persistent;
}

#endif
