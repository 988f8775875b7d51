/* record.h: the native recorder (libheaptool-record.so), preloaded into any program: what its
 * parts share. Invariant: nothing here ever allocates from the program's malloc; the recorder's
 * own memory comes from mmap (sysmem.c), so recording cannot recurse and a dump taken in a
 * forked child never touches a heap lock another thread of the parent held. */
#ifndef HEAPTOOL_RECORD_H
#define HEAPTOOL_RECORD_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/ucontext.h>
#include <time.h>

#define REC_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#define REC_LIKELY(x) __builtin_expect(!!(x), 1)
#define REC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define REC_MAX_DEPTH 256
#define REC_EXPORT __attribute__((visibility("default")))

/* ---- sysmem.c: the recorder's memory ---- */
/* Zeroed, page-granular memory from mmap; NULL when the system has none. */
void *rec_map(size_t bytes);
void rec_unmap(void *p, size_t bytes);
/* Address space reserved up front and touched lazily (MAP_NORESERVE): tables that never move. */
void *rec_reserve(size_t bytes);
typedef struct rec_range {
    uintptr_t lo, hi;
} rec_range;
/* The recorder's own mappings, in no order; *n is SIZE_MAX when they are too many to list. */
const rec_range *rec_own_memory(size_t *n);

/* A lock for the recorder's tables: spins briefly, then yields. Never held across a call into
 * libc's allocator. */
typedef struct rec_lock {
    atomic_flag held;
} rec_lock;
void rec_lock_wait(rec_lock *l);
static inline void rec_lock_take(rec_lock *l)
{
    if (REC_UNLIKELY(atomic_flag_test_and_set_explicit(&l->held, memory_order_acquire)))
        rec_lock_wait(l);
}
static inline void rec_lock_give(rec_lock *l) { atomic_flag_clear_explicit(&l->held, memory_order_release); }

static inline uint64_t rec_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- settings.c: what the environment asked for ---- */
typedef struct rec_settings {
    char output[4096];  /* path template: %p pid, %n dump number, %% */
    unsigned depth;     /* frames kept per stack; 0: none */
    int signo;          /* dump on this signal; 0: none */
    unsigned interval;  /* dump every this many seconds; 0: never */
    const char *wrappers; /* HEAPTOOL_WRAPPERS, comma-separated, '*' at the end for a prefix */
    size_t memory_limit;  /* bytes the records may take; 0: what the system gives */
    bool quiet_failures;  /* the output was found unwritable at start: said once, not again */
} rec_settings;
extern rec_settings rec_config;
void rec_settings_read(void);
/* Writes the path of dump number n into out: %n is n; a numbered dump (signal, interval) of a
 * template without %n gets ".n" before its ".json". False when it does not fit. */
bool rec_expand_path(char *out, size_t cap, unsigned n, bool numbered);
/* Says once on stderr, before the program runs, when the output's directory is not writable. */
void rec_check_output(void);

/* ---- state shared by interposition and the rest ---- */
/* Tracing is on (false before setup, after the recorder ran out of memory, and in a snapshot
 * child). */
extern atomic_bool rec_tracing;
/* Set in a snapshot child: malloc is then served from sysmem and never from libc. */
extern bool rec_in_snapshot_child;
/* Once, on stderr: the recorder ran out of memory and stopped tracing. */
void rec_out_of_memory(void);
extern atomic_bool rec_dropped; /* tracing was dropped: said in the dump's meta */
/* The recorder's state of the calling thread, in one block: a shared library finds each of its
 * thread-local variables through a GOT entry of its own, so that one block is one lookup for a
 * malloc instead of five. */
