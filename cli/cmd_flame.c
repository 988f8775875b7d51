/* cmd_flame.c: `heaptool flame`: live bytes (or blocks, or leaked bytes) by allocation stack, in
 * the collapsed-stack format that flamegraph.pl, inferno and speedscope read (one line a stack,
 * outermost frame first, frames joined by ';', then a space and the value), or drawn as a
 * self-contained flame graph SVG. A site without a stack is a one-frame stack, so libhm dumps
 * draw too. */
#include "analysis.h"
#include "frames.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum measure { BYTES, COUNT, LEAKED };

/* --- collapsed stacks --------------------------------------------------------------------- */

static uint64_t sat_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

typedef struct line {
    char *path;
    uint64_t value;
} line;

/* Frames joined outermost first. */
static char *stack_path(const hd_dump *d, uint32_t node)
{
    uint32_t depth = hd_stack_depth(d, node), i = depth;
    char **names = xmalloc(((size_t)depth + 1) * sizeof *names);
    size_t len = 0;
    for (uint32_t n = node; n != HD_NONE; n = hd_stack_parent(d, n)) {
        names[--i] = frame_short_name(d, hd_stack_frame(d, n));
        len += strlen(names[i]) + 1;
    }
    char *path = xmalloc(len + 1), *w = path;
    for (i = 0; i < depth; i++) {
        w += sprintf(w, "%s%s", i ? ";" : "", names[i]);
        free(names[i]);
    }
    *w = '\0';
    free(names);
    return path;
}

/* Path order with ';' below every other character, so that the stacks under one frame are
 * contiguous and sibling frames come in name order. */
static int path_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = *a == ';' ? 1 : *a ? (unsigned char)*a + 2 : 0;
        int y = *b == ';' ? 1 : *b ? (unsigned char)*b + 2 : 0;
        if (x != y || !x)
            return x - y;
    }
}

static int by_path(const void *a, const void *b)
{
    return path_cmp(((const line *)a)->path, ((const line *)b)->path);
}

/* The value of each object, summed per stack node, per site without a stack, and without a
 * site; then one line per distinct path with a non-zero value, in path order. */
static line *collapse(const hd_dump *d, enum measure m, const hd_leak_kinds *k, size_t *count)
{
    uint32_t nstacks = hd_stack_count(d), nsites = hd_site_count(d);
    uint64_t *per_stack = xcalloc((size_t)nstacks + 1, sizeof *per_stack);
    uint64_t *per_site = xcalloc((size_t)nsites + 1, sizeof *per_site); /* [nsites]: no site */
    for (uint32_t o = 0; o < hd_object_count(d); o++) {
        if (m == LEAKED && k->kind[o] == HD_LEAK_REACHABLE)
            continue;
        uint64_t v = m == COUNT ? 1 : hd_object_size(d, o), *sum;
        uint32_t s = hd_object_site(d, o), node = s == HD_NONE ? HD_NONE : hd_site_stack(d, s);
        sum = node != HD_NONE ? &per_stack[node] : &per_site[s == HD_NONE ? nsites : s];
        *sum = sat_add(*sum, v);
    }
    line *lines = xmalloc(((size_t)nstacks + nsites + 2) * sizeof *lines);
    size_t n = 0;
    for (uint32_t s = 0; s < nstacks; s++)
        if (per_stack[s])
            lines[n++] = (line){stack_path(d, s), per_stack[s]};
    for (uint32_t s = 0; s <= nsites; s++) {
        if (!per_site[s])
            continue;
        char *label = s == nsites ? xasprintf("[no site]") : site_label(d, s);
        for (char *p = label; *p; p++)
            if (*p == ';' || *p == '\n' || *p == '\r')
                *p = '_';
        lines[n++] = (line){label, per_site[s]};
    }
    free(per_stack);
    free(per_site);
    qsort(lines, n, sizeof *lines, by_path);
    size_t kept = 0; /* frames of one name from different places make one path: merge them */
    for (size_t i = 0; i < n; i++) {
        if (kept && !strcmp(lines[kept - 1].path, lines[i].path)) {
            lines[kept - 1].value = sat_add(lines[kept - 1].value, lines[i].value);
            free(lines[i].path);
        } else {
            lines[kept++] = lines[i];
        }
    }
    *count = kept;
    return lines;
}

/* --- the SVG ------------------------------------------------------------------------------ */

typedef struct node {
    const char *name; /* into a line's path, up to the next ';' */
    size_t len;
    uint64_t value;
    uint32_t depth, first_child, next_sibling, parent;
    double x;
} node;

#define NO_NODE UINT32_MAX

/* The tree of frames, children in name order: the lines' order puts the stacks under one frame
 * next to each other, so a line shares its frames with the node last made at each level. */
