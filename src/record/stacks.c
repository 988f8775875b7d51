/* stacks.c: allocation call stacks, captured with libunwind and shared in a tree.
 * Invariants: a node, once published, never changes and never moves (the node array is reserved
 * address space), so a thread may walk nodes without the lock; node (parent, pc) exists at most
 * once, so equal stacks end in the same node.
 * Unwinding: unw_backtrace walks DWARF CFI with a per-thread cache and works on code built without
 * frame pointers (all of Debian). On x86-64 a thread also remembers its recent stacks by where
 * the allocator was called from (recent_* below), which spares most allocations the walk. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>

#include "record/record.h"

#define MAX_NODES (1u << 24) /* a record keeps a node in 24 bits */
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

/* The node for the stack pcs[0..n) (innermost first): a thread's own recent stacks first (the
 * 64-bit hash and the innermost frame decide: two stacks of one thread agreeing on both differ
 * with odds of 2^-64), then the shared table, which compares every frame. */
static uint32_t node_for(void *const *pcs, int n)
{
    if (n <= 0)
        return 0;
    uint64_t h = stack_hash(pcs, n);
    leaf *c = &thread_cache[h & (THREAD_CACHE - 1)];
    if (c->node && c->hash == h && nodes[c->node - 1].pc == (uintptr_t)pcs[0])
        return c->node;
    rec_lock_take(&lock);
    uint32_t node = lookup(h, pcs, n);
    rec_lock_give(&lock);
    if (node)
        *c = (leaf){.hash = h, .node = node};
    return node;
}

/* The first frames of a walk that are the recorder's own. */
static inline bool own_frame(uintptr_t pc) { return pc >= skip_lo && pc < skip_hi; }

/* The stack from unw_backtrace, the recorder's own frames left out: the fast walk. */
static int backtrace(void **pcs)
{
    void *all[REC_MAX_DEPTH + 16];
    int n = unw_backtrace(all, (int)rec_config.depth + 8), first = 0;
    while (first < n && own_frame((uintptr_t)all[first]))
        first++;
    n -= first;
    if (n > (int)rec_config.depth)
        n = (int)rec_config.depth;
    memcpy(pcs, all + first, (size_t)(n > 0 ? n : 0) * sizeof *pcs);
    return n;
}

#if defined(__x86_64__)
/* A thread's recent stacks, by where the allocator was called: the return address into the
 * program and the stack slot that holds it. On x86-64 a call pushes its return address just
 * below the caller's stack pointer, and a function whose frame has a fixed size puts its own
 * return address at a fixed distance above: its frame size at that call site. So the slots of a
 * whole stack follow from the first slot and the frame sizes of its return addresses, learned
 * once per return address from libunwind's full walk (which gives each frame's stack pointer;
 * unw_backtrace does not, and the full walk is far slower: libunwind masks signals at each step).
 * Invariant: an entry holds a stack that unw_backtrace found with that key, and the slots where
 * each of its return addresses was read at the time; a later call with the same key is a hit only
 * when every one of those slots holds the same return address again. From the same call site at
 * the same stack address, fixed-size frames read the same words at the same slots, so a hit is
 * the same stack. A frame of variable size (alloca) seen with two sizes is never cached; seen
 * with one, its outer frames would have to hold, at the old slots, exactly the old return
 * addresses: the check makes a wrong hit unlikely, not impossible. Only the thread's own
 * registered stack is read (never an alternate signal stack or a coroutine's), from the first
 * slot upwards: memory that is mapped. */
typedef struct recent {
    uintptr_t ra, at;    /* the key: return address and its slot; ra 0: empty */
    uint32_t node;       /* + 1 */
    uint32_t n;          /* frames */
    /* then uintptr_t pc[depth], uint32_t slot[depth] (offsets from at) */
} recent;
#define RECENT_BYTES ((size_t)128 << 10)
static REC_TLS char *recent_table; /* this thread's, in sysmem; made on first use */
static REC_TLS size_t recent_slots, recent_stride;
static REC_TLS bool recent_off;    /* no table for this thread: none could be made, or it ended */

