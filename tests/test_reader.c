/* test_reader.c: the heapdump reader against random dumps (an oracle that knows what it wrote),
 * a catalogue of malformed input, each of which must fail cleanly with a position, and the
 * two-thread reader against the one-thread one (it sees the graph's arrays to compare them). */
#include "heapdump.h"
#include "dump/dump_internal.h"
#include "dump/native.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "random_numbers.h"
#include "temp_file.h"

/* --- a random heap model and its serialization ------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) { return splitmix64(&rng_state); }
static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }

/* formats/heapdump.md §8's kinds in enum hd_root_kind's order, then one no reader knows. */
static const char *const kind_names[] = {"external", "named", "interned", "cache", "frozen",
                                         "garbage", "global", "stack", "registers", "tls",
                                         "from-the-future"};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

typedef struct model_edge { uint32_t target; char name[24]; } model_edge;
typedef struct model_object {
    uint64_t id, size, rc, address, thread; /* address, thread: 0 absent */
    uint64_t interior[20];                  /* per edge: bytes into its target, 0 at its start */
    uint32_t type, site, nedges;
    bool has_rc, has_label;
    int gen;
    unsigned flags;
    char label[96];
    model_edge *edges;
} model_object;
typedef struct model {
    uint32_t ntypes, nsites, nobjects, nroots, nweak, nframes, nstacks;
    uint64_t type_ids[16], site_ids[8];
    uint32_t site_stack[8];                 /* stack node index, or HD_NONE */
    uint64_t frame_ids[6], stack_ids[12];
    uint32_t frame_line[6], stack_frame[12], stack_parent[12]; /* parent HD_NONE: outermost */
    uint64_t root_offset[32];
    char type_names[16][24];
    model_object *objects;
    uint32_t root_obj[32], root_kind[32];
    uint32_t weak_obj[32], weak_ref[32]; /* weak_ref UINT32_MAX: dead */
    bool weak_cb[32];
} model;

/* Labels with what a reader must decode: quotes, backslashes, controls, non-ASCII. */
static void random_label(char *out, size_t cap)
{
    static const char *const pieces[] = {"Node", "(", "42", ")", "\"q\"", "\\", "\n", "\t", "é",
                                         "日本", "😀", " ", "<b>", "\x1b[31m", "x"};
    size_t len = 0, n = below(12);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[below(sizeof pieces / sizeof pieces[0])];
        if (len + strlen(p) + 1 > cap)
            break;
        strcpy(out + len, p);
        len += strlen(p);
    }
}

static void model_build(model *m, uint32_t nobjects, uint64_t seed)
{
    rng_state = seed;
    memset(m, 0, sizeof *m);
    m->ntypes = 1 + below(16);
    for (uint32_t t = 0; t < m->ntypes; t++) {
        m->type_ids[t] = t * 1000003ull + below(1000);
        snprintf(m->type_names[t], sizeof m->type_names[t], "T%u_%s", t, t % 3 ? "node" : "dict");
    }
    m->nframes = below(7);
    for (uint32_t f = 0; f < m->nframes; f++) {
        m->frame_ids[f] = 40 + f * 3;
        m->frame_line[f] = below(3) ? below(900) : 0;
    }
    m->nstacks = m->nframes ? below(13) : 0; /* a tree: parents among the nodes before */
    for (uint32_t n = 0; n < m->nstacks; n++) {
        m->stack_ids[n] = 1000 - n * 7;
        m->stack_frame[n] = below(m->nframes);
        m->stack_parent[n] = n && below(4) ? below(n) : HD_NONE;
    }
    m->nsites = below(8);
    for (uint32_t s = 0; s < m->nsites; s++) {
        m->site_ids[s] = 7 + s * 13;
        m->site_stack[s] = m->nstacks && below(2) ? below(m->nstacks) : HD_NONE;
    }
    bool native = below(2);
    m->nobjects = nobjects;
    m->objects = calloc(nobjects, sizeof *m->objects);
    for (uint32_t o = 0; o < nobjects; o++) {
        model_object *ob = &m->objects[o];
        /* ids unique; on odd seeds dense (a producer's counter: the reader's direct map), on
         * even seeds spread out and sometimes near 2^64 (its hash map) */
        ob->id = seed % 2 ? 1000 + (uint64_t)(nobjects - 1 - o)
                          : (rnd() % 4 == 0 ? (UINT64_MAX - 0xFFFFFFull) : 0) + o * 2 + 1;
        ob->type = below(m->ntypes);
        ob->site = m->nsites && below(2) ? below(m->nsites) : HD_NONE;
        ob->size = below(5) == 0 ? rnd() >> 8 : below(4096);
        ob->has_rc = below(4) != 0;
        ob->rc = below(10) == 0 ? (uint64_t)UINT32_MAX + below(5) : below(100);
        ob->has_label = below(3) != 0;
        if (ob->has_label)
            random_label(ob->label, sizeof ob->label);
        ob->gen = below(4) - 1;
        ob->flags = below(32);
        ob->nedges = below(4) == 0 ? below(20) : below(3);
        ob->edges = calloc(ob->nedges + 1, sizeof *ob->edges);
        for (uint32_t e = 0; e < ob->nedges; e++) {
            ob->edges[e].target = below(nobjects);
            if (below(5))
                snprintf(ob->edges[e].name, sizeof ob->edges[e].name, below(2) ? "[%u]" : "f%u",
                         below(50));
            ob->interior[e] = native && below(3) == 0 ? 1 + below(64) : 0;
        }
        ob->address = native && below(5) ? 0x10000 + rnd() % 0x100000 * 16 : 0;
        ob->thread = native && below(3) ? 1 + below(9) : 0;
    }
    m->nroots = below(32);
    for (uint32_t r = 0; r < m->nroots; r++) {
        m->root_obj[r] = below(nobjects);
        m->root_kind[r] = below(NKINDS);
        m->root_offset[r] = m->root_kind[r] >= 6 && below(3) == 0 ? 1 + below(40) : 0;
    }
    m->nweak = below(32);
    for (uint32_t w = 0; w < m->nweak; w++) {
        m->weak_obj[w] = below(nobjects);
        m->weak_ref[w] = below(4) ? below(nobjects) : UINT32_MAX;
        m->weak_cb[w] = below(2);
    }
}

static void model_free(model *m)
{
    for (uint32_t o = 0; o < m->nobjects; o++)
        free(m->objects[o].edges);
    free(m->objects);
}

