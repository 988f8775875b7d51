/* stacks.c: allocation call stacks, captured with libunwind and shared in a tree.
 * Invariants: a node, once published, never changes and never moves (the node array is reserved
 * address space), so a thread may walk nodes without the lock; node (parent, pc) exists at most
 * once, so equal stacks end in the same node.
 * Unwinding: unw_backtrace walks DWARF CFI with a per-thread cache and works on code built without
 * frame pointers (all of Debian). */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>

#include "record/record.h"

#define MAX_NODES (1u << 24) /* the block table keeps a node in 24 bits */
#define THREAD_CACHE 512

static rec_stack_node *nodes;
/* Two hash tables under the lock, grown by doubling (touched memory stays proportional to what
 * they hold): node + 1 by (parent, pc), and whole stacks already seen by their hash. */
static uint32_t *intern;         /* 0: empty */
static size_t intern_slots;
typedef struct leaf {
    uint64_t hash;               /* of the whole stack */
    uint32_t node;               /* + 1; 0: empty */
} leaf;
static leaf *leaves;
static size_t leaf_slots;
static size_t nnodes, nleaves;
static rec_lock lock;
static uintptr_t skip_lo, skip_hi;
static REC_TLS leaf thread_cache[THREAD_CACHE]; /* lock-free hits for a thread's usual stacks */

bool rec_stacks_init(void)
{
    nodes = rec_reserve((size_t)MAX_NODES * sizeof *nodes);
    intern_slots = leaf_slots = 4096;
    intern = rec_map(intern_slots * sizeof *intern);
    leaves = rec_map(leaf_slots * sizeof *leaves);
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    return nodes && intern && leaves;
}

void rec_stacks_skip_module(uintptr_t lo, uintptr_t hi)
{
    skip_lo = lo;
    skip_hi = hi;
}

static inline uint64_t hash_word(uint64_t h, uint64_t w)
{
    h ^= w + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* The stack ending in node + 1 is exactly pcs[0..n). Reads published nodes only. */
static bool same_stack(uint32_t node, void *const *pcs, int n)
{
    for (int i = 0; i < n; i++) {
        if (!node || nodes[node - 1].pc != (uintptr_t)pcs[i])
            return false;
        node = nodes[node - 1].parent;
    }
    return node == 0;
}

static bool grow_intern(void)
{
    size_t n = intern_slots * 2;
    uint32_t *fresh = rec_map(n * sizeof *fresh);
    if (!fresh)
        return false;
    for (size_t k = 0; k < nnodes; k++) {
        size_t i = hash_word(nodes[k].parent, nodes[k].pc) & (n - 1);
        while (fresh[i])
            i = (i + 1) & (n - 1);
        fresh[i] = (uint32_t)k + 1;
    }
    rec_unmap(intern, intern_slots * sizeof *intern);
    intern = fresh;
    intern_slots = n;
    return true;
}

static bool grow_leaves(void)
{
    size_t n = leaf_slots * 2;
    leaf *fresh = rec_map(n * sizeof *fresh);
    if (!fresh)
        return false;
    for (size_t k = 0; k < leaf_slots; k++) {
        if (!leaves[k].node)
            continue;
        size_t i = leaves[k].hash & (n - 1);
        while (fresh[i].node)
            i = (i + 1) & (n - 1);
        fresh[i] = leaves[k];
    }
    rec_unmap(leaves, leaf_slots * sizeof *leaves);
    leaves = fresh;
    leaf_slots = n;
    return true;
}

/* Node (parent, pc), made when new; 0 when the tree is full. Under the lock. */
static uint32_t intern_node(uint32_t parent, uintptr_t pc)
{
    if ((nnodes + 1) * 2 >= intern_slots && !grow_intern())
        return 0;
    uint64_t h = hash_word(parent, pc);
    for (size_t i = h & (intern_slots - 1);; i = (i + 1) & (intern_slots - 1)) {
        uint32_t k = intern[i];
        if (!k) {
            if (nnodes + 1 >= MAX_NODES)
                return 0;
            uint32_t depth = parent ? nodes[parent - 1].depth + 1 : 1;
            nodes[nnodes] = (rec_stack_node){.pc = pc, .parent = parent, .depth = depth};
            intern[i] = (uint32_t)++nnodes;
            return intern[i];
        }
        if (nodes[k - 1].pc == pc && nodes[k - 1].parent == parent)
            return k;
    }
}

/* The node for pcs[0..n) (innermost first), under the lock. */
static uint32_t lookup(uint64_t h, void *const *pcs, int n)
{
    size_t i = h & (leaf_slots - 1);
    for (; leaves[i].node; i = (i + 1) & (leaf_slots - 1))
        if (leaves[i].hash == h && same_stack(leaves[i].node, pcs, n))
            return leaves[i].node;
    uint32_t node = 0;
    for (int k = n - 1; k >= 0; k--)
        if (!(node = intern_node(node, (uintptr_t)pcs[k])))
            return 0;
    if ((nleaves + 1) * 2 >= leaf_slots && !grow_leaves())
        return node; /* not remembered whole: found again through the tree next time */
    for (i = h & (leaf_slots - 1); leaves[i].node; i = (i + 1) & (leaf_slots - 1))
        ;
    leaves[i] = (leaf){.hash = h, .node = node};
    nleaves++;
    return node;
}

/* A whole stack's hash, taken on every allocation: two lanes over alternate frames, so that
 * their multiplications overlap instead of waiting on each other, mixed together at the end. */
static inline uint64_t stack_hash(void *const *pcs, int n)
{
    uint64_t a = 0x9e3779b97f4a7c15ULL, b = 0xc2b2ae3d27d4eb4fULL;
    int i = 0;
    for (; i + 1 < n; i += 2) {
        a = (a ^ (uintptr_t)pcs[i]) * 0xff51afd7ed558ccdULL;
        b = (b ^ (uintptr_t)pcs[i + 1]) * 0xc4ceb9fe1a85ec53ULL;
    }
    if (i < n)
        a = (a ^ (uintptr_t)pcs[i]) * 0xff51afd7ed558ccdULL;
    uint64_t h = a ^ (b >> 29 | b << 35) ^ (uint64_t)n;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

uint32_t rec_stack_capture(void)
{
    void *pcs[REC_MAX_DEPTH + 16];
    int want = (int)rec_config.depth + 8;
    int n = unw_backtrace(pcs, want);
    int first = 0;
    while (first < n && (uintptr_t)pcs[first] >= skip_lo && (uintptr_t)pcs[first] < skip_hi)
        first++;
    n -= first;
    if (n > (int)rec_config.depth)
        n = (int)rec_config.depth;
    if (n <= 0)
        return 0;
    void **s = pcs + first;
    uint64_t h = stack_hash(s, n);
    /* A thread's own recent stacks: the 64-bit hash and the innermost frame decide (two stacks
     * of one thread agreeing on both differ with odds of 2^-64); the shared table compares all. */
    leaf *c = &thread_cache[h & (THREAD_CACHE - 1)];
    if (c->node && c->hash == h && nodes[c->node - 1].pc == (uintptr_t)s[0])
        return c->node;
    rec_lock_take(&lock);
    uint32_t node = lookup(h, s, n);
    rec_lock_give(&lock);
    if (node)
        *c = (leaf){.hash = h, .node = node};
    return node;
}

void rec_stacks_lock_all(void) { rec_lock_take(&lock); }
void rec_stacks_unlock_all(void) { rec_lock_give(&lock); }

const rec_stack_node *rec_stack_nodes(size_t *count)
{
    *count = nnodes;
    return nodes;
}
