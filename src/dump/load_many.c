/* load_many.c: several dumps loaded at once, one thread each, so that a diff's two dumps load on
 * two cores in about the time of one. The caller's progress callback hears the sum over all of
 * them, from one thread at a time. */
#include "heapdump.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct shared_progress {
    pthread_mutex_t lock;
    hd_progress_fn fn;
    void *user;
    uint64_t *done, *total; /* per dump, as last reported */
    size_t n;
} shared_progress;

typedef struct one_load {
    const char *path;
    hd_load_options opts;
    shared_progress *progress;
    size_t index;
    hd_dump *out;
    hd_error err;
    int rc;
} one_load;

static void report(uint64_t done, uint64_t total, void *user)
{
    one_load *l = user;
    shared_progress *p = l->progress;
    pthread_mutex_lock(&p->lock);
    p->done[l->index] = done;
    p->total[l->index] = total;
    uint64_t all_done = 0, all_total = 0;
    for (size_t i = 0; i < p->n; i++) {
        all_done += p->done[i];
        all_total += p->total[i];
    }
    p->fn(all_done, all_total, p->user);
    pthread_mutex_unlock(&p->lock);
}

static void *load_one(void *arg)
{
    one_load *l = arg;
    l->rc = hd_load(l->path, &l->opts, &l->out, &l->err);
    return NULL;
}

int hd_load_many(const char *const *paths, size_t n, const hd_load_options *opts, hd_dump **out,
                 hd_error *err)
{
    if (!paths || !out)
        return HD_EINVAL;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    /* Problems are reported as they are found: one dump after the other keeps them in order. */
    bool parallel = n > 1 && !(opts && opts->on_problem);
    one_load *loads = calloc(n ? n : 1, sizeof *loads);
    pthread_t *threads = calloc(n ? n : 1, sizeof *threads);
    bool *started = calloc(n ? n : 1, sizeof *started);
    shared_progress p = {.fn = opts ? opts->on_progress : NULL, .user = opts ? opts->user : NULL, .n = n};
    p.done = calloc(n ? n : 1, sizeof *p.done);
    p.total = calloc(n ? n : 1, sizeof *p.total);
    int rc = HD_ENOMEM;
    if (!loads || !threads || !started || !p.done || !p.total)
        goto done;
    pthread_mutex_init(&p.lock, NULL);
    for (size_t i = 0; i < n; i++) {
        one_load *l = &loads[i];
        l->path = paths[i];
        l->opts = opts ? *opts : (hd_load_options){0};
        if (parallel && l->opts.threads == 0)
            l->opts.threads = 1; /* the loads themselves keep the cores busy */
        if (parallel && p.fn) {
            l->opts.on_progress = report;
            l->opts.user = l;
        }
        l->progress = &p;
        l->index = i;
        /* the last load runs on this thread; a thread that cannot start loads here too */
        started[i] = parallel && i + 1 < n && pthread_create(&threads[i], NULL, load_one, l) == 0;
        if (!started[i])
            load_one(l);
    }
    rc = HD_OK;
    for (size_t i = 0; i < n; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        out[i] = loads[i].out;
        if (err)
            err[i] = loads[i].err;
        if (rc == HD_OK)
            rc = loads[i].rc;
    }
    pthread_mutex_destroy(&p.lock);
done:
    free(loads);
    free(threads);
    free(started);
    free(p.done);
    free(p.total);
    return rc;
}
