/* render.c: DOT text laid out and rendered in-process by Graphviz (libgvc), into a buffer or a
 * file. The only file that includes Graphviz headers.
 *
 * Graphviz reports problems through cgraph's global error hook; while rendering, that hook is
 * ours (it keeps the messages for hd_error) and the previous one is put back afterwards, so
 * nothing reaches stderr.
 */
#include "analysis.h"
#include "error.h"

#include <gvc.h>

#include <stdlib.h>
#include <string.h>

static const hd__pos nowhere = {0, 0, 0}; /* a rendering problem has no place in a dump */

/* --- Graphviz messages ------------------------------------------------------------------------ */
static struct {
    char error[256];   /* the first "Error: ..." line */
    char warning[256]; /* the first other line, used when no error was given */
    int pending;       /* 1 after "Error", 2 after "Warning": the text comes next */
} captured;

/* One message, or a piece of one: Graphviz 2.x sends "Error", ": " and the text separately,
 * newer versions "Error: text" at once. */
static int capture(char *msg)
{
    if (!strcmp(msg, "Error") || !strcmp(msg, "Warning")) {
        captured.pending = msg[0] == 'E' ? 1 : 2;
        return 0;
    }
    if (!strcmp(msg, ": "))
        return 0;
    int level = captured.pending ? captured.pending : 2;
    const char *text = msg;
    if (!strncmp(msg, "Error: ", 7)) {
        level = 1;
        text = msg + 7;
    } else if (!strncmp(msg, "Warning: ", 9)) {
        level = 2;
        text = msg + 9;
    }
    captured.pending = 0;
    char *dst = level == 1 ? captured.error : captured.warning;
    if (dst[0] || !text[0])
        return 0;
    snprintf(dst, sizeof captured.error, "%s", text);
    for (char *p = dst; *p; p++) /* one line: diagnostics print on one line */
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    for (size_t n = strlen(dst); n && dst[n - 1] == ' '; n--)
        dst[n - 1] = '\0';
    return 0;
}

static const char *captured_message(const char *fallback)
{
    return captured.error[0] ? captured.error : captured.warning[0] ? captured.warning : fallback;
}

/* One Graphviz context for the process, made on first use and kept: Graphviz's pango plugin
 * caches a font name owned by the context that last rendered text (Graphviz 2.43 at least), so
 * freeing a context and making another reads freed memory. Kept, it also loads the plugins once.
 * (Not even freed at exit: Graphviz 2.43's gvFreeContext leaves gvconfig's buffer behind, which
 * leak checkers would then report; kept, it stays reachable.) */
static GVC_t *context(void)
{
    static GVC_t *gvc;
    if (!gvc)
        gvc = gvContext();
    return gvc;
}

int hd_render_data(const char *dot, size_t len, const char *format, void **out, size_t *outlen, hd_error *err)
{
    if (!out || !outlen)
        return HD_EINVAL;
    *out = NULL;
    *outlen = 0;
    if (!dot || !format || !format[0]) {
        hd__error_set(err, HD_EINVAL, NULL, nowhere, "no DOT text or no output format");
        return HD_EINVAL;
    }
    char *text = malloc(len + 1); /* agmemread wants a NUL-terminated string */
    if (!text)
        return hd__error_oom(err, NULL);
    memcpy(text, dot, len);
    text[len] = '\0';
    memset(&captured, 0, sizeof captured);
    agusererrf previous = agseterrf(capture);
    agerrlevel_t level = agseterr(AGWARN);

    int rc = HD_OK;
    GVC_t *gvc = context();
    Agraph_t *g = NULL;
    int laid_out = 0;
    if (!gvc) {
        rc = HD_ENOMEM;
        hd__error_set(err, rc, NULL, nowhere, "Graphviz: %s",
                      captured_message("cannot create a context"));
        goto done;
    }
    if (!(g = agmemread(text))) {
        rc = HD_EINVAL;
        hd__error_set(err, rc, NULL, nowhere, "Graphviz cannot read the graph: %s",
                      captured_message("not DOT"));
        goto done;
    }
    if (gvLayout(gvc, g, "dot") != 0) {
        rc = HD_EINVAL;
        hd__error_set(err, rc, NULL, nowhere, "Graphviz layout failed: %s",
                      captured_message("no 'dot' layout plugin (is Graphviz installed?)"));
        goto done;
    }
    laid_out = 1;
    char *data = NULL;
#if defined(GRAPHVIZ_VERSION_MAJOR) && GRAPHVIZ_VERSION_MAJOR >= 3
    size_t n = 0;
#else
    unsigned int n = 0;
#endif
    if (gvRenderData(gvc, g, format, &data, &n) != 0 || !data) {
        rc = HD_EINVAL;
        hd__error_set(err, rc, NULL, nowhere, "Graphviz cannot render format '%.32s': %s", format,
                      captured_message("no plugin for it"));
        if (data)
            gvFreeRenderData(data);
        goto done;
    }
    /* Copied so the caller frees with free(), whichever allocator Graphviz used. */
    if (!(*out = malloc(n ? n : 1))) {
        rc = hd__error_oom(err, NULL);
    } else {
        memcpy(*out, data, n);
        *outlen = n;
    }
    gvFreeRenderData(data);
done:
    if (g) {
        if (laid_out)
            gvFreeLayout(gvc, g);
        agclose(g);
    }
    agseterr(level);
    agseterrf(previous);
    free(text);
    return rc;
}

int hd_render_file(const char *dot, size_t len, const char *format, const char *file, hd_error *err)
{
    void *data;
    size_t n;
    int rc = hd_render_data(dot, len, format, &data, &n, err);
    if (rc)
        return rc;
    rc = hd_write_file_atomic(file, data, n, err);
    free(data);
    return rc;
}
