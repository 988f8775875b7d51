/* snapshot.c: taking a dump without stopping the program, as Redis takes its snapshots: the
 * parent notes what the child will need (modules, threads, its own registers), holds the
 * recorder's tables for the instant of a fork, and goes on; the child, a copy-on-write image of
 * that instant, scans and writes at leisure.
 * Consistency: every block live at the fork is in the dump with its contents as they were then.
 * The program's other registered threads are stopped around the fork (stop.c), their registers
 * saved: the child scans those registers and each stack from its stack pointer up (less the
 * 128-byte red zone below it). A thread that did not answer in time, and a thread made without
 * pthread_create, are not: a block whose only pointer sits in such a thread's register looks
 * unreachable, and such a thread's stack is scanned whole, stale words below its stack pointer
 * included.
 * The child is made with a raw clone whose exit raises no SIGCHLD and which wait() without
 * __WALL does not see: the program's own child handling never meets it. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "record/record.h"

#define MAX_MODULES 1024
#define MAX_PENDING 64

uint64_t rec_last_pause_ns;
static rec_lock one_at_a_time;
static rec_module *modules;   /* MAX_MODULES, sysmem */
static rec_thread *threads;   /* REC_MAX_THREADS, sysmem */
static ucontext_t *registers; /* sysmem: outside every stack, so the scan tells it apart */
static char exe_path[512];
static pid_t pending[MAX_PENDING];
static size_t npending;
static rec_lock pending_lock;

static size_t rec_modules_refresh(void);

/* C++'s demangler when the program has one, found at start: dlsym may allocate, and a snapshot
 * may come from a signal handler that interrupted malloc. */
static char *(*demangle)(const char *, char *, size_t *, int *);

void rec_snapshot_init(void)
{
    demangle = (char *(*)(const char *, char *, size_t *, int *))dlsym(RTLD_DEFAULT, "__cxa_demangle");
    modules = rec_map(MAX_MODULES * sizeof *modules);
    threads = rec_map(REC_MAX_THREADS * sizeof *threads);
    registers = rec_map(sizeof *registers);
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = '\0';
    rec_modules_refresh(); /* finds the recorder's own code, which stacks leave out */
}

typedef struct collect {
    size_t n;
    uintptr_t tp;
    uintptr_t self_addr;
} collect;

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    collect *c = arg;
    if (c->n == MAX_MODULES)
        return 1;
    rec_module *m = &modules[c->n];
    *m = (rec_module){.base = info->dlpi_addr};
    const char *name = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : c->n == 0 ? exe_path : "";
    snprintf(m->path, sizeof m->path, "%s", name);
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (ph->p_type == PT_LOAD) {
            lo = start < lo ? start : lo;
            hi = end > hi ? end : hi;
            if ((ph->p_flags & PF_W) && m->nrw < 4) {
                m->rw_lo[m->nrw] = start & ~(uintptr_t)7;
                m->rw_hi[m->nrw++] = end;
            }
        }
        /* A static TLS block lies just below the thread pointer at the same offset in every
         * thread; a dynamic one (dlopen) is a heap block of its own, scanned as such. */
        uintptr_t tls = (uintptr_t)info->dlpi_tls_data;
        if (ph->p_type == PT_TLS && tls && tls < c->tp && c->tp - tls < (1u << 20)) {
            m->tls_offset = tls - c->tp;
            m->tls_size = ph->p_memsz;
        }
    }
    m->self = c->self_addr >= lo && c->self_addr < hi;
    m->libc = strstr(m->path, "/libc.so") != NULL;
    if (m->self)
        rec_stacks_skip_module(lo, hi);
    c->n++;
    return 0;
}

static size_t rec_modules_refresh(void)
{
    collect c = {.tp = (uintptr_t)pthread_self(), .self_addr = (uintptr_t)rec_modules_refresh};
    dl_iterate_phdr(add_module, &c);
    return c.n;
}

static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, __WALL) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void reap_finished(bool block)
{
    rec_lock_take(&pending_lock);
    for (size_t i = 0; i < npending;) {
        int status;
        pid_t r = block ? pending[i] : waitpid(pending[i], &status, __WALL | WNOHANG);
        if (block)
            reap(pending[i]);
        if (r == pending[i] || r < 0)
            pending[i] = pending[--npending];
        else
            i++;
    }
    rec_lock_give(&pending_lock);
}

void rec_snapshot_wait_all(void) { reap_finished(true); }

/* The program's last dump, of a program with one thread (glibc's __libc_single_threaded: no
 * thread was ever made): nothing else runs, so it is written here, as a snapshot child would, and
 * the fork's copy of the page tables and the child's start are saved. As in a snapshot child, the
 * dump's memory is the recorder's own (libc's would be a mapping the scan takes for a root), on a
 * stack of the recorder's own (exit may come on a signal's small alternate stack, or a
 * coroutine's); after it, tracing stays off and what the program's exit allocates is libc's. */