/* Random whitespace between tokens: the reader must not care. */
static void ws(FILE *f)
{
    static const char *const spaces[] = {"", "", "", " ", "\n", "\t", "\r\n", "  \n  "};
    fputs(spaces[below(8)], f);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs(below(2) ? "\\n" : "\\u000a", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else if (*p == 0xF0 && below(2)) { /* 😀 as a surrogate pair escape */
            fputs("\\ud83d\\ude00", f);
            p += 3;
        } else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* Members of one record written in random order, with unknown members mixed in. */
typedef void (*member_writer)(FILE *f, const void *ctx, int which);
static void write_members(FILE *f, int n, member_writer w, const void *ctx)
{
    int order[16];
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)below((uint32_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    fputc('{', f);
    bool first = true;
    for (int i = 0; i < n; i++) {
        long before = ftell(f);
        if (!first)
            fputc(',', f);
        ws(f);
        long mark = ftell(f);
        w(f, ctx, order[i]);
        if (ftell(f) == mark) { /* the member was absent: undo the comma */
            fseek(f, before, SEEK_SET);
            continue;
        }
        first = false;
    }
    if (below(4) == 0) {
        fputs(first ? "" : ",", f);
        fputs("\"x-unknown\": {\"nested\": [1, 2.5e3, -7, true, null, {\"a\": \"b\"}]}", f);
    }
    ws(f);
    fputc('}', f);
}

static const model *cur;

static void write_object_member(FILE *f, const void *ctx, int which)
{
    const model_object *o = ctx;
    switch (which) {
    case 0: fprintf(f, "\"id\":%s%llu", below(2) ? " " : "", (unsigned long long)o->id); break;
    case 1: fprintf(f, "\"type\": %llu", (unsigned long long)cur->type_ids[o->type]); break;
    case 2: fprintf(f, "\"size\": %llu", (unsigned long long)o->size); break;
    case 3: if (o->has_rc) fprintf(f, "\"rc\": %llu", (unsigned long long)o->rc); break;
    case 4:
        if (o->site != HD_NONE)
            fprintf(f, "\"site\": %llu", (unsigned long long)cur->site_ids[o->site]);
        else if (below(2))
            fputs("\"site\": null", f);
        break;
    case 5:
        if (o->has_label) {
            fputs("\"label\": ", f);
            json_string(f, o->label);
        }
        break;
    case 6: if (o->gen >= 0) fprintf(f, "\"gen\": %d", o->gen); break;
    case 7: {
        static const char *const names[] = {"tracked", "finalized", "frozen", "immortal", "interned"};
        if (!o->flags && below(2))
            break;
        fputs("\"flags\": [", f);
        bool first = true;
        for (int i = 0; i < 5; i++)
            if (o->flags & (1u << i)) {
                fprintf(f, "%s\"%s\"", first ? "" : ", ", names[i]);
                first = false;
            }
        if (below(3) == 0)
            fprintf(f, "%s\"some-future-flag\"", first ? "" : ", ");
        fputc(']', f);
        break;
    }
    case 8:
        if (!o->nedges && below(2))
            break;
        fputs("\"refs\": [", f);
        for (uint32_t e = 0; e < o->nedges; e++) {
            ws(f);
            fprintf(f, "%s[%llu", e ? "," : "", (unsigned long long)cur->objects[o->edges[e].target].id);
            if (o->edges[e].name[0]) {
                fputs(", ", f);
                json_string(f, o->edges[e].name);
            } else if (below(2)) {
                fputs(", null", f);
            }
            fputc(']', f);
        }
        fputc(']', f);
        break;
    case 9: {
        bool any = false;
        for (uint32_t e = 0; e < o->nedges; e++)
            if (o->interior[e]) {
                fprintf(f, "%s[%u, %llu]", any ? ", " : "\"interior\": [", e,
                        (unsigned long long)o->interior[e]);
                any = true;
            }
        if (any)
            fputc(']', f);
        break;
    }
    case 10: if (o->address) fprintf(f, "\"address\": %llu", (unsigned long long)o->address); break;
    case 11: if (o->thread) fprintf(f, "\"thread\": %llu", (unsigned long long)o->thread); break;
    }
}


static void write_section(FILE *f, const model *m, int which)
{
    switch (which) {
    case 0: fputs("\"format\": \"heapdump\"", f); break;
    case 1: fputs("\"version\": 1", f); break;
    case 2: fputs("\"meta\": {\"producer\": \"test \\\"gen\\\"\", \"pid\": 4242, \"pointer_size\": 8}", f); break;
    case 3:
        fputs("\"types\": [", f);
        for (uint32_t t = 0; t < m->ntypes; t++) {
            ws(f);
            fprintf(f, "%s{\"id\": %llu, \"name\": \"%s\", \"size\": %u, \"gc\": %s%s}", t ? "," : "",
                    (unsigned long long)m->type_ids[t], m->type_names[t], t * 8,
                    t % 2 ? "true" : "false", t % 5 == 1 ? ", \"finalizer\": true" : "");
        }
        fputs("]", f);
        break;
    case 4:
        fputs("\"sites\": [", f);
        for (uint32_t s = 0; s < m->nsites; s++) {
            fprintf(f, "%s{\"line\": %u, \"file\": \"f%u.c\", \"id\": %llu", s ? ",\n" : "", s + 1, s,
                    (unsigned long long)m->site_ids[s]);
            if (m->site_stack[s] != HD_NONE)
                fprintf(f, ", \"stack\": %llu", (unsigned long long)m->stack_ids[m->site_stack[s]]);
            fputc('}', f);
        }
        fputs("]", f);
        break;
    case 5:
        fputs("\"objects\": [", f);
        for (uint32_t o = 0; o < m->nobjects; o++) {
            fputs(o ? ",\n" : "\n", f);
            write_members(f, 12, write_object_member, &m->objects[o]);
        }
        fputs("\n]", f);
        break;
    case 6:
        fputs("\"weakrefs\": [", f);
        for (uint32_t w = 0; w < m->nweak; w++) {
            fprintf(f, "%s{\"id\": %llu, \"referent\": ", w ? ",\n" : "",
                    (unsigned long long)m->objects[m->weak_obj[w]].id);
            if (m->weak_ref[w] == UINT32_MAX)
                fputs("null", f);
            else
                fprintf(f, "%llu", (unsigned long long)m->objects[m->weak_ref[w]].id);
            fprintf(f, ", \"callback\": %s}", m->weak_cb[w] ? "true" : "false");
        }
        fputs("]", f);
        break;
    case 7:
        fputs("\"roots\": [", f);
        for (uint32_t r = 0; r < m->nroots; r++)
            fprintf(f, "%s{\"kind\": \"%s\", \"id\": %llu, \"name\": \"r%u\", \"offset\": %llu}",
                    r ? ",\n" : "", kind_names[m->root_kind[r]],
                    (unsigned long long)m->objects[m->root_obj[r]].id, r,
                    (unsigned long long)m->root_offset[r]);
        fputs("]", f);
        break;
    case 8: fputs("\"x-extension\": [[[\"ignored\"]], {\"deep\": {\"er\": []}}]", f); break;
    case 9:
        if (!m->nframes && below(2))
            break;
        fputs("\"frames\": [", f);
        for (uint32_t i = 0; i < m->nframes; i++) { /* frame 0 has only a module, the others no module */
            if (i)
                fprintf(f, ",\n{\"id\": %llu, \"function\": \"fn%u\", \"file\": \"s%u.c\", \"line\": %u}",
                        (unsigned long long)m->frame_ids[i], i, i % 2, m->frame_line[i]);
            else
                fprintf(f, "\n{\"id\": %llu, \"module\": \"/lib/m.so\", \"offset\": %u}",
                        (unsigned long long)m->frame_ids[i], m->frame_line[i]);
        }
        fputs("]", f);
        break;
    case 10:
        if (!m->nstacks && below(2))
            break;
        fputs("\"stacks\": [", f);
        for (uint32_t n = 0; n < m->nstacks; n++) {
            fprintf(f, "%s{\"id\": %llu, \"frame\": %llu", n ? ",\n" : "\n",
                    (unsigned long long)m->stack_ids[n], (unsigned long long)m->frame_ids[m->stack_frame[n]]);
            if (m->stack_parent[n] != HD_NONE)
                fprintf(f, ", \"parent\": %llu", (unsigned long long)m->stack_ids[m->stack_parent[n]]);
            fputc('}', f);
        }
        fputs("]", f);
        break;
    }
}

static char *model_serialize(const model *m, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    cur = m;
    int order[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    for (int i = 10; i > 0; i--) {
        int j = (int)below((uint32_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    fputc('{', f);
    for (int i = 0, written = 0; i < 11; i++) {
        long before = ftell(f);
        if (written)
            fputc(',', f);
        ws(f);
        long mark = ftell(f);
        write_section(f, m, order[i]);
        if (ftell(f) == mark) { /* an optional section left out: undo the comma */
            fseek(f, before, SEEK_SET);
            continue;
        }
        written++;
        fputc('\n', f);
    }
    fputs("}\n", f);
    fclose(f);
    *len = size;
    return buf;
}

static void check_stacks_against_model(const hd_dump *d, const model *m)
{
    cr_assert_eq(hd_frame_count(d), m->nframes);
    for (uint32_t f = 0; f < m->nframes; f++) {
        cr_assert_eq(hd_frame_id(d, f), m->frame_ids[f]);
        char function[16] = "", file[16] = "";
        if (f) {
            snprintf(function, sizeof function, "fn%u", f);
            snprintf(file, sizeof file, "s%u.c", f % 2);
        }
        cr_assert_str_eq(hd_frame_function(d, f), function);
        cr_assert_str_eq(hd_frame_file(d, f), file);
        cr_assert_str_eq(hd_frame_module(d, f), f ? "" : "/lib/m.so");
        cr_assert_eq(hd_frame_line(d, f), f ? m->frame_line[f] : 0);
        cr_assert_eq(hd_frame_offset(d, f), f ? 0 : m->frame_line[f]);
    }
    cr_assert_eq(hd_stack_count(d), m->nstacks);
    for (uint32_t s = 0; s < m->nsites; s++) {
        uint32_t si = HD_NONE; /* site indices follow first use, which may be by an object */
        for (uint32_t i = 0; i < hd_site_count(d); i++)
            if (hd_site_id(d, i) == m->site_ids[s])
                si = i;
        cr_assert_neq(si, HD_NONE);
        uint32_t got = hd_site_stack(d, si), want = m->site_stack[s];
        /* the whole stack, frame by frame, innermost first */
        for (; want != HD_NONE; want = m->stack_parent[want], got = hd_stack_parent(d, got)) {
            cr_assert_neq(got, HD_NONE, "site %u: stack ends early", s);
            cr_assert_eq(hd_stack_id(d, got), m->stack_ids[want]);
            cr_assert_eq(hd_frame_id(d, hd_stack_frame(d, got)), m->frame_ids[m->stack_frame[want]]);
        }
        cr_assert_eq(got, HD_NONE, "site %u: stack goes on", s);
    }
}

static void check_against_model(const hd_dump *d, const model *m)
{
    cr_assert_eq(hd_object_count(d), m->nobjects);
    cr_assert_eq(hd_type_count(d), m->ntypes);
    cr_assert_eq(hd_site_count(d), m->nsites);
    cr_assert_str_eq(hd_meta_producer(d), "test \"gen\"");
    cr_assert_eq(hd_meta_pid(d), 4242);
    uint64_t nedges = 0;
    for (uint32_t i = 0; i < m->nobjects; i++) {
        const model_object *mo = &m->objects[i];
        uint32_t o = hd_object_find(d, mo->id);
        cr_assert_neq(o, HD_NONE, "object %llu not found", (unsigned long long)mo->id);
        cr_assert_eq(hd_object_id(d, o), mo->id);
        cr_assert_eq(hd_object_size(d, o), mo->size);
        cr_assert_str_eq(hd_type_name(d, hd_object_type(d, o)), m->type_names[mo->type]);
        cr_assert_eq(hd_type_id(d, hd_object_type(d, o)), m->type_ids[mo->type]);
        uint32_t want_rc = !mo->has_rc ? HD_RC_UNKNOWN : mo->rc >= UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)mo->rc;
        cr_assert_eq(hd_object_rc(d, o), want_rc);
        if (mo->site == HD_NONE)
            cr_assert_eq(hd_object_site(d, o), HD_NONE);
        else
            cr_assert_eq(hd_site_id(d, hd_object_site(d, o)), m->site_ids[mo->site]);
        if (mo->has_label)
            cr_assert_str_eq(hd_object_label(d, o), mo->label);
        else
            cr_assert_null(hd_object_label(d, o));
        cr_assert_eq(hd_object_gen(d, o), mo->gen < 0 ? HD_GEN_UNKNOWN : (unsigned)mo->gen);
        cr_assert_eq(hd_object_flags(d, o), mo->flags);
        uint64_t first, end;
        hd_object_edges(d, o, &first, &end);
        cr_assert_eq(end - first, mo->nedges);
        for (uint32_t e = 0; e < mo->nedges; e++) {
            cr_assert_eq(hd_object_id(d, hd_edge_target(d, first + e)), m->objects[mo->edges[e].target].id);
            cr_assert_str_eq(hd_edge_name(d, first + e), mo->edges[e].name);
            cr_assert_eq(hd_edge_interior_offset(d, first + e), mo->interior[e]);
        }
        cr_assert_eq(hd_object_address(d, o), mo->address);
        cr_assert_eq(hd_object_thread(d, o), mo->thread);
        nedges += mo->nedges;
    }
    cr_assert_eq(hd_edge_count(d), nedges);
    cr_assert_eq(hd_root_count(d), m->nroots);
    for (uint32_t r = 0; r < m->nroots; r++) {
        cr_assert_eq(hd_object_id(d, hd_root_object(d, r)), m->objects[m->root_obj[r]].id);
        cr_assert_str_eq(hd_root_kind_name(d, r), kind_names[m->root_kind[r]]);
        cr_assert_eq((int)hd_root_kind(d, r), m->root_kind[r] < NKINDS - 1 ? (int)m->root_kind[r] : HD_ROOT_OTHER);
        cr_assert_eq(hd_root_offset(d, r), m->root_offset[r]);
    }
    check_stacks_against_model(d, m);
    cr_assert_eq(hd_weakref_count(d), m->nweak);
    for (uint32_t w = 0; w < m->nweak; w++) {
        cr_assert_eq(hd_object_id(d, hd_weakref_object(d, w)), m->objects[m->weak_obj[w]].id);
        if (m->weak_ref[w] == UINT32_MAX)
            cr_assert_eq(hd_weakref_referent(d, w), HD_NONE);
        else
            cr_assert_eq(hd_object_id(d, hd_weakref_referent(d, w)), m->objects[m->weak_ref[w]].id);
        cr_assert_eq(!!hd_weakref_has_callback(d, w), m->weak_cb[w]);
    }
}

Test(reader, random_dumps_round_trip)
{
    for (uint64_t seed = 1; seed <= 60; seed++) {
        model m;
        model_build(&m, 1 + (uint32_t)(seed * 37 % 700), seed);
        size_t len;
        char *json = model_serialize(&m, &len);
        hd_dump *d = NULL;
        hd_error err;
        int rc = hd_load_buffer(json, len, "random.json", NULL, &d, &err);
        cr_assert_eq(rc, HD_OK, "seed %llu: %s:%llu:%llu: %s", (unsigned long long)seed, err.file,
                     (unsigned long long)err.line, (unsigned long long)err.column, err.message);
        check_against_model(d, &m);
        hd_dump_free(d);
        free(json);
        model_free(&m);
    }
}

/* A dump several chunks long read from a file: tokens straddle the reader's chunk boundaries. */
Test(reader, large_dump_from_file_spans_chunks)
{
    model m;
    model_build(&m, 40000, 99);
    size_t len;
    char *json = model_serialize(&m, &len);
    cr_assert_gt(len, 3u << 20, "want a dump of several 1 MiB chunks, got %zu bytes", len);
    char path[] = "/tmp/heaptool-test-XXXXXX";
    temp_file_write(path, json, len);
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load(path, NULL, &d, &err);
    unlink(path);
    cr_assert_eq(rc, HD_OK, "%s:%llu: %s", err.file, (unsigned long long)err.line, err.message);
    check_against_model(d, &m);
    hd_dump_free(d);
    free(json);
    model_free(&m);
}

/* --- the catalogue of bad input ---------------------------------------------------------- */

#define HEAD "{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"T\"}],\n"

static void expect_failure(const char *text, size_t len, int status, uint64_t line, const char *needle)
{
    hd_dump *d = (hd_dump *)1;
    hd_error err;
    int rc = hd_load_buffer(text, len, "bad.json", NULL, &d, &err);
    cr_assert_eq(rc, status, "expected %s, got %s (%s) for: %.80s", hd_status_name(status),
                 hd_status_name(rc), err.message, text);
    cr_assert_null(d);
    cr_assert_eq(err.status, status);
    cr_assert_str_eq(err.file, "bad.json");
    cr_assert_gt(err.line, 0, "no position for: %s", err.message);
    cr_assert_gt(err.column, 0);
    if (line)
        cr_assert_eq(err.line, line, "line %llu, want %llu: %s", (unsigned long long)err.line,
                     (unsigned long long)line, err.message);
    cr_assert(strstr(err.message, needle), "message '%s' lacks '%s'", err.message, needle);
    cr_assert_null(strchr(err.message, '\n'), "the message must be one line");
}
#define BAD(text, status, line, needle) expect_failure(text, sizeof(text) - 1, status, line, needle)

Test(reader, rejects_what_is_not_json)
{
    BAD("", HD_ESYNTAX, 1, "empty input");
    BAD("  \n\n ", HD_ESYNTAX, 3, "empty input");
    BAD("hello", HD_ESYNTAX, 1, "unexpected character 'h'");
    BAD("nulx", HD_ESYNTAX, 1, "invalid literal");
    BAD("nul", HD_ESYNTAX, 1, "end of input");
    BAD("{\"format\": \"heapdump\",}", HD_ESYNTAX, 1, "expected a member name");
    BAD("{\"format\" \"heapdump\"}", HD_ESYNTAX, 1, "':'");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"trunc", HD_ESYNTAX, 2,
        "unterminated string");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"si", HD_ESYNTAX, 2, "unterminated string");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0,", HD_ESYNTAX, 2, "end of input");
    BAD(HEAD "\"objects\": []} trailing", HD_ESYNTAX, 2, "after the document");
    BAD(HEAD "\"objects\": [{\"id\": 01, \"type\": 0, \"size\": 8}]}", HD_ESYNTAX, 2, "leading zero");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"a\\qb\"}]}", HD_ESYNTAX, 2,
        "bad escape");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"a\tb\"}]}", HD_ESYNTAX, 2,
        "control character");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"\\u12G4\"}]}", HD_ESYNTAX,
        2, "\\u escape");
    BAD(HEAD "\"x\": [1 2]}", HD_ESYNTAX, 2, "',' or ']'");
    BAD(HEAD "\"x\": [1, }", HD_ESYNTAX, 2, "expected a value");
    BAD(HEAD "\"x\": [1, 2}", HD_ESYNTAX, 2, "',' or ']'");
}

Test(reader, rejects_nul_bytes)
{
    static const char with_nul[] = HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"a\0b\"}]}";
    expect_failure(with_nul, sizeof with_nul - 1, HD_ESYNTAX, 2, "NUL byte");
    static const char nul_between[] = HEAD "\0\"objects\": []}";
    expect_failure(nul_between, sizeof nul_between - 1, HD_ESYNTAX, 2, "NUL byte");
}

Test(reader, rejects_what_is_not_a_heapdump)
{
    BAD("[1, 2]", HD_EFORMAT, 1, "expected a JSON object");
    BAD("42", HD_EFORMAT, 1, "expected a JSON object");
    BAD("{\"format\": \"pprof\", \"version\": 1}", HD_EFORMAT, 1, "\"pprof\"");
    BAD("{\"format\": \"a\\nb\\u001b[2J\", \"version\": 1}", HD_EFORMAT, 1, "\"a\\x0ab\\x1b[2J\"");
    BAD("{\"format\": 7, \"version\": 1}", HD_EFORMAT, 1, "format");
    BAD("{\"version\": 1, \"types\": [], \"objects\": []}", HD_EFORMAT, 1, "missing member 'format'");
    BAD("{\"format\": \"heapdump\", \"types\": [], \"objects\": []}", HD_EFORMAT, 1, "'version'");
    BAD("{\"format\": \"heapdump\", \"version\": 1, \"objects\": []}", HD_EFORMAT, 1, "'types'");
    BAD("{\"format\": \"heapdump\", \"version\": 1, \"types\": []}", HD_EFORMAT, 1, "'objects'");
    BAD("{\"format\": \"heapdump\", \"version\": \"1\", \"types\": [], \"objects\": []}", HD_EFORMAT, 1,
        "'version'");
    BAD("{\"format\": \"heapdump\", \"version\": 0, \"types\": [], \"objects\": []}", HD_EFORMAT, 1,
        "'version'");
    BAD(HEAD "\"objects\": [], \"objects\": []}", HD_EFORMAT, 2, "appears twice");
    BAD(HEAD "\"objects\": {}}", HD_EFORMAT, 2, "must be an array");
}

Test(reader, rejects_future_versions)
{
    BAD("{\"format\": \"heapdump\", \"version\": 2, \"types\": [], \"objects\": []}", HD_EVERSION, 1,
        "version 2 is newer");
    BAD("{\"format\": \"heapdump\",\n \"version\": 99999999999999999999}", HD_EFORMAT, 2, "'version'");
}

Test(reader, rejects_wrong_member_types)
{
    BAD(HEAD "\"objects\": [{\"type\": 0, \"size\": 8}]}", HD_EFORMAT, 2, "missing member 'id'");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"size\": 8}]}", HD_EFORMAT, 2, "missing member 'type'");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0}]}", HD_EFORMAT, 2, "missing member 'size'");
    BAD(HEAD "\"objects\": [{\"id\": \"1\", \"type\": 0, \"size\": 8}]}", HD_EFORMAT, 2,
        "'id' must be an unsigned integer, found a string");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": -8}]}", HD_EFORMAT, 2, "negative");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8.5}]}", HD_EFORMAT, 2, "non-integer");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 1e3}]}", HD_EFORMAT, 2, "non-integer");
    BAD(HEAD "\"objects\": [{\"id\": 18446744073709551616, \"type\": 0, \"size\": 8}]}", HD_EFORMAT, 2,
        "above 2^64-1");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": 5}]}", HD_EFORMAT, 2,
        "'label' must be a string");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"refs\": {}}]}", HD_EFORMAT, 2,
        "'refs' must be an array");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"refs\": [[]]}]}", HD_EFORMAT, 2,
        "is empty");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"refs\": [[1, \"a\", 3]]}]}",
        HD_EFORMAT, 2, "more than two");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"refs\": [[1, 2]]}]}", HD_EFORMAT, 2,
        "must be a string");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"gen\": 3}]}", HD_EFORMAT, 2,
        "'gen' must be 0, 1 or 2");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"flags\": [1]}]}", HD_EFORMAT, 2,
        "'flags'");
    BAD(HEAD "\"objects\": [7]}", HD_EFORMAT, 2, "expected an object");
    BAD(HEAD "\"objects\": [], \"roots\": [{\"id\": 1}]}", HD_EFORMAT, 2, "missing member 'kind'");
    BAD(HEAD "\"objects\": [], \"meta\": {\"pid\": \"x\"}}", HD_EFORMAT, 2, "'pid'");
    BAD(HEAD "\"objects\": [], \"gc\": {\"enabled\": 1}}", HD_EFORMAT, 2, "'enabled' must be true or false");
    BAD(HEAD "\"objects\": [], \"pools\": {\"classes\": 3}}", HD_EFORMAT, 2, "'classes'");
}

