/* interpose.c: the malloc family, replaced by LD_PRELOAD. Each function calls the real one (found
 * with dlsym(RTLD_NEXT)) and records what it did. Invariants:
 * - every block is libc's, at libc's address: a watched malloc, calloc or realloc asks for the
 *   record's bytes more when the block's slack cannot hold them, and writes the record in the
 *   block's tail (tailed.c); the aligned family's blocks, and a block whose record does not fit
 *   its tail, are recorded in the shared table;
 * - a call made while the recorder is busy on this thread (rec_me.busy: a nested malloc from inside
 *   libc or libunwind, a signal handler that interrupted the recorder) passes straight through;
 * - a block leaves the bitmap or the table before its address can be recorded again: free takes
 *   it out before libc frees it (or, in the shared table, while holding its shard), realloc
 *   takes it out first;
 * - the program never sees the record: malloc_usable_size ends before it;
 * - dlsym itself may call calloc: until the real functions are known, requests are served from a
 *   static buffer that is never freed;
 * - in a snapshot child, allocation comes from the recorder's own memory (child_heap) and never
 *   reaches libc, whose locks may have been held by the parent's other threads at the fork. */
#include <dlfcn.h>
#include <malloc.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "record/record.h"

void *(*rec_real_malloc)(size_t);
void (*rec_real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_reallocarray)(void *, size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static size_t (*real_usable_size)(void *);

atomic_bool rec_tracing;
bool rec_in_snapshot_child;

/* ---- before dlsym has answered ---- */

static _Alignas(16) char bootstrap[64 * 1024];
static size_t bootstrap_used;
static int resolving;

static void *bootstrap_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof bootstrap - bootstrap_used)
        return NULL;
    void *p = bootstrap + bootstrap_used;
    bootstrap_used += n;
    return p; /* static storage: already zero */
}

static bool from_bootstrap(const void *p)
{
    return (const char *)p >= bootstrap && (const char *)p < bootstrap + sizeof bootstrap;
}

static void resolve(void)
{
    resolving = 1;
    rec_real_free = dlsym(RTLD_NEXT, "free");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_reallocarray = dlsym(RTLD_NEXT, "reallocarray");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_valloc = dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    real_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
    void *(*m)(size_t) = dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
    rec_real_malloc = m; /* last: it says the others are ready */
}

/* ---- a snapshot child's heap: bump allocation from sysmem, never freed ---- */

typedef struct child_chunk {
    size_t size; /* bytes usable after this header */
    size_t pad;
} child_chunk;

static char *child_cur, *child_end;

/* Small requests share chunks of 4 KiB pages; a big one (a 10M-block dump's arrays) gets a
 * mapping of its own, in huge pages past rec_map's threshold. In 2 MiB pages a small dump's few
 * hundred KiB cost whole pages, and the child's resident set counts in the program's peak as
 * wait4 reports it: 6 MB more on a CPython run. */
#define CHILD_CHUNK ((size_t)4 << 20)

static void *child_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    for (;;) {
        uintptr_t p = ((uintptr_t)child_cur + sizeof(child_chunk) + align - 1) & ~(uintptr_t)(align - 1);
        if (child_cur && p + n <= (uintptr_t)child_end && p + n >= p) {
            ((child_chunk *)p)[-1].size = n;
            child_cur = (char *)(p + n);
            return (void *)p;
        }
        size_t want = n + align + sizeof(child_chunk) > CHILD_CHUNK ? n + align + 4096 : CHILD_CHUNK;
        if (want < n || !(child_cur = rec_map(want))) {
            errno = ENOMEM;
            return NULL;
        }
        if (want == CHILD_CHUNK)
            madvise(child_cur, want, MADV_NOHUGEPAGE);
        child_end = child_cur + want;
    }
}

/* Bytes a bootstrap block may hold: its size is not kept, the buffer's end bounds it. */
static size_t bootstrap_room(const void *p) { return (size_t)(bootstrap + sizeof bootstrap - (const char *)p); }

