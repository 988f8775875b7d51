/* v8_read.c: reads a Chrome/Node heap snapshot number by number into raw arrays (see v8.h).
 *
 * The flat "nodes" and "edges" arrays come from the lexer in batches of numbers, read in its
 * tight loop, and go straight into the dump's arrays; only the small "snapshot" meta is handed
 * to cJSON. A batch keeps no positions: a problem in one is placed by reading the source again.
 * The meta must be known before the arrays it describes: V8 writes it first, and when another
 * order comes (jq -S sorts it after them) the source is read once for the meta and once more
 * for the rest.
 */
#include "v8.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEED_META 1 /* members(): an array came before the meta; read the meta first */

enum node_role { NR_OTHER, NR_TYPE, NR_NAME, NR_ID, NR_SIZE, NR_EDGES };
enum edge_role { ER_OTHER, ER_TYPE, ER_NAME, ER_TO };

static const char *const members_known[] = {
    "snapshot", "nodes", "edges", "strings", "trace_function_infos", "trace_tree", "samples",
    "locations", NULL,
};
enum { M_SNAPSHOT, M_NODES, M_EDGES, M_STRINGS, M_COUNT = sizeof members_known / sizeof *members_known - 1 };

bool hd__v8_is_member(const char *name)
{
    for (int i = 0; members_known[i]; i++)
        if (!strcmp(name, members_known[i]))
            return true;
    return false;
}

static int fail_number(hd__v8 *v, const char *array, uint64_t index, const char *field)
{
    hd__lexer *lx = v->lx;
    const char *found = hd__tok_name(lx->tok);
    if (lx->tok == HD__T_NUMBER)
        found = lx->num_kind == HD__N_NEGINT  ? "a negative number"
              : lx->num_kind == HD__N_BIGUINT ? "a number above 2^64-1" : "a non-integer number";
    return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "%s[%llu]: '%s' must be an unsigned integer, found %s",
                        array, (unsigned long long)index, field, found);
}

/* --- the meta: field layout and type names ------------------------------------------------ */

/* a itself when it is an array of 1 to max strings, else NULL. */
static const cJSON *strings_or_null(const cJSON *a, int max)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 || cJSON_GetArraySize(a) > max)
        return NULL;
    const cJSON *s;
    cJSON_ArrayForEach(s, a) {
        if (!cJSON_IsString(s))
            return NULL;
    }
    return a;
}

/* node_types and edge_types: the first element lists the type names. */
static const cJSON *type_names(const cJSON *meta, const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsArray(a) ? strings_or_null(cJSON_GetArrayItem(a, 0), HD__V8_MAX_TYPES) : NULL;
}

/* Positions of the named fields in a record; the number of fields, or a negative status. */
static int layout(hd__v8 *v, hd__pos at, const cJSON *fields, const char *key,
                  const char *const *names, uint8_t *roles)
{
    int n = 0;
    unsigned found = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, fields) {
        roles[n] = 0;
        for (int r = 1; names[r]; r++)
            if (!strcmp(f->valuestring, names[r]) && !(found & 1u << r)) {
                roles[n] = (uint8_t)r;
                found |= 1u << r;
            }
        n++;
    }
    for (int r = 1; names[r]; r++)
        if (!(found & 1u << r))
            return hd__lex_fail(v->lx, HD_EFORMAT, at, "snapshot.meta: '%s' lacks '%s'", key, names[r]);
    return n;
}

