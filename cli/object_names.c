/* object_names.c: how objects, references and roots are named in every command's output
 * ("Node#12 'label'", ".next", "<key 'k'>", "[named 'app']"), the same as JSON objects, and how
 * an object ID argument names an object. What is printed goes through print_escaped later. */
#include "analysis.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A label that already carries its quotes (a Python str's repr) is shown as it is. */
static bool quoted(const char *label)
{
    size_t n = strlen(label);
    return n >= 2 && (label[0] == '\'' || label[0] == '"') && label[n - 1] == label[0];
}

char *objref(const hd_dump *d, uint32_t o, bool with_label)
{
    const char *label = with_label ? hd_object_label(d, o) : NULL;
    const char *type = hd_type_name(d, hd_object_type(d, o));
    if (label)
        return xasprintf(quoted(label) ? "%s#%" PRIu64 " %s" : "%s#%" PRIu64 " '%s'", type, hd_object_id(d, o),
                         label);
    return xasprintf("%s#%" PRIu64, type, hd_object_id(d, o));
}

char *edge_label(const char *name)
{
    if (!name[0])
        return xasprintf("<key>");
    if (name[0] == '[' || name[0] == '.')
        return xasprintf("%s", name);
    bool ident = isalpha((unsigned char)name[0]) || name[0] == '_';
    for (const char *p = name; ident && *p; p++)
        ident = isalnum((unsigned char)*p) || *p == '_';
    return ident ? xasprintf(".%s", name) : xasprintf("[%s]", name);
}

char *edge_label_of(const hd_dump *d, uint64_t e)
{
    const char *label = hd_object_label(d, hd_edge_target(d, e));
    if (hd_edge_name(d, e)[0] || !label)
        return edge_label(hd_edge_name(d, e));
    return xasprintf(quoted(label) ? "<key %s>" : "<key '%s'>", label);
}

char *root_label(const hd_dump *d, uint32_t r)
{
    const char *name = hd_root_name(d, r);
    size_t n = strlen(name);
    if (hd_root_kind(d, r) == HD_ROOT_NAMED && n > 2 && name[0] == '(' && name[n - 1] == ')')
        return xasprintf("%s", name); /* V8's synthetic roots: "(GC roots)" */
    if (name[0])
        return xasprintf("[%s '%s']", hd_root_kind_name(d, r), name);
    return xasprintf("[%s]", hd_root_kind_name(d, r));
}

char *root_label_by_name(const hd_dump *d, uint32_t r)
{
    uint32_t o = hd_root_object(d, r);
    for (uint32_t k = 0; hd_root_kind(d, r) != HD_ROOT_NAMED && k < hd_root_count(d); k++)
        if (hd_root_object(d, k) == o && hd_root_kind(d, k) == HD_ROOT_NAMED)
            return root_label(d, k);
    return root_label(d, r);
}

const char *state_word(enum hd_reach_state s)
{
    switch (s) {
    case HD_REACH_LIVE: return "reachable";
    case HD_REACH_UNCOLLECTABLE: return "uncollectable";
    default: return "garbage";
    }
}

void jw_objref(json_writer *w, const hd_dump *d, uint32_t o)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_uint(w, hd_object_id(d, o));
    jw_key(w, "type");
    jw_string(w, hd_type_name(d, hd_object_type(d, o)));
    const char *label = hd_object_label(d, o);
    if (label) {
        jw_key(w, "label");
        jw_string(w, label);
    }
    jw_object_end(w);
}

void jw_object_ids(json_writer *w, const hd_dump *d, const uint32_t *objects, uint32_t n)
{
    jw_array_begin(w);
    for (uint32_t i = 0; i < n; i++)
        jw_uint(w, hd_object_id(d, objects[i]));
    jw_array_end(w);
}

void jw_root(json_writer *w, const hd_dump *d, uint32_t r)
{
    jw_object_begin(w);
    jw_key(w, "kind");
    jw_string(w, hd_root_kind_name(d, r));
    if (hd_root_name(d, r)[0]) {
        jw_key(w, "name");
        jw_string(w, hd_root_name(d, r));
    }
    jw_object_end(w);
}

char *site_text(const char *file, uint32_t line, const char *function)
{
    if (!file)
        return xasprintf("(no site)");
    if (function[0])
        return xasprintf("%s:%" PRIu32 " in %s", file, line, function);
    return xasprintf("%s:%" PRIu32, file, line);
}

void jw_site(json_writer *w, const char *file, uint32_t line, const char *function)
{
    if (!file) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    jw_key(w, "file");
    jw_string(w, file);
    jw_key(w, "line");
    jw_uint(w, line);
    jw_key(w, "function");
    jw_string(w, function);
    jw_object_end(w);
}

void jw_site_of(json_writer *w, const hd_dump *d, uint32_t s)
{
    if (s == HD_NONE)
        jw_site(w, NULL, 0, NULL);
    else
        jw_site(w, hd_site_file(d, s), hd_site_line(d, s), hd_site_function(d, s));
}

bool parse_object_id(const command *cmd, const char *text, object_id *id)
{
    const char *hash = strrchr(text, '#');
    const char *digits = hash ? hash + 1 : text[0] == '@' ? text + 1 : text;
    id->type = hash && hash > text ? text : NULL;
    id->type_len = id->type ? (size_t)(hash - text) : 0;
    if (*digits >= '0' && *digits <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(digits, &end, 10);
        if (*end == '\0' && errno == 0) {
            id->id = v;
            return true;
        }
    }
    usage_error(cmd, "%s: '%s' is not an object id (a number, TYPE#NUMBER or @NUMBER)", cmd->name, text);
    return false;
}

static int check_id_operand(const command *cmd, void *values, const operands *ops)
{
    (void)values;
    object_id id;
    return parse_object_id(cmd, ops->v[1], &id) ? OPTIONS_GO_ON : EXIT_USAGE;
}

int options_parse_dump_object(const command *cmd, int argc, char **argv, void *values, operands *ops,
                              hd_dump **d, uint32_t *o)
{
    int rc = options_parse_dump(cmd, argc, argv, values, ops, check_id_operand, d);
    if (rc != OPTIONS_GO_ON)
        return rc;
    object_id id;
    parse_object_id(cmd, ops->v[1], &id); /* checked before the load */
    if ((*o = find_object_or_report(cmd->name, *d, ops->v[0], &id)) == HD_NONE) {
        hd_dump_free(*d);
        return EXIT_INVALID;
    }
    return OPTIONS_GO_ON;
}

uint32_t find_object_or_report(const char *cmd, const hd_dump *d, const char *path, const object_id *id)
{
    uint32_t o = hd_object_find(d, id->id);
    if (o == HD_NONE) {
        fprintf(stderr, "heaptool: %s: no object with id %" PRIu64 " in '", cmd, id->id);
        print_escaped(stderr, path);
        fputs("'\n", stderr);
        return HD_NONE;
    }
    if (id->type && !type_name_matches(d, id->type, id->type_len, hd_object_type(d, o))) {
        char *given = xasprintf("%.*s", (int)id->type_len, id->type);
        fprintf(stderr, "heaptool: %s: object %" PRIu64 " is of type '", cmd, id->id);
        print_escaped(stderr, hd_type_name(d, hd_object_type(d, o)));
        fputs("', not '", stderr);
        print_escaped(stderr, given);
        fputs("'\n", stderr);
        free(given);
        return HD_NONE;
    }
    return o;
}
