/* triggers.c: when the recorder starts and when it dumps. At exit (atexit: the end of main, and
 * exit() from any thread), on a signal, every N seconds, and when the program calls
 * heaptool_record_dump(). The signal handler only writes a byte to a pipe: a thread of the
 * recorder's own (started only when a signal or an interval is asked for) takes the dump, so
 * nothing unsafe runs in a handler. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAPTOOL_RECORD_IMPLEMENTATION
#include "heaptool_record.h"
#include "record/record.h"

atomic_bool rec_dropped;
static atomic_uint dump_number; /* the last number used by a numbered dump */
static int wake_pipe[2] = {-1, -1};

void rec_out_of_memory(void)
{
    atomic_store(&rec_tracing, false);
    if (!atomic_exchange(&rec_dropped, true)) {
        static const char msg[] = "heaptool: the recorder ran out of memory: tracing stops here; "
                                  "the dump will say so\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
    }
}

static void dump_numbered(void)
{
    char path[4096];
    if (rec_expand_path(path, sizeof path, atomic_fetch_add(&dump_number, 1) + 1, true))
        rec_snapshot(path, NULL, false, false, 0);
}

/* Where the program's own frames begin at exit: the stack pointer in the caller of exit() (for
 * a return from main, __libc_start_call_main). exit()'s machinery and the recorder's frames
 * below it reuse the memory of the frames the program has left, and only stale words remain
 * there: memcheck, which checks after the last frame is gone, never sees them. Falls back to
 * this function's own frame. */
static uintptr_t program_stack_at_exit(void)
{
    unw_context_t ctx;
    unw_cursor_t cursor;
    bool in_exit = false;
    if (unw_getcontext(&ctx) == 0 && unw_init_local(&cursor, &ctx) == 0) {
        for (int depth = 0; depth < 64 && unw_step(&cursor) > 0; depth++) {
            unw_word_t ip, sp;
            Dl_info info;
            unw_get_reg(&cursor, UNW_REG_IP, &ip);
            unw_get_reg(&cursor, UNW_REG_SP, &sp);
            if (in_exit)
                return (uintptr_t)sp;
            in_exit = dladdr((void *)(ip - 1), &info) && info.dli_sname && !strcmp(info.dli_sname, "exit");
        }
    }
    return (uintptr_t)__builtin_frame_address(0);
}

static void at_exit(void)
{
    if (!atomic_load(&rec_tracing) && !atomic_load(&rec_dropped))
        return;
    rec_me.busy++;
    char path[4096];
    if (rec_expand_path(path, sizeof path, atomic_load(&dump_number) + 1, false))
        rec_snapshot(path, "exit", true, true, program_stack_at_exit());
    rec_snapshot_wait_all();
    atomic_store(&rec_tracing, false); /* what libc frees after this is not the program's */
    rec_leave();
}

static void on_signal(int signo)
{
    (void)signo;
    int saved = errno;
    char b = 's';
    ssize_t ignored = write(wake_pipe[1], &b, 1); /* a full pipe already has a dump coming */
    (void)ignored;
    errno = saved;
}

/* The recorder's thread: dumps on a signal's byte and at each interval, reaps finished dumps. */
static void *trigger_thread(void *unused)
{
    (void)unused;
    rec_me.busy++; /* nothing this thread allocates is the program's */
    int timeout = rec_config.interval ? (int)rec_config.interval * 1000 : -1;
    for (;;) {
        struct pollfd p = {.fd = wake_pipe[0], .events = POLLIN};
        int r = poll(&p, 1, timeout);
        if (r < 0 && errno != EINTR)
            break;
        char drain[64];
        if (r > 0 && read(wake_pipe[0], drain, sizeof drain) <= 0)
            break;
        if (atomic_load(&rec_tracing) || atomic_load(&rec_dropped))
            dump_numbered();
    }
    return NULL;
}

static void start_trigger_thread(void)
{
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) =
        dlsym(RTLD_NEXT, "pthread_create"); /* not ours: this thread is not the program's */
    if (!create || pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits it: it takes no signals */
    pthread_t t;
    if (create(&t, NULL, trigger_thread, NULL) == 0)
        pthread_detach(t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rec_config.signo) {
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        sigaction(rec_config.signo, &sa, NULL);
    }
}

/* The forking thread holds every recorder lock from prepare to the parent's (or child's)
 * handler: a snapshot's stop request meanwhile must wait (rec_me.busy) until they are released, or
 * the thread would park holding them and the snapshot wait on them for ever. */
static void fork_prepare(void)
{
    rec_me.busy++;
    rec_stacks_lock_all();
    rec_blocks_lock_all();
}

static void unlock_all(void)
{
    rec_blocks_unlock_all();
    rec_stacks_unlock_all();
}

static void fork_parent(void)
{
    unlock_all();
    rec_leave();
}

static void fork_child(void)
{
    unlock_all();
    rec_threads_after_fork_child();
    rec_me.stop_pending = 0; /* the parent's snapshot asked, not one of the child's */
    rec_me.busy--;
}

/* From the constructor, on the main thread, with rec_me.busy held. */
void rec_start(void)
{
    rec_settings_read();
    if (!rec_blocks_init() || !rec_stacks_init()) {
        rec_out_of_memory();
        return;
    }
    rec_snapshot_init();
    rec_threads_init();
    rec_stop_init();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    atexit(at_exit);
    rec_check_output();
    if (rec_config.signo || rec_config.interval)
        start_trigger_thread();
    rec_tail = !rec_libc_heap() ? 0 : rec_config.depth ? REC_TAIL_LONG : REC_TAIL_SHORT;
    atomic_store(&rec_tracing, true);
}

REC_EXPORT int heaptool_record_dump(const char *path)
{
    if (!rec_real_malloc || !path || !*path)
        return -1;
    rec_me.busy++;
    int r = rec_snapshot(path, NULL, true, false, (uintptr_t)__builtin_frame_address(0));
    rec_leave();
    return r;
}
