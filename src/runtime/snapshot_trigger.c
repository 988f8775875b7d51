/* snapshot_trigger.c: snapshots a program asks for ahead of time: at exit (heap destruction or
 * process exit) and on a signal. The signal handler only bumps an epoch counter; the dump is
 * taken at the heap's next safe point, a place where the collector could run as well, because
 * walking a heap from inside a handler could find it half-updated. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "runtime/snapshot.h"

volatile sig_atomic_t hm__snapshot_epoch;

/* What one trigger writes. */
typedef struct request {
    char *path; /* a template: %p, %n, %% */
    char *name; /* the options' name, copied */
    hm_snapshot_options opts;
    unsigned seq; /* the last %n used */
} request;

struct hm__snapshot_triggers {
    hm_heap *heap;
    request at_exit;
    request on_signal;
    int signo;
    struct hm__snapshot_triggers *next; /* armed heaps, for the process's exit */
};

static struct hm__snapshot_triggers *armed;
static bool exit_hook_installed;

static void request_clear(request *r)
{
    free(r->path);
    free(r->name);
    *r = (request){0};
}

static int request_set(hm_heap *h, request *r, const char *path, const hm_snapshot_options *opts)
{
    char *p = hm__sys_strdup(h, path), *n = opts && opts->name ? hm__sys_strdup(h, opts->name) : NULL;
    if (!p || (opts && opts->name && !n)) {
        free(p);
        free(n);
        return HM_ENOMEM;
    }
    request_clear(r);
    r->path = p;
    r->name = n;
    r->opts = (hm_snapshot_options){.name = n, .no_labels = opts && opts->no_labels};
    return HM_OK;
}

/* The path with %p and %n filled in; NULL when out of memory. */
static char *expand(hm_heap *h, const char *tmpl, unsigned seq)
{
    size_t cap = strlen(tmpl) + 64, len = 0;
    char *s = hm__sys_malloc(h, cap);
    if (!s)
        return NULL;
    for (const char *p = tmpl; *p; p++) {
        if (cap - len < 24) {
            char *t = hm__sys_realloc(h, s, cap *= 2);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
        }
        if (p[0] == '%' && p[1] == 'p') {
            len += (size_t)snprintf(s + len, cap - len, "%ld", (long)getpid());
            p++;
        } else if (p[0] == '%' && p[1] == 'n') {
            len += (size_t)snprintf(s + len, cap - len, "%u", seq);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            s[len++] = '%';
            p++;
        } else {
            s[len++] = *p;
        }
    }
    s[len] = '\0';
    return s;
}

static int take(hm_heap *h, request *r)
{
    char *path = expand(h, r->path, ++r->seq);
    if (!path)
        return HM_ENOMEM;
    int status = hm_snapshot_write(h, path, &r->opts);
    free(path);
    return status;
}

static struct hm__snapshot_triggers *triggers_of(hm_heap *h)
{
    if (!h->triggers) {
        struct hm__snapshot_triggers *t = hm__sys_calloc(h, 1, sizeof *t);
        if (!t)
            return NULL;
        t->heap = h;
        t->next = armed;
        armed = t;
        h->triggers = t;
    }
    return h->triggers;
}

/* Takes the at-exit dumps of the heaps still alive when the process exits. */
static void at_process_exit(void)
{
    for (struct hm__snapshot_triggers *t = armed; t; t = t->next)
        if (t->at_exit.path)
            take(t->heap, &t->at_exit);
}

int hm_snapshot_at_exit(hm_heap *h, const char *path, const hm_snapshot_options *opts)
{
    if (!h)
        return HM_EINVAL;
    if (!path) {
        if (h->triggers)
            request_clear(&h->triggers->at_exit);
        return HM_OK;
    }
    struct hm__snapshot_triggers *t = triggers_of(h);
    if (!t)
        return HM_ENOMEM;
    if (!exit_hook_installed) {
        if (atexit(at_process_exit) != 0)
            return HM_ENOMEM;
        exit_hook_installed = true;
    }
    return request_set(h, &t->at_exit, path, opts);
}

static void on_signal(int signo)
{
    (void)signo;
    hm__snapshot_epoch++;
}

int hm_snapshot_on_signal(hm_heap *h, int signo, const char *path, const hm_snapshot_options *opts)
{
    if (!h || signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
        return HM_EINVAL;
    if (!path) {
        if (h->triggers)
            request_clear(&h->triggers->on_signal);
        return HM_OK;
    }
    struct hm__snapshot_triggers *t = triggers_of(h);
    if (!t)
        return HM_ENOMEM;
    int r = request_set(h, &t->on_signal, path, opts);
    if (r != HM_OK)
        return r;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, NULL) != 0) {
        request_clear(&t->on_signal);
        return HM_EINVAL;
    }
    t->signo = signo;
    h->snapshot_epoch = hm__snapshot_epoch; /* only signals from now on count */
    return HM_OK;
}

/* Signals delivered since the heap last looked: one dump stands for all of them. */
int hm_snapshot_poll(hm_heap *h)
{
    if (!h)
        return HM_EINVAL;
    sig_atomic_t now = hm__snapshot_epoch;
    if (now == h->snapshot_epoch)
        return 0;
    if (h->collecting || h->deallocating || h->destroying)
        return 0; /* not a safe point: the next one takes it */
    h->snapshot_epoch = now;
    if (!h->triggers || !h->triggers->on_signal.path)
        return 0;
    int r = take(h, &h->triggers->on_signal);
    return r == HM_OK ? 1 : r;
}

void hm__snapshot_safe_point(hm_heap *h) { (void)hm_snapshot_poll(h); }

void hm__snapshot_heap_fini(hm_heap *h)
{
    struct hm__snapshot_triggers *t = h->triggers;
    if (!t)
        return;
    if (t->at_exit.path)
        take(h, &t->at_exit);
    for (struct hm__snapshot_triggers **p = &armed; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    request_clear(&t->at_exit);
    request_clear(&t->on_signal);
    free(t);
    h->triggers = NULL;
}

static int signal_number(const char *s)
{
    static const struct {
        const char *name;
        int signo;
    } names[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"HUP", SIGHUP},   {"INT", SIGINT},
                 {"TERM", SIGTERM}, {"QUIT", SIGQUIT}, {"ALRM", SIGALRM}, {"WINCH", SIGWINCH}};
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (end != s && *end == '\0' && errno == 0)
        return n > 0 && n < NSIG ? (int)n : -1;
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].signo;
    return -1;
}

int hm_snapshot_from_env(hm_heap *h)
{
    if (!h)
        return HM_EINVAL;
    const char *exit_path = getenv("HM_SNAPSHOT");
    const char *sig = getenv("HM_SNAPSHOT_SIGNAL");
    const char *sig_path = getenv("HM_SNAPSHOT_SIGNAL_PATH");
    if (exit_path && *exit_path) {
        int r = hm_snapshot_at_exit(h, exit_path, NULL);
        if (r != HM_OK)
            return r;
    }
    if (sig && *sig) {
        int signo = signal_number(sig);
        if (signo < 0)
            return HM_EINVAL;
        return hm_snapshot_on_signal(h, signo, sig_path && *sig_path ? sig_path : "heap-%p-%n.json",
                                     NULL);
    }
    return HM_OK;
}