Test(reader, rejects_broken_references)
{
    BAD(HEAD "\"objects\": [\n{\"id\": 1, \"type\": 0, \"size\": 8},\n{\"id\": 1, \"type\": 0, \"size\": 8}]}",
        HD_EINTEGRITY, 4, "duplicate id 1");
    BAD(HEAD "\"objects\": [\n{\"id\": 1, \"type\": 0, \"size\": 8, \"refs\": [[5, \"next\"]]}]}",
        HD_EINTEGRITY, 3, "missing object 5");
    BAD(HEAD "\"objects\": [\n{\"id\": 1, \"type\": 0, \"size\": 8},\n{\"id\": 2, \"type\": 9, \"size\": 8}]}",
        HD_EINTEGRITY, 4, "unknown type id 9");
    BAD(HEAD "\"objects\": [\n{\"id\": 1, \"type\": 0, \"size\": 8, \"site\": 3}]}", HD_EINTEGRITY, 3,
        "unknown site id 3");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8}],\n\"weakrefs\": [{\"id\": 1, \"referent\": 2}]}",
        HD_EINTEGRITY, 3, "referent 2");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8}],\n\"weakrefs\": [{\"id\": 4}]}",
        HD_EINTEGRITY, 3, "weakref object 4");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8}],\n\"roots\": [{\"id\": 3, \"kind\": \"named\"}]}",
        HD_EINTEGRITY, 3, "object 3");
    BAD(HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8}],\n\"gc\": {\"garbage\": [1, 6]}}",
        HD_EINTEGRITY, 3, "object 6");
    BAD("{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"T\"},\n"
        "{\"id\": 0, \"name\": \"U\"}], \"objects\": []}", HD_EINTEGRITY, 2, "duplicate type id 0");
}

