/* hdx_writer.c: the streaming writer of unanalysed binary indexes (hdx_writer.h). */
#include "common/hdx_writer.h"
#include "common/string_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { STREAM_BUFFER = 256 << 10, LAZY_FROM = 256 << 10, PAGE_ALIGN = 64 << 10 };

/* A streamed section: its last bytes in buf, the rest in an unlinked spill file. */
struct ht_hdx_stream {
    int spill;          /* -1 until the buffer first fills */
    uint64_t spilled;   /* bytes in the spill file */
    size_t len;
    unsigned char buf[STREAM_BUFFER];
};

static void fail(ht_hdx_writer *w, int err)
{
    if (!w->err)
        w->err = err ? err : EIO;
}

static void write_at(ht_hdx_writer *w, int fd, const void *data, size_t len, uint64_t off)
{
    const char *p = data;
    while (len && !w->err) {
        ssize_t k = pwrite(fd, p, len, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            fail(w, k < 0 ? errno : EIO);
            return;
        }
        p += k, off += (uint64_t)k, len -= (size_t)k;
    }
}

int ht_hdx_begin(ht_hdx_writer *w, const char *path, bool page_align)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->path = path;
    w->page_align = page_align;
    static unsigned counter;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) + 1 : 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        int n = snprintf(w->tmp, sizeof w->tmp, "%.*s.%s.tmp-%ld-%u", dirlen, path, path + dirlen,
                         (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        if (n < 0 || (size_t)n >= sizeof w->tmp)
            return ENAMETOOLONG;
        w->fd = open(w->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd >= 0)
            return 0;
        if (errno != EEXIST)
            return errno;
    }
    return EEXIST;
}