typedef struct rec_thread_state {
    /* The reentrancy guard: set while the recorder works on this thread, so that a nested malloc
     * (from libunwind, a signal handler, glibc inside the recorder) passes through. */
    int busy;
    int stop_pending;           /* a snapshot asked this thread to stop while it was busy (stop.c) */
    uint32_t number;            /* the thread's number (threads.c), 0 until first asked */
    uint64_t seq_next, seq_end; /* the ids left in the thread's batch (interpose.c) */
} rec_thread_state;
extern REC_TLS rec_thread_state rec_me;
/* Leaves the recorder: a request to stop that came meanwhile (stop.c) is answered now. */
void rec_stop_deferred(void);
static inline void rec_leave(void)
{
    if (--rec_me.busy == 0 && REC_UNLIKELY(rec_me.stop_pending))
        rec_stop_deferred();
}
/* The real allocator, found with dlsym(RTLD_NEXT). */
extern void *(*rec_real_malloc)(size_t);
extern void (*rec_real_free)(void *);
/* The real allocator is glibc's (interpose.c). */
bool rec_libc_heap(void);

/* ---- live blocks: tailed.c and blocks.c ---- */
typedef struct rec_block {
    uintptr_t addr;
    uint64_t size : 44;    /* bytes requested */
    uint64_t thread : 20;  /* allocating thread, from 1 */
    uint64_t seq : 40;     /* the block's id: a per-process sequence number from 1 */
    uint64_t stack : 24;   /* stack node + 1; 0: no stack */
} rec_block;
/* rec_block's words after its address, as the x86-64 and arm64 ABIs lay its bit-fields out (from
 * the low bits): size | thread << 44, and seq | stack << 40. */
#define REC_SIZE_BITS 44
#define REC_SEQ_BITS 40
_Static_assert(sizeof(rec_block) == 3 * sizeof(uint64_t), "a block's record is three words");
/* A block's record but its address, as its two words: the bit-fields' assignments would read and
 * merge the words. */
static inline void rec_block_words(uint64_t w[2], uint64_t size, uint64_t thread, uint64_t seq, uint64_t stack)
{
    w[0] = (size & ((1ull << REC_SIZE_BITS) - 1)) | thread << REC_SIZE_BITS;
    w[1] = (seq & ((1ull << REC_SEQ_BITS) - 1)) | stack << REC_SEQ_BITS;
}
static inline rec_block rec_block_make(uintptr_t addr, uint64_t size, uint64_t thread, uint64_t seq, uint64_t stack)
{
    uint64_t w[3] = {addr};
    rec_block_words(w + 1, size, thread, seq, stack);
    rec_block b;
    memcpy(&b, w, sizeof b);
    return b;
}

/* live.c: every live block the recorder knows: the tailed ones and the rest, in the shared table. */
bool rec_blocks_init(void);
/* Hold every lock (around fork, so the child sees whole tables) and let go. */
void rec_blocks_lock_all(void);
void rec_blocks_unlock_all(void);
/* Live blocks: about as many while other threads run, exact in a snapshot child. */
size_t rec_blocks_count(void);
/* Copies at most cap live blocks to out, in address order (only in a snapshot child). A block's
 * size is kept up to 2^40 - 1 bytes and its thread up to 65535 in the shared table: larger ones
 * read as those. */
size_t rec_blocks_sorted(rec_block *out, size_t cap);

/* tailed.c: the blocks from malloc, calloc, realloc and reallocarray. Each is libc's own block,
 * at the address libc gave, and its record lies in the last bytes of it, past the program's:
 * rec_tail of them, 8 without stacks, 12 with. A block asks libc for those bytes more only when
 * glibc's chunk for the program's size has too few spare (about half the time without stacks).
 * A bitmap over user space, a bit for every 16 bytes, in regions of 2^REC_REGION_SHIFT bytes,
 * says where such blocks start. */
/* A record's last 8 bytes: id | slack << 40 | thread << 46, the slack being the bytes between the
 * program's end and the record; a long record has the stack (node + 1, 32 bits) before them. */
#define REC_TAIL_SHORT 8
#define REC_TAIL_LONG 12
#define REC_SLACK_BITS 6
#define REC_TAIL_THREAD_MAX ((1u << 18) - 1)
/* The record's bytes (0: no tails, the allocator is not glibc's: every block is in the table). */
extern size_t rec_tail;

