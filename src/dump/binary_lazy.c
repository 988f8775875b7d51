/* binary_lazy.c: an index's sections verified on first touch. The dump's arrays point into a
 * second mapping of the file whose lazy sections are unreadable (PROT_NONE) until verified: the
 * first read of one faults, the SIGSEGV handler verifies that section (or its chunk, when the
 * file has chunk checksums) through the readable mapping (checksum and values), makes its pages
 * readable and returns, and the read goes on.
 *
 * Invariant: no byte of a lazy section is readable through the view before it has passed its
 * checks, whichever code reads it, so nothing acts on unverified bytes. A section that fails
 * cannot be reported to the code that read it: the damage handler gets the error and ends the
 * process. Verification is serialized by one lock, so a second thread faulting on the same
 * section waits and then finds it readable. */
#include "binary.h"
#include "error.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_WATCHED = 64 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static hd__index *watched[MAX_WATCHED];
static struct sigaction previous;
static bool installed;
static hd_index_damage_fn damage_handler;

void hd_set_index_damage_handler(hd_index_damage_fn fn) { damage_handler = fn; }

static _Noreturn void damaged(const hd_error *err)
{
    if (damage_handler)
        damage_handler(err);
    char line[600];
    int n = snprintf(line, sizeof line, "%s: %s\n", err->file, err->message);
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
        n = 0;
    abort();
}

/* A fault elsewhere is not ours: the previous handler gets it, or the default action (the
 * faulting read happens again once this returns). */
static void pass_on(int sig, siginfo_t *info, void *context)
{
    if (previous.sa_flags & SA_SIGINFO && previous.sa_sigaction) {
        previous.sa_sigaction(sig, info, context);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler) {
        previous.sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
}

/* A fault on an address that is readable already is a race (another thread verified its
 * section meanwhile: the read succeeds when tried again) or not a read at all (a write into
 * the read-only view): the same thread faulting again on the same address is the second, and
 * goes to the previous handler instead of being tried forever. */
static _Thread_local uintptr_t retried;
static _Thread_local unsigned long retried_after; /* the count of verifications then */
static unsigned long verifications;                /* faults that verified a chunk, under lock */

static void on_fault(int sig, siginfo_t *info, void *context)
{
    uintptr_t addr = (uintptr_t)info->si_addr;
    hd_error err;
    enum hd__addr_found found = HD_ADDR_ELSEWHERE;
    int rc = HD_OK;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_WATCHED && found == HD_ADDR_ELSEWHERE; i++)
        if (watched[i])
            rc = hd__index_verify_addr(watched[i], addr, &found, &err);
    verifications += found == HD_ADDR_VERIFIED;
    unsigned long now = verifications;
    pthread_mutex_unlock(&lock);
    if (rc)
        damaged(&err);
    /* Again on the same readable address with no verification in between: not a race. */
    bool again = found == HD_ADDR_READABLE && retried == addr && retried_after == now;
    if (found == HD_ADDR_ELSEWHERE || again) {
        retried = 0;
        pass_on(sig, info, context);
        return;
    }
    retried = found == HD_ADDR_READABLE ? addr : 0;
    retried_after = now;
}

int hd__lazy_watch(hd__index *ix, hd_error *err)
{
    pthread_mutex_lock(&lock);
    int slot = -1;
    /* Only a program that said what to do with late damage gets lazy sections: without a damage
     * handler every error is returned by hd_load, as a library caller expects. */
    for (int i = 0; i < MAX_WATCHED && slot < 0 && damage_handler; i++)
        if (!watched[i])
            slot = i;
    if (slot >= 0 && !installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        installed = sigaction(SIGSEGV, &sa, &previous) == 0;
    }
    if (slot >= 0 && installed)
        watched[slot] = ix;
    pthread_mutex_unlock(&lock);
    if (slot >= 0 && installed)
        return HD_OK;
    /* No damage handler, or no room to watch it: it is verified whole now instead. */
    for (uint32_t id = 1; id < HDX_NSECTIONS; id++) {
        int rc = hd__index_verify_section(ix, id, err);
        if (rc)
            return rc;
    }
    return HD_OK;
}

void hd__lazy_forget(hd__index *ix)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_WATCHED; i++)
        if (watched[i] == ix)
            watched[i] = NULL;
    pthread_mutex_unlock(&lock);
}

void hd__index_need(const hd__index *ix, uint32_t id)
{
    hd_error err;
    pthread_mutex_lock(&lock);
    int rc = hd__index_verify_section((hd__index *)(uintptr_t)ix, id, &err);
    pthread_mutex_unlock(&lock);
    if (rc)
        damaged(&err);
}

int hd_index_verify(const hd_dump *d, hd_error *err)
{
    hd__index *ix = (hd__index *)(uintptr_t)hd__dump_index(d);
    int rc = HD_OK;
    pthread_mutex_lock(&lock);
    for (uint32_t id = 1; ix && id < HDX_NSECTIONS && !rc; id++)
        rc = hd__index_verify_section(ix, id, err);
    pthread_mutex_unlock(&lock);
    return rc;
}
