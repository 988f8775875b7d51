/* load.c: the reader's entry points: a file, a stream or a buffer becomes a source, the
 * loader reads the document (read_document.c), resolves ids and places problems
 * (read_resolve.c).
 *
 * Invariant: *out is set only when all of that succeeded and validation found no problem; on
 * every other path the dump is freed, *out is NULL and err says why.
 */
#include "binary.h"
#include "reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void hd__loader_free(loader *L)
{
    hd__lex_free(&L->lx);
    free(L->edge_tid);
    free(L->root_tid);
    free(L->weakref_tid);
    free(L->referent_tid);
    free(L->garbage_tid);
    free(L->type_user);
    free(L->site_user);
    free(L->object_elem);
    free(L->weakref_elem);
    free(L->root_elem);
    free(L->pend);
}

int hd__loader_init(loader *L, hd__source src, const char *name, hd_error *err)
{
    memset(L, 0, sizeof *L);
    L->err = err;
    hd_dump *d = L->d = calloc(1, sizeof *d);
    int rc = HD_ENOMEM;
    if (!d || (rc = hd__lex_init(&L->lx, src, name, err)) != HD_OK)
        return rc;
    d->pid = -1;
    if (hd__strtab_init(&d->strings) || hd__idmap_init(&d->type_map, 16) ||
        hd__idmap_init(&d->site_map, 16) || !(d->edge_offset = calloc(1, sizeof *d->edge_offset)))
        return hd__error_oom(err, name);
    return HD_OK;
}

static int load(hd__source src, uint64_t total, const char *name, const hd_load_options *opts,
                hd_dump **out, hd_error *err)
{
    hd_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    loader L;
    int rc = hd__loader_init(&L, src, name, err);
    hd_dump *d = L.d;
    if (rc)
        goto fail;
    L.on_problem = opts ? opts->on_problem : NULL;
    L.user = opts ? opts->user : NULL;
    L.threads = opts ? opts->threads : 0;
    L.lx.progress = opts ? opts->on_progress : NULL;
    L.lx.progress_user = L.user;
    L.lx.progress_total = total;
    if (!(L.pend = malloc(MAX_KEPT_PROBLEMS * sizeof *L.pend))) {
        rc = hd__error_oom(err, name);
        goto fail;
    }
    if ((rc = hd__read_document(&L)))
        goto fail;
    rc = L.v8 ? HD_OK : hd__resolve(&L);
    if (rc == HD_OK || rc == HD_EINTEGRITY) {
        int placed = hd__report_pending(&L);
        if (placed)
            rc = placed;
    }
    if (rc)
        goto fail;
    if (L.nproblems) {
        *err = L.first;
        rc = L.first.status;
        goto fail;
    }
    hd__idmap_free(&d->type_map);
    hd__idmap_free(&d->site_map);
    hd__strtab_freeze(&d->strings);
    hd__loader_free(&L);
    *out = d;
    return HD_OK;
fail:
    if (rc == HD_OK && L.nproblems) {
        *err = L.first;
        rc = L.first.status;
    }
    hd__loader_free(&L);
    hd_dump_free(d);
    return rc;
}

/* Whether a binary index starts where f stands, looked at without consuming anything: only a
 * stream that can seek back is asked (a pipe's bytes would be lost to the JSON reader, which
 * reads its descriptor; an index is a file to map, not a stream). */
static bool index_ahead(FILE *f)
{
    off_t at = ftello(f);
    if (at < 0 || fseeko(f, at, SEEK_SET) != 0)
        return false;
    int first = getc(f);
    clearerr(f);
    return fseeko(f, at, SEEK_SET) == 0 && hd__binary_first_byte(first);
}

/* The error to fill (cleared) for a binary index, or NULL when there is nowhere to put the dump. */
static hd_error *binary_begin(hd_dump **out, hd_error *err, hd_error *local)
{
    err = err ? err : local;
    memset(err, 0, sizeof *err);
    return out ? err : NULL;
}

int hd_load_file(FILE *f, const char *name, const hd_load_options *opts, hd_dump **out, hd_error *err)
{
    if (!f) {
        if (err)
            hd__error_set(err, HD_EINVAL, name, (hd__pos){0, 0, 0}, "no stream");
        return HD_EINVAL;
    }
    struct stat st;
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (index_ahead(f)) {
        hd_error local;
        if (!(err = binary_begin(out, err, &local)))
            return HD_EINVAL;
        name = name ? name : "<stream>";
        if (regular && ftello(f) == 0)
            return hd__binary_map(fileno(f), (uint64_t)st.st_size, name, out, err);
        return hd__binary_stream(f, name, out, err);
    }
    hd__stream_source *stream = hd__stream_source_new(f);
    if (!stream)
        return hd__error_oom(err, name);
    uint64_t total = regular ? (uint64_t)st.st_size : 0;
    int rc = load(hd__stream_source_get(stream), total, name ? name : "<stream>", opts, out, err);
    hd__stream_source_free(stream);
    return rc;
}

int hd_load(const char *path, const hd_load_options *opts, hd_dump **out, hd_error *err)
{
    if (!path) {
        if (err)
            hd__error_set(err, HD_EINVAL, "", (hd__pos){0, 0, 0}, "no path");
        return HD_EINVAL;
    }
    if (!strcmp(path, "-"))
        return hd_load_file(stdin, "<stdin>", opts, out, err);
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = !f || !S_ISDIR(st.st_mode) ? errno : EISDIR;
        if (err)
            hd__error_set(err, HD_EIO, path, (hd__pos){0, 0, 0}, "cannot open '%s': %s", path,
                          strerror(e));
        if (out)
            *out = NULL;
        if (f)
            fclose(f);
        return HD_EIO;
    }
    int rc = hd_load_file(f, path, opts, out, err);
    fclose(f);
    return rc;
}

int hd_load_buffer(const void *data, size_t size, const char *name, const hd_load_options *opts,
                   hd_dump **out, hd_error *err)
{
    if (!data && size) {
        if (err)
            hd__error_set(err, HD_EINVAL, name, (hd__pos){0, 0, 0}, "no buffer");
        return HD_EINVAL;
    }
    if (data && size && hd__binary_first_byte(*(const unsigned char *)data)) {
        hd_error local;
        if (!(err = binary_begin(out, err, &local)))
            return HD_EINVAL;
        return hd__binary_buffer(data, size, name ? name : "<buffer>", out, err);
    }
    hd__buffer_source b;
    return load(hd__buffer_source_init(&b, data ? data : "", size), size, name ? name : "<buffer>",
                opts, out, err);
}
