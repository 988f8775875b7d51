/* test_binary.c: the binary index at the library's level. A dump opened from its index answers
 * every accessor and analysis as the dump loaded from JSON (the oracle), on random graphs and the
 * samples; an index cut at every byte, or with any one byte changed, is refused with an
 * hd_error naming an offset, never opened, crashed on or leaked (this suite runs under ASan in
 * make check); and the JSON written back from an index loads to the same graph. */
#include "fuzz/reseal.h"
#include "heapdump.h"
#include "random_dump.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *buf = malloc(*len ? *len : 1);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

/* d's index with reachability and dominators, as bytes (*len). */
static char *index_of(const hd_dump *d, size_t *len)
{
    char path[] = "/tmp/test_binary_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    hd_reach *reach = NULL;
    hd_dominators *dom = NULL;
    hd_error err;
    cr_assert_eq(hd_reach_compute(d, &reach), HD_OK);
    cr_assert_eq(hd_dominators_compute(d, &dom), HD_OK);
    cr_assert_eq(hd_index_write(d, reach, dom, NULL, path, &err), HD_OK, "%s", err.message);
    hd_reach_free(reach);
    hd_dominators_free(dom);
    char *data = slurp(path, len);
    cr_assert(hd_is_index(path));
    unlink(path);
    return data;
}

/* The index of a random graph of n objects (seed 7, three references and 50 roots), as bytes. */
static unsigned char *random_index(uint32_t n, size_t *len)
{
    rd_graph g;
    rd_random(&g, 7, n, 3, 50);
    hd_dump *json = rd_load(&g);
    rd_free(&g);
    unsigned char *data = (unsigned char *)index_of(json, len);
    hd_dump_free(json);
    return data;
}

static void same_graph(const hd_dump *a, const hd_dump *b)
{
    cr_assert_eq(hd_object_count(a), hd_object_count(b));
    cr_assert_eq(hd_edge_count(a), hd_edge_count(b));
    cr_assert_eq(hd_root_count(a), hd_root_count(b));
    cr_assert_eq(hd_weakref_count(a), hd_weakref_count(b));
    cr_assert_eq(hd_type_count(a), hd_type_count(b));
    for (uint32_t t = 0; t < hd_type_count(a); t++)
        cr_assert(hd_type_id(a, t) == hd_type_id(b, t) && !strcmp(hd_type_name(a, t), hd_type_name(b, t)) &&
                  hd_type_flags(a, t) == hd_type_flags(b, t));
    for (uint32_t o = 0; o < hd_object_count(a); o++) {
        cr_assert(hd_object_id(a, o) == hd_object_id(b, o) && hd_object_size(a, o) == hd_object_size(b, o) &&
                  hd_object_type(a, o) == hd_object_type(b, o) && hd_object_site(a, o) == hd_object_site(b, o));
        cr_assert_eq(hd_object_find(b, hd_object_id(a, o)), o);
        uint64_t f1, e1, f2, e2;
        hd_object_edges(a, o, &f1, &e1);
        hd_object_edges(b, o, &f2, &e2);
        cr_assert(f1 == f2 && e1 == e2);
        for (uint64_t e = f1; e < e1; e++)
            cr_assert(hd_edge_target(a, e) == hd_edge_target(b, e) && !strcmp(hd_edge_name(a, e), hd_edge_name(b, e)));
    }
    for (uint32_t r = 0; r < hd_root_count(a); r++)
        cr_assert(hd_root_object(a, r) == hd_root_object(b, r) && hd_root_kind(a, r) == hd_root_kind(b, r));
}

/* The cycles of a and b (hd_cycles_find: Tarjan's from JSON, the stored ones from an index), and
 * each object's cycle number. */
