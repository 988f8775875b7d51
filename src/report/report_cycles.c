/* report_cycles.c: the largest reference cycles, each drawn as `heaptool graph` draws it
 * (hd_graph_build over its members, DOT, Graphviz SVG) and put on the page as a data: image,
 * where no script inside an SVG can run. A cycle too big to read is listed, not drawn.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define CYCLES 4
#define DRAWN_MEMBERS 40

static void base64(FILE *out, const unsigned char *p, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(digits[v >> 18 & 63], out);
        fputc(digits[v >> 12 & 63], out);
        fputc(i + 1 < n ? digits[v >> 6 & 63] : '=', out);
        fputc(i + 2 < n ? digits[v & 63] : '=', out);
    }
}

typedef struct members {
    const uint32_t *objects;
    uint32_t n;
} members;

static int is_member(const hd_dump *d, uint32_t o, void *user)
{
    (void)d;
    const members *m = user;
    uint32_t lo = 0, hi = m->n; /* members are increasing */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->objects[mid] < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->objects[lo] == o;
}

/* The cycle as an SVG data URI string, or null when it cannot be drawn. */
static int drawing(const hd__report_ctx *c, const hd_cycle *cy)
{
    FILE *out = c->out;
    if (cy->nmembers > DRAWN_MEMBERS) {
        fputs("null", out);
        return HD_OK;
    }
    members m = {cy->members, cy->nmembers};
    hd_graph_options go;
    hd_graph_options_init(&go);
    go.max_depth = cy->nmembers;
    go.no_weak = 1;
    go.filter = is_member;
    go.filter_user = &m;
    hd_graph *g;
    int rc = hd_graph_build(c->d, cy->members, cy->nmembers, &go, &g);
    if (rc)
        return rc;
    char *dot = NULL;
    size_t len = 0;
    void *svg = NULL;
    size_t svglen = 0;
    hd_error err;
    rc = hd_dot_string(c->d, g, &dot, &len);
    hd_graph_free(g);
    if (!rc && hd_render_data(dot, len, "svg", &svg, &svglen, &err) == HD_OK) {
        fputs("\"data:image/svg+xml;base64,", out);
        base64(out, svg, svglen);
        fputc('"', out);
    } else if (!rc) {
        fputs("null", out);
    }
    free(dot);
    free(svg);
    return rc == HD_EIO ? HD_ENOMEM : rc;
}

int hd__report_cycles(const hd__report_ctx *c)
{
    hd_cycles *cs;
    int rc = hd_cycles_find(c->d, c->reach, &cs);
    if (rc)
        return rc;
    FILE *out = c->out;
    fprintf(out, "{\"count\":%u,\"in_cycles\":%llu,\"shown\":[", cs->count, (unsigned long long)cs->in_cycles);
    for (uint32_t i = 0; i < cs->count && i < CYCLES && !rc; i++) {
        const hd_cycle *cy = &cs->cycles[i];
        static const char *const states[] = {"reachable", "uncollectable", "garbage"};
        fprintf(out, "%s{\"members\":%u,\"size\":%llu,\"state\":\"%s\",\"legacy\":%s,\"example\":", i ? "," : "",
                cy->nmembers, (unsigned long long)cy->size, states[cy->state],
                cy->has_legacy_finalizer ? "true" : "false");
        hd__rj_object(c, cy->members[0]);
        fputs(",\"svg\":", out);
        rc = drawing(c, cy);
        fputc('}', out);
    }
    fputs("]}", out);
    hd_cycles_free(cs);
    return rc;
}
