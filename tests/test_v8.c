/* test_v8.c: the V8 heap snapshot importer against random snapshots it must read back exactly
 * (every node, type, label, reference, weak link and root, as formats/v8-heapsnapshot.md maps
 * them), in any member order, any whitespace and across the reader's chunk boundaries; and
 * the lexer's number runs against its general path. */
#include "heapdump.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "random_numbers.h"
#include "temp_file.h"

static uint64_t rng_state;
static uint64_t rnd(void) { return splitmix64(&rng_state); }
static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }

/* Node and edge types in an order of our own: the reader must go by the names in the meta. */
static const char *const node_types[] = {"synthetic", "closure", "object", "string", "hidden",
                                         "array", "code", "native", "number"};
enum { N_SYNTHETIC, N_CLOSURE, N_OBJECT, N_STRING, N_HIDDEN, N_ARRAY, N_CODE, N_NATIVE, N_NUMBER, N_TYPES };
static const char *const edge_types[] = {"weak", "property", "element", "internal", "shortcut",
                                         "hidden", "context"};
enum { E_WEAK, E_PROPERTY, E_ELEMENT, E_INTERNAL, E_SHORTCUT, E_HIDDEN, E_CONTEXT, E_TYPES };

#define NSTRINGS 40
typedef struct vedge { uint32_t type, name, to; } vedge;
typedef struct vnode {
    uint32_t type, name, nedges;
    uint64_t id, size;
    vedge *edges;
} vnode;
typedef struct snapshot {
    uint32_t n;
    vnode *nodes;
    char strings[NSTRINGS][200];
} snapshot;

static void build(snapshot *s, uint32_t n, uint64_t seed)
{
    rng_state = seed;
    s->n = n;
    s->nodes = calloc(n, sizeof *s->nodes);
    static const char *const words[] = {"", "Foo", "Bar", "(GC roots)", "next", "é日本", "x\"y",
                                        "line\nbreak", "system / Context", "0"};
    for (uint32_t i = 0; i < NSTRINGS; i++) {
        if (i < 10) {
            snprintf(s->strings[i], sizeof s->strings[i], "%s", words[i]);
        } else { /* long ones get cut for labels; some with a multi-byte character at the cut */
            size_t len = below(3) ? below(40) : 60 + below(120);
            for (size_t k = 0; k < len;) {
                const char *piece = below(5) ? "ab" : "é";
                size_t pl = strlen(piece);
                if (k + pl > len)
                    break;
                memcpy(s->strings[i] + k, piece, pl);
                k += pl;
            }
        }
    }
    for (uint32_t o = 0; o < n; o++) {
        vnode *v = &s->nodes[o];
        v->type = o == 0 ? N_SYNTHETIC : below(N_TYPES);
        v->name = below(NSTRINGS);
        v->id = seed % 2 ? 1 + 2 * (uint64_t)o : rnd() >> below(60);
        v->size = below(4) ? below(200) : rnd() >> 16;
        v->nedges = below(4) ? below(4) : below(30);
        v->edges = calloc(v->nedges + 1, sizeof *v->edges);
        for (uint32_t e = 0; e < v->nedges; e++) {
            vedge *ed = &v->edges[e];
            ed->type = below(E_TYPES);
            ed->to = below(n);
            bool indexed = ed->type == E_ELEMENT || ed->type == E_HIDDEN;
            ed->name = indexed ? (below(8) ? e : below(5) ? below(100000) : UINT32_MAX - 1 - below(9))
                               : below(NSTRINGS);
        }
    }
    for (uint32_t o = 1; o < n; o++) /* ids must be unique */
        for (uint32_t p = 0; p < o; p++)
            if (s->nodes[p].id == s->nodes[o].id) {
                s->nodes[o].id = UINT64_MAX - o;
                break;
            }
}

static void release(snapshot *s)
{
    for (uint32_t o = 0; o < s->n; o++)
        free(s->nodes[o].edges);
    free(s->nodes);
}