/* Bytes a block holds in a snapshot child: one of the child's own, or of the program's. */
static size_t child_room(const void *p)
{
    if (from_bootstrap(p))
        return bootstrap_room(p);
    if (rec_tailed_is(p))
        return rec_libc_usable(p) - rec_tail;
    return ((const child_chunk *)p)[-1].size;
}

static void *child_realloc(void *old, size_t n)
{
    void *p = child_alloc(n, 16);
    if (p && old) {
        size_t had = child_room(old);
        memcpy(p, old, had < n ? had : n);
    }
    return p;
}

/* ---- recording ---- */

static void init(void);

/* Sequence numbers are taken from the shared counter SEQ_BATCH at a time, so that a malloc pays
 * no atomic operation: a block's id stays unique and stable, ids rise in each thread's allocation
 * order, and a thread that ends leaves the rest of its batch unused. */
#define SEQ_BATCH 256

static inline uint64_t next_seq(void)
{
    if (REC_UNLIKELY(rec_me.seq_next == rec_me.seq_end)) {
        rec_me.seq_next = atomic_fetch_add_explicit(&rec_next_seq, SEQ_BATCH, memory_order_relaxed);
        rec_me.seq_end = rec_me.seq_next + SEQ_BATCH;
    }
    return rec_me.seq_next++;
}

/* Records block p in the shared table. */
static void record_in_table(void *p, size_t n, uint32_t thread, uint64_t seq, uint32_t stack)
{
    rec_block b = rec_block_make((uintptr_t)p, n, thread, seq, stack);
    if (REC_UNLIKELY(!rec_table_insert(&b)))
        rec_out_of_memory();
}

/* Records block p of n bytes, from the aligned family, in the shared table. at: the stack slot of
 * the allocator's return address. */
static void record(void *p, size_t n, uintptr_t at)
{
    uint32_t stack = rec_config.depth ? rec_stack_capture(at) : 0;
    record_in_table(p, n, rec_thread_number(), next_seq(), stack);
}

/* Block p's record could not go in its tail (written false), or the bitmap had no memory for its
 * bit: the table takes it, or tracing stops. */
static __attribute__((noinline, cold)) void untailed(void *p, size_t n, uint32_t thread, uint64_t seq,
                                                     uint32_t stack, bool written)
{
    if (written)
        rec_out_of_memory();
    else
        record_in_table(p, n, thread, seq, stack);
}

/* Records libc's block p, n bytes of it the program's, asked for with rec_tail_request: its
 * record in its tail and its bit set (else untailed). Inline: at depth 0 this is what a malloc
 * adds. */
static inline __attribute__((always_inline)) void tailed(void *p, size_t n, uintptr_t at)
{
    uint32_t stack = REC_UNLIKELY(rec_config.depth) ? rec_stack_capture(at) : 0;
    uint32_t thread = rec_thread_number();
    uint64_t seq = next_seq();
    bool written = REC_LIKELY(rec_tail) && rec_tail_write(p, n, thread, seq, stack);
    if (REC_UNLIKELY(!written || !rec_tailed_mark(p)))
        untailed(p, n, thread, seq, stack, written);
}

/* Requests beyond this fail as libc's would (glibc refuses any above PTRDIFF_MAX): below it, the
 * record's bytes more cannot overflow. */
#define MAX_REQUEST (SIZE_MAX / 2)

/* The stack slot of the exported function's return address: just above its frame pointer. */
#define CALLER ((uintptr_t)__builtin_frame_address(0) + sizeof(void *))

#define ENTER(fallback_expr)                                                                      \
    do {                                                                                          \
        if (REC_UNLIKELY(!rec_real_malloc)) {                                                     \
            if (resolving)                                                                        \
                return fallback_expr;                                                             \
            init();                                                                               \
        }                                                                                         \
    } while (0)

static inline bool watching(void)
{
    return !rec_me.busy && atomic_load_explicit(&rec_tracing, memory_order_relaxed);
}

/* The calls the recorder does not watch: before setup, in a snapshot child, while busy. Out of
 * line, so that a watched call saves few registers. Tracing on says that setup is done and that
 * this is no snapshot child. */
