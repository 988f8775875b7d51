/* budget.h: the out-of-core mode (hd_memory_budget, memory_budget.c): the analyses' large arrays
 * that are walked in order, and their results, live in unnamed files mapped shared (those walked
 * at random stay in memory: hd__ram_alloc), and a watcher thread keeps the resident set under
 * the budget by dropping the mapped pages of the regions it tracks (they stay in the page cache,
 * and on disk once written back, so dropping them loses nothing).
 *
 * Invariant: a tracked region is never unmapped while the watcher may be dropping its pages:
 * untracking takes the watcher's lock, so a region that goes (and the address range some later
 * anonymous allocation may reuse) is never advised. */
#ifndef HD_BUDGET_H
#define HD_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool hd__budget_on(void);
uint64_t hd__budget_bytes(void);
/* An unnamed, empty scratch file opened for reading and writing (a descriptor), or -1. */
int hd__scratch_file(void);
/* A zero-filled array in an unnamed scratch file, tracked; NULL when that fails. */
void *hd__scratch_alloc(size_t size);
/* Unmaps p when it is a scratch array (true), else false. */
bool hd__scratch_free(void *p);
/* A read-only file mapping the watcher may drop pages of (an index opened in this mode). */
void hd__budget_track(void *base, size_t size);
void hd__budget_untrack(void *base);

#endif