static void same_cycles(const hd_dump *a, const hd_dump *b)
{
    hd_cycles *ca, *cb;
    cr_assert_eq(hd_cycles_find(a, NULL, &ca), HD_OK);
    cr_assert_eq(hd_cycles_find(b, NULL, &cb), HD_OK);
    cr_assert(ca->count == cb->count && ca->in_cycles == cb->in_cycles);
    for (uint32_t k = 0; k < ca->count; k++) {
        const hd_cycle *x = &ca->cycles[k], *y = &cb->cycles[k];
        cr_assert(x->nmembers == y->nmembers && x->size == y->size && x->state == y->state &&
                  x->has_finalizer == y->has_finalizer && x->has_legacy_finalizer == y->has_legacy_finalizer &&
                  x->length == y->length, "cycle %u", k);
        cr_assert(!memcmp(x->members, y->members, x->nmembers * sizeof *x->members) &&
                  !memcmp(x->objects, y->objects, (x->length + 1) * sizeof *x->objects) &&
                  !memcmp(x->edges, y->edges, x->length * sizeof *x->edges), "cycle %u", k);
    }
    hd_cycles_free(ca);
    hd_cycles_free(cb);
    uint32_t *na, *nb;
    cr_assert_eq(hd_cycle_numbers(a, &na), HD_OK);
    cr_assert_eq(hd_cycle_numbers(b, &nb), HD_OK);
    cr_assert(!memcmp(na, nb, hd_object_count(a) * sizeof *na));
    free(na);
    free(nb);
}

static void same_analyses(const hd_dump *a, const hd_dump *b)
{
    same_cycles(a, b);
    hd_dominators *da, *db;
    hd_reach *ra, *rb;
    cr_assert_eq(hd_dominators_compute(a, &da), HD_OK);
    cr_assert_eq(hd_dominators_compute(b, &db), HD_OK);
    cr_assert_eq(hd_reach_compute(a, &ra), HD_OK);
    cr_assert_eq(hd_reach_compute(b, &rb), HD_OK);
    cr_assert_eq(hd_dominators_reachable(da), hd_dominators_reachable(db));
    cr_assert(ra->nlive == rb->nlive && ra->nunreachable == rb->nunreachable);
    for (uint32_t o = 0; o < hd_object_count(a); o++) {
        cr_assert(hd_dominator_of(da, o) == hd_dominator_of(db, o) && hd_retained_size(da, o) == hd_retained_size(db, o));
        cr_assert(ra->state[o] == rb->state[o] && ra->depth[o] == rb->depth[o] && ra->parent[o] == rb->parent[o] &&
                  ra->via[o] == rb->via[o]);
        hd_path *pa, *pb;
        cr_assert_eq(hd_path_find(a, o, &pa), HD_OK);
        cr_assert_eq(hd_path_find(b, o, &pb), HD_OK);
        cr_assert(pa->nhops == pb->nhops && pa->root == pb->root);
        for (uint32_t h = 0; h < pa->nhops; h++)
            cr_assert(pa->hops[h].object == pb->hops[h].object && pa->hops[h].edge == pb->hops[h].edge);
        hd_path_free(pa);
        hd_path_free(pb);
        /* The index's REF_EDGE answers as the pass over every edge does. */
        uint32_t *sa, *ea, *sb, *eb;
        uint64_t na, nb;
        cr_assert_eq(hd_referrers_of(a, o, &sa, &ea, &na), HD_OK);
        cr_assert_eq(hd_referrers_of(b, o, &sb, &eb, &nb), HD_OK);
        cr_assert_eq(na, nb, "object %u: %llu referrers, from the index %llu", o, (unsigned long long)na,
                     (unsigned long long)nb);
        for (uint64_t k = 0; k < na; k++)
            cr_assert(sa[k] == sb[k] && ea[k] == eb[k], "object %u: referrer %llu differs", o, (unsigned long long)k);
        free(sa);
        free(sb);
    }
    /* The index's DOM_TOP ranks as the ranking over every object, at every length. */
    uint32_t n = hd_object_count(a), *ta = malloc(((size_t)n + 1) * sizeof *ta), *tb = malloc(((size_t)n + 1) * sizeof *tb);
    for (uint32_t k = 0; k <= n + 1 && ta && tb; k += 1 + k / 4) {
        uint32_t ka = hd_dominators_top(da, k < n ? k : n, ta), kb = hd_dominators_top(db, k < n ? k : n, tb);
        cr_assert(ka == kb && !memcmp(ta, tb, (size_t)ka * sizeof *ta), "the top %u differ", k);
    }
    free(ta);
    free(tb);
    hd_dominators_free(da);
    hd_dominators_free(db);
    hd_reach_free(ra);
    hd_reach_free(rb);
}

static hd_dump *open_index(const char *data, size_t len)
{
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load_buffer(data, len, "x.hdx", NULL, &d, &err), HD_OK, "%s", err.message);
    cr_assert(hd_dump_is_index(d));
    return d;
}