/* glibc keeps a block's chunk size in the word before it (flags in its low 3 bits; 2: mapped on
 * its own), and the block holds the chunk less that word, and less a second header word when
 * mapped: malloc_usable_size's answer without its call, which reads the next chunk too. */
static inline size_t rec_libc_usable(const void *p)
{
    uint64_t chunk;
    memcpy(&chunk, (const char *)p - sizeof chunk, sizeof chunk);
    return (size_t)(chunk & ~(uint64_t)7) - (chunk & 2 ? 16 : 8);
}

/* What to ask libc for n bytes and a record of t: n when glibc's chunk for n (n and its size
 * word, rounded up to 16, at least 32) leaves t bytes spare, else n + t. n <= SIZE_MAX - 64. */
static inline size_t rec_tail_request(size_t n, size_t t)
{
    size_t chunk = (n + 8 + 15) & ~(size_t)15;
    if (chunk < 32)
        chunk = 32;
    return chunk - 8 - n >= t ? n : n + t;
}

/* Writes the record of block p, n bytes of the program's, in its tail. False when it cannot:
 * libc's block is too small for it (never with glibc), the record cannot say its slack (a block
 * mapped on its own may leave a page spare) or its thread (past REC_TAIL_THREAD_MAX): such a block
 * goes to the table. */
static inline bool rec_tail_write(void *p, size_t n, uint32_t thread, uint64_t seq, uint32_t stack)
{
    size_t usable = rec_libc_usable(p), tail = rec_tail;
    if (REC_UNLIKELY(usable < n + tail))
        return false;
    uint64_t slack = usable - tail - n;
    if (REC_UNLIKELY(slack >> REC_SLACK_BITS))
        return false;
    if (REC_UNLIKELY(thread > REC_TAIL_THREAD_MAX))
        return false;
    uint64_t w = (seq & ((1ull << REC_SEQ_BITS) - 1)) | slack << REC_SEQ_BITS |
                 (uint64_t)thread << (REC_SEQ_BITS + REC_SLACK_BITS);
    char *end = (char *)p + usable;
    memcpy(end - sizeof w, &w, sizeof w);
    if (tail == REC_TAIL_LONG)
        memcpy(end - REC_TAIL_LONG, &stack, sizeof stack);
    return true;
}

#define REC_REGION_SHIFT 30
#define REC_REGIONS ((size_t)1 << (48 - REC_REGION_SHIFT))
#define REC_SUMMARY 4096 /* bytes before a region's bitmap: one for each 4 KiB of it, set once touched */
extern _Atomic(uint64_t *) rec_tailed_directory[REC_REGIONS];
extern atomic_size_t rec_tailed_bytes;
/* The bitmap of a's region (its words), made now; NULL without memory or at or above 2^48. */
uint64_t *rec_tailed_region_new(uintptr_t a);
/* Counts a record against rec_config.memory_limit (with the table's bytes): true, and not
 * counted, when it would pass it. */
bool rec_tailed_over_limit(void);
/* Hold the bitmap's lock (it makes regions) and let go: around the program's fork. */
void rec_tailed_lock(void);
void rec_tailed_unlock(void);
/* Records a snapshot child found overwritten by the program (rec_tailed_sorted): a dump says so. */
extern size_t rec_damaged_records;
size_t rec_tailed_count(void);
/* As rec_blocks_sorted, the tailed blocks alone. */
size_t rec_tailed_sorted(rec_block *out, size_t cap);

#define REC_REGION_WORDS ((size_t)1 << (REC_REGION_SHIFT - 10)) /* a word covers 1 KiB */

/* The bitmap of a's region; NULL when none was made. */
static inline uint64_t *rec_tailed_region(uintptr_t a)
{
    size_t r = a >> REC_REGION_SHIFT;
    return REC_LIKELY(r < REC_REGIONS) ? atomic_load_explicit(&rec_tailed_directory[r], memory_order_acquire) : NULL;
}
static inline size_t rec_tailed_index(uintptr_t a) { return (a >> 10) & (REC_REGION_WORDS - 1); }
static inline unsigned rec_tailed_bit_index(uintptr_t a) { return (unsigned)(a >> 4) & 63; }
static inline uint64_t rec_tailed_bit(uintptr_t a) { return 1ull << rec_tailed_bit_index(a); }

