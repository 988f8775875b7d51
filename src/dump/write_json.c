/* write_json.c: a loaded dump written back as heapdump v1 JSON (formats/heapdump.md), so that
 * an index converts back to the interchange format. Everything the reader keeps is written;
 * reading the text again gives a dump that answers every analysis as this one does (the
 * oracle: tests/cli/index_oracle.py). A V8 snapshot comes out as a heapdump.
 *
 * Output goes through a 64 KiB buffer to the caller's write function; the first failure stops
 * the writing and is returned.
 */
#include "error.h"
#include "native.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef struct out {
    hd_write_fn write;
    void *user;
    char buf[1 << 16];
    size_t len;
    int rc;
} out;

static void flush(out *o)
{
    if (o->len && !o->rc && o->write(o->buf, o->len, o->user))
        o->rc = HD_EIO;
    o->len = 0;
}

static void put(out *o, const char *s, size_t n)
{
    if (o->len + n > sizeof o->buf)
        flush(o);
    if (n > sizeof o->buf) {
        if (!o->rc && o->write(s, n, o->user))
            o->rc = HD_EIO;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

static void printf_(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(out *o, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(o, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: quotes, backslashes and control characters escaped, other bytes as they are
 * (the dump's text is what its JSON decoded to). */
static void string(out *o, const char *s)
{
    put(o, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c && c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(o, run, (size_t)(s - run));
        if (!c)
            break;
        if (c == '"' || c == '\\')
            printf_(o, "\\%c", c);
        else
            printf_(o, "\\u%04x", c);
        run = s + 1;
    }
    put(o, "\"", 1);
}

static void key_string(out *o, const char *key, const char *s)
{
    printf_(o, ", \"%s\": ", key);
    string(o, s);
}

static const char *str(const hd_dump *d, uint32_t off) { return hd__strtab_get(&d->strings, off); }

static void write_meta_types_sites(out *o, const hd_dump *d)
{
    puts_(o, "{\"format\": \"heapdump\", \"version\": 1,\n \"meta\": {\"producer\": ");
    string(o, str(d, d->producer));
    if (*str(d, d->created))
        key_string(o, "created", str(d, d->created));
    if (*str(d, d->name))
        key_string(o, "name", str(d, d->name));
    if (d->pid >= 0)
        printf_(o, ", \"pid\": %" PRId64, d->pid);
    puts_(o, "},\n \"types\": [");
    for (uint32_t t = 0; t < d->ntypes; t++) {
        printf_(o, "%s\n  {\"id\": %" PRIu64, t ? "," : "", d->type_id[t]);
        key_string(o, "name", str(d, d->type_name[t]));
        printf_(o, ", \"size\": %" PRIu64, d->type_size[t]);
        if (d->type_flags[t] & HD_TYPE_GC)
            puts_(o, ", \"gc\": true");
        if (d->type_flags[t] & HD_TYPE_FINALIZER)
            puts_(o, ", \"finalizer\": true");
        if (d->type_flags[t] & HD_TYPE_LEGACY_FINALIZER)
            puts_(o, ", \"legacy_finalizer\": true");
        puts_(o, "}");
    }
    puts_(o, "],\n \"sites\": [");
    for (uint32_t s = 0; s < d->nsites; s++) {
        printf_(o, "%s\n  {\"id\": %" PRIu64, s ? "," : "", d->site_id[s]);
        key_string(o, "file", str(d, d->site_file[s]));
        printf_(o, ", \"line\": %" PRIu32, d->site_line[s]);
        if (*str(d, d->site_function[s]))
            key_string(o, "function", str(d, d->site_function[s]));
        if (hd_site_stack(d, s) != HD_NONE)
            printf_(o, ", \"stack\": %" PRIu64, hd_stack_id(d, hd_site_stack(d, s)));
        puts_(o, "}");
    }
    puts_(o, "]");
}

static void write_frames_stacks(out *o, const hd_dump *d)
{
    uint32_t nframes = hd_frame_count(d), nstacks = hd_stack_count(d);
    if (!nframes && !nstacks)
        return;
    puts_(o, ",\n \"frames\": [");
    for (uint32_t f = 0; f < nframes; f++) {
        printf_(o, "%s\n  {\"id\": %" PRIu64, f ? "," : "", hd_frame_id(d, f));
        const char *fn = hd_frame_function(d, f), *file = hd_frame_file(d, f), *module = hd_frame_module(d, f);
        if (*fn || (!*file && !*module))
            key_string(o, "function", fn);
        if (*file)
            key_string(o, "file", file);
        if (hd_frame_line(d, f))
            printf_(o, ", \"line\": %" PRIu32, hd_frame_line(d, f));
        if (*module)
            key_string(o, "module", module);
        if (hd_frame_offset(d, f))
            printf_(o, ", \"offset\": %" PRIu64, hd_frame_offset(d, f));
        puts_(o, "}");
    }
    puts_(o, "],\n \"stacks\": [");
    for (uint32_t n = 0; n < nstacks; n++) {
        printf_(o, "%s\n  {\"id\": %" PRIu64 ", \"frame\": %" PRIu64, n ? "," : "", hd_stack_id(d, n),
                hd_frame_id(d, hd_stack_frame(d, n)));
        if (hd_stack_parent(d, n) != HD_NONE)
            printf_(o, ", \"parent\": %" PRIu64, hd_stack_id(d, hd_stack_parent(d, n)));
        puts_(o, "}");
    }
    puts_(o, "]");
}

static void write_object(out *o, const hd_dump *d, uint32_t x)
{
    printf_(o, "%s\n  {\"id\": %" PRIu64 ", \"type\": %" PRIu64 ", \"size\": %" PRIu64, x ? "," : "",
            d->obj_id[x], d->type_id[d->obj_type[x]], d->obj_size[x]);
    if (d->obj_rc[x] != HD_RC_UNKNOWN)
        printf_(o, ", \"rc\": %" PRIu32, d->obj_rc[x]);
    if (d->obj_site[x] != HD_NONE)
        printf_(o, ", \"site\": %" PRIu64, d->site_id[d->obj_site[x]]);
    if (d->obj_label[x] != HD_NONE)
        key_string(o, "label", str(d, d->obj_label[x]));
    if (d->obj_gen[x] != HD_GEN_UNKNOWN)
        printf_(o, ", \"gen\": %u", d->obj_gen[x]);
    if (d->obj_flags[x]) {
        puts_(o, ", \"flags\": [");
        const char *sep = "";
        for (unsigned bit = 1; bit <= HD_OBJ_INTERNED; bit <<= 1)
            if (d->obj_flags[x] & bit) {
                printf_(o, "%s\"%s\"", sep, hd_object_flag_name(bit));
                sep = ", ";
            }
        puts_(o, "]");
    }
    if (hd_object_address(d, x))
        printf_(o, ", \"address\": %" PRIu64, hd_object_address(d, x));
    if (hd_object_thread(d, x))
        printf_(o, ", \"thread\": %" PRIu32, hd_object_thread(d, x));
    uint32_t first = d->edge_offset[x], end = d->edge_offset[x + 1];
    if (first < end) {
        puts_(o, ", \"refs\": [");
        for (uint32_t e = first; e < end; e++) {
            printf_(o, "%s[%" PRIu64, e > first ? ", " : "", d->obj_id[d->edge_target[e]]);
            if (*str(d, d->edge_name[e])) {
                puts_(o, ", ");
                string(o, str(d, d->edge_name[e]));
            }
            puts_(o, "]");
        }
        puts_(o, "]");
        bool any = false;
        for (uint32_t e = first; e < end; e++)
            if (hd_edge_interior_offset(d, e)) {
                printf_(o, "%s[%" PRIu32 ", %" PRIu64 "]", any ? ", " : ", \"interior\": [", e - first,
                        hd_edge_interior_offset(d, e));
                any = true;
            }
        if (any)
            puts_(o, "]");
    }
    puts_(o, "}");
}

static void write_roots_weakrefs(out *o, const hd_dump *d)
{
    puts_(o, "],\n \"roots\": [");
    for (uint32_t r = 0; r < d->nroots; r++) {
        printf_(o, "%s\n  {\"id\": %" PRIu64, r ? "," : "", d->obj_id[d->root_object[r]]);
        key_string(o, "kind", str(d, d->root_kind_name[r]));
        if (*str(d, d->root_name[r]))
            key_string(o, "name", str(d, d->root_name[r]));
        if (hd_root_offset(d, r))
            printf_(o, ", \"offset\": %" PRIu64, hd_root_offset(d, r));
        puts_(o, "}");
    }
    puts_(o, "],\n \"weakrefs\": [");
    for (uint32_t w = 0; w < d->nweakrefs; w++) {
        printf_(o, "%s\n  {\"id\": %" PRIu64 ", \"referent\": ", w ? "," : "", d->obj_id[d->weakref_object[w]]);
        if (d->weakref_referent[w] == HD_NONE)
            puts_(o, "null");
        else
            printf_(o, "%" PRIu64, d->obj_id[d->weakref_referent[w]]);
        printf_(o, ", \"callback\": %s}", d->weakref_callback[w] ? "true" : "false");
    }
    puts_(o, "]");
}

static void write_pools_gc(out *o, const hd_dump *d)
{
    const hd_pools *p = &d->pools;
    if (p->present) {
        printf_(o, ",\n \"pools\": {\"arena_size\": %" PRIu64 ", \"pool_size\": %" PRIu64, p->arena_size, p->pool_size);
        printf_(o, ", \"arenas\": {\"allocated\": %" PRIu64 ", \"reclaimed\": %" PRIu64, p->arenas_allocated,
                p->arenas_reclaimed);
        printf_(o, ", \"highwater\": %" PRIu64 ", \"current\": %" PRIu64 "}", p->arenas_highwater, p->arenas_current);
        printf_(o, ", \"large\": {\"count\": %" PRIu64 ", \"bytes\": %" PRIu64 "}, \"classes\": [", p->large_allocs,
                p->large_bytes);
        for (uint32_t i = 0; i < p->nclasses; i++) {
            const hd_pool_class *c = &p->classes[i];
            printf_(o, "%s{\"size\": %" PRIu32 ", \"pools\": %" PRIu64, i ? ", " : "", c->size, c->pools);
            printf_(o, ", \"blocks_in_use\": %" PRIu64 ", \"blocks_free\": %" PRIu64 "}", c->blocks_in_use, c->blocks_free);
        }
        puts_(o, "]}");
    }
    const hd_gc *g = &d->gc;
    if (g->present) {
        printf_(o, ",\n \"gc\": {\"enabled\": %s, \"generations\": [", g->enabled ? "true" : "false");
        for (int i = 0; i < 3; i++) {
            const hd_gc_generation *x = &g->gen[i];
            printf_(o, "%s{\"threshold\": %" PRId64 ", \"count\": %" PRId64, i ? ", " : "", x->threshold, x->count);
            printf_(o, ", \"collections\": %" PRIu64 ", \"collected\": %" PRIu64, x->collections, x->collected);
            printf_(o, ", \"uncollectable\": %" PRIu64 "}", x->uncollectable);
        }
        printf_(o, "], \"frozen\": %" PRIu64 ", \"garbage\": [", g->frozen);
        for (uint32_t i = 0; i < g->ngarbage; i++)
            printf_(o, "%s%" PRIu64, i ? ", " : "", d->obj_id[g->garbage[i]]);
        puts_(o, "]}");
    }
}

int hd_dump_write_json(const hd_dump *d, hd_write_fn write, void *user)
{
    if (!d || !write)
        return HD_EINVAL;
    out *o = malloc(sizeof *o);
    if (!o)
        return HD_ENOMEM;
    o->write = write;
    o->user = user;
    o->len = 0;
    o->rc = HD_OK;
    write_meta_types_sites(o, d);
    write_frames_stacks(o, d);
    puts_(o, ",\n \"objects\": [");
    for (uint32_t x = 0; x < d->nobjects && !o->rc; x++)
        write_object(o, d, x);
    write_roots_weakrefs(o, d);
    write_pools_gc(o, d);
    puts_(o, "}\n");
    flush(o);
    int rc = o->rc;
    free(o);
    return rc;
}

static int to_atomic(const void *data, size_t len, void *user)
{
    hd__atomic *a = user;
    hd__atomic_write(a, data, len);
    return a->error ? -1 : 0;
}

static int to_gzip(const void *data, size_t len, void *user)
{
    return gzwrite(user, data, (unsigned)len) == (int)len ? 0 : -1;
}

/* gzip goes through zlib on a duplicate of the temporary file's descriptor (gzclose closes it). */
static int write_gzip(const hd_dump *d, hd__atomic *a)
{
    int fd = dup(a->fd);
    gzFile z = fd >= 0 ? gzdopen(fd, "wb6") : NULL;
    if (!z) {
        a->error = fd < 0 ? errno : ENOMEM;
        if (fd >= 0)
            close(fd);
        return HD_EIO;
    }
    int rc = hd_dump_write_json(d, to_gzip, z);
    if (gzclose(z) != Z_OK && !rc) {
        a->error = EIO;
        rc = HD_EIO;
    }
    return rc;
}

int hd_dump_write_json_file(const hd_dump *d, const char *path, int gzip, hd_error *err)
{
    static const hd__pos nowhere = {0, 0, 0};
    hd__atomic a;
    int rc = hd__atomic_begin(&a, path, err);
    if (rc)
        return rc;
    rc = gzip ? write_gzip(d, &a) : hd_dump_write_json(d, to_atomic, &a);
    if (rc) {
        int e = a.error ? a.error : EIO;
        hd__atomic_abort(&a);
        if (rc == HD_ENOMEM)
            return hd__error_oom(err, path);
        hd__error_set(err, rc, path, nowhere, "cannot write '%s': %s", path, strerror(e));
        return rc;
    }
    return hd__atomic_commit(&a, false, err);
}