static int meta_from(hd__v8 *v, hd__pos at, const cJSON *snap)
{
    static const char *const node_names[] = {"", "type", "name", "id", "self_size", "edge_count", NULL};
    static const char *const edge_names[] = {"", "type", "name_or_index", "to_node", NULL};
    hd__lexer *lx = v->lx;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(snap, "meta");
    if (!cJSON_IsObject(meta))
        return hd__lex_fail(lx, HD_EFORMAT, at, "snapshot: missing object 'meta'");
    const cJSON *nf = strings_or_null(cJSON_GetObjectItemCaseSensitive(meta, "node_fields"), HD__V8_MAX_FIELDS);
    const cJSON *ef = strings_or_null(cJSON_GetObjectItemCaseSensitive(meta, "edge_fields"), HD__V8_MAX_FIELDS);
    const cJSON *nt = type_names(meta, "node_types"), *et = type_names(meta, "edge_types");
    const char *bad = !nf ? "node_fields" : !ef ? "edge_fields" : !nt ? "node_types" : !et ? "edge_types" : NULL;
    if (bad && bad[5] == 'f')
        return hd__lex_fail(lx, HD_EFORMAT, at, "snapshot.meta: '%s' must be an array of 1 to %d field names",
                            bad, HD__V8_MAX_FIELDS);
    if (bad)
        return hd__lex_fail(lx, HD_EFORMAT, at, "snapshot.meta: '%s' must start with an array of 1 to %d type names",
                            bad, HD__V8_MAX_TYPES);
    int n = layout(v, at, nf, "node_fields", node_names, v->node_role);
    if (n < 0)
        return n;
    v->nf = (uint32_t)n;
    if ((n = layout(v, at, ef, "edge_fields", edge_names, v->edge_role)) < 0)
        return n;
    v->ef = (uint32_t)n;
    for (uint32_t j = 0; j < v->nf; j++)
        if (v->node_role[j] == NR_NAME)
            v->node_name_at = j;
        else if (v->node_role[j] == NR_ID)
            v->node_id_at = j;
    for (uint32_t j = 0; j < v->ef; j++) {
        if (v->edge_role[j] == ER_NAME)
            v->edge_name_at = j;
        if (v->edge_role[j] == ER_TO)
            v->edge_to_at = j;
    }

    hd__strtab *st = &v->d->strings;
    const cJSON *t;
    v->nnode_types = 0;
    cJSON_ArrayForEach(t, nt) {
        const char *name = t->valuestring;
        uint32_t i = v->nnode_types++;
        v->node_class[i] = !strcmp(name, "object") || !strcmp(name, "native") ? HD__V8_NODE_NAMED
                         : !strcmp(name, "synthetic") ? HD__V8_NODE_SYNTHETIC : HD__V8_NODE_KIND;
        /* DevTools' class names for the kinds that have no constructor name. */
        char buf[96];
        if (!strcmp(name, "hidden"))
            snprintf(buf, sizeof buf, "(system)");
        else if (!strcmp(name, "code"))
            snprintf(buf, sizeof buf, "(compiled code)");
        else
            snprintf(buf, sizeof buf, "(%.80s)", name);
        v->node_type_name[i] = hd__strtab_intern(st, buf, strlen(buf));
        if (v->node_type_name[i] == UINT32_MAX)
            return hd__lex_fail(lx, HD_ENOMEM, at, "out of memory");
    }
    v->nedge_types = 0;
    cJSON_ArrayForEach(t, et) {
        const char *name = t->valuestring;
        v->edge_class[v->nedge_types++] =
            !strcmp(name, "element") || !strcmp(name, "hidden") ? HD__V8_EDGE_INDEXED
          : !strcmp(name, "weak") ? HD__V8_EDGE_WEAK
          : !strcmp(name, "shortcut") ? HD__V8_EDGE_SHORTCUT : HD__V8_EDGE_NAMED;
    }
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(snap, "root_index");
    v->root_index = 0;
    if (root) {
        if (!cJSON_IsNumber(root) || root->valuedouble < 0 || root->valuedouble >= 4294967295.0 ||
            root->valuedouble != (double)(uint32_t)root->valuedouble)
            return hd__lex_fail(lx, HD_EFORMAT, at, "snapshot: 'root_index' must be a node index");
        v->root_index = (uint64_t)root->valuedouble;
    }
    v->have_meta = true;
    return HD_OK;
}