static __attribute__((noinline)) void *malloc_unwatched(size_t n)
{
    ENTER(bootstrap_alloc(n));
    if (REC_UNLIKELY(rec_in_snapshot_child))
        return child_alloc(n, 16);
    return rec_real_malloc(n);
}

static __attribute__((noinline)) void free_unwatched(void *p)
{
    if (!p || from_bootstrap(p) || REC_UNLIKELY(rec_in_snapshot_child))
        return;
    ENTER((void)0);
    rec_real_free(p);
}

static __attribute__((noinline)) void *calloc_unwatched(size_t k, size_t n, size_t total)
{
    ENTER(bootstrap_alloc(total));
    if (REC_UNLIKELY(rec_in_snapshot_child)) /* never handed out before: still zero */
        return total == SIZE_MAX ? NULL : child_alloc(total, 16);
    return real_calloc(k, n);
}

static inline __attribute__((always_inline)) void *allocate(size_t n, uintptr_t at)
{
    if (REC_UNLIKELY(!watching()))
        return malloc_unwatched(n);
    if (REC_UNLIKELY(n > MAX_REQUEST)) {
        errno = ENOMEM;
        return NULL;
    }
    rec_me.busy++;
    void *p = rec_real_malloc(rec_tail_request(n, rec_tail));
    if (p)
        tailed(p, n, at);
    rec_leave();
    return p;
}

REC_EXPORT void *malloc(size_t n) { return allocate(n, CALLER); }

/* A tailed block leaves the bitmap whoever frees it, watched or not (a signal handler, tracing
 * stopped): its address may be recorded again. A second free of it finds no bit and reaches libc,
 * which reports it as without the recorder. */
REC_EXPORT void free(void *p)
{
    if (REC_UNLIKELY(rec_in_snapshot_child)) /* the program's blocks stay as they were at the fork */
        return;
    if (REC_LIKELY(rec_tailed_take(p))) {
        /* Busy across libc's free: a snapshot must not stop this thread holding an arena's
         * lock, which the program's fork on another thread would then wait for. */
        rec_me.busy++;
        rec_real_free(p);
        rec_leave();
        return;
    }
    if (REC_UNLIKELY(!watching() || !p || from_bootstrap(p))) {
        free_unwatched(p);
        return;
    }
    rec_me.busy++;
    if (!rec_table_free(p, rec_real_free))
        rec_real_free(p);
    rec_leave();
}

REC_EXPORT void *calloc(size_t k, size_t n)
{
    size_t total;
    if (__builtin_mul_overflow(k, n, &total))
        total = SIZE_MAX;
    if (REC_UNLIKELY(!watching()) || total > MAX_REQUEST)
        return calloc_unwatched(k, n, total);
    rec_me.busy++;
    void *p = real_calloc(1, rec_tail_request(total, rec_tail));
    if (p)
        tailed(p, total, CALLER);
    rec_leave();
    return p;
}

/* realloc of tailed block p to total bytes, as glibc's: 0 frees it; NULL leaves it as it was,
 * record and all. The block leaves the bitmap first (another thread may get its address the
 * moment libc lets it go) and comes back when libc keeps it. A watched call makes a new block (a
 * new id and stack); an unwatched one leaves libc's own block. */