/* A bitmap word's read-modify-writes. While the process has one thread (glibc's
 * __libc_single_threaded, false from before a second thread starts), one instruction without a
 * lock prefix does, on x86-64: only a signal handler could come between, and it cannot come
 * inside an instruction. Otherwise an atomic one (a locked instruction was most of a malloc's
 * cost after libc's). */
static inline void rec_bit_set(uint64_t *w, unsigned index)
{
#if defined(__x86_64__)
    if (__libc_single_threaded) {
        __asm__ volatile("btsq %q1, %0" : "+m"(*w) : "r"((uint64_t)index) : "cc");
        return;
    }
#endif
    atomic_fetch_or_explicit((_Atomic uint64_t *)w, 1ull << index, memory_order_release);
}

/* Clears the bit; says whether it was set. */
static inline bool rec_bit_clear(uint64_t *w, unsigned index)
{
#if defined(__x86_64__)
    if (__libc_single_threaded) {
        bool was;
        __asm__ volatile("btrq %q2, %0" : "+m"(*w), "=@ccc"(was) : "r"((uint64_t)index));
        return was;
    }
#endif
    return atomic_fetch_and_explicit((_Atomic uint64_t *)w, ~(1ull << index), memory_order_acq_rel) >> index & 1;
}

/* Says that the tailed block p starts, its record written first; false without memory (or past
 * the memory limit, when limited): p is then libc's own block. */
static inline bool rec_tailed_mark_as(const void *p, bool limited)
{
    uintptr_t a = (uintptr_t)p;
    uint64_t *words = rec_tailed_region(a);
    if (REC_UNLIKELY(!words) && !(words = rec_tailed_region_new(a)))
        return false;
    if (REC_UNLIKELY(rec_config.memory_limit)) {
        if (limited && rec_tailed_over_limit())
            return false;
        if (!limited)
            atomic_fetch_add_explicit(&rec_tailed_bytes, rec_tail, memory_order_relaxed);
    }
    size_t i = rec_tailed_index(a);
    /* A word with a bit set lies in a page already touched: only an empty one asks. */
    uint8_t *touched = (uint8_t *)words - REC_SUMMARY + i / 512;
    if (REC_UNLIKELY(!atomic_load_explicit((_Atomic uint64_t *)&words[i], memory_order_relaxed)) && !*touched)
        *touched = 1;
    rec_bit_set(&words[i], rec_tailed_bit_index(a));
    return true;
}
static inline bool rec_tailed_mark(const void *p) { return rec_tailed_mark_as(p, true); }

/* p starts a live tailed block. */
static inline bool rec_tailed_is(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    uint64_t *words = rec_tailed_region(a);
    return words && !(a & 15) && (atomic_load_explicit((_Atomic uint64_t *)&words[rec_tailed_index(a)],
                                                       memory_order_relaxed) & rec_tailed_bit(a));
}

/* When p starts a live tailed block: forgets it, and returns true (the block is then the
 * caller's to give back to libc). A plain read first: a pointer that is no
 * such block (NULL, a foreign one) writes nothing; a free that finds the bit cleared meanwhile
 * was another thread's, first, of the same block. */
static inline bool rec_tailed_take(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    uint64_t *words = rec_tailed_region(a);
    if (!words || (a & 15))
        return false;
    uint64_t *w = &words[rec_tailed_index(a)];
    if (!(atomic_load_explicit((_Atomic uint64_t *)w, memory_order_relaxed) & rec_tailed_bit(a)) ||
        !rec_bit_clear(w, rec_tailed_bit_index(a)))
        return false;
    if (REC_UNLIKELY(rec_config.memory_limit))
        atomic_fetch_sub_explicit(&rec_tailed_bytes, rec_tail, memory_order_relaxed);
    return true;
}

/* blocks.c: the shared table, a radix tree over address pages, for the blocks without a header
 * (the aligned family's, and realloc's of a block the recorder did not make). An insert replaces
 * a block still recorded at its address (freed where the recorder could not see it). */
