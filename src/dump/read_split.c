/* read_split.c: the objects array on two threads.
 *
 * Invariant: the result, and the first error, are always those of one thread reading alone.
 *
 * A second thread parses the array from a record boundary guessed near the middle of what is
 * left of the input, into a loader and scratch dump of its own, while this thread parses up to
 * there. When this thread's next record starts exactly at the guessed boundary, it takes the
 * second thread's records as if it had read them itself (merge_part) and jumps to the array's
 * end. A guess that does not hold, or a second half with any problem in it, is dropped, and this
 * thread reads on alone.
 */
#include "native.h"
#include "reader.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPLIT_MIN (16u << 20)    /* smaller inputs load too fast to gain from a thread */
#define SPLIT_WINDOW (64u << 10) /* bytes searched for a record boundary */

/* The second thread of a split objects array: its own loader and scratch dump, reading from the
 * record that starts at first to the array's end. */
typedef struct split {
    pthread_t thread;
    atomic_bool stop;     /* set when its work can no longer be used */
    hd__range_source range;
    hd_error err;
    loader part;
    uint64_t line, first; /* offsets of the line it starts at and of its first record's '{' */
    int rc;               /* HD_OK when it read to the array's end */
    hd__pos end;          /* that ']', with line 1 the line of first */
    hd_progress_fn progress; /* the caller's, told both threads' bytes */
    void *progress_user;
    uint64_t reported;       /* what it was told before the split */
} split;

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* A '{' that begins a line (after blanks) whose previous line ends with ',', searched from mid
 * on: the start of a record when writers put one a line, as they should. Returns its offset and
 * sets *line to the offset of its line, or returns 0. Only a guess: the first thread checks it. */
static uint64_t guess_boundary(const hd__source *src, uint64_t mid, uint64_t *line)
{
    char *buf = malloc(SPLIT_WINDOW);
    long n = buf ? src->read_at(src->ctx, mid, buf, SPLIT_WINDOW) : -1;
    uint64_t found = 0;
    for (long i = 0; i < n && !found; i++) {
        if (buf[i] != '\n')
            continue;
        long j = i, k = i + 1;
        while (j > 0 && blank(buf[j - 1]))
            j--;
        while (k < n && blank(buf[k]))
            k++;
        if (j > 0 && buf[j - 1] == ',' && k < n && buf[k] == '{') {
            *line = mid + (uint64_t)i + 1;
            found = mid + (uint64_t)k;
        }
    }
    free(buf);
    return found;
}

static void *parse_second_half(void *arg)
{
    split *s = arg;
    loader *P = &s->part;
    hd__lexer *lx = &P->lx;
    P->ctx = S_OBJECTS;
    P->in_record = true;
    int rc = hd__lex_next(lx);
    if (rc == HD_OK && (lx->tok != HD__T_LBRACE || lx->tok_pos.offset != s->first))
        rc = HD_ESYNTAX; /* not what guess_boundary saw: the file is changing under us */
    while (rc == HD_OK && !atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        if ((rc = hd__parse_object(P)) < 0 || (rc = hd__lex_next(lx)))
            break;
        if (lx->tok == HD__T_RBRACKET) {
            s->end = lx->tok_pos;
            s->rc = HD_OK;
            return NULL;
        }
        rc = lx->tok == HD__T_COMMA ? hd__lex_next(lx) : HD_ESYNTAX;
    }
    s->rc = rc ? rc : HD_EINVAL; /* stopped */
    return NULL;
}

/* Progress of both threads, reported by this one (the caller's callback is not thread-safe):
 * never below what was reported before, and at most the second half's read position, which
 * this thread's own passes once it reads on after the array. */
static void split_progress(uint64_t done, uint64_t total, void *user)
{
    split *s = user;
    done = (done < s->line ? done : s->line) + atomic_load(&s->range.done);
    s->progress(done > s->reported ? done : s->reported, total, s->progress_user);
}

static void split_free(split *s)
{
    hd__loader_free(&s->part);
    hd_dump_free(s->part.d);
    hd__range_source_free(&s->range);
    free(s);
}

/* With the objects array's '[' current: starts a second thread on the array's second half when
 * that pays and the input allows it; otherwise, or when anything fails, leaves all to this one. */