#define O1 "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8"
Test(reader, rejects_broken_stacks_and_interior_pointers)
{
    BAD(HEAD "\"frames\": [{\"id\": 1, \"function\": \"f\"}],\n\"stacks\": [{\"id\": 1, \"frame\": 1},\n"
        "{\"id\": 2, \"frame\": 1, \"parent\": 7}], \"objects\": []}", HD_EINTEGRITY, 4, "parent 7 is not in 'stacks'");
    BAD(HEAD "\"frames\": [{\"id\": 1, \"function\": \"f\"}],\n\"stacks\": [{\"id\": 1, \"frame\": 2}],"
        " \"objects\": []}", HD_EINTEGRITY, 3, "frame 2 is not in 'frames'");
    BAD(HEAD "\"frames\": [{\"id\": 1, \"function\": \"f\"}], \"stacks\": [\n{\"id\": 1, \"frame\": 1, \"parent\": 3},\n"
        "{\"id\": 2, \"frame\": 1, \"parent\": 1},\n{\"id\": 3, \"frame\": 1, \"parent\": 2}], \"objects\": []}",
        HD_EINTEGRITY, 4, "loops back to node");
    BAD(HEAD "\"stacks\": [], \"frames\": [{\"id\": 1, \"function\": \"f\"},\n{\"id\": 1, \"file\": \"a.c\"}],"
        " \"objects\": []}", HD_EINTEGRITY, 3, "duplicate frame id 1");
    BAD(HEAD "\"frames\": [{\"id\": 1, \"line\": 3}], \"objects\": []}", HD_EFORMAT, 2,
        "'function', 'file' or 'module'");
    BAD(HEAD "\"stacks\": [{\"id\": 1}], \"objects\": []}", HD_EFORMAT, 2, "missing member 'frame'");
    BAD(HEAD "\"sites\": [\n{\"id\": 0, \"file\": \"\", \"line\": 0, \"stack\": 5}], \"objects\": []}",
        HD_EINTEGRITY, 3, "stack 5 is not in 'stacks'");
    BAD(HEAD O1 ", \"refs\": [[1]], \"interior\": [[1, 8]]}]}", HD_EFORMAT, 2, "names refs[1]");
    BAD(HEAD O1 ", \"refs\": [[1], [1]], \"interior\": [[1, 8], [0, 8]]}]}", HD_EFORMAT, 2,
        "increasing order");
    BAD(HEAD O1 ", \"interior\": [[0, 0]], \"refs\": [[1]]}]}", HD_EFORMAT, 2, "offset 0");
    BAD(HEAD O1 ", \"refs\": [[1]], \"interior\": [[0]]}]}", HD_EFORMAT, 2, "[k, offset] pair");
    BAD(HEAD O1 ", \"refs\": [[1]], \"interior\": [0, 8]}]}", HD_EFORMAT, 2, "[k, offset] pair");
    BAD(HEAD O1 ", \"interior\": 3}]}", HD_EFORMAT, 2, "'interior' must be an array");
    BAD(HEAD O1 ", \"refs\": [[1]], \"interior\": [[0, 8] [1, 2]]}]}", HD_ESYNTAX, 2, "expected ','");
    BAD(HEAD O1 ", \"address\": -1}]}", HD_EFORMAT, 2, "'address' must be an unsigned integer");
    BAD(HEAD O1 ", \"thread\": 4294967296}]}", HD_ELIMIT, 2, "'thread' above 2^32-1");
    BAD(HEAD O1 "}], \"roots\": [{\"id\": 1, \"kind\": \"stack\", \"offset\": \"8\"}]}", HD_EFORMAT, 2,
        "'offset' must be an unsigned integer");
}
#undef O1