static int read_meta(hd__v8 *v)
{
    hd__lexer *lx = v->lx;
    hd__pos at = lx->tok_pos;
    if (lx->tok != HD__T_LBRACE)
        return hd__lex_fail(lx, HD_EFORMAT, at, "'snapshot' must be an object, found %s",
                            hd__tok_name(lx->tok));
    const char *text;
    size_t len;
    int rc = hd__lex_capture_value(lx, &text, &len);
    if (rc)
        return rc;
    cJSON *snap = cJSON_ParseWithLength(text, len);
    if (!snap)
        return hd__lex_fail(lx, HD_ENOMEM, at, "out of memory"); /* the lexer checked the syntax */
    rc = meta_from(v, at, snap);
    cJSON_Delete(snap);
    return rc;
}

/* --- the flat arrays ----------------------------------------------------------------------- */

static int oom(hd__v8 *v)
{
    return hd__lex_fail(v->lx, HD_ENOMEM, v->lx->tok_pos, "out of memory");
}

#define BATCH 1024 /* records read from the lexer at a time */

/* A problem with number `index` of a flat array, placed by reading the source again (the
 * lexer keeps the position of the last number of a batch only). */
__attribute__((format(printf, 5, 6)))
static int fail_at(hd__v8 *v, int status, const char *array, uint64_t index, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hd__pos at = hd__v8_locate(v, array, index, array[0] == 'n' ? v->nodes_pos : v->edges_pos);
    return hd__lex_fail(v->lx, status, at, "%s", msg);
}

/* After a short batch: the array ended (HD_OK), or an element that is not an unsigned integer
 * is current (reported). got is the batch's count, first_record the batch's first record. */
static int batch_end(hd__v8 *v, const char *array, size_t got, uint64_t first_record, uint32_t width,
                     const uint8_t *roles, const char *const *field)
{
    hd__lexer *lx = v->lx;
    uint64_t record = first_record + got / width;
    if (lx->tok != HD__T_RBRACKET)
        return fail_number(v, array, record, roles[got % width] ? field[roles[got % width]] : "field");
    if (got % width)
        return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "%s: the array ends inside %s %llu (%u of its %u fields)",
                            array, array[0] == 'n' ? "node" : "edge", (unsigned long long)record,
                            (unsigned)(got % width), width);
    return HD_OK;
}

static int read_nodes(hd__v8 *v)
{
    static const char *const field[] = {"", "type", "name", "id", "self_size", "edge_count"};
    hd__lexer *lx = v->lx;
    hd_dump *d = v->d;
    v->nodes_pos = lx->tok_pos;
    if (lx->tok != HD__T_LBRACKET)
        return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "'nodes' must be an array, found %s",
                            hd__tok_name(lx->tok));
    uint32_t at[6] = {0};
    for (uint32_t j = 0; j < v->nf; j++)
        at[v->node_role[j]] = j;
    uint64_t *batch = malloc((size_t)v->nf * BATCH * sizeof *batch);
    if (!batch)
        return oom(v);
    uint64_t cap = 0, sum = 0;
    uint32_t n = 0;
    int rc;
    for (;;) {
        size_t got;
        if ((rc = hd__lex_uints(lx, batch, (size_t)v->nf * BATCH, &got)))
            goto out;
        void **const arrays[] = {(void **)&d->obj_id, (void **)&d->obj_size, (void **)&d->obj_type,
                           (void **)&d->obj_gen, (void **)&d->edge_offset, NULL};
        const size_t sizes[] = {8, 8, 4, 1, 4};
        if (got / v->nf && !hd__grow(n + got / v->nf, &cap, 1024, UINT32_MAX, arrays, sizes)) {
            rc = oom(v); /* + 1 above: the offsets end one further */
            goto out;
        }
        for (const uint64_t *f = batch, *stop = batch + got / v->nf * v->nf; f < stop; f += v->nf, n++) {
            uint64_t base = (uint64_t)n * v->nf;
            if (f[at[NR_TYPE]] >= v->nnode_types) {
                rc = fail_at(v, HD_EFORMAT, "nodes", base + at[NR_TYPE], "nodes[%u]: type %llu is not one of the %u node types",
                             n, (unsigned long long)f[at[NR_TYPE]], v->nnode_types);
                goto out;
            }
            if (f[at[NR_NAME]] >= UINT32_MAX) {
                rc = fail_at(v, HD_EFORMAT, "nodes", base + at[NR_NAME], "nodes[%u]: name %llu is not a string index",
                             n, (unsigned long long)f[at[NR_NAME]]);
                goto out;
            }
            if (n == UINT32_MAX - 2) {
                rc = hd__lex_fail(lx, HD_ELIMIT, lx->tok_pos, "more than 2^32-2 nodes");
                goto out;
            }
            d->obj_id[n] = f[at[NR_ID]];
            d->obj_size[n] = f[at[NR_SIZE]];
            d->obj_type[n] = (uint32_t)f[at[NR_NAME]];
            d->obj_gen[n] = (uint8_t)f[at[NR_TYPE]];
            d->edge_offset[n] = (uint32_t)sum;
            sum += f[at[NR_EDGES]];
            if (sum > UINT32_MAX - 2) {
                rc = fail_at(v, HD_ELIMIT, "nodes", base + at[NR_EDGES], "nodes[%u]: more than 2^32-2 edges in all", n);
                goto out;
            }
        }
        if (got < (size_t)v->nf * BATCH) {
            rc = batch_end(v, "nodes", got, n - got / v->nf, v->nf, v->node_role, field);
            break;
        }
    }
    if (rc == HD_OK && !d->edge_offset && !(d->edge_offset = malloc(sizeof *d->edge_offset)))
        rc = oom(v);
    if (rc == HD_OK) {
        d->edge_offset[n] = (uint32_t)sum;
        d->nobjects = n;
        d->objects_cap = (uint32_t)cap;
        v->edges_expected = sum;
    }