static node *build_tree(const line *lines, size_t n, uint32_t *count, uint32_t *max_depth)
{
    size_t cap = 1;
    for (size_t i = 0; i < n; i++)
        for (const char *p = lines[i].path; p; p = strchr(p + 1, ';'))
            cap++;
    node *t = xmalloc(cap * sizeof *t);
    uint32_t *last_child = xmalloc(cap * sizeof *last_child), nn = 1;
    t[0] = (node){"all", 3, 0, 0, NO_NODE, NO_NODE, NO_NODE, 0};
    *max_depth = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t at = 0;
        t[0].value = sat_add(t[0].value, lines[i].value);
        for (const char *p = lines[i].path;; p++) {
            size_t len = strcspn(p, ";");
            uint32_t c = t[at].first_child == NO_NODE ? NO_NODE : last_child[at];
            if (c == NO_NODE || t[c].len != len || memcmp(t[c].name, p, len)) {
                c = nn++;
                t[c] = (node){p, len, 0, t[at].depth + 1, NO_NODE, NO_NODE, at, 0};
                if (t[at].first_child == NO_NODE)
                    t[at].first_child = c;
                else
                    t[last_child[at]].next_sibling = c;
                last_child[at] = c;
                *max_depth = t[c].depth > *max_depth ? t[c].depth : *max_depth;
            }
            t[c].value = sat_add(t[c].value, lines[i].value);
            at = c;
            p += len;
            if (!*p)
                break;
        }
    }
    free(last_child);
    *count = nn;
    return t;
}

/* Text for SVG: XML's five escapes; what XML cannot hold (controls, invalid UTF-8) as \xNN. */
static void put_xml(FILE *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t n = hd_utf8_printable_len((const char *)p);
        if (n == 0 || p + n > end) {
            fprintf(out, "\\x%02X", *p++);
            continue;
        }
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default: fwrite(p, 1, n, out);
        }
        p += n;
    }
}

#define SVG_WIDTH 1200.0
#define MARGIN 10.0
#define FRAME_HEIGHT 16.0
#define TOP 36.0     /* room for the title */
#define CHAR_WIDTH 7.0 /* of 12 px Verdana, about: how many characters a frame can show */

/* Warm colours as flamegraph.pl's, chosen from the name so a frame keeps its colour. */
static void colour(const node *nd, char *buf)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < nd->len; i++)
        h = (h ^ (unsigned char)nd->name[i]) * 0x100000001b3ull;
    snprintf(buf, 24, "rgb(%u,%u,%u)", 205 + (unsigned)(h % 50), (unsigned)(h >> 8) % 180,
             (unsigned)(h >> 16) % 55);
}

static void svg_frame(FILE *out, const node *nd, double scale, double height, const char *unit,
                      uint64_t total)
{
    double w = (double)nd->value * scale, y = height - FRAME_HEIGHT * (nd->depth + 1);
    char fill[24];
    colour(nd, fill);
    fprintf(out, "<g class=\"frame\" data-value=\"%" PRIu64 "\"><title>", nd->value);
    put_xml(out, nd->name, nd->len);
    fprintf(out, " (%" PRIu64 " %s, %.2f%%)</title>", nd->value, unit,
            total ? 100.0 * (double)nd->value / (double)total : 0.0);
    fprintf(out, "<rect x=\"%.4f\" y=\"%.1f\" width=\"%.4f\" height=\"%.1f\" fill=\"%s\" rx=\"2\"/>",
            nd->x, y, w, FRAME_HEIGHT - 1, fill);
    size_t fits = w > 6 ? (size_t)((w - 6) / CHAR_WIDTH) : 0;
    if (fits >= 3) {
        fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", nd->x + 3, y + FRAME_HEIGHT - 4.5);
        if (nd->len <= fits) {
            put_xml(out, nd->name, nd->len);
        } else {
            size_t keep = fits - 2;
            while (keep > 0 && ((unsigned char)nd->name[keep] & 0xC0) == 0x80)
                keep--; /* not inside a UTF-8 character */
            put_xml(out, nd->name, keep);
            fputs("..", out);
        }
        fputs("</text>", out);
    }
    fputc('\n', out);
}

/* The frames as nested groups (a frame's group holds its callees'), walked without recursion:
 * stacks can be deep. */
static void write_svg(FILE *out, node *t, uint32_t max_depth, const char *title, const char *unit)
{
    double height = TOP + FRAME_HEIGHT * (max_depth + 1) + MARGIN;
    double scale = t[0].value ? (SVG_WIDTH - 2 * MARGIN) / (double)t[0].value : 0;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
                 "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n"
                 "<style>text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }\n"
                 ".frame:hover rect { stroke: #000; stroke-width: 0.5; }</style>\n"
                 "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
                 "<text x=\"%.0f\" y=\"22\" text-anchor=\"middle\" style=\"font-size: 16px\">",
            SVG_WIDTH, height, SVG_WIDTH, height, SVG_WIDTH / 2);
    put_xml(out, title, strlen(title));
    fputs("</text>\n", out);
    t[0].x = MARGIN;
    uint32_t at = 0;
    for (;;) {
        svg_frame(out, &t[at], scale, height - MARGIN, unit, t[0].value);
        double x = t[at].x;
        for (uint32_t c = t[at].first_child; c != NO_NODE; c = t[c].next_sibling) {
            t[c].x = x;
            x += (double)t[c].value * scale;
        }
        if (t[at].first_child != NO_NODE) {
            at = t[at].first_child;
            continue;
        }
        fputs("</g>\n", out); /* a leaf: close it, then every group it was the last child of */
        while (at != 0 && t[at].next_sibling == NO_NODE) {
            at = t[at].parent;
            fputs("</g>\n", out);
        }
        if (at == 0)
            break;
        at = t[at].next_sibling;
    }
    fputs("</svg>\n", out);
}