Test(reader, limits_fail_cleanly)
{
    /* Deep nesting in an ignored member. */
    size_t depth = 100000;
    size_t len = strlen(HEAD) + 10 + depth * 2 + 32;
    char *text = malloc(len);
    size_t n = (size_t)sprintf(text, HEAD "\"deep\": ");
    memset(text + n, '[', depth);
    n += depth;
    memset(text + n, ']', depth);
    n += depth;
    n += (size_t)sprintf(text + n, ", \"objects\": []}");
    expect_failure(text, n, HD_ELIMIT, 2, "nesting deeper");
    free(text);

    /* A string longer than the reader takes. */
    size_t huge = (16u << 20) + 10;
    text = malloc(huge + 200);
    n = (size_t)sprintf(text, HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"");
    memset(text + n, 'a', huge);
    n += huge;
    n += (size_t)sprintf(text + n, "\"}]}");
    expect_failure(text, n, HD_ELIMIT, 2, "string longer than");
    free(text);
}

Test(reader, unreadable_paths)
{
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load("/nonexistent/dump.json", NULL, &d, &err), HD_EIO);
    cr_assert(strstr(err.message, "No such file"), "%s", err.message);
    cr_assert_null(d);
    cr_assert_eq(hd_load("/tmp", NULL, &d, &err), HD_EIO);
    cr_assert(strstr(err.message, "directory"), "%s", err.message);
    cr_assert_eq(hd_load(NULL, NULL, &d, &err), HD_EINVAL);
}

/* --- valid corner cases ------------------------------------------------------------------- */

static hd_dump *load_ok(const char *text)
{
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(text, strlen(text), "ok.json", NULL, &d, &err);
    cr_assert_eq(rc, HD_OK, "%llu:%llu: %s", (unsigned long long)err.line,
                 (unsigned long long)err.column, err.message);
    return d;
}

Test(reader, ids_near_two_to_the_64_stay_exact)
{
    hd_dump *d = load_ok(HEAD "\"objects\": [\n"
                         "{\"id\": 18446744073709551615, \"type\": 0, \"size\": 18446744073709551615,"
                         " \"refs\": [[18446744073709551614, \"a\"]]},\n"
                         "{\"id\": 18446744073709551614, \"type\": 0, \"size\": 1}]}");
    cr_assert_eq(hd_object_count(d), 2);
    uint32_t a = hd_object_find(d, UINT64_MAX), b = hd_object_find(d, UINT64_MAX - 1);
    cr_assert_neq(a, HD_NONE);
    cr_assert_neq(b, HD_NONE);
    cr_assert_neq(a, b);
    cr_assert_eq(hd_edge_target(d, 0), b);
    cr_assert_eq(hd_total_size(d), UINT64_MAX, "the sum saturates");
    hd_dump_free(d);
}

Test(reader, sorted_keys_and_empty_sections)
{
    /* What `jq -S` makes of a dump: objects before types, keys sorted. */
    hd_dump *d = load_ok("{\"format\":\"heapdump\",\"gc\":{\"enabled\":true,\"frozen\":3,"
                         "\"generations\":[{\"collected\":5,\"collections\":2,\"count\":1,\"threshold\":700,"
                         "\"uncollectable\":0},{},{}],\"garbage\":[2]},"
                         "\"objects\":[{\"id\":2,\"refs\":[[2]],\"size\":16,\"type\":5}],"
                         "\"pools\":{\"arena_size\":1048576,\"classes\":[{\"blocks_free\":3,\"blocks_in_use\":1,"
                         "\"pools\":1,\"size\":16}]},"
                         "\"roots\":[],\"sites\":[],\"types\":[{\"id\":5,\"name\":\"Self\"}],\"version\":1,"
                         "\"weakrefs\":[]}");
    cr_assert_eq(hd_object_count(d), 1);
    cr_assert_str_eq(hd_type_name(d, hd_object_type(d, 0)), "Self");
    cr_assert_eq(hd_edge_target(d, 0), 0);
    cr_assert_str_eq(hd_edge_name(d, 0), "");
    const hd_gc *gc = hd_dump_gc(d);
    cr_assert(gc->present && gc->enabled);
    cr_assert_eq(gc->gen[0].threshold, 700);
    cr_assert_eq(gc->gen[0].collected, 5);
    cr_assert_eq(gc->frozen, 3);
    cr_assert_eq(gc->ngarbage, 1);
    cr_assert_eq(gc->garbage[0], 0);
    const hd_pools *p = hd_dump_pools(d);
    cr_assert(p->present);
    cr_assert_eq(p->arena_size, 1048576);
    cr_assert_eq(p->nclasses, 1);
    cr_assert_eq(p->classes[0].blocks_free, 3);
    hd_dump_free(d);
}

