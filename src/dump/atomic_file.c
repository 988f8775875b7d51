/* atomic_file.c: files written whole or not at all: into a temporary file beside the target,
 * renamed over it once complete, so a reader (or a concurrent writer) never sees a half-written
 * file, and two writers racing leave one complete file, the last renamed.
 *
 * The temporary files being written are also listed where a signal handler can read them
 * (hd_remove_unfinished_files): a fixed table of names, each slot claimed and released with
 * atomic operations, so neither a lock nor malloc stands between a Ctrl-C and the unlink. Writers
 * that write their temporaries themselves (heaptool export: a SQLite file, or a directory of
 * table files) list them through hd_unfinished_*. */
#include "dump_internal.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const hd__pos nowhere = {0, 0, 0};

enum { SLOT_FREE, SLOT_FILLING, SLOT_FILE, SLOT_DIRECTORY };
#define UNFINISHED_AT_ONCE 16 /* files written at once that an interrupt removes; more go unlisted */
static atomic_int unfinished_state[UNFINISHED_AT_ONCE];
static char unfinished_name[UNFINISHED_AT_ONCE][PATH_MAX];

enum make { MAKE_FILE, MAKE_DIRECTORY, NAME_ONLY };

/* Makes the temporary at tmp (mkstemp, mkdtemp; for a name only, nothing) and lists it. A slot
 * is claimed (FILLING) before the temporary exists and listed once its name is copied, with
 * every signal blocked in this thread meanwhile: a handler running on another thread waits for
 * FILLING to end, so nothing goes unlisted. *slot is -1 when the table is full or the name too
 * long (an interrupt then leaves the temporary behind). Returns the file's descriptor, 0 for
 * the others, -1 (errno) when it could not be made. */
static int make_listed(char *tmp, enum make what, int *slot)
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
    int rc = what == MAKE_FILE ? mkstemp(tmp) : what == MAKE_DIRECTORY && !mkdtemp(tmp) ? -1 : 0;
    int e = errno;
    if (*slot >= 0 && rc >= 0) {
        strcpy(unfinished_name[*slot], tmp);
        atomic_store(&unfinished_state[*slot], what == MAKE_DIRECTORY ? SLOT_DIRECTORY : SLOT_FILE);
    } else if (*slot >= 0) {
        atomic_store(&unfinished_state[*slot], SLOT_FREE);
        *slot = -1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return rc;
}

static void unlist(int slot)
{
    if (slot >= 0)
        atomic_store(&unfinished_state[slot], SLOT_FREE);
}

/* The mode creating it would have given (mkstemp and mkdtemp make temporaries private). */
static int give_usual_mode(const char *path, int fd)
{
    mode_t mask = umask(0);
    umask(mask);
    return fd >= 0 ? fchmod(fd, 0666 & ~mask) : chmod(path, 0777 & ~mask);
}

/* Files first, then the directories they were in, empty by then. */
void hd_remove_unfinished_files(void)
{
    for (int kind = SLOT_FILE; kind <= SLOT_DIRECTORY; kind++) {
        for (int i = 0; i < UNFINISHED_AT_ONCE; i++) {
            int state;
            while ((state = atomic_load(&unfinished_state[i])) == SLOT_FILLING)
                ; /* another thread, its signals blocked, is between making and listing it */
            if (state == kind && kind == SLOT_FILE)
                unlink(unfinished_name[i]);
            else if (state == kind)
                rmdir(unfinished_name[i]);
        }
    }
}