/* --- the command ---------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The collapsed lines, or the SVG, into a new buffer. */
static char *render(const line *lines, size_t n, bool svg, const char *title, const char *unit,
                    size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        return NULL;
    if (svg) {
        uint32_t count, depth;
        node *t = build_tree(lines, n, &count, &depth);
        write_svg(out, t, depth, title, unit);
        free(t);
    } else {
        for (size_t i = 0; i < n; i++) { /* names from the dump: safe for a terminal */
            print_escaped(out, lines[i].path);
            fprintf(out, " %" PRIu64 "\n", lines[i].value);
        }
    }
    return fclose(out) == 0 ? text : (free(text), NULL);
}

typedef struct flame_args {
    const char *output, *title;
    bool count, leaked;
} flame_args;

static const option_spec flame_options[] = {
    {"output", 'o', OPT_STRING, offsetof(flame_args, output), "FILE",
     "write FILE instead of standard output; a FILE ending in .svg gets\n"
     "a flame graph drawn by heaptool itself; never the DUMP", NULL, 0, NULL},
    {"count", 0, OPT_FLAG, offsetof(flame_args, count), NULL, "count blocks instead of bytes", NULL, 0, NULL},
    {"leaked", 0, OPT_FLAG, offsetof(flame_args, leaked), NULL,
     "bytes of lost blocks only: definitely, indirectly and possibly\n"
     "lost, as `heaptool leaks` sorts them", NULL, 0, NULL},
    {"title", 0, OPT_STRING, offsetof(flame_args, title), "TEXT",
     "the SVG's title (default: the measure and the dump's name)", NULL, 0, NULL},
    OPT_END,
};

typedef struct request {
    enum measure measure;
    const char *output, *title, *dump;
} request;

static int parse(int argc, char **argv, request *q)
{
    flame_args a = {0};
    operands ops;
    int rc = options_parse(&cmd_flame, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc == EXIT_OK ? -1 : rc;
    if (a.count && a.leaked)
        return usage_error(&cmd_flame, "flame: --count and --leaked exclude each other");
    *q = (request){a.count ? COUNT : a.leaked ? LEAKED : BYTES, a.output, a.title, ops.v[0]};
    if (q->output && same_file(q->dump, q->output))
        return usage_error(&cmd_flame, "flame: the output would overwrite the dump");
    return EXIT_OK;
}

static int flame_run(int argc, char **argv)
{
    request q = {0};
    int rc = parse(argc, argv, &q);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    hd_dump *d;
    if ((rc = load_or_report(q.dump, &d)))
        return rc;
    hd_leak_kinds *k = NULL;
    if (q.measure == LEAKED && (rc = hd_leak_kinds_compute(d, &k))) {
        hd_dump_free(d);
        return report_status("flame", rc);
    }
    size_t n, len = 0;
    line *lines = collapse(d, q.measure, k, &n);
    static const char *const units[] = {"bytes", "blocks", "bytes lost"};
    char *title = q.title ? xasprintf("%s", q.title)
                          : xasprintf("%s by allocation stack: %s",
                                      q.measure == COUNT ? "Live blocks" : q.measure == LEAKED
                                      ? "Lost bytes" : "Live bytes", q.dump);
    char *text = render(lines, n, q.output && ends_with(q.output, ".svg"), title, units[q.measure], &len);
    if (!text)
        rc = report_status("flame", HD_ENOMEM);
    else if (!q.output)
        fwrite(text, 1, len, stdout);
    else {
        hd_error err;
        if (hd_write_file_atomic(q.output, text, len, &err)) {
            fputs("heaptool: flame: ", stderr);
            print_escaped(stderr, err.message);
            fputc('\n', stderr);
            rc = EXIT_IO;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i].path);
    free(lines);
    free(title);
    free(text);
    hd_leak_kinds_free(k);
    hd_dump_free(d);
    return rc;
}

const command cmd_flame = {
    "flame", "live bytes by allocation stack, as collapsed stacks or a flame graph SVG", "DUMP",
    "Live bytes by allocation stack in the collapsed-stack format of flamegraph.pl, inferno\n"
    "and speedscope: one line a stack, outermost frame first, frames joined by ';', then a\n"
    "space and the value. A site without a stack is one frame, \"function (file:line)\";\n"
    "objects without a site are \"[no site]\".\n",
    flame_options,
    "exit status: 0 written; 2 usage; 3 invalid dump; 4 unreadable dump or unwritable FILE\n",
    flame_run,
};