Test(reader, no_objects_at_all)
{
    hd_dump *d = load_ok("{\"format\": \"heapdump\", \"version\": 1, \"types\": [], \"objects\": []}");
    cr_assert_eq(hd_object_count(d), 0);
    cr_assert_eq(hd_object_find(d, 1), HD_NONE);
    cr_assert_eq(hd_meta_pid(d), -1);
    cr_assert_str_eq(hd_meta_producer(d), "");
    hd_dump_free(d);
}

/* --- validation mode: every problem, each with its place ------------------------------------ */

typedef struct seen { int count; uint64_t lines[8]; } seen;
static void collect(const hd_error *p, void *user)
{
    seen *s = user;
    if (s->count < 8)
        s->lines[s->count] = p->line;
    s->count++;
}

Test(reader, validation_reports_every_problem)
{
    const char *text = HEAD "\"objects\": [\n"
                       "{\"id\": 1, \"type\": 0, \"size\": \"big\"},\n"        /* line 3: wrong type */
                       "{\"id\": 2, \"type\": 0, \"size\": 8, \"refs\": [[9]]},\n" /* line 4: dangling */
                       "{\"id\": 2, \"type\": 0, \"size\": 8},\n"              /* line 5: duplicate */
                       "{\"id\": 3, \"type\": 4, \"size\": 8}\n"               /* line 6: unknown type */
                       "]}";
    seen s = {0};
    hd_load_options opts = {.on_problem = collect, .user = &s};
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(text, strlen(text), "v.json", &opts, &d, &err);
    cr_assert_neq(rc, HD_OK);
    cr_assert_null(d);
    cr_assert_eq(s.count, 4, "got %d problems", s.count);
    cr_assert_eq(s.lines[0], 3);
    uint64_t later[3] = {s.lines[1], s.lines[2], s.lines[3]};
    cr_assert_eq(later[0], 4);
    cr_assert_eq(later[1], 5);
    cr_assert_eq(later[2], 6);
    cr_assert_eq(err.line, 3, "the load's error is the first problem");
}

Test(reader, sites_with_an_empty_file)
{
    /* "" interns as string 0: a defined site must not read as one only used (found by fuzz_reader). */
    const char *sites = HEAD "\"sites\": [{\"id\": 7, \"file\": \"\", \"line\": 1}],\n";
    char text[512];
    snprintf(text, sizeof text, "%s\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"site\": 7}]}", sites);
    hd_dump *d = load_ok(text);
    cr_assert_eq(hd_site_count(d), 1);
    uint32_t s = hd_object_site(d, 0);
    cr_assert_eq(hd_site_id(d, s), 7);
    cr_assert_str_eq(hd_site_file(d, s), "");
    cr_assert_eq(hd_site_line(d, s), 1);
    hd_dump_free(d);

    seen sn = {0};
    hd_load_options opts = {.on_problem = collect, .user = &sn};
    hd_error err;
    snprintf(text, sizeof text, "%s\"objects\": []}", sites); /* validation mode: no problem */
    int rc = hd_load_buffer(text, strlen(text), "v.json", &opts, &d, &err);
    cr_assert_eq(rc, HD_OK, "%s", err.message);
    cr_assert_eq(sn.count, 0);
    hd_dump_free(d);

    BAD(HEAD "\"sites\": [{\"id\": 7, \"file\": \"\", \"line\": 1},\n{\"id\": 7, \"file\": \"\", \"line\": 2}],"
        " \"objects\": []}", HD_EINTEGRITY, 3, "duplicate site id 7");
}

/* --- gzip-compressed dumps and progress ---------------------------------------------------- */

#include <zlib.h>

static char *write_gzip(const char *data, size_t len, size_t keep)
{
    static char path[64];
    strcpy(path, "/tmp/heaptool-gz-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    gzFile gz = gzdopen(fd, "wb");
    cr_assert_not_null(gz);
    cr_assert_eq(gzwrite(gz, data, (unsigned)len), (int)len);
    cr_assert_eq(gzclose(gz), Z_OK);
    if (keep)
        cr_assert_eq(truncate(path, (off_t)keep), 0);
    return path;
}

typedef struct progress_log { int calls; uint64_t last, total; bool monotonic; } progress_log;
static void log_progress(uint64_t done, uint64_t total, void *user)
{
    progress_log *p = user;
    p->monotonic &= done >= p->last;
    p->last = done;
    p->total = total;
    p->calls++;
}

Test(reader, gzip_dumps_read_like_plain_ones)
{
    model m;
    model_build(&m, 30000, 7);
    size_t len;
    char *json = model_serialize(&m, &len);
    const char *path = write_gzip(json, len, 0);
    hd_dump *d = NULL;
    hd_error err;
    progress_log log = {0, 0, 0, true};
    hd_load_options opts = {.user = &log, .on_progress = log_progress};
    int rc = hd_load(path, &opts, &d, &err);
    unlink(path);
    cr_assert_eq(rc, HD_OK, "%s:%llu: %s", err.file, (unsigned long long)err.line, err.message);
    check_against_model(d, &m);
    cr_assert_gt(log.calls, 0);
    cr_assert(log.monotonic);
    cr_assert_eq(log.last, log.total, "the last report is the whole (compressed) file");
    hd_dump_free(d);
    free(json);
    model_free(&m);
}

Test(reader, broken_gzip_fails_cleanly)
{
    const char text[] = HEAD "\"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"a long enough label\"}]}";
    hd_dump *d = (hd_dump *)1;
    hd_error err;
    const char *path = write_gzip(text, sizeof text - 1, 60); /* cut inside the compressed data */
    int rc = hd_load(path, NULL, &d, &err);
    cr_assert(rc == HD_ESYNTAX || rc == HD_EFORMAT, "%s: %s", hd_status_name(rc), err.message);
    cr_assert_null(d);
    cr_assert_gt(err.line, 0);
    /* Flip bytes in the middle of the deflate stream. */
    path = write_gzip(text, sizeof text - 1, 0);
    FILE *f = fopen(path, "r+b");
    fseek(f, 20, SEEK_SET);
    fwrite("\xff\xff\xff\xff\xff\xff", 1, 6, f);
    fclose(f);
    rc = hd_load(path, NULL, &d, &err);
    unlink(path);
    cr_assert_neq(rc, HD_OK);
    cr_assert_null(d);
    cr_assert(rc == HD_EFORMAT || rc == HD_ESYNTAX, "%s: %s", hd_status_name(rc), err.message);
}

Test(reader, progress_on_plain_files_ends_at_the_size)
{
    model m;
    model_build(&m, 60000, 11);
    size_t len;
    char *json = model_serialize(&m, &len);
    char path[] = "/tmp/heaptool-progress-XXXXXX";
    temp_file_write(path, json, len);
    progress_log log = {0, 0, 0, true};
    hd_load_options opts = {.user = &log, .on_progress = log_progress};
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load(path, &opts, &d, &err), HD_OK, "%s", err.message);
    unlink(path);
    cr_assert_eq(log.total, len);
    cr_assert_eq(log.last, len);
    cr_assert_geq(log.calls, (int)(len / (4u << 20)), "a report every 4 MiB");
    cr_assert(log.monotonic);
    hd_dump_free(d);
    free(json);
    model_free(&m);
}

/* --- two threads: the same dump, or the same first error, as one ------------------------- */

static hd_dump *load_threads(const char *text, size_t len, unsigned threads, int *rc, hd_error *err)
{
    hd_dump *d = NULL;
    hd_load_options opts = {.threads = threads};
    *rc = hd_load_buffer(text, len, "split.json", &opts, &d, err);
    return d;
}

