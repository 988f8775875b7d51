/* atomic_file.c: files written whole or not at all: into a temporary file beside the target,
 * renamed over it once complete, so a reader (or a concurrent writer) never sees a half-written
 * file, and two writers racing leave one complete file, the last renamed.
 *
 * The temporary files being written are also listed where a signal handler can read them
 * (hd_remove_unfinished_files): a fixed table of names, each slot claimed and released with
 * atomic operations, so neither a lock nor malloc stands between a Ctrl-C and the unlink. */
#include "dump_internal.h"
#include "error.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const hd__pos nowhere = {0, 0, 0};

enum { SLOT_FREE, SLOT_FILLING, SLOT_LISTED };
#define UNFINISHED_AT_ONCE 16 /* files written at once that an interrupt removes; more go unlisted */
static atomic_int unfinished_state[UNFINISHED_AT_ONCE];
static char unfinished_name[UNFINISHED_AT_ONCE][PATH_MAX];

/* mkstemp on tmp, listing the file it makes. A slot is claimed (FILLING) before the file exists
 * and listed once its name is copied, with every signal blocked in this thread meanwhile: a
 * handler running on another thread waits for FILLING to end, so no file goes unlisted. *slot
 * is -1 when the table is full or the name too long (an interrupt then leaves the file behind). */
static int make_listed(char *tmp, int *slot)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    *slot = -1;
    for (int i = 0; i < UNFINISHED_AT_ONCE && *slot < 0 && strlen(tmp) < PATH_MAX; i++) {
        int expected = SLOT_FREE;
        if (atomic_compare_exchange_strong(&unfinished_state[i], &expected, SLOT_FILLING))
            *slot = i;
    }
    int fd = mkstemp(tmp), e = errno;
    if (*slot >= 0 && fd >= 0) {
        strcpy(unfinished_name[*slot], tmp);
        atomic_store(&unfinished_state[*slot], SLOT_LISTED);
    } else if (*slot >= 0) {
        atomic_store(&unfinished_state[*slot], SLOT_FREE);
        *slot = -1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return fd;
}

static void unlist(int slot)
{
    if (slot >= 0)
        atomic_store(&unfinished_state[slot], SLOT_FREE);
}

void hd_remove_unfinished_files(void)
{
    for (int i = 0; i < UNFINISHED_AT_ONCE; i++) {
        int state;
        while ((state = atomic_load(&unfinished_state[i])) == SLOT_FILLING)
            ; /* another thread, its signals blocked, is between mkstemp and listing the name */
        if (state == SLOT_LISTED)
            unlink(unfinished_name[i]);
    }
}

int hd__atomic_begin(hd__atomic *a, const char *file, hd_error *err)
{
    memset(a, 0, sizeof *a);
    a->fd = a->slot = -1;
    if (!file || !file[0]) {
        hd__error_set(err, HD_EINVAL, file, nowhere, "no file name");
        return HD_EINVAL;
    }
    a->file = file;
    const char *slash = strrchr(file, '/');
    const char *base = slash ? slash + 1 : file;
    size_t dirlen = slash ? (size_t)(slash - file) + 1 : 0;
    if (!(a->tmp = malloc(dirlen + strlen(base) + 16)))
        return hd__error_oom(err, file);
    /* Beside the target, so rename() stays within one file system; mkstemp makes the name unique. */
    sprintf(a->tmp, "%.*s.%s.XXXXXX", (int)dirlen, file, base);
    if ((a->fd = make_listed(a->tmp, &a->slot)) < 0) {
        hd__error_set(err, HD_EIO, file, nowhere, "cannot create a file beside '%s': %s", file, strerror(errno));
        free(a->tmp);
        a->tmp = NULL;
        return HD_EIO;
    }
    mode_t mask = umask(0); /* mkstemp makes 0600; give the file the usual mode */
    umask(mask);
    a->error = fchmod(a->fd, 0666 & ~mask) ? errno : 0;
    return HD_OK;
}

void hd__atomic_write(hd__atomic *a, const void *data, size_t len)
{
    for (const char *p = data; !a->error && len;) {
        ssize_t w = write(a->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            a->error = errno;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
}

int hd__atomic_commit(hd__atomic *a, bool durable, hd_error *err)
{
    int e = a->error;
    if (!e && durable && fsync(a->fd) != 0)
        e = errno;
    if (close(a->fd) != 0 && !e)
        e = errno;
    if (!e && rename(a->tmp, a->file) != 0)
        e = errno;
    if (e)
        unlink(a->tmp);
    unlist(a->slot);
    free(a->tmp);
    a->tmp = NULL;
    if (e) {
        hd__error_set(err, HD_EIO, a->file, nowhere, "cannot write '%s': %s", a->file, strerror(e));
        return HD_EIO;
    }
    return HD_OK;
}

void hd__atomic_abort(hd__atomic *a)
{
    if (!a->tmp)
        return;
    close(a->fd);
    unlink(a->tmp);
    unlist(a->slot);
    free(a->tmp);
    a->tmp = NULL;
}

int hd_write_file_atomic(const char *file, const void *data, size_t len, hd_error *err)
{
    if (!data && len) {
        hd__error_set(err, HD_EINVAL, file, nowhere, "no data");
        return HD_EINVAL;
    }
    hd__atomic a;
    int rc = hd__atomic_begin(&a, file, err);
    if (rc)
        return rc;
    hd__atomic_write(&a, data, len);
    return hd__atomic_commit(&a, true, err);
}