static inline uintptr_t *recent_pcs(recent *e) { return (uintptr_t *)(e + 1); }
static inline uint32_t *recent_offsets(recent *e) { return (uint32_t *)(recent_pcs(e) + rec_config.depth); }

static recent *recent_entry(uintptr_t ra, uintptr_t at)
{
    if (REC_UNLIKELY(!recent_table)) {
        if (recent_off)
            return NULL;
        recent_stride = (sizeof(recent) + rec_config.depth * (sizeof(uintptr_t) + sizeof(uint32_t)) + 7) & ~(size_t)7;
        for (recent_slots = 16; recent_slots * 2 * recent_stride <= RECENT_BYTES;)
            recent_slots *= 2;
        if (!(recent_table = rec_map(recent_slots * recent_stride))) {
            recent_off = true;
            return NULL;
        }
    }
    return (recent *)(recent_table + (hash_word(ra, at) >> 32 & (recent_slots - 1)) * recent_stride);
}

void rec_stacks_thread_exit(void)
{
    if (recent_table)
        rec_unmap(recent_table, recent_slots * recent_stride);
    recent_table = NULL;
    recent_off = true;
}

/* Frame sizes by return address, shared by all threads: written under the lock, each entry's
 * size before its pc (released), read without the lock. */
#define SIZE_SLOTS ((size_t)1 << 16)
#define SIZE_UNUSABLE INT32_MIN /* seen with two sizes, or not found by the walk: not cached */
typedef struct frame_size {
    _Atomic uintptr_t pc; /* 0: empty */
    int32_t size;
} frame_size;
static frame_size *sizes;
static size_t nsizes;

/* pc's frame size; 0 when not learned yet. */
static int32_t size_of(uintptr_t pc)
{
    for (size_t i = hash_word(0, pc) & (SIZE_SLOTS - 1);; i = (i + 1) & (SIZE_SLOTS - 1)) {
        uintptr_t at = atomic_load_explicit(&sizes[i].pc, memory_order_acquire);
        if (at == pc)
            return sizes[i].size;
        if (!at)
            return 0;
    }
}

/* Under the lock. A table half full learns no more. */
static void learn_size(uintptr_t pc, int32_t size)
{
    size_t i = hash_word(0, pc) & (SIZE_SLOTS - 1);
    for (; atomic_load_explicit(&sizes[i].pc, memory_order_relaxed); i = (i + 1) & (SIZE_SLOTS - 1))
        if (atomic_load_explicit(&sizes[i].pc, memory_order_relaxed) == pc) {
            if (sizes[i].size != size)
                sizes[i].size = SIZE_UNUSABLE;
            return;
        }
    if ((nsizes + 1) * 2 > SIZE_SLOTS)
        return;
    sizes[i].size = size;
    atomic_store_explicit(&sizes[i].pc, pc, memory_order_release);
    nsizes++;
}

/* libunwind's full walk: each frame's return address sits just below its stack pointer, and the
 * distance from one frame's stack pointer to the next is the first's frame size. The frames this
 * walk does not reach are marked unusable, so that no stack makes it walk for them again. */
static void learn_sizes(void *const *pcs, int n)
{
    unw_context_t context;
    unw_cursor_t cursor;
    uintptr_t sp[REC_MAX_DEPTH];
    void *pc[REC_MAX_DEPTH];
    int got = 0;
    if (unw_getcontext(&context) == 0 && unw_init_local(&cursor, &context) == 0) {
        do {
            unw_word_t ip, sp_here;
            if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || unw_get_reg(&cursor, UNW_REG_SP, &sp_here) != 0)
                break;
            if (got == 0 && own_frame(ip))
                continue;
            pc[got] = (void *)ip;
            sp[got++] = sp_here;
        } while (got < n && unw_step(&cursor) > 0);
    }
    rec_lock_take(&lock);
    for (int k = 0; k + 1 < n; k++) {
        bool same = k + 1 < got && pc[k] == pcs[k] && pc[k + 1] == pcs[k + 1];
        intptr_t size = same ? (intptr_t)(sp[k + 1] - sp[k]) : 0;
        learn_size((uintptr_t)pcs[k], size > 0 && size < INT32_MAX ? (int32_t)size : SIZE_UNUSABLE);
    }
    rec_lock_give(&lock);
}