static uint64_t align_to(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

/* The offset a section of bytes bytes starts at when the previous one ended at end. */
static uint64_t start_of(const ht_hdx_writer *w, uint64_t end, uint64_t bytes)
{
    return w->page_align && bytes >= LAZY_FROM ? align_to(end, PAGE_ALIGN) : align_to(end, 8);
}

/* Where the next section may start after one that starts at at and holds bytes bytes. */
static uint64_t end_of(const ht_hdx_writer *w, uint64_t at, uint64_t bytes)
{
    return w->page_align && bytes >= LAZY_FROM ? align_to(at + bytes, PAGE_ALIGN) : at + bytes;
}

void ht_hdx_place(ht_hdx_writer *w, const uint64_t counts[HT_HDX_NSECTIONS + 1])
{
    uint64_t at = HDX_HEADER_SIZE + HT_HDX_NSECTIONS * HDX_ENTRY_SIZE;
    for (uint32_t id = 1; id <= HT_HDX_NSECTIONS; id++) {
        uint64_t count = id == HDX_META ? sizeof(hdx_meta) / 8 : counts[id];
        hdx_entry *e = &w->e[id];
        *e = (hdx_entry){id, hd__hdx_elem_size(id), 0, 0, 0};
        if (count == HT_HDX_STREAMED) {
            if (!(w->streams[id] = malloc(sizeof *w->streams[id])))
                fail(w, ENOMEM);
            else
                w->streams[id]->spill = -1, w->streams[id]->spilled = w->streams[id]->len = 0;
            continue;
        }
        e->count = count;
        e->offset = at = start_of(w, at, count * e->elem_size);
        at = end_of(w, at, count * e->elem_size);
    }
    w->placed_end = align_to(at, 8);
    if (!w->err && ftruncate(w->fd, (off_t)w->placed_end) != 0)
        fail(w, errno);
}

void ht_hdx_put(ht_hdx_writer *w, uint32_t id, uint64_t at, const void *data, uint64_t count)
{
    const hdx_entry *e = &w->e[id];
    write_at(w, w->fd, data, (size_t)(count * e->elem_size), e->offset + at * e->elem_size);
}

/* Moves the buffer's bytes to the spill file, made on first use beside the output and unlinked
 * at once, so that nothing outlives the process. */
static void spill(ht_hdx_writer *w, uint32_t id)
{
    ht_hdx_stream *s = w->streams[id];
    if (s->spill < 0) {
        char name[sizeof w->tmp + 16];
        snprintf(name, sizeof name, "%s.s%u", w->tmp, id);
        s->spill = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (s->spill < 0) {
            fail(w, errno);
            return;
        }
        unlink(name);
    }
    write_at(w, s->spill, s->buf, s->len, s->spilled);
    s->spilled += s->len;
    s->len = 0;
}

void ht_hdx_append(ht_hdx_writer *w, uint32_t id, const void *data, uint64_t count)
{
    ht_hdx_stream *s = w->streams[id];
    if (!s || w->err)
        return;
    const unsigned char *p = data;
    for (size_t left = (size_t)(count * w->e[id].elem_size); left && !w->err;) {
        if (s->len == sizeof s->buf)
            spill(w, id);
        size_t k = sizeof s->buf - s->len < left ? sizeof s->buf - s->len : left;
        memcpy(s->buf + s->len, p, k);
        s->len += k, p += k, left -= k;
    }
}

uint64_t ht_hdx_count(const ht_hdx_writer *w, uint32_t id)
{
    const ht_hdx_stream *s = w->streams[id];
    return s ? (s->spilled + s->len) / w->e[id].elem_size : w->e[id].count;
}

/* ---- STRINGS ---- */

uint32_t ht_hdx_label(ht_hdx_writer *w, const char *s, size_t len)
{
    uint64_t at = ht_hdx_count(w, HDX_STRINGS);
    if (at == 0)
        ht_hdx_append(w, HDX_STRINGS, "", 1); /* offset 0 is "" */
    at = ht_hdx_count(w, HDX_STRINGS);
    if (at + len + 1 >= UINT32_MAX) {
        fail(w, EFBIG);
        return 0;
    }
    ht_hdx_append(w, HDX_STRINGS, s, len);
    ht_hdx_append(w, HDX_STRINGS, "", 1);
    return (uint32_t)at;
}

static bool grow_index(ht_hdx_writer *w)
{
    uint32_t mask = w->mask ? w->mask * 2 + 1 : 1023;
    uint32_t *slots = calloc((size_t)mask + 1, sizeof *slots);
    uint64_t *kept_at = calloc((size_t)mask + 1, sizeof *kept_at);
    if (!slots || !kept_at) {
        free(slots), free(kept_at);
        fail(w, ENOMEM);
        return false;
    }
    for (uint32_t i = 0; w->slots && i <= w->mask; i++) {
        if (!w->slots[i])
            continue;
        const char *s = w->kept + w->kept_at[i];
        uint32_t j = ht_string_hash(s, strlen(s)) & mask;
        while (slots[j])
            j = (j + 1) & mask;
        slots[j] = w->slots[i], kept_at[j] = w->kept_at[i];
    }
    free(w->slots), free(w->kept_at);
    w->slots = slots, w->kept_at = kept_at, w->mask = mask;
    return true;
}

uint32_t ht_hdx_intern(ht_hdx_writer *w, const char *s, size_t len)
{
    if (len == 0 || w->err)
        return 0;
    if ((uint64_t)(w->used + 1) * 4 > ((uint64_t)w->mask + 1) * 3 && !grow_index(w))
        return 0;
    uint32_t j = ht_string_hash(s, len) & w->mask;
    for (; w->slots[j]; j = (j + 1) & w->mask) {
        const char *t = w->kept + w->kept_at[j];
        if (memcmp(t, s, len) == 0 && t[len] == '\0')
            return w->slots[j];
    }
    if (w->kept_len + len + 1 > w->kept_cap) {
        size_t cap = w->kept_cap ? w->kept_cap * 2 : 1 << 16;
        while (cap < w->kept_len + len + 1)
            cap *= 2;
        char *kept = realloc(w->kept, cap);
        if (!kept) {
            fail(w, ENOMEM);
            return 0;
        }
        w->kept = kept, w->kept_cap = cap;
    }
    memcpy(w->kept + w->kept_len, s, len);
    w->kept[w->kept_len + len] = '\0';
    uint32_t off = ht_hdx_label(w, s, len);
    if (w->err)
        return 0;
    w->slots[j] = off, w->kept_at[j] = w->kept_len, w->used++;
    w->kept_len += len + 1;
    return off;
}

/* ---- META ---- */

uint32_t ht_hdx_map_mask(uint64_t lo, uint64_t hi, uint64_t n, bool *direct)
{
    *direct = n && hi - lo < 2 * n && hi - lo < UINT32_MAX;
    if (*direct)
        return (uint32_t)(hi - lo);
    uint64_t cap = 16;
    while (cap * 7 / 10 < n)
        cap *= 2;
    return cap - 1 < UINT32_MAX ? (uint32_t)(cap - 1) : UINT32_MAX; /* too many: ht_hdx_finish refuses */
}

static uint32_t map_slot(uint64_t id, uint32_t mask)
{
    return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

void ht_hdx_fill_map(uint32_t *slots, uint32_t mask, bool direct, uint64_t lo, uint32_t n,
                     uint64_t (*id_of)(const void *ctx, uint32_t i), const void *ctx)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id = id_of(ctx, i);
        uint32_t j = direct ? (uint32_t)(id - lo) : map_slot(id, mask);
        while (slots[j])
            j = (j + 1) & mask;
        slots[j] = i + 1;
    }
}