Test(binary, random_graphs_answer_as_from_json)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rd_graph g;
        rd_random(&g, seed, 1 + (uint32_t)(seed * 7 % 90), 1 + seed % 4, 1 + seed % 5);
        hd_dump *json = rd_load(&g);
        size_t len;
        char *data = index_of(json, &len);
        hd_dump *ix = open_index(data, len);
        same_graph(json, ix);
        same_analyses(json, ix);
        hd_dump_free(ix);
        free(data);
        hd_dump_free(json);
        rd_free(&g);
    }
}

/* hd_index_build writes the graph on a second thread while it computes the analyses: the file
 * is byte for byte the one hd_index_write makes after them (index_of), on small graphs and on one
 * big enough for the two threads to overlap. */
Test(binary, building_while_writing_gives_the_same_bytes)
{
    for (uint64_t seed = 1; seed <= 12; seed++) {
        rd_graph g;
        rd_random(&g, seed, seed == 12 ? 200000 : 1 + (uint32_t)(seed * 13 % 90), 1 + seed % 4, 1 + seed % 5);
        hd_dump *d = rd_load(&g);
        size_t len, built_len;
        char *data = index_of(d, &len);
        char path[] = "/tmp/test_binary_XXXXXX";
        close(mkstemp(path));
        hd_error err;
        cr_assert_eq(hd_index_build(d, NULL, path, &err), HD_OK, "%s", err.message);
        char *built = slurp(path, &built_len);
        unlink(path);
        cr_assert(built_len == len && !memcmp(built, data, len), "seed %llu", (unsigned long long)seed);
        free(built);
        free(data);
        hd_dump_free(d);
        rd_free(&g);
    }
}

static int to_buffer(const void *data, size_t len, void *user)
{
    FILE *f = user;
    return fwrite(data, 1, len, f) == len ? 0 : -1;
}

Test(binary, samples_round_trip_through_json)
{
    const char *samples[] = {"samples/dumps/cycle.json", "samples/dumps/leak_cases.json", "samples/dumps/weak_cache.json",
                             "tests/data/v8/tiny.heapsnapshot"};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        hd_dump *json = NULL;
        hd_error err;
        cr_assert_eq(hd_load(samples[i], NULL, &json, &err), HD_OK, "%s", err.message);
        size_t len;
        char *data = index_of(json, &len);
        hd_dump *ix = open_index(data, len);
        same_graph(json, ix);
        same_analyses(json, ix);
        char *text = NULL;
        size_t tlen = 0;
        FILE *mem = open_memstream(&text, &tlen);
        cr_assert_eq(hd_dump_write_json(ix, to_buffer, mem), HD_OK);
        fclose(mem);
        hd_dump *back = NULL;
        cr_assert_eq(hd_load_buffer(text, tlen, "back.json", NULL, &back, &err), HD_OK, "%s: %s", samples[i], err.message);
        same_graph(json, back);
        same_analyses(json, back);
        hd_dump_free(back);
        free(text);
        hd_dump_free(ix);
        free(data);
        hd_dump_free(json);
    }
}

/* Refused, with a message that says where. */
static void refused(const char *data, size_t len, const char *what, size_t at)
{
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(data, len, "x.hdx", NULL, &d, &err);
    cr_assert(rc == HD_EFORMAT || rc == HD_EVERSION, "%s at %zu: opened (rc %d)", what, at, rc);
    cr_assert_null(d);
    cr_assert(!strncmp(err.message, "index: ", 7) && !strchr(err.message, '\n'), "%s at %zu: %s", what, at, err.message);
    cr_assert(strstr(err.message, "offset") || strstr(err.message, "truncated"), "%s at %zu: %s", what, at, err.message);
}

Test(binary, every_cut_and_every_changed_byte_is_refused)
{
    hd_dump *json = NULL;
    hd_error err;
    cr_assert_eq(hd_load("samples/dumps/leak_cases.json", NULL, &json, &err), HD_OK);
    size_t len;
    char *data = index_of(json, &len);
    for (size_t cut = 8; cut < len; cut++)
        refused(data, cut, "cut", cut);
    char *copy = malloc(len);
    cr_assert(copy);
    for (size_t at = 8; at < len; at++) { /* the magic's own bytes make it another format */
        memcpy(copy, data, len);
        copy[at] ^= 0x01;
        refused(copy, len, "bit flipped", at);
    }
    free(copy);
    free(data);
    hd_dump_free(json);
}

