/* writer.c: the snapshot child's work, start to end: index the blocks, find the roots, name the
 * stacks, and write heapdump v1 (formats/heapdump.md) in its streaming layout: one record a
 * line, sections in order, records by id. The file is written beside its final name and renamed
 * into place, so a crash never leaves half a dump under it; ".gz" is gzip, level 1.
 * A block's type is the innermost frame of its stack that is not an allocation wrapper (named by
 * its function, else by module and offset); its site is its whole stack. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "record/writer.h"

/* ---- the output ---- */

/* The JSON is made in one process and written (or compressed) by another, its own child, so that
 * the kernel's copy into the page cache (or zlib) runs on a second core beside the formatting:
 * buffers pass through a ring in shared memory, counted by two futex words. A process rather
 * than a thread: the snapshot child is a raw clone of a thread of a program whose other threads
 * may have held libc's locks at the fork, and the writer makes no call that takes one. */
#define OUT_BUF ((size_t)1 << 20)
#define NRING 4
#define DONE_BIT (1u << 31) /* in filled: no more buffers (a change the writer's futex sees) */

typedef struct ring {
    _Atomic uint32_t filled, drained; /* buffers handed over (| DONE_BIT), buffers written */
    _Atomic int err;                  /* the writer's first error */
    size_t len[NRING];
    char buf[NRING][OUT_BUF];
} ring;

typedef struct out {
    int fd;
    gzFile gz;
    int err;
    size_t len;
    char *buf;     /* OUT_BUF bytes: a ring slot, or own when there is no writer */
    ring *r;       /* NULL: written here */
    long writer;   /* the writer's pid, 0 once it is gone */
} out;

/* Waits while *word is value, at most a tenth of a second. */
static void futex_wait(_Atomic uint32_t *word, uint32_t value)
{
    struct timespec tenth = {0, 100000000};
    syscall(SYS_futex, word, FUTEX_WAIT, value, &tenth, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0); }

/* Writes n bytes to the file (through zlib when gz); an errno value, or 0. */
static int write_out(int fd, gzFile gz, const char *buf, size_t n)
{
    if (gz)
        return n && gzwrite(gz, buf, (unsigned)n) != (int)n ? EIO : 0;
    for (size_t done = 0; done < n;) {
        ssize_t k = write(fd, buf + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        done += (size_t)k;
    }
    return 0;
}

/* The writer process: drains the ring until told it is done, then closes the gzip stream. It
 * dies with the snapshot child, which it would otherwise wait for forever. */
static _Noreturn void writer_main(out *o, pid_t child)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != child)
        _exit(1);
    ring *r = o->r;
    int err = 0;
    for (uint32_t next = 0;; next++) {
        uint32_t filled;
        while ((filled = atomic_load(&r->filled)) == next)
            futex_wait(&r->filled, next);
        if ((filled & ~DONE_BIT) == next)
            break; /* done, and every buffer written */
        if (!err)
            err = write_out(o->fd, o->gz, r->buf[next % NRING], r->len[next % NRING]);
        if (err)
            atomic_store(&r->err, err);
        atomic_store(&r->drained, next + 1);
        futex_wake(&r->drained);
    }
    if (o->gz && gzclose(o->gz) != Z_OK && !err)
        atomic_store(&r->err, EIO);
    _exit(0);
}

/* A writer is a clone of the process, which copies its page tables (as long as the snapshot's own
 * fork): worth it only for a dump whose writing takes longer, one of many blocks. */
#define WRITER_MIN_BLOCKS 100000

/* Starts the writer; without one (no shared memory, no process), the output is written here. */
static void out_start(out *o, char *own)
{
    o->buf = own;
    ring *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
        return;
    o->r = r;
    pid_t child = getpid();
    long pid = syscall(SYS_clone, 0L /* no flags, no exit signal */, NULL, NULL, NULL, NULL);
    if (pid == 0)
        writer_main(o, child);
    if (pid < 0) {
        munmap(r, sizeof *r);
        o->r = NULL;
        return;
    }
    o->writer = pid;
    o->buf = r->buf[0];
}

