/* stop.c: the program's other threads, held still for the instant of a snapshot, so that the
 * dump sees their registers (a forked child has only the forking thread's) and where their stacks
 * end. Each registered thread gets a reserved real-time signal (REC_STOP_SIGNAL); its handler
 * saves the interrupted registers in the thread's slot, says so, and waits until the snapshot's
 * fork is done. Invariants:
 * - a thread never waits while it holds a lock of the recorder: a thread inside the recorder
 *   (rec_me.busy) only notes the request, and waits when it leaves the recorder (rec_leave);
 * - the thread that stops the others takes no lock a stopped thread may hold (the loader's, libc's
 *   heap locks) until it lets them go: modules are listed before the others are stopped;
 * - a thread that does not answer in time (the signal blocked) is not waited for, and when the
 *   program took the signal over none is sent: the registers are then missing from the dump and
 *   the whole stack is scanned;
 * - a signal that arrives after the snapshot gave up waiting never parks its thread (the request
 *   is checked against the generation read first), and an answer counts only for the snapshot it
 *   answers: the count carries that snapshot's generation (a thread delayed in the handler across
 *   a whole snapshot does not answer for the next one; that one's signal, pending meanwhile,
 *   parks it again).
 * The handler is SA_RESTART, but what the kernel never restarts (epoll_wait, nanosleep, poll)
 * returns EINTR to the stopped thread, as it would for any signal the program handles. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "record/record.h"

/* How long the threads have to answer: ANSWER_WAIT_NS, the usual case; after that, only while
 * one that has not answered could still do so (it does not block the signal: on a loaded machine
 * it may simply not have run yet), up to ANSWER_PATIENCE_NS. One that blocks it never answers. */
#define ANSWER_WAIT_NS 50000000ull
#define ANSWER_PATIENCE_NS 2000000000ull
#define ANSWER_CHECK_NS 10000000ull

static atomic_uint generation; /* bumped when the stopped threads may go on */
static atomic_bool stopping;
static _Atomic uint64_t answered; /* the generation stopped (high half), and how many answered */
static bool installed;

static void futex(atomic_uint *word, int op, unsigned value)
{
    syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

/* Saves the registers in the thread's slot and waits for the snapshot's fork to be done. */
static void park(const ucontext_t *uc)
{
    unsigned g = atomic_load(&generation);
    if (!atomic_load(&stopping))
        return; /* late: that snapshot has been taken */
    rec_thread *slot = rec_thread_slot();
    if (slot) {
        memcpy(slot->regs, uc->uc_mcontext.gregs, sizeof slot->regs);
        slot->has_regs = true;
    }
    uint64_t seen = atomic_load(&answered);
    do {
        if (seen >> 32 != g) { /* that snapshot is over */
            if (slot)
                slot->has_regs = false;
            return;
        }
    } while (!atomic_compare_exchange_weak(&answered, &seen, seen + 1));
    while (atomic_load(&generation) == g)
        futex(&generation, FUTEX_WAIT_PRIVATE, g);
}

static void on_stop(int signo, siginfo_t *info, void *context)
{
    (void)signo;
    if (info->si_code != SI_TKILL || info->si_pid != getpid())
        return; /* not the recorder's request */
    int saved = errno;
    if (rec_me.busy)
        rec_me.stop_pending = 1; /* rec_leave asks again once this thread holds nothing */
    else
        park(context);
    errno = saved;
}

void rec_stop_deferred(void)
{
    rec_me.stop_pending = 0;
    syscall(SYS_tgkill, getpid(), gettid(), REC_STOP_SIGNAL);
}

void rec_stop_init(void)
{
    struct sigaction sa = {.sa_sigaction = on_stop, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigfillset(&sa.sa_mask); /* no handler of the program runs on a parked thread */
    installed = sigaction(REC_STOP_SIGNAL, &sa, NULL) == 0;
}

/* Thread tid exists, is not stopped (by a debugger, SIGSTOP) and does not block the stop signal:
 * it will answer once it runs. A thread parked in the handler blocks every signal, so only those
 * that have not answered count. Read from /proc with plain system calls and no formatting of
 * libc's (no allocation: a stopped thread may hold malloc's lock). */
static bool may_answer(int tid)
{
    char path[48] = "/proc/self/task/", digits[12], text[2048];
    size_t at = strlen(path), nd = 0;
    for (unsigned v = (unsigned)tid; nd == 0 || v; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    while (nd)
        path[at++] = digits[--nd];
    memcpy(path + at, "/status", sizeof "/status");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    const char *state = strstr(text, "\nState:\t"), *blocked = strstr(text, "\nSigBlk:\t");
    if (!state || !blocked || strchr("TtZX", state[8]))
        return false;
    unsigned long long mask = 0;
    for (const char *h = blocked + 9; *h && *h != '\n'; h++)
        mask = mask << 4 | (unsigned)(*h <= '9' ? *h - '0' : (*h | 0x20) - 'a' + 10);
    return !(mask >> (REC_STOP_SIGNAL - 1) & 1);
}

static bool any_may_answer(const int *tids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (may_answer(tids[i]))
            return true;
    return false;
}

void rec_stop_others(void)
{
    static int tids[REC_MAX_THREADS];
    struct sigaction now;
    if (!installed || sigaction(REC_STOP_SIGNAL, NULL, &now) != 0 || now.sa_sigaction != on_stop)
        return; /* the program took the signal over: it is not sent */
    size_t n = rec_threads_prepare_stop(tids, REC_MAX_THREADS);
    if (!n)
        return;
    atomic_store(&answered, (uint64_t)atomic_load(&generation) << 32);
    atomic_store(&stopping, true);
    unsigned sent = 0;
    for (size_t i = 0; i < n; i++)
        sent += syscall(SYS_tgkill, getpid(), tids[i], REC_STOP_SIGNAL) == 0;
    uint64_t start = rec_now_ns(), next_check = start + ANSWER_WAIT_NS;
    while ((uint32_t)atomic_load(&answered) < sent) {
        uint64_t t = rec_now_ns();
        if (t >= next_check) {
            if (t - start >= ANSWER_PATIENCE_NS || !any_may_answer(tids, n))
                break;
            next_check = t + ANSWER_CHECK_NS;
        }
        sched_yield();
    }
}

void rec_resume_others(void)
{
    if (!atomic_exchange(&stopping, false))
        return;
    atomic_fetch_add(&generation, 1);
    futex(&generation, FUTEX_WAKE_PRIVATE, (unsigned)INT32_MAX);
}