static void split_start(loader *L)
{
    hd__lexer *lx = &L->lx;
    uint64_t here = lx->base + lx->pos, total = lx->progress_total, line = 0, first;
    if (L->on_problem || L->threads == 1 || !lx->src.read_at || total <= here)
        return; /* validation reports problems in file order as it goes: one thread */
    if (L->threads == 0 && (total - here < SPLIT_MIN || sysconf(_SC_NPROCESSORS_ONLN) < 2))
        return;
    if (!(first = guess_boundary(&lx->src, here + (total - here) / 2, &line)))
        return;
    split *s = calloc(1, sizeof *s);
    hd__source src;
    if (!s)
        return;
    if (hd__range_source_init(&s->range, lx->src, &src) ||
        hd__loader_init(&s->part, src, lx->name, &s->err) ||
        hd__lex_seek(&s->part.lx, (hd__pos){line, 1, 1})) {
        split_free(s);
        return;
    }
    s->line = line;
    s->first = first;
    atomic_init(&s->stop, false);
    if (pthread_create(&s->thread, NULL, parse_second_half, s) != 0) {
        split_free(s);
        return;
    }
    if (lx->progress) {
        s->progress = lx->progress;
        s->progress_user = lx->progress_user;
        s->reported = lx->progress_last;
        lx->progress = split_progress;
        lx->progress_user = s;
    }
    L->split = s;
    L->split_at = first;
}

/* Part P's strings replayed into this dump's table in the order P made them, so the arena comes
 * out byte for byte as one thread would have made it. In a part, labels are appended one per
 * object in object order and edge names are interned: the two increasing lists of offsets,
 * merged, are that order, and each entry ends where the next begins. Rewrites P's labels in place
 * and fills names[i] (P's interned offsets, increasing) and renamed[i] (their offsets here). */
