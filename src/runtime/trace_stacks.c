/* trace_stacks.c: the call stacks libhm's tracing records with a depth (hm_trace_start_depth),
 * shared in a tree as formats/heapdump.md §5.1 stores them.
 * Invariant: node (parent, pc) exists at most once, so equal stacks end in the same node and a
 * stack is named by its innermost node alone.
 * Capture: libunwind's unw_backtrace, as the native recorder's (src/record/stacks.c): DWARF CFI
 * with a per-thread cache, so no frame pointers are needed; glibc's backtrace() measured up to
 * 20 times slower here. It runs in hm_trace_here, which the site macros call from the program's
 * own function: the stack starts at hm_trace_here's return address, so libhm's own frames never
 * show, however many there are between. Names come later, when a snapshot is written
 * (trace_frames.c). */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdlib.h>

#include "runtime/internal.h"

static uint64_t node_hash(uint32_t parent, uintptr_t pc)
{
    uint64_t x = (uint64_t)pc * 0x9E3779B97F4A7C15u ^ parent;
    x ^= x >> 29;
    return x * 0xBF58476D1CE4E5B9u;
}

static bool slots_grow(hm_heap *h, hm__stacks *s)
{
    size_t cap = s->slot_cap ? s->slot_cap * 2 : 64;
    uint32_t *slots = hm__sys_calloc(h, cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = node_hash(s->nodes[i].parent, s->nodes[i].pc) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(s->slots);
    s->slots = slots;
    s->slot_cap = cap;
    return true;
}

/* The node (parent, pc) + 1, added if new; 0 when out of memory. */
static uint32_t node_intern(hm_heap *h, hm__stacks *s, uint32_t parent, uintptr_t pc)
{
    if ((s->n + 1) * 2 > s->slot_cap && !slots_grow(h, s))
        return 0;
    size_t j = node_hash(parent, pc) & (s->slot_cap - 1);
    for (uint32_t k; (k = s->slots[j]) != 0; j = (j + 1) & (s->slot_cap - 1))
        if (s->nodes[k - 1].parent == parent && s->nodes[k - 1].pc == pc)
            return k;
    if (s->n >= UINT32_MAX - 1)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        hm__stack_node *nodes = hm__sys_realloc(h, s->nodes, cap * sizeof *nodes);
        if (!nodes)
            return 0;
        s->nodes = nodes;
        s->cap = cap;
    }
    s->nodes[s->n] = (hm__stack_node){.pc = pc, .parent = parent};
    s->slots[j] = (uint32_t)++s->n;
    return (uint32_t)s->n;
}

#define LIBHM_FRAMES 8 /* room for libhm's frames above the caller's */

uint32_t hm__stacks_capture(hm_heap *h, hm__stacks *s, unsigned depth, const void *caller)
{
    void *pcs[HM_TRACE_DEPTH_MAX + LIBHM_FRAMES];
    int n = unw_backtrace(pcs, (int)depth + LIBHM_FRAMES), first = 0;
    while (first < n && pcs[first] != caller)
        first++;
    if (first == n) { /* an unwinder that did not get past libhm: the caller's frame alone */
        pcs[0] = (void *)(uintptr_t)caller; /* (uintptr_t): -Wcast-qual */
        first = 0;
        n = 1;
    }
    n = n - first > (int)depth ? first + (int)depth : n;
    uint32_t node = 0;
    for (int i = n - 1; i >= first; i--) /* outermost first: each frame's parent is known */
        if ((node = node_intern(h, s, node, (uintptr_t)pcs[i])) == 0)
            return 0;
    return node;
}

void hm__stacks_init(void) { unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD); }

void hm__stacks_free(hm__stacks *s)
{
    free(s->nodes);
    free(s->slots);
    *s = (hm__stacks){0};
}
