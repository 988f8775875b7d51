/* fault.h: allocation failure injection (hm_fault_fail_at). Every place a heap obtains memory (an
 * object's block, a pool arena, a side table) asks hm__fault_hit() first; a test walks the failing
 * allocation over a whole scenario to reach every out-of-memory path. Off, the check is one load
 * and a branch never taken: allocation stays as fast as without it. */
#ifndef HM_RUNTIME_FAULT_H
#define HM_RUNTIME_FAULT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hm__fault {
    bool on;          /* counting (and maybe failing) */
    bool persistent;  /* every allocation from fail_at on fails, not only that one */
    uint64_t count;   /* allocations asked for since it was turned on */
    uint64_t fail_at; /* the count that fails; 0: none */
} hm__fault;

static inline bool hm__fault_hit(hm__fault *f)
{
    if (__builtin_expect(!f->on, 1))
        return false;
    f->count++;
    return f->fail_at && (f->count == f->fail_at || (f->persistent && f->count > f->fail_at));
}

#endif