static int merge_strings(loader *L, hd_dump *p, uint64_t *names, uint32_t nnames, uint32_t *renamed)
{
    hd__strtab *st = &L->d->strings;
    const char *text = p->strings.data;
    uint32_t o = 0, ni = 0, *label = p->obj_label;
    for (uint64_t at = 1; at < p->strings.len;) {
        while (o < p->nobjects && label[o] == HD_NONE)
            o++;
        bool is_label = o < p->nobjects && label[o] == at;
        if (!is_label && (ni == nnames || names[ni] != at))
            return hd__problem(L, HD_EINVAL, L->lx.tok_pos, "internal: unaccounted string in a part");
        uint64_t end = p->strings.len;
        uint32_t next_name = ni + !is_label, q = o + is_label;
        while (q < p->nobjects && label[q] == HD_NONE)
            q++;
        if (q < p->nobjects)
            end = label[q];
        if (next_name < nnames && names[next_name] < end)
            end = names[next_name];
        size_t len = (size_t)(end - at - 1);
        uint32_t off = is_label ? hd__strtab_append(st, text + at, len)
                                : hd__strtab_intern(st, text + at, len);
        if (off == UINT32_MAX)
            return hd__oom(L);
        if (is_label)
            label[o++] = off;
        else
            renamed[ni++] = off;
        at = end;
    }
    return HD_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

#define MOVE_STEP (8u << 20)

/* Moves src[0..n) to dst[at..at+n) of an array grown to cap elements, from the end and shrinking
 * src as it goes, so that merging never holds more than a few MB twice. Frees src. */
static bool move_array(void **dst, void **src, size_t at, size_t n, size_t cap, size_t size)
{
    char *grown = realloc(*dst, cap * size);
    if (!grown)
        return false;
    *dst = grown;
    for (size_t left = n, step = MOVE_STEP / size; left > 0;) {
        size_t k = left < step ? left : step;
        left -= k;
        memcpy(grown + (at + left) * size, (char *)*src + left * size, k * size);
        char *shrunk = left ? realloc(*src, left * size) : NULL; /* a shrink: fails only harmlessly */
        if (shrunk)
            *src = shrunk;
    }
    free(*src);
    *src = NULL;
    return true;
}

/* Appends part P's records to this dump as if this thread had read them: strings, then types and
 * sites first used there (placeholders, in order of first use, as type_index would make them),
 * then objects and references. 1 when merged, 0 when declined (a limit would be crossed: the
 * record crossing it must be the one reported), < 0 on error. */
static int merge_part(loader *L, loader *P)
{
    hd_dump *d = L->d, *p = P->d;
    uint32_t n1 = d->nobjects, n2 = p->nobjects;
    uint64_t e1 = d->nedges, e2 = p->nedges;
    if ((uint64_t)n1 + n2 >= UINT32_MAX - 2 || e1 + e2 >= UINT32_MAX - 2 ||
        (uint64_t)d->strings.len + p->strings.len >= UINT32_MAX - 1)
        return 0;
    uint32_t nnames = p->strings.used, *renamed = malloc(((size_t)nnames + 1) * sizeof *renamed);
    uint32_t *tmap = malloc(((size_t)p->ntypes + 1) * sizeof *tmap);
    uint32_t *smap = malloc(((size_t)p->nsites + 1) * sizeof *smap);
    uint64_t *names = malloc(((size_t)nnames + 1) * sizeof *names);
    hd__idmap name_map = {0};
    int rc = HD_ENOMEM;
    if (!renamed || !tmap || !smap || !names)
        goto done;
    for (uint32_t i = 0, k = 0; i <= p->strings.mask; i++)
        if (p->strings.slots[i])
            names[k++] = p->strings.slots[i];
    qsort(names, nnames, sizeof *names, cmp_u64);
    if ((rc = merge_strings(L, p, names, nnames, renamed)))
        goto done;
    hd__strtab_free(&p->strings); /* copied: no need to hold it twice */
    rc = HD_ENOMEM;
    if (hd__idmap_init_for(&name_map, names, nnames))
        goto done;
    for (uint32_t i = 0; i < nnames; i++)
        hd__idmap_insert(&name_map, names, i);
    for (uint64_t e = 0; e < e2; e++)
        if (p->edge_name[e])
            p->edge_name[e] = renamed[hd__idmap_find(&name_map, names, p->edge_name[e])];
    for (uint32_t t = 0; t < p->ntypes; t++)
        if ((rc = hd__type_index(L, p->type_id[t], n1 + P->type_user[t], &tmap[t])))
            goto done;
    /* The second part parses only the objects array, so its sites are all placeholders (first
     * used by one of its objects), never SITE_DEFINED, and n1 + that index cannot wrap. */
    for (uint32_t s = 0; s < p->nsites; s++) {
        assert(P->site_user[s] != SITE_DEFINED);
        if ((rc = hd__site_index(L, p->site_id[s], n1 + P->site_user[s], &smap[s])))
            goto done;
    }
    for (uint32_t o = 0; o < n2; o++) {
        p->obj_type[o] = tmap[p->obj_type[o]];
        p->obj_site[o] = p->obj_site[o] == HD_NONE ? HD_NONE : smap[p->obj_site[o]];
        p->edge_offset[o] += (uint32_t)e1;
    }
    size_t cap = (size_t)n1 + n2;
    rc = HD_ENOMEM;
    if (!move_array((void **)&d->obj_id, (void **)&p->obj_id, n1, n2, cap, 8) ||
        !move_array((void **)&d->obj_size, (void **)&p->obj_size, n1, n2, cap, 8) ||
        !move_array((void **)&d->obj_type, (void **)&p->obj_type, n1, n2, cap, 4) ||
        !move_array((void **)&d->obj_site, (void **)&p->obj_site, n1, n2, cap, 4) ||
        !move_array((void **)&d->obj_label, (void **)&p->obj_label, n1, n2, cap, 4) ||
        !move_array((void **)&d->obj_rc, (void **)&p->obj_rc, n1, n2, cap, 4) ||
        !move_array((void **)&d->obj_gen, (void **)&p->obj_gen, n1, n2, cap, 1) ||
        !move_array((void **)&d->obj_flags, (void **)&p->obj_flags, n1, n2, cap, 1) ||
        !move_array((void **)&d->edge_offset, (void **)&p->edge_offset, n1, n2, cap + 1, 4) ||
        !move_array((void **)&L->edge_tid, (void **)&P->edge_tid, e1, e2, e1 + e2, 8) ||
        !move_array((void **)&d->edge_name, (void **)&p->edge_name, e1, e2, e1 + e2, 4) ||
        !hd__native_merge(d, p, n1, e1))
        goto done;
    d->second_half = n1;
    d->objects_cap = (uint32_t)cap;
    d->nobjects = (uint32_t)cap;
    d->edges_cap = d->nedges = e1 + e2;
    rc = 1;
done:
    if (rc == HD_ENOMEM)
        rc = hd__oom(L);
    hd__idmap_free(&name_map);
    free(renamed);
    free(tmap);
    free(smap);
    free(names);
    return rc;
}

/* At the boundary, with the second half read cleanly, its records join this dump and the lexer
 * moves to the array's ']'. */
int hd__split_finish(loader *L, bool at_boundary)
{
    split *s = L->split;
    hd__lexer *lx = &L->lx;
    L->split = NULL;
    if (s->progress) {
        lx->progress = s->progress;
        lx->progress_user = s->progress_user;
    }
    if (!at_boundary)
        atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    int rc = at_boundary && s->rc == HD_OK ? merge_part(L, &s->part) : 0;
    if (rc == 1) { /* the part's line 1 is the line of its first record, this lexer's current one */
        hd__pos end = {s->end.offset, lx->line + s->end.line - 1, s->end.column};
        if (hd__lex_seek(lx, (hd__pos){end.offset + 1, end.line, end.column + 1}) != HD_OK)
            rc = hd__lex_fail(lx, HD_EIO, end, "cannot read on after the objects array");
        lx->open = 1; /* the seek forgets the nesting: past the top-level array, only '{' is open */
        lx->tok = HD__T_RBRACKET;
        lx->tok_pos = end;
    }
    split_free(s);
    return rc;
}

int hd__read_objects(loader *L)
{
    if (L->lx.tok == HD__T_LBRACKET)
        split_start(L);
    int rc = hd__each_element(L, S_OBJECTS, hd__parse_object);
    if (L->split) /* the array ended, or failed, before the boundary */
        hd__split_finish(L, false);
    return rc;
}