void ht_hdx_meta_counts(const ht_hdx_writer *w, hdx_meta *m, uint32_t frame_mask, uint32_t stack_mask)
{
#define COUNT_(field, id) m->field = ht_hdx_count(w, id);
    COUNT_(ntypes, HDX_TYPE_ID) COUNT_(nsites, HDX_SITE_ID) COUNT_(nobjects, HDX_OBJ_ID)
    COUNT_(nedges, HDX_EDGE_TARGET) COUNT_(nroots, HDX_ROOT_OBJECT) COUNT_(nweakrefs, HDX_WEAKREF_OBJECT)
    COUNT_(nstrings, HDX_STRINGS) COUNT_(nclasses, HDX_POOL_CLASS) COUNT_(ngarbage, HDX_GC_GARBAGE)
    COUNT_(nframes, HDX_FRAME_ID) COUNT_(nstacks, HDX_STACK_ID) COUNT_(nsite_stacks, HDX_SITE_STACK)
    COUNT_(native_nobjects, HDX_OBJ_ADDRESS) COUNT_(ninterior, HDX_INTERIOR_EDGE)
    COUNT_(nroot_offsets, HDX_ROOT_OFFSET)
#undef COUNT_
    m->native = m->nframes || m->nstacks || m->nsite_stacks || m->native_nobjects || m->ninterior ||
                m->nroot_offsets;
    uint64_t n = m->nobjects, native = 0;
    if (m->native) /* libheapdump's hd__native_memory: 32 a frame, 16 a node, ...; both id maps */
        native = m->nframes * 32 + m->nstacks * 16 + m->nsite_stacks * 4 + m->native_nobjects * 12 +
                 m->ninterior * 12 + m->nroot_offsets * 8 + ((uint64_t)frame_mask + 1) * 4 +
                 ((uint64_t)stack_mask + 1) * 4;
    m->mem_objects = n * (8 + 8 + 4 + 4 + 4 + 4 + 1 + 1) + (n + 1) * 4;
    m->mem_references = m->nedges * (4 + 4);
    m->mem_id_map = n ? (m->map_mask + 1) * 4 : 0;
    m->mem_strings = m->nstrings;
    m->mem_other = m->ntypes * (8 + 8 + 4 + 1) + m->nsites * (8 + 4 + 4 + 4) + m->nroots * (4 + 4 + 4 + 1) +
                   m->nweakrefs * (4 + 4 + 1) + m->nclasses * 32 + m->ngarbage * 4 + native;
    m->mem_total = m->mem_objects + m->mem_references + m->mem_id_map + m->mem_strings + m->mem_other;
}

uint8_t ht_hdx_root_kind(const char *word)
{
#define KIND_(name, text) if (!strcmp(word, text)) return name;
    HD_ROOT_KIND_MAP(KIND_)
#undef KIND_
    return HD_ROOT_OTHER;
}

/* ---- the end ---- */

/* Copies each streamed section after the placed ones, its buffer doubling as the bounce buffer. */
static void lay_streams(ht_hdx_writer *w, uint64_t *end)
{
    for (uint32_t id = 1; id <= HT_HDX_NSECTIONS; id++) {
        ht_hdx_stream *s = w->streams[id];
        if (!s)
            continue;
        hdx_entry *e = &w->e[id];
        uint64_t bytes = s->spilled + s->len;
        e->count = bytes / e->elem_size;
        e->offset = start_of(w, *end, bytes);
        *end = end_of(w, e->offset, bytes);
        uint64_t tail = s->len;
        write_at(w, w->fd, s->buf, (size_t)tail, e->offset + s->spilled);
        for (uint64_t done = 0; done < s->spilled && !w->err;) {
            size_t k = s->spilled - done < sizeof s->buf ? (size_t)(s->spilled - done) : sizeof s->buf;
            ssize_t r = pread(s->spill, s->buf, k, (off_t)done);
            if (r <= 0) {
                fail(w, r < 0 ? errno : EIO);
                break;
            }
            write_at(w, w->fd, s->buf, (size_t)r, e->offset + done);
            done += (uint64_t)r;
        }
    }
}