out:
    free(batch);
    return rc;
}

/* offset / nf for the usual record widths with a constant divisor: a division by a variable
 * costs tens of cycles, and there is one per edge. */
static uint64_t node_of(uint64_t offset, uint32_t nf)
{
    switch (nf) {
    case 5: return offset / 5;
    case 6: return offset / 6;
    case 7: return offset / 7;
    default: return offset / nf;
    }
}

static int read_edges(hd__v8 *v)
{
    static const char *const field[] = {"", "type", "name_or_index", "to_node"};
    hd__lexer *lx = v->lx;
    hd_dump *d = v->d;
    v->edges_pos = lx->tok_pos;
    if (lx->tok != HD__T_LBRACKET)
        return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "'edges' must be an array, found %s",
                            hd__tok_name(lx->tok));
    uint32_t at[4] = {0};
    for (uint32_t j = 0; j < v->ef; j++)
        at[v->edge_role[j]] = j;
    uint64_t *batch = malloc((size_t)v->ef * BATCH * sizeof *batch);
    if (!batch)
        return oom(v);
    uint64_t n = 0, nodes = v->seen_nodes ? d->nobjects : UINT32_MAX - 1;
    int rc;
    for (;;) {
        size_t got;
        if ((rc = hd__lex_uints(lx, batch, (size_t)v->ef * BATCH, &got)))
            goto out;
        void **const arrays[] = {(void **)&d->edge_target, (void **)&d->edge_name, (void **)&v->edge_kind,
                           NULL};
        const size_t sizes[] = {4, 4, 1};
        if (got / v->ef &&
            !hd__grow(n + got / v->ef - 1, &d->edges_cap, 1024, UINT32_MAX - 1, arrays, sizes)) {
            rc = n + got / v->ef > UINT32_MAX - 2 ? hd__lex_fail(lx, HD_ELIMIT, lx->tok_pos, "more than 2^32-2 edges")
                                                  : oom(v);
            goto out;
        }
        for (const uint64_t *f = batch, *stop = batch + got / v->ef * v->ef; f < stop; f += v->ef, n++) {
            uint64_t base = n * v->ef, to = node_of(f[at[ER_TO]], v->nf);
            if (f[at[ER_TYPE]] >= v->nedge_types) {
                rc = fail_at(v, HD_EFORMAT, "edges", base + at[ER_TYPE], "edges[%llu]: type %llu is not one of the %u edge types",
                             (unsigned long long)n, (unsigned long long)f[at[ER_TYPE]], v->nedge_types);
                goto out;
            }
            if (f[at[ER_NAME]] >= UINT32_MAX) {
                rc = fail_at(v, HD_EFORMAT, "edges", base + at[ER_NAME], "edges[%llu]: name_or_index %llu is above 2^32-2",
                             (unsigned long long)n, (unsigned long long)f[at[ER_NAME]]);
                goto out;
            }
            if (to * v->nf != f[at[ER_TO]] || to >= nodes) {
                rc = fail_at(v, HD_EFORMAT, "edges", base + at[ER_TO], "edges[%llu]: to_node %llu is not the start of a node%s",
                             (unsigned long long)n, (unsigned long long)f[at[ER_TO]],
                             to * v->nf == f[at[ER_TO]] ? " (past the last one)" : "");
                goto out;
            }
            d->edge_target[n] = (uint32_t)to;
            d->edge_name[n] = (uint32_t)f[at[ER_NAME]];
            v->edge_kind[n] = (uint8_t)f[at[ER_TYPE]];
        }
        if (got < (size_t)v->ef * BATCH) {
            rc = batch_end(v, "edges", got, n - got / v->ef, v->ef, v->edge_role, field);
            break;
        }
    }
    if (rc == HD_OK)
        d->nedges = n;