/* The writer has exited (killed: it exits on its own only when told it is done). */
static bool writer_gone(out *o)
{
    int status;
    if (o->writer && waitpid((pid_t)o->writer, &status, __WALL | WNOHANG) == o->writer)
        o->writer = 0;
    return !o->writer;
}

/* Hands the buffer to the writer (waiting for a free slot), or writes it. */
static void flush(out *o)
{
    if (o->err)
        o->len = 0; /* what follows an error is dropped, and the buffer never overflows */
    if (!o->len)
        return;
    ring *r = o->r;
    if (!r) {
        o->err = write_out(o->fd, o->gz, o->buf, o->len);
        o->len = 0;
        return;
    }
    uint32_t filled = atomic_load(&r->filled), drained;
    r->len[filled % NRING] = o->len;
    atomic_store(&r->filled, filled + 1);
    futex_wake(&r->filled);
    o->len = 0;
    while (filled + 1 - (drained = atomic_load(&r->drained)) >= NRING) {
        futex_wait(&r->drained, drained);
        if (atomic_load(&r->drained) == drained && writer_gone(o)) {
            o->err = EIO;
            return;
        }
    }
    o->err = atomic_load(&r->err);
    o->buf = r->buf[(filled + 1) % NRING];
}

/* Flushes, lets the writer finish the file and waits for it; closes the gzip stream when it is
 * written here. An errno value, or 0. */
static int out_finish(out *o)
{
    flush(o);
    ring *r = o->r;
    if (!r) {
        if (o->gz && gzclose(o->gz) != Z_OK && !o->err)
            o->err = EIO;
        return o->err;
    }
    atomic_fetch_or(&r->filled, DONE_BIT);
    futex_wake(&r->filled);
    int status = -1;
    while (o->writer && waitpid((pid_t)o->writer, &status, __WALL) < 0 && errno == EINTR)
        ;
    int err = o->err ? o->err : atomic_load(&r->err);
    if (!err && (!o->writer || !WIFEXITED(status) || WEXITSTATUS(status) != 0))
        err = EIO; /* killed before it finished the file */
    munmap(r, sizeof *r);
    return err;
}