static void ws(FILE *f)
{
    static const char *const spaces[] = {"", "", "", "", " ", "\n", "\r\n", "\t ", "\n  "};
    fputs(spaces[below(9)], f);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void names(FILE *f, const char *const *list, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        json_string(f, list[i]);
    }
    fputc(']', f);
}

/* order: 0 as V8 writes it, 1 sorted (jq -S: edges, nodes, snapshot, strings), 2 strings first. */
static char *serialize(const snapshot *s, int order, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    /* an extra field before the ones we read, and one between them */
    static const char *const nf[] = {"trace_node_id", "type", "name", "id", "self_size", "edge_count", "detachedness"};
    static const char *const ef[] = {"type", "name_or_index", "to_node"};
    char meta[4096];
    FILE *m = fmemopen(meta, sizeof meta, "w");
    fputs("{\"meta\":{\"node_fields\":", m);
    names(m, nf, 7);
    fputs(",\"node_types\":[", m);
    names(m, node_types, N_TYPES);
    fputs(",\"string\",\"number\"],\"edge_fields\":", m);
    names(m, ef, 3);
    fputs(",\"edge_types\":[", m);
    names(m, edge_types, E_TYPES);
    fprintf(m, ",\"string_or_number\",\"node\"]},\"node_count\":%u,\"edge_count\":0}", s->n);
    fputc('\0', m);
    fclose(m);

    const char *parts[4];
    static const char *const v8_order[] = {"snapshot", "nodes", "edges", "strings"};
    static const char *const sorted[] = {"edges", "nodes", "snapshot", "strings"};
    static const char *const strings_first[] = {"strings", "snapshot", "edges", "nodes"};
    memcpy(parts, order == 0 ? v8_order : order == 1 ? sorted : strings_first, sizeof parts);
    fputc('{', f);
    for (int p = 0; p < 4; p++) {
        if (p)
            fputc(',', f);
        ws(f);
        fprintf(f, "\"%s\":", parts[p]);
        ws(f);
        if (!strcmp(parts[p], "snapshot")) {
            fputs(meta, f);
        } else if (!strcmp(parts[p], "nodes")) {
            fputc('[', f);
            for (uint32_t o = 0; o < s->n; o++) {
                const vnode *v = &s->nodes[o];
                fprintf(f, "%s%u,%u,", o ? "," : "", below(3), v->type);
                ws(f);
                fprintf(f, "%u,%llu,%llu", v->name, (unsigned long long)v->id, (unsigned long long)v->size);
                ws(f);
                fprintf(f, ",%u ,0", v->nedges);
                ws(f);
            }
            fputc(']', f);
        } else if (!strcmp(parts[p], "edges")) {
            fputc('[', f);
            bool first = true;
            for (uint32_t o = 0; o < s->n; o++)
                for (uint32_t e = 0; e < s->nodes[o].nedges; e++) {
                    const vedge *ed = &s->nodes[o].edges[e];
                    fprintf(f, "%s%u,%u,%u", first ? "" : ",", ed->type, ed->name, ed->to * 7);
                    ws(f);
                    first = false;
                }
            fputc(']', f);
        } else {
            fputc('[', f);
            for (int i = 0; i < NSTRINGS; i++) {
                if (i)
                    fputc(',', f);
                ws(f);
                json_string(f, s->strings[i]);
            }
            fputc(']', f);
        }
        ws(f);
    }
    fputs("}\n", f);
    fclose(f);
    return buf;
}

static const char *expected_type(const snapshot *s, const vnode *v, char *buf)
{
    if ((v->type == N_OBJECT || v->type == N_NATIVE) && s->strings[v->name][0])
        return s->strings[v->name];
    if (v->type == N_HIDDEN)
        return "(system)";
    if (v->type == N_CODE)
        return "(compiled code)";
    sprintf(buf, "(%s)", node_types[v->type]);
    return buf;
}

