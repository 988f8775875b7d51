/* binary_load.c: where a binary index enters hd_load: a regular file is mapped, a stream or a
 * buffer copied into aligned memory; and the index's relation to its source (stamp, peek). */
#include "binary.h"
#include "budget.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const hd__pos nowhere = {0, 0, 0};

bool hd__binary_magic(const void *data, size_t n)
{
    return n >= HDX_MAGIC_LEN && memcmp(data, HDX_MAGIC, HDX_MAGIC_LEN) == 0;
}

int hd__binary_map(int fd, uint64_t size, const char *name, hd_dump **out, hd_error *err)
{
    if (size == 0 || size > SIZE_MAX)
        return hd__binary_open(NULL, NULL, 0, false, name, out, err);
    /* Read-only: the pages stay the page cache's, shared, never copied (a writable private
     * mapping would copy each one as it is populated), and are read only as they are used. Two
     * mappings: one the checks read, one the dump reads, where a section becomes readable once
     * it has passed them (binary_lazy.c). */
    void *base = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    void *view = base == MAP_FAILED ? MAP_FAILED : mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (view == MAP_FAILED) {
        int e = errno;
        if (base != MAP_FAILED)
            munmap(base, (size_t)size);
        if (e == ENOMEM)
            return hd__error_oom(err, name);
        hd__error_set(err, HD_EIO, name, nowhere, "cannot map '%s': %s", name, strerror(e));
        return HD_EIO;
    }
    hd__budget_track(base, (size_t)size); /* out of core: pages dropped past the budget (budget.h) */
    hd__budget_track(view, (size_t)size);
    return hd__binary_open(base, view, (size_t)size, true, name, out, err);
}

int hd__binary_buffer(const void *data, size_t size, const char *name, hd_dump **out, hd_error *err)
{
    void *copy = malloc(size ? size : 1); /* malloc's alignment is at least 8 */
    if (!copy)
        return hd__error_oom(err, name);
    memcpy(copy, data, size);
    return hd__binary_open(copy, copy, size, false, name, out, err);
}

int hd__binary_stream(FILE *f, const char *name, hd_dump **out, hd_error *err)
{
    size_t len = 0, cap = 1 << 20;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    if (!buf)
        return hd__error_oom(err, name);
    if (ferror(f)) {
        free(buf);
        hd__error_set(err, HD_EIO, name, nowhere, "cannot read '%s'", name);
        return HD_EIO;
    }
    return hd__binary_open(buf, buf, len, false, name, out, err);
}

int hd_is_index(const char *path)
{
    char magic[HDX_MAGIC_LEN];
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, magic, sizeof magic, 0);
    close(fd);
    return n == (ssize_t)sizeof magic && hd__binary_magic(magic, sizeof magic);
}

/* path opened for reading and its status; -1 with err filled when either fails. */
static int open_with_stat(const char *path, struct stat *st, hd_error *err)
{
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0 || fstat(fd, st) != 0) {
        hd__error_set(err, HD_EIO, path, nowhere, "cannot open '%s': %s", path ? path : "", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int hd_index_peek(const char *path, hd_index_source *source, hd_error *err)
{
    struct stat st;
    int fd = open_with_stat(path, &st, err);
    if (fd < 0)
        return HD_EIO;
    unsigned char head[HDX_HEAD_MAX];
    ssize_t n = pread(fd, head, sizeof head, 0);
    close(fd);
    hdx_header h;
    int rc = hd__binary_peek(head, n > 0 ? (size_t)n : 0, (uint64_t)st.st_size, path, &h, err);
    if (rc == HD_OK && source)
        *source = (hd_index_source){h.source_size, h.source_mtime_ns, h.source_hash};
    return rc;
}

/* The head and the tail of the file, hashed with its size: a dump rewritten in place with the
 * same size and a restored mtime still differs there in practice. */
int hd_index_source_of(const char *path, hd_index_source *out, hd_error *err)
{
    enum { PART = 64 * 1024 };
    struct stat st;
    int fd = open_with_stat(path, &st, err);
    if (fd < 0)
        return HD_EIO;
    unsigned char *buf = malloc(2 * PART);
    if (!buf) {
        close(fd);
        return hd__error_oom(err, path);
    }
    uint64_t size = (uint64_t)st.st_size;
    ssize_t head = pread(fd, buf, PART, 0);
    ssize_t tail = size > PART ? pread(fd, buf + PART, PART, (off_t)(size - PART)) : 0;
    int e = errno;
    close(fd);
    if (head < 0 || tail < 0) {
        free(buf);
        hd__error_set(err, HD_EIO, path, nowhere, "cannot read '%s': %s", path, strerror(e));
        return HD_EIO;
    }
    out->size = size;
    out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    out->hash = hd__hdx_checksum(buf, (size_t)head) ^ (hd__hdx_checksum(buf + PART, (size_t)tail) * 31) ^ size;
    free(buf);
    return HD_OK;
}
