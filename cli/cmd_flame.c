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

/* --- the SVG ------------------------------------------------------------------------------ */

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
static void colour(const hd_flame_node *nd, char *buf)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < nd->len; i++)
        h = (h ^ (unsigned char)nd->name[i]) * 0x100000001b3ull;
    snprintf(buf, 24, "rgb(%u,%u,%u)", 205 + (unsigned)(h % 50), (unsigned)(h >> 8) % 180,
             (unsigned)(h >> 16) % 55);
}

static void svg_frame(FILE *out, const hd_flame_node *nd, double x, double scale, double height,
                      const char *unit, uint64_t total)
{
    double w = (double)nd->value * scale, y = height - FRAME_HEIGHT * (nd->depth + 1);
    char fill[24];
    colour(nd, fill);
    fprintf(out, "<g class=\"frame\" data-value=\"%" PRIu64 "\"><title>", nd->value);
    put_xml(out, nd->name, nd->len);
    fprintf(out, " (%" PRIu64 " %s, %.2f%%)</title>", nd->value, unit,
            total ? 100.0 * (double)nd->value / (double)total : 0.0);
    fprintf(out, "<rect x=\"%.4f\" y=\"%.1f\" width=\"%.4f\" height=\"%.1f\" fill=\"%s\" rx=\"2\"/>",
            x, y, w, FRAME_HEIGHT - 1, fill);
    size_t fits = w > 6 ? (size_t)((w - 6) / CHAR_WIDTH) : 0;
    if (fits >= 3) {
        fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + FRAME_HEIGHT - 4.5);
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
static int write_svg(FILE *out, const hd_flame *f, const char *title, const char *unit)
{
    const hd_flame_node *t = f->nodes;
    double *x = malloc((size_t)f->nnodes * sizeof *x);
    if (!x)
        return HD_ENOMEM;
    double height = TOP + FRAME_HEIGHT * (f->max_depth + 1) + MARGIN;
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
    x[0] = MARGIN;
    uint32_t at = 0;
    for (;;) {
        svg_frame(out, &t[at], x[at], scale, height - MARGIN, unit, t[0].value);
        double cx = x[at];
        for (uint32_t c = t[at].first_child; c != HD_NONE; c = t[c].next_sibling) {
            x[c] = cx;
            cx += (double)t[c].value * scale;
        }
        if (t[at].first_child != HD_NONE) {
            at = t[at].first_child;
            continue;
        }
        fputs("</g>\n", out); /* a leaf: close it, then every group it was the last child of */
        while (at != 0 && t[at].next_sibling == HD_NONE) {
            at = t[at].parent;
            fputs("</g>\n", out);
        }
        if (at == 0)
            break;
        at = t[at].next_sibling;
    }
    fputs("</svg>\n", out);
    free(x);
    return HD_OK;
}

/* --- the command ---------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The collapsed stacks, or the SVG, into a new buffer. */
static char *render(const hd_flame *f, bool svg, const char *title, const char *unit, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        return NULL;
    bool ok = true;
    if (svg) {
        ok = write_svg(out, f, title, unit) == HD_OK;
    } else {
        for (size_t i = 0; i < f->nstacks; i++) { /* names from the dump: safe for a terminal */
            print_escaped(out, f->stacks[i].path);
            fprintf(out, " %" PRIu64 "\n", f->stacks[i].value);
        }
    }
    return fclose(out) == 0 && ok ? text : (free(text), NULL);
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
    enum hd_flame_measure measure;
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
    *q = (request){a.count ? HD_FLAME_BLOCKS : a.leaked ? HD_FLAME_LOST_BYTES : HD_FLAME_BYTES, a.output, a.title, ops.v[0]};
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
    hd_flame *f;
    if ((rc = hd_flame_fold(d, q.measure, &f))) {
        hd_dump_free(d);
        return report_status("flame", rc);
    }
    size_t len = 0;
    static const char *const units[] = {"bytes", "blocks", "bytes lost"};
    char *title = q.title ? xasprintf("%s", q.title)
                          : xasprintf("%s by allocation stack: %s",
                                      q.measure == HD_FLAME_BLOCKS ? "Live blocks" : q.measure == HD_FLAME_LOST_BYTES
                                      ? "Lost bytes" : "Live bytes", q.dump);
    char *text = render(f, q.output && ends_with(q.output, ".svg"), title, units[q.measure], &len);
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
    hd_flame_free(f);
    free(title);
    free(text);
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