out:
    free(batch);
    return rc;
}

static int read_strings(hd__v8 *v)
{
    hd__lexer *lx = v->lx;
    if (lx->tok != HD__T_LBRACKET)
        return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "'strings' must be an array, found %s",
                            hd__tok_name(lx->tok));
    uint64_t cap = v->strings_cap;
    int rc;
    for (;;) {
        if ((rc = hd__lex_next_element(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACKET)
            break;
        if (lx->tok != HD__T_STRING)
            return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "strings[%u]: expected a string, found %s",
                                v->nstrings, hd__tok_name(lx->tok));
        void **const arrays[] = {(void **)&v->string_off, (void **)&v->string_len, NULL};
        const size_t sizes[] = {4, 1};
        if (!hd__grow(v->nstrings, &cap, 1024, UINT32_MAX - 1, arrays, sizes))
            return oom(v);
        /* V8 lists each string once: no interning needed. */
        uint32_t off = hd__strtab_append(&v->d->strings, lx->str, lx->str_len);
        if (off == UINT32_MAX)
            return hd__lex_fail(lx, HD_ELIMIT, lx->tok_pos, "strings beyond 4 GiB in all");
        v->string_len[v->nstrings] = lx->str_len == 0 ? HD__V8_EMPTY
                                   : lx->str_len > HD__V8_MAX_LABEL ? HD__V8_LONG : HD__V8_SHORT;
        v->string_off[v->nstrings++] = off;
    }
    v->strings_cap = (uint32_t)cap;
    return HD_OK;
}

/* Skips a member's value. The arrays this reader does not use ("locations" holds four numbers
 * per located object) are mostly numbers: they go through the lexer's number runs too. */
static int skip(hd__v8 *v)
{
    hd__lexer *lx = v->lx;
    if (lx->tok != HD__T_LBRACKET)
        return hd__lex_skip_value(lx);
    uint64_t scratch[BATCH];
    for (;;) {
        size_t got;
        int rc = hd__lex_uints(lx, scratch, BATCH, &got);
        if (rc)
            return rc;
        if (got == BATCH)
            continue;
        if (lx->tok == HD__T_RBRACKET) /* it stopped at the array's end */
            return HD_OK;
        if ((rc = hd__lex_skip_value(lx))) /* at another kind of element (trace_tree's arrays) */
            return rc;
    }
}

/* --- the document -------------------------------------------------------------------------- */

/* The members, from the first one's name (current) to the closing '}'. With meta_only, reads
 * the meta and skips the rest; otherwise returns NEED_META when an array comes before the meta.
 * What an earlier pass loaded is skipped. */