bool rec_table_init(void);
bool rec_table_insert(const rec_block *b);
bool rec_table_remove(uintptr_t addr, rec_block *out);
/* When p is live here: frees it with release, forgets it and returns true; else does nothing. */
bool rec_table_free(void *p, void (*release)(void *));
void rec_table_lock_all(void);
void rec_table_unlock_all(void);
size_t rec_table_count(void);
/* Bytes the table has taken, against rec_config.memory_limit with the headers'. */
size_t rec_table_bytes(void);
size_t rec_table_sorted(rec_block *out, size_t cap);
/* A block and a key to sort it by (scan.c). */
typedef struct rec_keyed {
    uint64_t key, index;
} rec_keyed;
extern atomic_uint_fast64_t rec_next_seq;

/* ---- maps.c: the process's mappings (in a snapshot child) ---- */
typedef struct rec_maps {
    rec_range *readable;  /* in address order */
    size_t nreadable;
    rec_range *anonymous; /* the private writable anonymous mappings among them */
    size_t nanonymous;
} rec_maps;
int rec_maps_read(rec_maps *m);
/* [lo, hi) lies in readable mappings, one or adjacent ones. */
bool rec_maps_readable(const rec_maps *m, uintptr_t lo, uintptr_t hi);

/* ---- stacks.c: call stacks, captured and shared in a tree ---- */
typedef struct rec_stack_node {
    uintptr_t pc;    /* a return address */
    uint32_t parent; /* node + 1 of the caller; 0: outermost */
    uint32_t depth;  /* frames from here outwards */
} rec_stack_node;

bool rec_stacks_init(void);
/* The current call stack, the recorder's own frames left out, as a node + 1 (0: none). at: the
 * stack slot that holds the allocator's return address (the key of the thread's recent stacks). */
uint32_t rec_stack_capture(uintptr_t at);
/* The calling thread ends: its recent stacks are given back. */
void rec_stacks_thread_exit(void);
void rec_stacks_lock_all(void);
void rec_stacks_unlock_all(void);
const rec_stack_node *rec_stack_nodes(size_t *count);
/* Marks [lo, hi) as the recorder's own code, left out of stacks. */
void rec_stacks_skip_module(uintptr_t lo, uintptr_t hi);

/* ---- threads.c: the program's threads ---- */
typedef struct rec_thread {
    uint32_t number;           /* from 1, the main thread; 0: free slot */
    uintptr_t stack_lo, stack_hi;
    uintptr_t tp;              /* thread pointer (pthread_self()): its control block starts there */
    int tid;                   /* the kernel's thread id */
    bool exited;               /* ended; its control block may live on in glibc's stack cache */
    bool has_regs;             /* regs holds its registers, saved for the snapshot being taken */
    greg_t regs[NGREG];
} rec_thread;
extern size_t rec_tcb_size;    /* bytes of glibc's thread control block; 0: unknown */
#define REC_MAX_THREADS 4096
/* The calling thread's number, assigned on first use (inline: every malloc asks). */
uint32_t rec_thread_number_new(void);
/* How many threads were numbered so far. */
uint32_t rec_threads_numbered(void);
static inline uint32_t rec_thread_number(void)
{
    return REC_LIKELY(rec_me.number) ? rec_me.number : rec_thread_number_new();
}
/* The calling thread's number when it is a registered program thread, else 0. */
uint32_t rec_thread_registered(void);
void rec_threads_init(void);
/* A copy of the live threads' records; returns how many. */
size_t rec_threads_copy(rec_thread *out, size_t cap);
/* The calling thread's slot, or NULL. */
rec_thread *rec_thread_slot(void);
/* The kernel ids of the live registered threads but the caller, their saved registers
 * forgotten; returns how many. */
size_t rec_threads_prepare_stop(int *tids, size_t cap);
/* After fork, in the child: the calling thread is the only one left. */
void rec_threads_after_fork_child(void);