#define SAME_ARRAY(a, b, field, n)                                                              \
    cr_assert((n) == 0 || memcmp((a)->field, (b)->field, (size_t)(n) * sizeof *(a)->field) == 0, \
              "%s differs", #field)

static void assert_same_native(const hd__native *a, const hd__native *b)
{
    cr_assert_eq(!a, !b, "one dump has native parts, the other not");
    if (!a)
        return;
    cr_assert(!a->loading && !b->loading);
    cr_assert_eq(a->nframes, b->nframes);
    SAME_ARRAY(a, b, frame_id, a->nframes);
    SAME_ARRAY(a, b, frame_function, a->nframes);
    SAME_ARRAY(a, b, frame_module, a->nframes);
    cr_assert_eq(a->nstacks, b->nstacks);
    SAME_ARRAY(a, b, stack_frame, a->nstacks);
    SAME_ARRAY(a, b, stack_parent, a->nstacks);
    cr_assert_eq(a->nsite_stacks, b->nsite_stacks);
    SAME_ARRAY(a, b, site_stack, a->nsite_stacks);
    cr_assert_eq(a->nobjects, b->nobjects);
    SAME_ARRAY(a, b, obj_address, a->nobjects);
    SAME_ARRAY(a, b, obj_thread, a->nobjects);
    cr_assert_eq(a->ninterior, b->ninterior);
    SAME_ARRAY(a, b, interior_edge, a->ninterior);
    SAME_ARRAY(a, b, interior_offset, a->ninterior);
    cr_assert_eq(a->nroot_offsets, b->nroot_offsets);
    SAME_ARRAY(a, b, root_offset, a->nroot_offsets);
}

/* Every array of the graph, byte for byte. */
static void assert_same_dump(const hd_dump *a, const hd_dump *b)
{
    cr_assert_eq(a->version, b->version);
    cr_assert(a->producer == b->producer && a->created == b->created && a->name == b->name);
    cr_assert_eq(a->pid, b->pid);
    cr_assert_eq(a->ntypes, b->ntypes);
    SAME_ARRAY(a, b, type_id, a->ntypes);
    SAME_ARRAY(a, b, type_size, a->ntypes);
    SAME_ARRAY(a, b, type_name, a->ntypes);
    SAME_ARRAY(a, b, type_flags, a->ntypes);
    cr_assert_eq(a->nsites, b->nsites);
    SAME_ARRAY(a, b, site_id, a->nsites);
    SAME_ARRAY(a, b, site_file, a->nsites);
    SAME_ARRAY(a, b, site_function, a->nsites);
    SAME_ARRAY(a, b, site_line, a->nsites);
    cr_assert_eq(a->nobjects, b->nobjects);
    SAME_ARRAY(a, b, obj_id, a->nobjects);
    SAME_ARRAY(a, b, obj_size, a->nobjects);
    SAME_ARRAY(a, b, obj_type, a->nobjects);
    SAME_ARRAY(a, b, obj_site, a->nobjects);
    SAME_ARRAY(a, b, obj_label, a->nobjects);
    SAME_ARRAY(a, b, obj_rc, a->nobjects);
    SAME_ARRAY(a, b, obj_gen, a->nobjects);
    SAME_ARRAY(a, b, obj_flags, a->nobjects);
    cr_assert(a->obj_map.direct == b->obj_map.direct && a->obj_map.base == b->obj_map.base &&
              a->obj_map.mask == b->obj_map.mask && a->obj_map.used == b->obj_map.used);
    SAME_ARRAY(a, b, obj_map.slots, (size_t)a->obj_map.mask + 1);
    cr_assert_eq(a->nedges, b->nedges);
    SAME_ARRAY(a, b, edge_offset, (size_t)a->nobjects + 1);
    SAME_ARRAY(a, b, edge_target, a->nedges);
    SAME_ARRAY(a, b, edge_name, a->nedges);
    cr_assert_eq(a->nroots, b->nroots);
    SAME_ARRAY(a, b, root_object, a->nroots);
    SAME_ARRAY(a, b, root_kind_name, a->nroots);
    SAME_ARRAY(a, b, root_name, a->nroots);
    SAME_ARRAY(a, b, root_kind, a->nroots);
    cr_assert_eq(a->nweakrefs, b->nweakrefs);
    SAME_ARRAY(a, b, weakref_object, a->nweakrefs);
    SAME_ARRAY(a, b, weakref_referent, a->nweakrefs);
    SAME_ARRAY(a, b, weakref_callback, a->nweakrefs);
    cr_assert_eq(a->gc.ngarbage, b->gc.ngarbage);
    SAME_ARRAY(a, b, gc_garbage, a->gc.ngarbage);
    cr_assert_eq(a->strings.len, b->strings.len);
    SAME_ARRAY(a, b, strings.data, a->strings.len);
    assert_same_native(a->native, b->native);
}

/* Labels with a NUL inside: the string arena cannot be walked by strlen. */
static char *with_nul_labels(const char *json, size_t *len)
{
    static const char from[] = "\"label\": \"", to[] = "\"label\": \"\\u0000";
    char *out = malloc(*len * 2 + 1), *w = out;
    size_t n = 0;
    for (const char *p = json; *p;) {
        if (!strncmp(p, from, sizeof from - 1) && n++ % 3 == 0) {
            w += sprintf(w, "%s", to);
            p += sizeof from - 1;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    *len = (size_t)(w - out);
    return out;
}

Test(reader, two_threads_load_what_one_does)
{
    int split = 0, runs = 0;
    for (uint64_t seed = 1; seed <= 60; seed++, runs++) {
        model m;
        model_build(&m, 50 + (uint32_t)(seed * 97 % 3000), seed);
        size_t len;
        char *json = model_serialize(&m, &len);
        if (seed % 4 == 0) {
            char *nul = with_nul_labels(json, &len);
            free(json);
            json = nul;
        }
        int rc1, rc2;
        hd_error e1, e2;
        hd_dump *one = load_threads(json, len, 1, &rc1, &e1);
        hd_dump *two = load_threads(json, len, 2, &rc2, &e2);
        cr_assert_eq(rc1, HD_OK, "seed %llu: %s", (unsigned long long)seed, e1.message);
        cr_assert_eq(rc2, HD_OK, "seed %llu: %s", (unsigned long long)seed, e2.message);
        cr_assert_eq(one->second_half, 0);
        split += two->second_half > 0;
        assert_same_dump(one, two);
        if (seed % 4 != 0)
            check_against_model(two, &m);
        hd_dump_free(one);
        hd_dump_free(two);
        free(json);
        model_free(&m);
    }
    cr_assert_geq(split * 4, runs * 3, "only %d of %d dumps were split", split, runs);
}

/* From a file the second thread reads with pread while the first reads ahead. */
Test(reader, two_threads_from_a_file)
{
    model m;
    model_build(&m, 40000, 5);
    size_t len;
    char *json = model_serialize(&m, &len);
    char path[] = "/tmp/heaptool-split-XXXXXX";
    temp_file_write(path, json, len);
    progress_log log = {0, 0, 0, true};
    hd_load_options opts = {.user = &log, .on_progress = log_progress, .threads = 2};
    hd_dump *two = NULL, *one = NULL;
    hd_error err;
    cr_assert_eq(hd_load(path, &opts, &two, &err), HD_OK, "%s", err.message);
    cr_assert(log.monotonic);
    cr_assert_eq(log.last, len);
    hd_load_options one_thread = {.threads = 1};
    cr_assert_eq(hd_load(path, &one_thread, &one, &err), HD_OK, "%s", err.message);
    unlink(path);
    cr_assert_gt(two->second_half, 0);
    assert_same_dump(one, two);
    hd_dump_free(one);
    hd_dump_free(two);
    free(json);
    model_free(&m);
}

/* A byte changed anywhere (most often in the second half): both ways fail alike, or load alike. */
Test(reader, two_threads_report_the_first_error)
{
    static const char junk[] = {'x', '}', ']', ',', '"', '9', '-', ' ', '{', '\n'};
    for (uint64_t seed = 1; seed <= 40; seed++) {
        model m;
        model_build(&m, 400 + (uint32_t)(seed * 31 % 800), seed);
        size_t len;
        char *json = model_serialize(&m, &len);
        for (int k = 0; k < 8; k++) {
            size_t at = below(2) ? len / 2 + below((uint32_t)(len / 2)) : below((uint32_t)len);
            char was = json[at];
            json[at] = junk[below(sizeof junk)];
            int rc1, rc2;
            hd_error e1, e2;
            hd_dump *one = load_threads(json, len, 1, &rc1, &e1);
            hd_dump *two = load_threads(json, len, 2, &rc2, &e2);
            cr_assert_eq(rc1, rc2, "seed %llu, byte %zu: %s vs %s", (unsigned long long)seed, at,
                         e1.message, e2.message);
            if (rc1 == HD_OK) {
                assert_same_dump(one, two);
            } else {
                cr_assert_str_eq(e1.message, e2.message);
                cr_assert(e1.line == e2.line && e1.column == e2.column && e1.offset == e2.offset,
                          "seed %llu: %llu:%llu vs %llu:%llu: %s", (unsigned long long)seed,
                          (unsigned long long)e1.line, (unsigned long long)e1.column,
                          (unsigned long long)e2.line, (unsigned long long)e2.column, e1.message);
            }
            hd_dump_free(one);
            hd_dump_free(two);
            json[at] = was;
        }
        free(json);
        model_free(&m);
    }
}

/* The committed sample dumps, read both ways. */
Test(reader, two_threads_on_the_samples)
{
    static const char *const paths[] = {"samples/dumps/cycle.json", "samples/dumps/growing_list_1.json",
                                        "samples/dumps/growing_list_3.json", "samples/dumps/weak_cache.json",
                                        "tests/data/bad.json"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        hd_load_options o1 = {.threads = 1}, o2 = {.threads = 2};
        hd_dump *one = NULL, *two = NULL;
        hd_error e1, e2;
        int rc1 = hd_load(paths[i], &o1, &one, &e1), rc2 = hd_load(paths[i], &o2, &two, &e2);
        cr_assert_eq(rc1, rc2, "%s", paths[i]);
        if (rc1 == HD_OK)
            assert_same_dump(one, two);
        else
            cr_assert(!strcmp(e1.message, e2.message) && e1.line == e2.line && e1.column == e2.column);
        hd_dump_free(one);
        hd_dump_free(two);
    }
}

/* Several dumps at once: each as hd_load would give it, and the first failure in order. */
Test(reader, load_many_loads_each_as_one)
{
    const char *paths[] = {"samples/dumps/growing_list_1.json", "samples/dumps/weak_cache.json",
                           "tests/data/bad.json", "/nonexistent/x.json"};
    hd_dump *many[4], *one = NULL;
    hd_error errs[4], err;
    progress_log log = {0, 0, 0, true};
    hd_load_options opts = {.user = &log, .on_progress = log_progress};
    cr_assert_eq(hd_load_many(paths, 2, &opts, many, errs), HD_OK, "%s", errs[0].message);
    cr_assert(log.monotonic);
    cr_assert_eq(log.last, log.total, "the last report covers both files");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(hd_load(paths[i], NULL, &one, &err), HD_OK);
        assert_same_dump(one, many[i]);
        hd_dump_free(one);
        hd_dump_free(many[i]);
    }
    int rc = hd_load_many(paths + 1, 3, NULL, many, errs);
    cr_assert_eq(rc, hd_load(paths[2], NULL, &one, &err), "the status of the first failure");
    cr_assert_not_null(many[0]);
    cr_assert(many[1] == NULL && many[2] == NULL);
    cr_assert_str_eq(errs[1].message, err.message);
    cr_assert_eq(errs[2].status, HD_EIO);
    hd_dump_free(many[0]);
}

/* What the graph holds, by part: the documented bytes per object and per reference. */
Test(reader, memory_of_the_graph)
{
    model m;
    model_build(&m, 5000, 3);
    size_t len;
    char *json = model_serialize(&m, &len);
    int rc;
    hd_error err;
    hd_dump *d = load_threads(json, len, 1, &rc, &err);
    cr_assert_eq(rc, HD_OK, "%s", err.message);
    hd_memory mem;
    hd_dump_memory(d, &mem);
    cr_assert_eq(mem.objects, 38ull * m.nobjects + 4);
    cr_assert_eq(mem.references, 8 * hd_edge_count(d));
    cr_assert_geq(mem.id_map, 4ull * m.nobjects);
    cr_assert_eq(mem.strings, d->strings.len);
    cr_assert_eq(mem.total, mem.objects + mem.references + mem.id_map + mem.strings + mem.other);
    hd_dump_free(d);
    free(json);
    model_free(&m);
}

/* The vocabulary tables: each flag word and root kind word the library names reads back as the
 * flag or kind it names; other numbers have no word; every status has its own name. */
Test(reader, vocabulary_round_trips)
{
    unsigned named = 0;
    for (unsigned b = 0; b < 32; b++) {
        const char *word = hd_object_flag_name(1u << b);
        if (!word)
            continue;
        named |= 1u << b;
        char text[400];
        snprintf(text, sizeof text,
                 "{\"format\":\"heapdump\",\"version\":1,\"types\":[{\"id\":1,\"name\":\"T\"}],"
                 "\"objects\":[{\"id\":1,\"type\":1,\"size\":8,\"flags\":[\"%s\",\"no-such-flag\"]}]}",
                 word);
        hd_dump *d = NULL;
        hd_error err;
        cr_assert_eq(hd_load_buffer(text, strlen(text), "flag.json", NULL, &d, &err), HD_OK, "%s",
                     err.message);
        cr_assert_eq(hd_object_flags(d, 0), 1u << b, "%s", word);
        hd_dump_free(d);
    }
    cr_assert_eq(named,
                 HD_OBJ_TRACKED | HD_OBJ_FINALIZED | HD_OBJ_FROZEN | HD_OBJ_IMMORTAL | HD_OBJ_INTERNED);
    cr_assert_null(hd_object_flag_name(HD_OBJ_TRACKED | HD_OBJ_FROZEN));
    cr_assert_null(hd_object_flag_name(0));

    for (int k = 0; k < HD_ROOT_OTHER; k++) {
        const char *word = hd_root_kind_word((enum hd_root_kind)k);
        cr_assert_not_null(word);
        cr_assert_str_eq(word, kind_names[k], "the format's order");
    }
    cr_assert_null(hd_root_kind_word(HD_ROOT_OTHER));

    const char *names[16] = {0};
    for (int s = 0; s >= -8; s--) {
        const char *name = hd_status_name(s);
        cr_assert(!strncmp(name, "HD_", 3) && strcmp(name, "HD_EUNKNOWN"), "status %d has a name", s);
        cr_assert_str_neq(hd_status_message(s), "unknown status");
        for (int t = 0; t < -s; t++)
            cr_assert_str_neq(names[t], name);
        names[-s] = name;
    }
    cr_assert_str_eq(hd_status_name(HD_EINTEGRITY), "HD_EINTEGRITY");
    cr_assert_str_eq(hd_status_name(-9), "HD_EUNKNOWN");
    cr_assert_str_eq(hd_status_message(1), "unknown status");
}

/* The native parts as formats/heapdump.md 13.1 counts them, in "other": memcheck's nine cases
 * have 11 frames, 18 stack nodes, 9 sites with a stack, 15 objects with an address, 3 interior
 * references (cases 6, 8, 9) and 6 roots, the last of them with an offset. */
Test(reader, memory_of_the_native_parts)
{
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load("samples/dumps/leak_cases.json", NULL, &d, &err), HD_OK, "%s", err.message);
    hd_memory mem;
    hd_dump_memory(d, &mem);
    const hd__native *n = d->native;
    uint64_t maps = 4ull * (n->frame_map.mask + 1) + 4ull * (n->stack_map.mask + 1);
    uint64_t plain = (uint64_t)d->ntypes * 21 + (uint64_t)d->nsites * 20 + (uint64_t)d->nroots * 13;
    cr_assert_eq(mem.other, plain + 11 * 32 + 18 * 16 + 9 * 4 + 15 * 12 + 3 * 12 + 6 * 8 + maps);
    hd_dump_free(d);
}