/* The slots (offsets from at) of pcs[0..n), found from at and the frame sizes, each checked to
 * hold its return address: 1; 0 when they cannot be; -1 when a frame size is not known yet. */
static int slots_of(void *const *pcs, int n, uintptr_t at, uintptr_t stack_hi, uint32_t *offsets)
{
    uintptr_t here = at;
    for (int k = 0;; k++) {
        if (here >= stack_hi || here - at > UINT32_MAX || *(const uintptr_t *)here != (uintptr_t)pcs[k])
            return 0;
        offsets[k] = (uint32_t)(here - at);
        if (k + 1 == n)
            return 1;
        int32_t size = size_of((uintptr_t)pcs[k]);
        if (size == 0)
            return -1;
        if (size < 0)
            return 0;
        here += (uint32_t)size;
    }
}

/* A stack not in the thread's recent ones: taken with unw_backtrace and remembered in e. */
static uint32_t capture_and_remember(recent *e, uintptr_t ra, uintptr_t at, uintptr_t stack_hi)
{
    void *pcs[REC_MAX_DEPTH];
    uint32_t offsets[REC_MAX_DEPTH];
    int n = backtrace(pcs);
    uint32_t node = node_for(pcs, n);
    if (!node)
        return 0;
    int found = slots_of(pcs, n, at, stack_hi, offsets);
    if (found < 0) {
        learn_sizes(pcs, n);
        found = slots_of(pcs, n, at, stack_hi, offsets);
    }
    if (found > 0) {
        memcpy(recent_pcs(e), pcs, (size_t)n * sizeof *pcs);
        memcpy(recent_offsets(e), offsets, (size_t)n * sizeof *offsets);
        *e = (recent){.ra = ra, .at = at, .node = node, .n = (uint32_t)n};
    }
    return node;
}

uint32_t rec_stack_capture(uintptr_t at)
{
    const rec_thread *me = rec_thread_slot();
    recent *e = NULL;
    uintptr_t ra = 0;
    if (sizes && me && at >= me->stack_lo && at + sizeof ra <= me->stack_hi) {
        ra = *(const uintptr_t *)at;
        e = recent_entry(ra, at);
    }
    if (!e) {
        void *pcs[REC_MAX_DEPTH];
        return node_for(pcs, backtrace(pcs));
    }
    if (e->ra == ra && e->at == at) {
        const uintptr_t *pc = recent_pcs(e);
        const uint32_t *slot = recent_offsets(e);
        uint32_t k = 0;
        while (k < e->n && *(const uintptr_t *)(at + slot[k]) == pc[k])
            k++;
        if (k == e->n)
            return e->node;
    }
    return capture_and_remember(e, ra, at, me->stack_hi);
}
#else
void rec_stacks_thread_exit(void) {}

uint32_t rec_stack_capture(uintptr_t at)
{
    (void)at;
    void *pcs[REC_MAX_DEPTH];
    return node_for(pcs, backtrace(pcs));
}
#endif

bool rec_stacks_init(void)
{
    nodes = rec_reserve((size_t)MAX_NODES * sizeof *nodes);
    intern_slots = leaf_slots = 4096;
    intern = rec_map(intern_slots * sizeof *intern);
    leaves = rec_map(leaf_slots * sizeof *leaves);
#if defined(__x86_64__)
    sizes = rec_map(SIZE_SLOTS * sizeof *sizes); /* without it, stacks are simply not cached */
#endif
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    return nodes && intern && leaves;
}

void rec_stacks_lock_all(void) { rec_lock_take(&lock); }
void rec_stacks_unlock_all(void) { rec_lock_give(&lock); }

const rec_stack_node *rec_stack_nodes(size_t *count)
{
    *count = nnodes;
    return nodes;
}