/* ---- stop.c: the other threads held still while a snapshot is taken ---- */
#define REC_STOP_SIGNAL (SIGRTMAX - 2)
void rec_stop_init(void);
/* Stops every other registered thread, each with its registers saved in its slot; returns when
 * all have answered, or after 50 ms when none of those left can answer (each blocks the signal
 * or is stopped), or after 2 s. */
void rec_stop_others(void);
void rec_resume_others(void);

/* ---- triggers.c: setup, from the constructor with rec_me.busy held ---- */
void rec_start(void);

/* ---- snapshot.c: taking a dump ---- */
/* Forks a child that scans and writes path; the parent goes on. wait: return once the file is
 * written. last: the program ends after this dump (at exit), and with one thread it is written in
 * place, without the fork; tracing stops. The calling thread's stack is scanned from stack_from up (the frame of the program's
 * code that asked: the recorder's own frames below hold only stale words); 0 when the caller is
 * not a program thread. Returns 0, or -1 with a message already printed. */
int rec_snapshot(const char *path, const char *name, bool wait, bool last, uintptr_t stack_from);
void rec_snapshot_init(void);
/* Waits for every dump still being written. */
void rec_snapshot_wait_all(void);
/* Parent pause of the last snapshot, in nanoseconds (HEAPTOOL_VERBOSE prints it). */
extern uint64_t rec_last_pause_ns;

/* ---- the snapshot child's work: scan.c, symbols.c, writer.c ---- */
typedef struct rec_module {
    char path[512];
    uintptr_t base;            /* load bias */
    uintptr_t rw_lo[4], rw_hi[4]; /* writable segments */
    int nrw;
    uintptr_t tls_offset;      /* static TLS block: tp + tls_offset; 0 with tls_size 0: none */
    size_t tls_size;
    bool self;                 /* the recorder itself: not scanned */
    bool libc;                 /* its data holds malloc's own chunk pointers (§ scan.c) */
} rec_module;

typedef struct rec_world {
    long pid;                    /* the program's */
    rec_module *modules;
    size_t nmodules;
    rec_thread *threads;
    size_t nthreads;
    size_t tcb_size;
    uint32_t current_thread;     /* the thread that asked for the dump */
    uintptr_t current_sp;        /* its stack pointer at the fork */
    const void *regs;            /* its registers, saved before the fork */
    size_t regs_size;
    const char *name;            /* the snapshot's name, or NULL */
    char *(*demangle)(const char *, char *, size_t *, int *); /* libstdc++'s, when loaded */
} rec_world;

/* In the child: scan, symbolize and write path. Returns 0 or an errno. */
int rec_child_dump(const rec_world *w, const char *path);

/* scan.c: the live blocks indexed by address, and the conservative scan. */
typedef struct rec_page rec_page;
typedef struct rec_heap {
    rec_block *blocks;      /* by address */
    size_t n;
    uint32_t *by_id;        /* block indices in id order */
    uintptr_t lo, hi;       /* from the first block's start to the furthest end */
    rec_page *pages;        /* blocks starting in each 4 KiB page */
    size_t page_mask;
    uint32_t *spanning;     /* blocks that cross a page boundary, by address */
    size_t nspanning;
} rec_heap;
int rec_heap_build(rec_heap *h);
/* The block holding address w (its index by address) and w's offset in it; -1 when none. */
long rec_heap_find(const rec_heap *h, uintptr_t w, uint64_t *offset);

enum rec_root_kind { ROOT_GLOBAL, ROOT_STACK, ROOT_REGISTERS, ROOT_TLS };
typedef struct rec_root {
    uint32_t block;         /* index by address */
    uint32_t thread;        /* for stack, registers and tls */
    uint64_t offset;        /* into the block */
    uintptr_t where;        /* the word's address, for global names */
    uint8_t kind;
    bool exited;            /* of a thread that has ended */
    int16_t module;         /* for globals; -1: in an anonymous mapping starting at base */
    uintptr_t base;
} rec_root;
/* Every root pointer, sorted by the block's id. */
int rec_scan_roots(const rec_heap *h, const rec_world *w, rec_root **out, size_t *n);

#endif