static void put_slow(out *o, const char *s, size_t n)
{
    flush(o);
    if (n > OUT_BUF) {
        o->err = o->err ? o->err : E2BIG;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* Inline, so that a literal's copy is a few moves: a dump of 10M blocks makes 100M calls. */
static inline void put(out *o, const char *s, size_t n)
{
    if (REC_UNLIKELY(OUT_BUF - o->len < n)) {
        put_slow(o, s, n);
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }
/* A string literal, its length known at compile time. */
#define PUTL(o, lit) put(o, lit, sizeof lit - 1)

/* Two digits a step: a dump of 10M blocks writes 400M of them. */
static const char digit_pairs[] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline void put_u64(out *o, uint64_t v)
{
    if (REC_UNLIKELY(OUT_BUF - o->len < 20))
        flush(o);
    char tmp[20], *p = tmp + sizeof tmp;
    for (; v >= 100; v /= 100)
        memcpy(p -= 2, digit_pairs + 2 * (v % 100), 2);
    if (v >= 10)
        memcpy(p -= 2, digit_pairs + 2 * v, 2);
    else
        *--p = (char)('0' + v);
    memcpy(o->buf + o->len, p, (size_t)(tmp + sizeof tmp - p));
    o->len += (size_t)(tmp + sizeof tmp - p);
}

size_t rec_utf8_seq(const unsigned char *p)
{
    size_t seq = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
    for (size_t i = 1; i < seq; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return seq == 2 && *p < 0xc2 ? 0 : seq;
}

/* Valid UTF-8 passes; quotes, backslashes and controls are escaped; other bytes become \xNN. */
static void put_string(out *o, const char *s)
{
    put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        char esc[8];
        size_t seq = rec_utf8_seq(p);
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            put(o, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put(o, esc, 6);
        } else if (seq == 0) {
            snprintf(esc, sizeof esc, "\\\\x%02x", *p);
            put(o, esc, 5);
            seq = 1;
        } else {
            put(o, (const char *)p, seq);
            p += seq;
            continue;
        }
        p++;
    }
    put(o, "\"", 1);
}

/* ---- stacks, frames, types ---- */


static char *frame_label(const rec_frame_info *f, uintptr_t pc)
{
    char buf[640];
    if (f->function)
        return strdup(f->function);
    if (f->module) {
        const char *slash = strrchr(f->module, '/');
        snprintf(buf, sizeof buf, "%s+0x%llx", slash ? slash + 1 : f->module, (unsigned long long)f->offset);
    } else {
        snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)pc);
    }
    return strdup(buf);
}

static uint32_t intern_type(rec_naming *n, char *name)
{
    for (size_t i = 0; i < n->ntypes; i++) /* types are few: a table per function */
        if (!strcmp(n->types[i], name)) {
            free(name);
            return (uint32_t)i;
        }
    n->types[n->ntypes] = name;
    return (uint32_t)n->ntypes++;
}

static int name_stacks(rec_naming *n, const rec_heap *h, rec_symbols *sym, const char *wrappers)
{
    n->nodes = rec_stack_nodes(&n->nnodes);
    size_t nn = n->nnodes;
    n->used = calloc(nn + 1, 1);
    n->frame_of = calloc(nn + 1, sizeof *n->frame_of);
    n->type_of = malloc((nn + 1) * sizeof *n->type_of);
    n->type_frame = calloc(nn + 1, sizeof *n->type_frame);
    n->frames = calloc(nn + 1, sizeof *n->frames);
    n->types = calloc(nn + 2, sizeof *n->types);
    if (!n->used || !n->frame_of || !n->type_of || !n->type_frame || !n->frames || !n->types)
        return ENOMEM;
    memset(n->type_of, 0xff, (nn + 1) * sizeof *n->type_of);
    for (size_t i = 0; i < h->n; i++)
        for (uint32_t k = h->blocks[i].stack; k && !n->used[k - 1]; k = n->nodes[k - 1].parent)
            n->used[k - 1] = 1;
    /* One frame per distinct return address (small open-addressing map pc -> frame). */
    size_t slots = 64;
    while (slots < nn * 2)
        slots *= 2;
    uint32_t *map = calloc(slots, sizeof *map);
    if (!map)
        return ENOMEM;
    for (size_t k = 0; k < nn; k++) {
        if (!n->used[k])
            continue;
        uintptr_t pc = n->nodes[k].pc;
        size_t s = (size_t)((pc * 0x9e3779b97f4a7c15ULL) >> 17) & (slots - 1);
        for (; map[s]; s = (s + 1) & (slots - 1))
            if (n->nodes[map[s] - 1].pc == pc)
                break;
        if (!map[s]) {
            map[s] = (uint32_t)k + 1; /* the first node with this pc stands for the frame */
            rec_symbolize(sym, pc, &n->frames[n->nframes]);
            n->frame_of[k] = (uint32_t)n->nframes++;
        } else {
            n->frame_of[k] = n->frame_of[map[s] - 1];
        }
    }
    free(map);
    n->types[n->ntypes++] = strdup("(no stack)");
    for (size_t i = 0; i < h->n; i++) {
        uint32_t leaf = h->blocks[i].stack;
        if (!leaf || n->type_of[leaf - 1] != UINT32_MAX)
            continue;
        uint32_t k = leaf;
        while (n->nodes[k - 1].parent) {
            const rec_frame_info *f = &n->frames[n->frame_of[k - 1]];
            if (!f->function || !rec_is_wrapper(f->function, wrappers))
                break;
            k = n->nodes[k - 1].parent;
        }
        n->type_frame[leaf - 1] = k;
        n->type_of[leaf - 1] = intern_type(n, frame_label(&n->frames[n->frame_of[k - 1]], n->nodes[k - 1].pc));
    }
    return 0;
}

/* ---- sections ---- */

void rec_created(char *buf, size_t cap)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void write_meta(out *o, const rec_world *w)
{
    char when[64];
    rec_created(when, sizeof when);
    puts_(o, "{\"format\": \"heapdump\", \"version\": 1,\n \"meta\": {\"producer\": \"heaptool-record " HT_VERSION
             "\", \"created\": ");
    put_string(o, when);
    puts_(o, ", \"pid\": ");
    put_u64(o, (uint64_t)w->pid);
    puts_(o, ", \"pointer_size\": 8");
    if (w->name) {
        puts_(o, ", \"name\": ");
        put_string(o, w->name);
    }
    bool dropped = atomic_load(&rec_dropped);
    if (dropped || rec_damaged_records) {
        char why[320] = "";
        if (dropped)
            strcpy(why, "the recorder ran out of memory and stopped recording: "
                        "blocks allocated after that are missing");
        if (rec_damaged_records)
            snprintf(why + strlen(why), sizeof why - strlen(why),
                     "%sthe program overwrote the records in the tails of %zu blocks (a write past a block's end): "
                     "their sizes are what libc holds for them, their stacks and threads unknown",
                     dropped ? "; " : "", rec_damaged_records);
        puts_(o, ", \"incomplete\": ");
        put_string(o, why);
    }
    puts_(o, "},\n");
}

static void write_names(out *o, const rec_naming *n)
{
    puts_(o, " \"types\": [");
    for (size_t t = 0; t < n->ntypes; t++) {
        puts_(o, t ? ",\n  {\"id\": " : "\n  {\"id\": ");
        put_u64(o, t);
        puts_(o, ", \"name\": ");
        put_string(o, n->types[t]);
        puts_(o, "}");
    }
    puts_(o, "\n ],\n \"frames\": [");
    for (size_t f = 0; f < n->nframes; f++) {
        const rec_frame_info *fr = &n->frames[f];
        puts_(o, f ? ",\n  {\"id\": " : "\n  {\"id\": ");
        put_u64(o, f);
        if (fr->function)
            puts_(o, ", \"function\": "), put_string(o, fr->function);
        if (fr->file) {
            puts_(o, ", \"file\": "), put_string(o, fr->file);
            puts_(o, ", \"line\": "), put_u64(o, fr->line);
        }
        if (fr->module) {
            puts_(o, ", \"module\": "), put_string(o, fr->module);
            puts_(o, ", \"offset\": "), put_u64(o, fr->offset);
        }
        if (!fr->function && !fr->file && !fr->module)
            puts_(o, ", \"function\": \"?\"");
        puts_(o, "}");
    }
    puts_(o, "\n ],\n \"stacks\": [");
    bool first = true;
    for (size_t k = 0; k < n->nnodes; k++) {
        if (!n->used[k])
            continue;
        puts_(o, first ? "\n  {\"id\": " : ",\n  {\"id\": ");
        first = false;
        put_u64(o, k);
        puts_(o, ", \"frame\": "), put_u64(o, n->frame_of[k]);
        if (n->nodes[k].parent)
            puts_(o, ", \"parent\": "), put_u64(o, n->nodes[k].parent - 1);
        puts_(o, "}");
    }
    puts_(o, "\n ],\n \"sites\": [");
    first = true;
    for (size_t k = 0; k < n->nnodes; k++) {
        if (n->type_of[k] == UINT32_MAX)
            continue;
        const rec_frame_info *f = &n->frames[n->frame_of[n->type_frame[k] - 1]];
        puts_(o, first ? "\n  {\"id\": " : ",\n  {\"id\": ");
        first = false;
        put_u64(o, k);
        puts_(o, ", \"file\": "), put_string(o, f->file ? f->file : "");
        puts_(o, ", \"line\": "), put_u64(o, f->file ? f->line : 0);
        puts_(o, ", \"function\": "), put_string(o, n->types[n->type_of[k]]);
        puts_(o, ", \"stack\": "), put_u64(o, k);
        puts_(o, "}");
    }
    puts_(o, "\n ],\n");
}

/* "+0x18": where a reference sits in its holder. */
static void put_offset_name(out *o, uint64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    *--p = '"';
    do
        *--p = "0123456789abcdef"[v & 15];
    while (v >>= 4);
    memcpy(p -= 4, "\"+0x", 4);
    put(o, p, (size_t)(tmp + sizeof tmp - p));
}

static void write_object(out *o, const rec_heap *h, const rec_naming *n, const rec_block *b)
{
    PUTL(o, "  {\"id\": "), put_u64(o, b->seq);
    PUTL(o, ", \"type\": "), put_u64(o, b->stack ? n->type_of[b->stack - 1] : 0);
    PUTL(o, ", \"size\": "), put_u64(o, b->size);
    if (b->stack)
        PUTL(o, ", \"site\": "), put_u64(o, b->stack - 1);
    PUTL(o, ", \"address\": "), put_u64(o, b->addr);
    if (b->thread) /* 0: its record was overwritten */
        PUTL(o, ", \"thread\": "), put_u64(o, b->thread);
    /* Interior references are listed after the refs: remembered here. */
    static uint64_t (*interior)[2];
    static size_t cap;
    size_t ninterior = 0, k = 0;
    const uintptr_t *words = (const uintptr_t *)b->addr;
    for (size_t i = 0; i < b->size / sizeof *words; i++) {
        uint64_t off;
        long t = rec_heap_find(h, words[i], &off);
        if (t < 0)
            continue;
        if (k)
            PUTL(o, ", [");
        else
            PUTL(o, ", \"refs\": [[");
        put_u64(o, h->blocks[t].seq);
        PUTL(o, ", ");
        put_offset_name(o, i * sizeof *words);
        PUTL(o, "]");
        if (off && ninterior == cap) {
            void *bigger = realloc(interior, (cap = cap ? cap * 2 : 64) * sizeof *interior);
            if (!bigger) {
                o->err = ENOMEM;
                return;
            }
            interior = bigger;
        }
        if (off) {
            interior[ninterior][0] = k;
            interior[ninterior++][1] = off;
        }
        k++;
    }
    if (k)
        PUTL(o, "]");
    for (size_t i = 0; i < ninterior; i++) {
        puts_(o, i ? ", [" : ", \"interior\": [[");
        put_u64(o, interior[i][0]);
        puts_(o, ", ");
        put_u64(o, interior[i][1]);
        puts_(o, i + 1 == ninterior ? "]]" : "]");
    }
    PUTL(o, "}");
}

const char *const rec_root_kinds[] = {"global", "stack", "registers", "tls"};

void rec_root_name(rec_symbols *sym, const rec_root *r, char *name, size_t cap)
{
    if (r->kind == ROOT_GLOBAL && r->module < 0)
        snprintf(name, cap, "mmap 0x%llx+0x%llx", (unsigned long long)r->base,
                 (unsigned long long)(r->where - r->base));
    else if (r->kind == ROOT_GLOBAL)
        rec_global_name(sym, r->module, r->where, name, cap);
    else
        snprintf(name, cap, "%s of %sthread %u", rec_root_kinds[r->kind], r->exited ? "exited " : "", r->thread);
}

static void write_roots(out *o, const rec_heap *h, const rec_world *w, rec_symbols *sym,
                        const rec_root *roots, size_t nroots)
{
    puts_(o, "\n ],\n \"roots\": [");
    for (size_t i = 0; i < nroots; i++) {
        const rec_root *r = &roots[i];
        char name[700];
        rec_root_name(sym, r, name, sizeof name);
        puts_(o, i ? ",\n  {\"id\": " : "\n  {\"id\": ");
        put_u64(o, h->blocks[r->block].seq);
        puts_(o, ", \"kind\": \""), puts_(o, rec_root_kinds[r->kind]);
        puts_(o, "\", \"name\": "), put_string(o, name);
        if (r->offset)
            puts_(o, ", \"offset\": "), put_u64(o, r->offset);
        puts_(o, "}");
    }
    (void)w;
    puts_(o, "\n ]}\n");
}

/* Where a dump's time goes (HEAPTOOL_VERBOSE): seconds since start, at each phase's end. */
typedef struct phases {
    uint64_t start;
    double index, roots, names, written;
} phases;

static double since(const phases *p) { return (rec_now_ns() - p->start) / 1e9; }

/* The dump, as heapdump JSON through o, or as a binary index at path when o is NULL. */
static int write_dump(out *o, const char *path, const rec_world *w, const rec_heap *h, phases *t)
{
    rec_root *roots;
    size_t nroots;
    int err = rec_scan_roots(h, w, &roots, &nroots);
    t->roots = since(t);
    rec_symbols *sym = err ? NULL : rec_symbols_open(w);
    rec_naming n = {0};
    if (!err && !sym)
        err = ENOMEM;
    if (!err)
        err = name_stacks(&n, h, sym, rec_config.wrappers);
    if (!err) {
        t->names = since(t);
        if (!o) {
            err = rec_write_index(path, w, h, &n, sym, roots, nroots);
        } else {
            write_meta(o, w);
            write_names(o, &n);
            puts_(o, " \"objects\": [\n");
            for (size_t i = 0; i < h->n; i++) {
                if (i)
                    PUTL(o, ",\n");
                write_object(o, h, &n, &h->blocks[h->by_id[i]]);
            }
            write_roots(o, h, w, sym, roots, nroots);
            err = o->err;
        }
    }
    rec_symbols_close(sym); /* its open ELF files, on every path */
    return err;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* The JSON form: written beside path, renamed into place by the caller. */
static int write_json(const rec_world *w, const rec_heap *h, const char *path, const char *tmp, phases *t)
{
    out *o = calloc(1, sizeof *o + OUT_BUF); /* the buffer after it, when there is no writer */
    if (!o)
        return ENOMEM;
    o->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (o->fd < 0)
        return errno;
    int err = 0, gz_fd = ends_with(path, ".gz") ? dup(o->fd) : -1;
    if (gz_fd >= 0 && !(o->gz = gzdopen(gz_fd, "wb1"))) {
        close(gz_fd);
        err = ENOMEM;
    } else if (ends_with(path, ".gz") && gz_fd < 0) {
        err = errno;
    }
    if (!err) {
        if (h->n >= WRITER_MIN_BLOCKS)
            out_start(o, (char *)(o + 1));
        else
            o->buf = (char *)(o + 1);
        err = write_dump(o, path, w, h, t);
        int finished = out_finish(o);
        err = err ? err : finished;
    }
    if (close(o->fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    return err;
}

int rec_child_dump(const rec_world *w, const char *path)
{
    phases t = {.start = rec_now_ns()};
    rec_heap h;
    int err = rec_heap_build(&h);
    t.index = since(&t);
    if (err) {
        fprintf(stderr, "heaptool: cannot dump to %s: out of memory\n", path);
        return ENOMEM;
    }
    if (ends_with(path, ".hdx.gz")) { /* said at start already when the template was one */
        if (!rec_config.quiet_failures)
            fprintf(stderr, "heaptool: cannot dump to %s: a binary index is not compressed (name it .hdx, or "
                            ".json.gz)\n", path);
        return EINVAL;
    }
    char tmp[4200];
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) + 1 : 0;
    snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%ld", dirlen, path, path + dirlen, (long)getpid());
    err = ends_with(path, ".hdx") ? write_dump(NULL, path, w, &h, &t) : write_json(w, &h, path, tmp, &t);
    t.written = since(&t);
    if (!err && getenv("HEAPTOOL_VERBOSE")) {
        struct rusage self;
        getrusage(RUSAGE_SELF, &self);
        fprintf(stderr, "heaptool: dump %s: blocks indexed at %.3f s, roots found at %.3f s, stacks named at %.3f s, "
                "written at %.3f s; %.3f s of CPU\n", path, t.index, t.roots, t.names, t.written,
                self.ru_utime.tv_sec + self.ru_stime.tv_sec + (self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6);
    }
    if (err && !(rec_config.quiet_failures && (err == EACCES || err == ENOENT || err == EROFS)))
        fprintf(stderr, "heaptool: cannot dump to %s: %s\n", path, strerror(err));
    return err;
}
