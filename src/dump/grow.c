/* grow.c: how the readers' arrays grow, once they are full (hd__grow in dump_internal.h). */
#include "dump_internal.h"

#include <stdlib.h>

bool hd__grow_arrays(uint64_t count, uint64_t *cap, uint64_t first, uint64_t limit,
                     void **const arrays[], const size_t sizes[])
{
    if (count < *cap)
        return true;
    uint64_t want = *cap ? *cap : first;
    while (want <= count && want < limit)
        want *= 2;
    want = want > limit ? limit : want;
    if (want <= count)
        return false;
    for (size_t i = 0; arrays[i]; i++) {
        void *p = realloc(*arrays[i], want * sizes[i]);
        if (!p)
            return false;
        *arrays[i] = p;
    }
    *cap = want;
    return true;
}