int hd_unfinished_file(char *tmpl, int *handle)
{
    int fd = make_listed(tmpl, MAKE_FILE, handle);
    if (fd >= 0 && give_usual_mode(tmpl, fd) != 0) {
        int e = errno;
        hd_unfinished_remove(tmpl, *handle);
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int hd_unfinished_directory(char *tmpl, int *handle)
{
    if (make_listed(tmpl, MAKE_DIRECTORY, handle) < 0)
        return -1;
    if (give_usual_mode(tmpl, -1) != 0) {
        int e = errno;
        hd_unfinished_remove(tmpl, *handle);
        errno = e;
        return -1;
    }
    return 0;
}

int hd_unfinished_name(const char *path)
{
    int slot;
    make_listed((char *)(uintptr_t)path, NAME_ONLY, &slot); /* the name only: nothing writes it */
    return slot;
}

void hd_unfinished_done(int handle) { unlist(handle); }

void hd_unfinished_remove(const char *path, int handle)
{
    if (unlink(path) != 0 && errno == EISDIR)
        rmdir(path);
    unlist(handle);
}

int hd__atomic_begin(hd__atomic *a, const char *file, hd_error *err)
{
    memset(a, 0, sizeof *a);
    a->fd = a->slot = a->direct_fd = -1;
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
    if ((a->fd = make_listed(a->tmp, MAKE_FILE, &a->slot)) < 0) {
        hd__error_set(err, HD_EIO, file, nowhere, "cannot create a file beside '%s': %s", file, strerror(errno));
        free(a->tmp);
        a->tmp = NULL;
        return HD_EIO;
    }
    a->error = give_usual_mode(a->tmp, a->fd) ? errno : 0;
    return HD_OK;
}

/* Writes len bytes at offset, or appends them when offset is negative; keeps the first failure. */
static void write_all(hd__atomic *a, int64_t offset, const void *data, size_t len)
{
    for (const char *p = data; !a->error && len;) {
        ssize_t w = offset < 0 ? write(a->fd, p, len) : pwrite(a->fd, p, len, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) { /* nothing written and no error: it would never end */
            a->error = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        len -= (size_t)w;
        if (offset >= 0)
            offset += w;
    }
}

void hd__atomic_write(hd__atomic *a, const void *data, size_t len) { write_all(a, -1, data, len); }

/* Direct I/O wants the file offset, the memory address and the length aligned to the device's
 * block; 4096 covers every common device. Data not so aligned goes through a bounce buffer of
 * that alignment (a copy is far cheaper than the page cache's allocation and write-back). Writes
 * smaller than DIRECT_FROM are not worth a synchronous trip to disk. */
enum { DIRECT_BLOCK = 4096, DIRECT_FROM = 1 << 20, BOUNCE = 4 << 20 };

void hd__atomic_direct(hd__atomic *a)
{
    if (a->direct_fd >= 0 || !a->tmp || posix_memalign(&a->bounce, DIRECT_BLOCK, BOUNCE) != 0)
        return;
    /* The same open file, not the name: the name may be another file by now, and the mode
     * mkstemp gave may have been narrowed since. */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", a->fd);
    if ((a->direct_fd = open(self, O_WRONLY | O_DIRECT | O_CLOEXEC)) < 0) {
        free(a->bounce);
        a->bounce = NULL;
    }
}

static void direct_end(hd__atomic *a)
{
    if (a->direct_fd >= 0)
        close(a->direct_fd);
    a->direct_fd = -1;
    free(a->bounce);
    a->bounce = NULL;
}

/* Writes len bytes (a multiple of DIRECT_BLOCK) at offset (aligned) past the page cache; false
 * when the file system refuses direct I/O after all: the caller then writes them buffered. */
static bool write_direct(hd__atomic *a, uint64_t offset, const char *p, size_t len)
{
    bool aligned = (uintptr_t)p % DIRECT_BLOCK == 0;
    while (!a->error && len) {
        size_t n = aligned || len < BOUNCE ? len : BOUNCE;
        if (!aligned)
            memcpy(a->bounce, p, n);
        ssize_t w = pwrite(a->direct_fd, aligned ? p : a->bounce, n, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EINVAL) {
            direct_end(a);
            return false;
        }
        if (w <= 0) {
            a->error = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        len -= (size_t)w;
        offset += (uint64_t)w;
        if ((size_t)w % DIRECT_BLOCK) { /* short, off a block: the rest buffered */
            write_all(a, (int64_t)offset, p, len);
            break;
        }
    }
    return true;
}

void hd__atomic_write_at(hd__atomic *a, uint64_t offset, const void *data, size_t len)
{
    const char *p = data;
    size_t head = (size_t)(-offset % DIRECT_BLOCK);
    if (a->direct_fd < 0 || len < DIRECT_FROM) {
        write_all(a, (int64_t)offset, data, len);
        return;
    }
    size_t middle = (len - head) / DIRECT_BLOCK * DIRECT_BLOCK;
    write_all(a, (int64_t)offset, p, head);
    if (!write_direct(a, offset + head, p + head, middle))
        write_all(a, (int64_t)(offset + head), p + head, middle);
    write_all(a, (int64_t)(offset + head + middle), p + head + middle, len - head - middle);
}

void hd__atomic_resize(hd__atomic *a, uint64_t size)
{
    if (!a->error && ftruncate(a->fd, (off_t)size) != 0)
        a->error = errno;
}

int hd__atomic_commit(hd__atomic *a, bool durable, hd_error *err)
{
    int e = a->error;
    direct_end(a);
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
    direct_end(a);
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