/* A library caller that set no damage handler gets every error from hd_load: big sections, which
 * heaptool verifies only on first use, are verified whole at open for it. */
Test(binary, without_a_damage_handler_an_index_file_is_verified_at_open)
{
    size_t len;
    char *data = (char *)random_index(60000, &len); /* big enough for sections verified on first use (§7.1) */
    for (size_t part = 1; part < 16; part++) { /* past the header and table: in every section */
        char path[] = "/tmp/test_binary_XXXXXX";
        int fd = mkstemp(path);
        cr_assert(fd >= 0);
        size_t at = len / 16 * part;
        data[at] ^= 0x10;
        cr_assert_eq(write(fd, data, len), (ssize_t)len);
        close(fd);
        data[at] ^= 0x10;
        hd_dump *d = NULL;
        hd_error err;
        int rc = hd_load(path, NULL, &d, &err);
        unlink(path);
        cr_assert(rc == HD_EFORMAT, "byte %zu of %zu changed: opened (rc %d)", at, len, rc);
        cr_assert_null(d);
        cr_assert(strstr(err.message, "offset"), "%s", err.message);
    }
    free(data);
}

/* data written to a new file named by path's template (mkstemp's). */
static void to_temporary_file(const void *data, size_t len, char *path)
{
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void exit_on_damage(const hd_error *err)
{
    (void)err;
    _exit(3);
}

/* A write into a dump's arrays from an index (a bug in the caller: they are read-only) faults
 * again after its section has been verified and made readable: that fault goes on to the
 * default action, a SIGSEGV, instead of being retried for ever. Once on a section verified by the
 * write's own fault, once on one a read verified first. */
static void stray_write(bool read_first)
{
    size_t len;
    char *data = (char *)random_index(60000, &len);
    char path[] = "/tmp/test_binary_XXXXXX";
    to_temporary_file(data, len, path);
    free(data);
    hd_set_index_damage_handler(exit_on_damage);
    signal(SIGSEGV, SIG_DFL); /* what the index's handler passes the fault on to (not ASan's report) */
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load(path, NULL, &d, &err);
    unlink(path);
    cr_assert_eq(rc, HD_OK, "%s", err.message);
    volatile uint32_t *targets = (volatile uint32_t *)(uintptr_t)hd_edge_targets(d);
    if (read_first)
        cr_assert_lt(targets[5], hd_object_count(d));
    targets[5] = 0;
}

Test(binary, a_stray_write_into_a_lazy_section_is_a_fault, .signal = SIGSEGV, .timeout = 30) { stray_write(false); }
Test(binary, a_stray_write_into_a_verified_section_is_a_fault, .signal = SIGSEGV, .timeout = 30) { stray_write(true); }

/* A section that fails a check needing all of it (here OBJ_SIZE against META's total_size, one
 * size edited and every checksum made right) is refused by every verification, not the first
 * only, and its bytes never become readable. */
Test(binary, a_section_failing_its_whole_check_is_refused_every_time)
{
    size_t len;
    unsigned char *data = random_index(60000, &len);
    uint32_t n;
    memcpy(&n, data + 12, sizeof n);
    bool edited = false;
    for (uint32_t i = 0; i < n; i++) {
        hdx_entry e;
        memcpy(&e, data + HDX_HEADER_SIZE + i * HDX_ENTRY_SIZE, sizeof e);
        if (e.id == HDX_OBJ_SIZE) {
            data[e.offset + 5 * 8] ^= 0x01; /* object 5's size, still in range */
            edited = true;
        }
    }
    cr_assert(edited);
    reseal(data, len);
    char path[] = "/tmp/test_binary_XXXXXX";
    to_temporary_file(data, len, path);
    free(data);
    hd_set_index_damage_handler(exit_on_damage); /* sections verified on first use */
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load(path, NULL, &d, &err);
    unlink(path);
    cr_assert_eq(rc, HD_OK, "%s", err.message);
    for (int time = 0; time < 3; time++) {
        cr_assert_eq(hd_index_verify(d, &err), HD_EFORMAT, "verification %d passed", time + 1);
        cr_assert(strstr(err.message, "OBJ_SIZE") || strstr(err.message, "total_size"), "%s", err.message);
    }
    hd_dump_free(d);
}

/* The sections of an index by id, in data (NULL when absent). */
static void sections_of(const unsigned char *data, hdx_entry *by_id)
{
    uint32_t n;
    memcpy(&n, data + 12, sizeof n);
    memset(by_id, 0, HDX_NSECTIONS * sizeof *by_id);
    for (uint32_t i = 0; i < n; i++) {
        hdx_entry e;
        memcpy(&e, data + HDX_HEADER_SIZE + i * HDX_ENTRY_SIZE, sizeof e);
        by_id[e.id] = e;
    }
}

static uint32_t u32_at(const unsigned char *data, const hdx_entry *e, uint64_t i)
{
    uint32_t v;
    memcpy(&v, data + e->offset + 4 * i, 4);
    return v;
}

static void set_u32(unsigned char *data, const hdx_entry *e, uint64_t i, uint32_t v) { memcpy(data + e->offset + 4 * i, &v, 4); }

/* Hand edits that keep every value in range, each breaking what one check of the new sections
 * holds: a dominator chain that loops, two referrers out of order, a referrer listed twice, a
 * block of referrers that starts one late, the best two retainers swapped, and the ranking's
 * last replaced by one further down (the check of the whole of DOM_RETAINED). */
enum edit { LOOPING_DOMINATORS, REFERRERS_SWAPPED, REFERRER_TWICE, BLOCK_LATE, TOP_SWAPPED, TOP_INCOMPLETE, NEDITS };

static bool make_edit(unsigned char *data, enum edit what)
{
    hdx_entry s[HDX_NSECTIONS];
    sections_of(data, s);
    const hdx_entry *idom = &s[HDX_DOM_IDOM], *edges = &s[HDX_REF_EDGE], *blocks = &s[HDX_REF_BLOCK], *top = &s[HDX_DOM_TOP];
    uint64_t nblocks = blocks->count - 1, n = idom->count;
    switch (what) {
    case LOOPING_DOMINATORS: /* o's dominator x made dominated by o */
        for (uint32_t o = 0; o < n; o++) {
            uint32_t x = u32_at(data, idom, o);
            if (x < n) {
                set_u32(data, idom, x, o);
                return true;
            }
        }
        return false;
    case REFERRERS_SWAPPED: case REFERRER_TWICE: case BLOCK_LATE:
        for (uint64_t b = nblocks / 2; b < nblocks; b++) {
            uint32_t j = u32_at(data, blocks, b);
            if (u32_at(data, blocks, b + 1) - j < 2)
                continue;
            uint32_t e0 = u32_at(data, edges, j), e1 = u32_at(data, edges, j + 1);
            if (what == BLOCK_LATE)
                set_u32(data, blocks, b, j + 1);
            else
                set_u32(data, edges, j, e1), set_u32(data, edges, j + 1, what == REFERRER_TWICE ? e1 : e0);
            return true;
        }
        return false;
    case TOP_SWAPPED: case TOP_INCOMPLETE: {
        if (top->count < 2)
            return false;
        uint32_t first = u32_at(data, top, 0), second = u32_at(data, top, 1), last = u32_at(data, top, top->count - 1);
        if (what == TOP_SWAPPED) {
            set_u32(data, top, 0, second), set_u32(data, top, 1, first);
            return true;
        }
        uint64_t best = 0; /* the reachable object ranking next below the last: it takes the last's place */
        uint32_t below = HD_NONE;
        for (uint32_t o = 0; o < n; o++) {
            uint64_t r, rl;
            memcpy(&r, data + s[HDX_DOM_RETAINED].offset + 8 * (uint64_t)o, 8);
            memcpy(&rl, data + s[HDX_DOM_RETAINED].offset + 8 * (uint64_t)last, 8);
            bool ranks_below_last = r < rl || (r == rl && o > last);
            if (u32_at(data, idom, o) != HD_NONE && ranks_below_last && (below == HD_NONE || r > best || (r == best && o < below)))
                best = r, below = o;
        }
        if (below == HD_NONE)
            return false;
        set_u32(data, top, top->count - 1, below);
        return true;
    }
    case NEDITS: break;
    }
    return false;
}

/* A hand-edited index (copy, freed here) with its checksums made right, opened from a file and
 * verified whole: what hd_load or hd_index_verify says of it. */
static int reseal_open_and_verify(unsigned char *copy, size_t len, hd_error *err)
{
    reseal(copy, len);
    char path[] = "/tmp/test_binary_XXXXXX";
    to_temporary_file(copy, len, path);
    free(copy);
    hd_dump *d = NULL;
    int rc = hd_load(path, NULL, &d, err);
    unlink(path);
    if (rc == HD_OK) {
        rc = hd_index_verify(d, err);
        hd_dump_free(d);
    }
    return rc;
}

/* Each edit, resealed, on an index big enough for its sections to be verified chunk by chunk
 * on first use: refused by hd_load or by verifying the rest (`heaptool validate`), naming the
 * section it broke. */
Test(binary, hand_edits_of_dominators_and_referrers_are_refused)
{
    static const char *const names[NEDITS][2] = {{"DOM_IDOM", NULL}, {"REF_EDGE", NULL}, {"REF_EDGE", NULL},
                                                 {"REF_EDGE", "REF_BLOCK"}, {"DOM_TOP", NULL}, {"DOM_TOP", NULL}};
    size_t len;
    unsigned char *data = random_index(60000, &len);
    hd_set_index_damage_handler(exit_on_damage);
    for (int what = 0; what < NEDITS; what++) {
        unsigned char *copy = malloc(len);
        memcpy(copy, data, len);
        cr_assert(make_edit(copy, (enum edit)what), "edit %d found nothing to edit", what);
        hd_error err;
        int rc = reseal_open_and_verify(copy, len, &err);
        cr_assert_eq(rc, HD_EFORMAT, "edit %d was not refused", what);
        bool named = strstr(err.message, names[what][0]) || (names[what][1] && strstr(err.message, names[what][1]));
        cr_assert(named, "edit %d: %s", what, err.message);
    }
    free(data);
}

/* The table entry of section id in an index's bytes (fails the test when it has none). */
static hdx_entry entry_of(const unsigned char *data, uint32_t id)
{
    uint32_t n;
    memcpy(&n, data + 12, sizeof n);
    for (uint32_t i = 0; i < n; i++) {
        hdx_entry e;
        memcpy(&e, data + HDX_HEADER_SIZE + i * HDX_ENTRY_SIZE, sizeof e);
        if (e.id == id)
            return e;
    }
    cr_assert_fail("no section %u", id);
    return (hdx_entry){0};
}

/* Whether o is one of the objects component 0's stored cycle reaches. */
static bool on_first_cycle(const unsigned char *data, uint32_t o)
{
    hdx_entry ps = entry_of(data, HDX_CYCLE_PATH_START), p = entry_of(data, HDX_CYCLE_PATH), t = entry_of(data, HDX_EDGE_TARGET);
    const uint32_t *path_start = (const uint32_t *)(data + ps.offset), *path = (const uint32_t *)(data + p.offset);
    const uint32_t *target = (const uint32_t *)(data + t.offset);
    for (uint32_t i = path_start[0]; i < path_start[1]; i++)
        if (target[path[i]] == o)
            return true;
    return false;
}

/* The cyclic components' whole checks, on sections verified chunk by chunk on first use: two
 * members of a component swapped (every value in range, every checksum made right; two the
 * stored cycle does not reach, which the open checks) is refused by every verification, as
 * any whole-section failure. */
Test(binary, components_out_of_order_are_refused_every_time)
{
    size_t len;
    unsigned char *data = random_index(100000, &len); /* one big component: CYCLE_MEMBER verified on first use */
    hdx_entry m = entry_of(data, HDX_CYCLE_MEMBER);
    cr_assert_geq(m.count * m.elem_size, 256 << 10, "CYCLE_MEMBER too small to be lazy");
    uint32_t *member = (uint32_t *)(data + m.offset), at = (uint32_t)m.count / 2;
    while (on_first_cycle(data, member[at]) || on_first_cycle(data, member[at + 1]))
        at++;
    uint32_t t = member[at + 1];
    member[at + 1] = member[at];
    member[at] = t;
    reseal(data, len);
    char path[] = "/tmp/test_binary_XXXXXX";
    to_temporary_file(data, len, path);
    free(data);
    hd_set_index_damage_handler(exit_on_damage);
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load(path, NULL, &d, &err);
    unlink(path);
    cr_assert_eq(rc, HD_OK, "%s", err.message);
    for (int time = 0; time < 3; time++) {
        cr_assert_eq(hd_index_verify(d, &err), HD_EFORMAT, "verification %d passed", time + 1);
        cr_assert(strstr(err.message, "CYCLE_MEMBER") && strstr(err.message, "does not follow"), "%s", err.message);
    }
    hd_dump_free(d);
}

/* The components' order is not taken from the file (formats/heapdump-binary.md §7): stored last
 * to first, with every checksum made right, they are listed as from the JSON. */
Test(binary, the_components_order_is_made_again)
{
    hd_dump *json = NULL;
    hd_error err;
    cr_assert_eq(hd_load("samples/dumps/cycle.json", NULL, &json, &err), HD_OK);
    size_t len;
    unsigned char *data = (unsigned char *)index_of(json, &len);
    hdx_entry es = entry_of(data, HDX_CYCLE_START), em = entry_of(data, HDX_CYCLE_MEMBER);
    hdx_entry eps = entry_of(data, HDX_CYCLE_PATH_START), ep = entry_of(data, HDX_CYCLE_PATH);
    uint32_t *start = (uint32_t *)(data + es.offset), *member = (uint32_t *)(data + em.offset);
    uint32_t *path_start = (uint32_t *)(data + eps.offset), *path = (uint32_t *)(data + ep.offset);
    uint32_t nc = (uint32_t)es.count - 1;
    cr_assert_geq(nc, 2);
    uint32_t *old = malloc((em.count + ep.count + 2 * es.count) * sizeof *old), *ns = old + em.count + ep.count;
    cr_assert(old);
    memcpy(old, member, em.count * sizeof *old);
    memcpy(old + em.count, path, ep.count * sizeof *old);
    memcpy(ns, start, es.count * sizeof *old);
    memcpy(ns + es.count, path_start, es.count * sizeof *old);
    for (uint32_t k = 0, at = 0, pat = 0; k < nc; k++) { /* component nc - 1 - k goes k-th */
        uint32_t j = nc - 1 - k, *ps = ns + es.count;
        memcpy(member + at, old + ns[j], (ns[j + 1] - ns[j]) * sizeof *old);
        memcpy(path + pat, old + em.count + ps[j], (ps[j + 1] - ps[j]) * sizeof *old);
        at += ns[j + 1] - ns[j];
        pat += ps[j + 1] - ps[j];
        start[k + 1] = at;
        path_start[k + 1] = pat;
    }
    free(old);
    reseal(data, len);
    hd_dump *ix = open_index((const char *)data, len);
    same_cycles(json, ix);
    hd_dump_free(ix);
    free(data);
    hd_dump_free(json);
}

/* A random graph of n objects (seed) whose last 3,000 objects refer only within groups of 2, 3 or
 * 5 (each to the next of its group, so a group is a cycle when every member has a reference):
 * the giant component of the rest, and small ones beside it. */
static hd_dump *giant_and_small(uint64_t seed, uint32_t n)
{
    rd_graph g;
    rd_random(&g, seed, n, 3, 50);
    for (uint32_t o = n - 3000, size = 2; o < n; o += size, size = size == 2 ? 3 : size == 3 ? 5 : 2)
        for (uint32_t i = 0; i < size && o + i < n; i++)
            for (uint32_t e = g.off[o + i]; e < g.off[o + i + 1]; e++)
                g.dst[e] = o + (i + 1) % size < n ? o + (i + 1) % size : o;
    hd_dump *d = rd_load(&g);
    rd_free(&g);
    return d;
}

/* CYCLE_DENSE (formats/heapdump-binary.md §4): a component holding most of a heap big enough
 * that its bits save a MiB is stored as a bitmap, the small ones as lists; either way the
 * components, their cycles and each object's cycle number are Tarjan's on the JSON (the oracle),
 * with n not a multiple of 64 (a partial last word). */
Test(binary, a_dense_component_is_stored_as_bits)
{
    static const uint32_t sizes[] = {400001, 450017};
    for (int t = 0; t < 2; t++) {
        uint32_t n = sizes[t];
        hd_dump *json = giant_and_small(3 + (uint64_t)t, n);
        hd_cycles *cy;
        cr_assert_eq(hd_cycles_find(json, NULL, &cy), HD_OK);
        cr_assert_geq(cy->count, 100, "small components are wanted beside the giant");
        size_t len;
        unsigned char *data = (unsigned char *)index_of(json, &len);
        hdx_entry dense = entry_of(data, HDX_CYCLE_DENSE), member = entry_of(data, HDX_CYCLE_MEMBER);
        cr_assert_eq(dense.count, (n + 63) / 64);
        cr_assert_eq(member.count, cy->in_cycles - cy->cycles[0].nmembers, "the giant's members are not listed");
        const uint64_t *bits = (const uint64_t *)(data + dense.offset);
        for (uint32_t m = 0; m < cy->cycles[0].nmembers; m++)
            cr_assert(bits[cy->cycles[0].members[m] / 64] >> (cy->cycles[0].members[m] % 64) & 1);
        hd_cycles_free(cy);
        hd_dump *ix = open_index((const char *)data, len);
        same_cycles(json, ix);
        hd_error err;
        cr_assert_eq(hd_index_verify(ix, &err), HD_OK, "%s", err.message);
        hd_dump_free(ix);
        free(data);
        hd_dump_free(json);
    }
}

/* Hand edits of CYCLE_DENSE and what relates to it, checksums made right: each refused by
 * verification with one line naming the section. */
Test(binary, hand_edits_of_a_dense_component_are_refused)
{
    enum { PAST_END, IN_TWO, OFF_CYCLE, LISTED_TOO, EMPTY, NDENSE_EDITS };
    static const char *const names[NDENSE_EDITS] = {"CYCLE_DENSE", "CYCLE_MEMBER", "CYCLE_PATH", "CYCLE_START", "CYCLE_DENSE"};
    uint32_t n = 400001;
    hd_dump *json = giant_and_small(3, n);
    size_t len;
    unsigned char *data = (unsigned char *)index_of(json, &len);
    hd_dump_free(json);
    hdx_entry dense = entry_of(data, HDX_CYCLE_DENSE), member = entry_of(data, HDX_CYCLE_MEMBER);
    hdx_entry start = entry_of(data, HDX_CYCLE_START);
    hd_set_index_damage_handler(exit_on_damage);
    for (int what = 0; what < NDENSE_EDITS; what++) {
        unsigned char *copy = malloc(len);
        cr_assert(copy);
        memcpy(copy, data, len);
        uint64_t *bits = (uint64_t *)(copy + dense.offset);
        uint32_t first_listed = u32_at(copy, &member, 0), o = 1;
        switch (what) {
        case PAST_END: bits[dense.count - 1] |= 1ull << 63; break;
        case IN_TWO: bits[first_listed / 64] |= 1ull << (first_listed % 64); break;
        case OFF_CYCLE: /* a member the stored cycle reaches, other than the first, left out */
            while (!(bits[o / 64] >> (o % 64) & 1) || !on_first_cycle(copy, o) || o == (uint32_t)__builtin_ctzll(bits[0]))
                o++;
            bits[o / 64] &= ~(1ull << (o % 64));
            break;
        case LISTED_TOO: set_u32(copy, &start, 1, 1); break;
        case EMPTY: memset(bits, 0, dense.count * 8); break;
        }
        hd_error err;
        int rc = reseal_open_and_verify(copy, len, &err);
        cr_assert_eq(rc, HD_EFORMAT, "edit %d was not refused", what);
        cr_assert(strstr(err.message, names[what]) && !strchr(err.message, '\n'), "edit %d: %s", what, err.message);
    }
    free(data);
}

/* The one-pass sums are the section's checksum and its chunks' as hd__hdx_checksum takes them
 * one by one: at lengths around the 32-byte blocks and the chunks. */
Test(binary, one_pass_chunk_sums_are_the_piecewise_checksums)
{
    enum { CHUNK = 96, MOST = 5 * CHUNK + 40 };
    unsigned char data[MOST];
    for (size_t i = 0; i < MOST; i++)
        data[i] = (unsigned char)(i * 131 + 7);
    for (size_t len = 0; len <= MOST; len++) {
        uint64_t sums[6] = {0};
        uint64_t whole = hd__hdx_checksum_chunks(data, len, CHUNK, sums);
        cr_assert_eq(whole, hd__hdx_checksum(data, len), "length %zu", len);
        size_t k = 0;
        for (size_t at = 0; at < len; at += CHUNK, k++) {
            size_t piece = len - at < CHUNK ? len - at : CHUNK;
            cr_assert_eq(sums[k], hd__hdx_checksum(data + at, piece), "length %zu chunk %zu", len, k);
        }
        cr_assert_eq(k, (len + CHUNK - 1) / CHUNK);
        for (; k < 6; k++)
            cr_assert_eq(sums[k], 0, "length %zu: nothing past its chunks", len);
    }
}