#define IN_PLACE_STACK ((size_t)8 << 20)
static struct {
    rec_world *w;
    const char *path;
    int err;
    ucontext_t back, dump;
} in_place;

static void run_in_place(void) { in_place.err = rec_child_dump(in_place.w, in_place.path); }

static int dump_in_place(rec_world *w, const char *path)
{
    atomic_store(&rec_tracing, false);
    getcontext(registers);
    uint64_t t0 = rec_now_ns();
    char *stack = rec_map(IN_PLACE_STACK);
    if (!stack || mprotect(stack, 4096, PROT_NONE) != 0 || getcontext(&in_place.dump) != 0)
        return -1;
    in_place.w = w, in_place.path = path, in_place.err = -1;
    in_place.dump.uc_stack.ss_sp = stack;
    in_place.dump.uc_stack.ss_size = IN_PLACE_STACK;
    in_place.dump.uc_link = &in_place.back;
    makecontext(&in_place.dump, run_in_place, 0);
    rec_in_snapshot_child = true;
    swapcontext(&in_place.back, &in_place.dump);
    rec_in_snapshot_child = false;
    rec_last_pause_ns = rec_now_ns() - t0;
    if (getenv("HEAPTOOL_VERBOSE"))
        fprintf(stderr, "heaptool: dump %s: written in place at exit in %.3f s\n", path, rec_last_pause_ns / 1e9);
    return in_place.err ? -1 : 0;
}

int rec_snapshot(const char *path, const char *name, bool wait, bool last, uintptr_t stack_from)
{
    if (!modules || !threads || !registers)
        return -1;
    reap_finished(false);
    rec_lock_take(&one_at_a_time);
    rec_world w = {.modules = modules, .threads = threads, .name = name};
    /* What takes the loader's lock comes before the other threads stop: one may hold it. */
    w.nmodules = rec_modules_refresh();
    w.demangle = demangle;
    w.current_thread = rec_thread_registered();
    w.regs = registers;
    w.regs_size = sizeof *registers;
    w.pid = getpid();
    w.tcb_size = rec_tcb_size;
    w.current_sp = stack_from;
    if (!stack_from)
        w.current_thread = 0;
    if (last && __libc_single_threaded) {
        w.nthreads = rec_threads_copy(threads, REC_MAX_THREADS);
        int r = dump_in_place(&w, path);
        rec_lock_give(&one_at_a_time);
        return r;
    }
    uint64_t t0 = rec_now_ns();
    rec_stop_others();
    uint64_t t_stopped = rec_now_ns();
    w.nthreads = rec_threads_copy(threads, REC_MAX_THREADS);
    getcontext(registers);
    rec_stacks_lock_all();
    rec_blocks_lock_all();
    uint64_t t_locked = rec_now_ns();
    long pid = syscall(SYS_clone, 0L /* no flags, no exit signal */, NULL, NULL, NULL, NULL);
    uint64_t t_forked = rec_now_ns();
    if (pid == 0) {
        rec_in_snapshot_child = true;
        atomic_store(&rec_tracing, false);
        _exit(rec_child_dump(&w, path) == 0 ? 0 : 1);
    }
    rec_blocks_unlock_all();
    rec_stacks_unlock_all();
    rec_resume_others();
    rec_last_pause_ns = rec_now_ns() - t0;
    rec_lock_give(&one_at_a_time);
    if (pid < 0) {
        fprintf(stderr, "heaptool: cannot dump to %s: fork: %s\n", path, strerror(errno));
        return -1;
    }
    if (getenv("HEAPTOOL_VERBOSE")) {
        struct rusage self;
        getrusage(RUSAGE_SELF, &self); /* the program's own peak, dump children apart */
        fprintf(stderr, "heaptool: dump %s: program paused %.3f ms (threads stopped in %.3f, tables held in %.3f, "
                "fork %.3f); %zu live blocks; program peak RSS %ld MiB\n", path, rec_last_pause_ns / 1e6,
                (t_stopped - t0) / 1e6, (t_locked - t_stopped) / 1e6, (t_forked - t_locked) / 1e6,
                rec_blocks_count(), self.ru_maxrss / 1024);
    }
    if (wait) {
        int r = reap((pid_t)pid);
        if (getenv("HEAPTOOL_VERBOSE"))
            fprintf(stderr, "heaptool: dump %s: written in %.3f s\n", path, (rec_now_ns() - t0) / 1e9);
        return r;
    }
    rec_lock_take(&pending_lock);
    if (npending < MAX_PENDING)
        pending[npending++] = (pid_t)pid;
    rec_lock_give(&pending_lock);
    return 0;
}