static void *resize_tailed(void *p, size_t total, uintptr_t at)
{
    if (total == 0) {
        free(p);
        return NULL;
    }
    if (total > MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    bool watched = watching();
    rec_me.busy++;
    rec_tailed_take(p);
    void *q = real_realloc(p, watched ? rec_tail_request(total, rec_tail) : total);
    if (!q)
        rec_tailed_mark_as(p, false); /* still the program's: marked again whatever the limit */
    else if (watched)
        tailed(q, total, at);
    rec_leave();
    return q;
}

/* realloc and reallocarray: a tailed block to resize_tailed, NULL to malloc's path; any other
 * block, of the shared table or libc's own, leaves the table first and comes back as it was when
 * libc keeps it. */
static void *resize(void *p, size_t k, size_t n, bool array, uintptr_t at)
{
    size_t total;
    bool overflow = __builtin_mul_overflow(k, n, &total);
    if (rec_tailed_is(p)) {
        if (overflow) {
            errno = ENOMEM;
            return NULL;
        }
        return resize_tailed(p, total, at);
    }
    if (!p)
        return overflow ? (errno = ENOMEM, NULL) : allocate(total, at);
    if (!watching())
        return array ? real_reallocarray(p, k, n) : real_realloc(p, n);
    rec_me.busy++;
    rec_block old;
    bool had = rec_table_remove((uintptr_t)p, &old);
    void *q = array ? real_reallocarray(p, k, n) : real_realloc(p, n);
    if (q)
        record(q, total, at);
    else if (had && !overflow && total != 0 && !rec_table_insert(&old))
        rec_out_of_memory();
    rec_leave();
    return q;
}

REC_EXPORT void *realloc(void *p, size_t n)
{
    if (REC_UNLIKELY(rec_in_snapshot_child))
        return child_realloc(p, n);
    if (from_bootstrap(p)) { /* out of the bootstrap buffer for good */
        void *q = malloc(n);
        if (q)
            memcpy(q, p, n < bootstrap_room(p) ? n : bootstrap_room(p));
        return q;
    }
    ENTER(bootstrap_alloc(n));
    return resize(p, 1, n, false, CALLER);
}

REC_EXPORT void *reallocarray(void *p, size_t k, size_t n)
{
    if (from_bootstrap(p) || REC_UNLIKELY(rec_in_snapshot_child)) {
        size_t total;
        if (__builtin_mul_overflow(k, n, &total)) {
            errno = ENOMEM;
            return NULL;
        }
        return realloc(p, total);
    }
    ENTER(NULL);
    return resize(p, k, n, true, CALLER);
}

/* Whatever libc would say, less the record of a tailed block. */
REC_EXPORT size_t malloc_usable_size(void *p)
{
    if (from_bootstrap(p))
        return bootstrap_room(p);
    if (REC_UNLIKELY(rec_in_snapshot_child))
        return p ? child_room(p) : 0;
    ENTER(0);
    return rec_tailed_is(p) ? rec_libc_usable(p) - rec_tail : real_usable_size(p);
}

/* The aligned family: one shape, the real call passed in. */
#define ALIGNED(call, align, n)                                                                   \
    do {                                                                                          \
        ENTER(NULL);                                                                              \
        if (REC_UNLIKELY(rec_in_snapshot_child))                                                  \
            return child_alloc(n, align);                                                         \
        if (!watching())                                                                          \
            return call;                                                                          \
        rec_me.busy++;                                                                               \
        void *q = call;                                                                           \
        if (q)                                                                                    \
            record(q, n, CALLER);                                                                 \
        rec_leave();                                                                              \
        return q;                                                                                 \
    } while (0)

REC_EXPORT void *aligned_alloc(size_t align, size_t n) { ALIGNED(real_aligned_alloc(align, n), align, n); }
REC_EXPORT void *memalign(size_t align, size_t n) { ALIGNED(real_memalign(align, n), align, n); }
REC_EXPORT void *valloc(size_t n) { ALIGNED(real_valloc(n), 4096, n); }
REC_EXPORT void *pvalloc(size_t n) { ALIGNED(real_pvalloc(n), 4096, n); }

REC_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    ENTER(ENOMEM);
    if (REC_UNLIKELY(rec_in_snapshot_child)) {
        *out = child_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    if (!watching())
        return real_posix_memalign(out, align, n);
    rec_me.busy++;
    int r = real_posix_memalign(out, align, n);
    if (r == 0)
        record(*out, n, CALLER);
    rec_leave();
    return r;
}

/* ---- setup ---- */

static void init(void)
{
    rec_me.busy++;
    resolve();
    rec_leave();
}

/* Tails are written where glibc's chunk size says a block ends: only over glibc's malloc (not
 * over another allocator preloaded before the recorder). */
bool rec_libc_heap(void)
{
    Dl_info info;
    return dladdr((void *)rec_real_malloc, &info) && info.dli_fname && strstr(info.dli_fname, "/libc.so");
}

__attribute__((constructor)) static void construct(void)
{
    if (!rec_real_malloc)
        init();
    rec_me.busy++;
    rec_start();
    rec_leave();
}
