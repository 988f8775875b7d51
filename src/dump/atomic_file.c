/* atomic_file.c: files written whole or not at all: into a temporary file beside the target,
 * renamed over it once complete, so a reader (or a concurrent writer) never sees a half-written
 * file, and two writers racing leave one complete file, the last renamed. */
#include "dump_internal.h"
#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const hd__pos nowhere = {0, 0, 0};

int hd__atomic_begin(hd__atomic *a, const char *file, hd_error *err)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
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
    if ((a->fd = mkstemp(a->tmp)) < 0) {
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