static void expected_label(const char *name, char *out)
{
    size_t len = strlen(name);
    if (len <= 80) {
        strcpy(out, name);
        return;
    }
    size_t cut = 77;
    while (cut > 0 && ((unsigned char)name[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(out, name, cut);
    strcpy(out + cut, "...");
}

static void check(const hd_dump *d, const snapshot *s)
{
    cr_assert_eq(hd_dump_format(d), HD_FORMAT_V8);
    cr_assert_eq(hd_object_count(d), s->n);
    uint32_t weak = 0, roots = 0;
    for (uint32_t o = 0; o < s->n; o++) {
        const vnode *v = &s->nodes[o];
        char tbuf[64], lbuf[256];
        cr_assert_eq(hd_object_id(d, o), v->id);
        cr_assert_eq(hd_object_find(d, v->id), o);
        cr_assert_eq(hd_object_size(d, o), v->size);
        cr_assert_str_eq(hd_type_name(d, hd_object_type(d, o)), expected_type(s, v, tbuf));
        cr_assert_eq(hd_object_rc(d, o), HD_RC_UNKNOWN);
        const char *label = hd_object_label(d, o);
        bool named = (v->type == N_OBJECT || v->type == N_NATIVE) && s->strings[v->name][0];
        if (named || !s->strings[v->name][0]) {
            cr_assert_null(label, "node %u: label '%s'", o, label);
        } else {
            expected_label(s->strings[v->name], lbuf);
            cr_assert_str_eq(label, lbuf, "node %u", o);
        }
        uint64_t e, end;
        hd_object_edges(d, o, &e, &end);
        for (uint32_t k = 0; k < v->nedges; k++) {
            const vedge *ed = &v->edges[k];
            if (ed->type == E_WEAK || (ed->type == E_SHORTCUT && o != 0)) {
                cr_assert_eq(hd_weakref_object(d, weak), o);
                cr_assert_eq(hd_weakref_referent(d, weak), ed->to);
                weak++;
                continue;
            }
            cr_assert_lt(e, end, "node %u: too few references", o);
            cr_assert_eq(hd_edge_target(d, e), ed->to);
            char nbuf[32];
            if (ed->type == E_ELEMENT || ed->type == E_HIDDEN)
                snprintf(nbuf, sizeof nbuf, "[%u]", ed->name);
            cr_assert_str_eq(hd_edge_name(d, e),
                             ed->type == E_ELEMENT || ed->type == E_HIDDEN ? nbuf : s->strings[ed->name]);
            e++;
        }
        cr_assert_eq(e, end, "node %u: too many references", o);
        if (o == 0 || v->type == N_SYNTHETIC) {
            cr_assert_eq(hd_root_object(d, roots), o);
            cr_assert_eq(hd_root_kind(d, roots), HD_ROOT_NAMED);
            expected_label(s->strings[v->name], lbuf);
            cr_assert_str_eq(hd_root_name(d, roots), lbuf[0] ? lbuf : "(root)");
            roots++;
        }
    }
    cr_assert_eq(hd_weakref_count(d), weak);
    cr_assert_eq(hd_root_count(d), roots);
}

Test(v8, random_snapshots_read_back_exactly)
{
    for (uint64_t seed = 1; seed <= 60; seed++) {
        snapshot s;
        build(&s, 1 + (uint32_t)(seed * 53 % 500), seed);
        size_t len;
        char *json = serialize(&s, (int)(seed % 3), &len);
        hd_dump *d = NULL;
        hd_error err;
        int rc = hd_load_buffer(json, len, "random.heapsnapshot", NULL, &d, &err);
        cr_assert_eq(rc, HD_OK, "seed %llu: %llu:%llu: %s", (unsigned long long)seed,
                     (unsigned long long)err.line, (unsigned long long)err.column, err.message);
        check(d, &s);
        hd_dump_free(d);
        free(json);
        release(&s);
    }
}

/* Several 1 MiB chunks read from a file: numbers straddle the chunk boundaries, where the
 * lexer's number runs hand over to its general path. */
Test(v8, large_snapshot_from_file_spans_chunks)
{
    snapshot s;
    build(&s, 60000, 7);
    size_t len;
    char *json = serialize(&s, 0, &len);
    cr_assert_gt(len, 3u << 20, "want several chunks, got %zu bytes", len);
    char path[] = "/tmp/heaptool-v8-XXXXXX";
    temp_file_write(path, json, len);
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load(path, NULL, &d, &err);
    unlink(path);
    cr_assert_eq(rc, HD_OK, "%llu:%llu: %s", (unsigned long long)err.line,
                 (unsigned long long)err.column, err.message);
    check(d, &s);
    hd_dump_free(d);
    free(json);
    release(&s);
}

static void expect_failure(const char *text, int status, uint64_t line, uint64_t column, const char *needle)
{
    hd_dump *d = (hd_dump *)1;
    hd_error err;
    int rc = hd_load_buffer(text, strlen(text), "bad.heapsnapshot", NULL, &d, &err);
    cr_assert_eq(rc, status, "expected %s, got %s (%s) for: %s", hd_status_name(status),
                 hd_status_name(rc), err.message, text);
    cr_assert_null(d);
    cr_assert_eq(err.line, line, "line %llu, want %llu: %s", (unsigned long long)err.line,
                 (unsigned long long)line, err.message);
    cr_assert_eq(err.column, column, "column %llu, want %llu: %s", (unsigned long long)err.column,
                 (unsigned long long)column, err.message);
    cr_assert(strstr(err.message, needle), "message '%s' lacks '%s'", err.message, needle);
}

#define META "{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\"]," \
             "\"node_types\":[[\"synthetic\",\"object\"]],\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"]," \
             "\"edge_types\":[[\"element\",\"property\"]]}},\n"

/* Number syntax is the general lexer's, with the same positions, whatever path reads it. */
Test(v8, number_runs_keep_json_rules_and_positions)
{
    expect_failure(META "\"nodes\":[0,0,1,0,0,1,0,03,0,0],\"edges\":[],\"strings\":[\"\"]}",
                   HD_ESYNTAX, 2, 24, "leading zero");
    expect_failure(META "\"nodes\":[0,0,1,0,0,],\"edges\":[],\"strings\":[\"\"]}",
                   HD_ESYNTAX, 2, 20, "expected a value after ','");
    expect_failure(META "\"nodes\":[0,0,1,0,0 1],\"edges\":[],\"strings\":[\"\"]}",
                   HD_ESYNTAX, 2, 20, "expected ',' or ']'");
    expect_failure(META "\"nodes\":[0,0,1,0,0,1,0,3,1e3,0],\"edges\":[],\"strings\":[\"\"]}",
                   HD_EFORMAT, 2, 26, "'self_size' must be an unsigned integer, found a non-integer");
    expect_failure(META "\"nodes\":[0,0,1,0,0,1,0,18446744073709551616,0,0],\"edges\":[],\"strings\":[\"\"]}",
                   HD_EFORMAT, 2, 24, "'id' must be an unsigned integer, found a number above 2^64-1");
    expect_failure(META "\"nodes\":[0,0,1,0,0,\n1,0,\"x\",0,0],\"edges\":[],\"strings\":[\"\"]}",
                   HD_EFORMAT, 3, 5, "nodes[1]: 'id' must be an unsigned integer, found a string");
    expect_failure(META "\"nodes\":[0,0,1,0,1],\"edges\":[0,0,5],\"strings\":[\"\"]}",
                   HD_EFORMAT, 2, 34, "to_node 5 is not the start of a node (past the last one)");
    /* 2^64-1 is an id like any other */
    hd_dump *d = NULL;
    const char *ok = META "\"nodes\":[0,0,18446744073709551615,0,0],\"edges\":[],\"strings\":[\"\"]}";
    cr_assert_eq(hd_load_buffer(ok, strlen(ok), "ok", NULL, &d, NULL), HD_OK);
    cr_assert_eq(hd_object_id(d, 0), UINT64_MAX);
    hd_dump_free(d);
}

Test(v8, empty_snapshot_loads)
{
    hd_dump *d = NULL;
    const char *text = META "\"nodes\":[],\"edges\":[],\"strings\":[]}";
    cr_assert_eq(hd_load_buffer(text, strlen(text), "empty", NULL, &d, NULL), HD_OK);
    cr_assert_eq(hd_object_count(d), 0);
    cr_assert_eq(hd_root_count(d), 0);
    cr_assert_eq(hd_version(d), 0);
    hd_dump_free(d);
}