static int members(hd__v8 *v, bool meta_only)
{
    hd__lexer *lx = v->lx;
    bool seen[M_COUNT] = {false};
    int rc;
    for (;;) {
        if (lx->tok != HD__T_STRING)
            return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected a member name, found %s",
                                hd__tok_name(lx->tok));
        int m = M_COUNT;
        for (int i = 0; members_known[i]; i++)
            if (!strcmp(lx->str, members_known[i]))
                m = i;
        hd__pos at = lx->tok_pos;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok != HD__T_COLON)
            return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected ':' after a member name, found %s",
                                hd__tok_name(lx->tok));
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (m < M_COUNT && seen[m])
            return hd__lex_fail(lx, HD_EFORMAT, at, "member '%s' appears twice", members_known[m]);
        if (m < M_COUNT)
            seen[m] = true;
        if (!meta_only && !v->have_meta && (m == M_NODES || m == M_EDGES))
            return NEED_META;
        if (m == M_SNAPSHOT && !v->have_meta)
            rc = read_meta(v);
        else if (meta_only || m == M_SNAPSHOT)
            rc = skip(v);
        else if (m == M_NODES)
            rc = v->seen_nodes ? skip(v) : read_nodes(v);
        else if (m == M_EDGES)
            rc = v->seen_edges ? skip(v) : read_edges(v);
        else if (m == M_STRINGS)
            rc = v->seen_strings ? skip(v) : read_strings(v);
        else
            rc = skip(v);
        if (rc)
            return rc;
        v->seen_nodes |= m == M_NODES && !meta_only;
        v->seen_edges |= m == M_EDGES && !meta_only;
        v->seen_strings |= m == M_STRINGS && !meta_only;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACE)
            return HD_OK;
        if (lx->tok != HD__T_COMMA)
            return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected ',' or '}', found %s",
                                hd__tok_name(lx->tok));
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
}

/* Back to the first member name of the document, for another pass. */
static int restart(hd__v8 *v, hd__pos at, const char *why)
{
    hd__lexer *lx = v->lx;
    int rc;
    if (hd__lex_seek(lx, (hd__pos){0, 1, 1}) != HD_OK)
        return hd__lex_fail(lx, HD_EFORMAT, at, "%s", why);
    if ((rc = hd__lex_next(lx)) || (rc = hd__lex_next(lx)))
        return rc;
    return HD_OK;
}

int hd__v8_read(hd__lexer *lx, hd_dump *d)
{
    hd__v8 v;
    memset(&v, 0, sizeof v);
    v.lx = lx;
    v.d = d;
    hd__pos first = lx->tok_pos;
    int rc = members(&v, false);
    if (rc == NEED_META) {
        hd__pos at = lx->tok_pos;
        const char *why = "'snapshot' must come before 'nodes' and 'edges' in a stream that can be read only once";
        if ((rc = restart(&v, at, why)) || (rc = members(&v, true)))
            goto out;
        if (!v.have_meta) {
            rc = hd__lex_fail(lx, HD_EFORMAT, first, "not a V8 heap snapshot: missing member 'snapshot'");
            goto out;
        }
        if ((rc = restart(&v, at, why)) || (rc = members(&v, false)))
            goto out;
    }
    if (rc)
        goto out;
    if ((rc = hd__lex_next(lx)))
        goto out;
    if (lx->tok != HD__T_EOF) {
        rc = hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "unexpected data after the document");
        goto out;
    }
    const char *missing = !v.have_meta ? "snapshot" : !v.seen_nodes ? "nodes" : !v.seen_edges ? "edges"
                        : !v.seen_strings ? "strings" : NULL;
    if (missing) {
        rc = hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "not a V8 heap snapshot: missing member '%s'", missing);
        goto out;
    }
    rc = hd__v8_build(&v);
out:
    free(v.edge_kind);
    free(v.string_off);
    free(v.string_len);
    return rc;
}

hd__pos hd__v8_locate(hd__v8 *v, const char *member, uint64_t index, hd__pos fallback)
{
    hd__locate at = {.member = member, .index = index, .pos = fallback};
    hd__lex_locate(v->lx, &at, 1);
    return at.pos;
}