/* Every section's checksum, read back through a mapping one section at a time. */
static void checksum_sections(ht_hdx_writer *w)
{
    for (uint32_t id = 1; id <= HT_HDX_NSECTIONS && !w->err; id++) {
        hdx_entry *e = &w->e[id];
        size_t len = (size_t)(e->count * e->elem_size);
        if (!len) {
            e->checksum = hd__hdx_checksum("", 0);
            continue;
        }
        off_t start = (off_t)(e->offset & ~(uint64_t)4095);
        size_t skew = (size_t)(e->offset - (uint64_t)start);
        char *m = mmap(NULL, len + skew, PROT_READ, MAP_SHARED, w->fd, start);
        if (m == MAP_FAILED) {
            fail(w, errno);
            return;
        }
        madvise(m, len + skew, MADV_SEQUENTIAL);
        e->checksum = hd__hdx_checksum(m + skew, len);
        munmap(m, len + skew);
        posix_fadvise(w->fd, start, (off_t)(len + skew), POSIX_FADV_DONTNEED);
    }
}

static void release(ht_hdx_writer *w)
{
    for (uint32_t id = 1; id <= HT_HDX_NSECTIONS; id++) {
        if (w->streams[id] && w->streams[id]->spill >= 0)
            close(w->streams[id]->spill);
        free(w->streams[id]);
        w->streams[id] = NULL;
    }
    free(w->slots), free(w->kept), free(w->kept_at);
    w->slots = NULL, w->kept = NULL, w->kept_at = NULL;
}

int ht_hdx_finish(ht_hdx_writer *w, const hdx_meta *meta)
{
    /* What format v1 cannot hold (32-bit object and edge indices, a 32-bit id map mask) is an
     * error here, not a file no reader opens. */
    if (meta->nobjects >= UINT32_MAX || meta->nedges > UINT32_MAX || meta->map_mask >= UINT32_MAX)
        fail(w, EFBIG);
    ht_hdx_put(w, HDX_META, 0, meta, sizeof *meta / 8);
    uint64_t end = w->placed_end;
    lay_streams(w, &end);
    uint64_t file_size = align_to(end, 8);
    /* An empty placed section where the streamed ones begin would share its offset with a
     * section before it in the table: it moves to the end, where nothing follows. */
    for (uint32_t id = 1; id <= HT_HDX_NSECTIONS; id++)
        if (!w->streams[id] && !w->e[id].count && w->e[id].offset >= w->placed_end)
            w->e[id].offset = file_size;
    if (!w->err && ftruncate(w->fd, (off_t)file_size) != 0)
        fail(w, errno);
    checksum_sections(w);
    unsigned char head[HDX_HEADER_SIZE + HT_HDX_NSECTIONS * HDX_ENTRY_SIZE] = {0};
    hdx_header h = {.version = HDX_VERSION, .nsections = HT_HDX_NSECTIONS, .file_size = file_size};
    memcpy(h.magic, HDX_MAGIC, HDX_MAGIC_LEN);
    memcpy(head, &h, sizeof h);
    memcpy(head + HDX_HEADER_SIZE, &w->e[1], HT_HDX_NSECTIONS * HDX_ENTRY_SIZE);
    h.checksum = hd__hdx_checksum(head, sizeof head);
    memcpy(head, &h, sizeof h);
    write_at(w, w->fd, head, sizeof head, 0);
    /* No fsync: a file torn by a crash fails its checksums and is never used. */
    if (close(w->fd) != 0)
        fail(w, errno);
    w->fd = -1;
    if (!w->err && rename(w->tmp, w->path) != 0)
        fail(w, errno);
    int err = w->err;
    if (err)
        unlink(w->tmp);
    release(w);
    return err;
}

void ht_hdx_abort(ht_hdx_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    unlink(w->tmp);
    release(w);
}
