/* frames.c: code locations as text and JSON (frames.h). */
#include "frames.h"
#include "analysis.h"

#include <inttypes.h>
#include <stdlib.h>

char *frame_label(const hd_dump *d, uint32_t f)
{
    size_t len = hd_frame_label(d, f, NULL, 0) + 1;
    char *label = xmalloc(len);
    hd_frame_label(d, f, label, len);
    return label;
}

static char *flame_safe(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == ';' || *p == '\n' || *p == '\r')
            *p = '_';
    return s;
}

char *frame_short_name(const hd_dump *d, uint32_t f)
{
    const char *fn = hd_frame_function(d, f), *file = hd_frame_file(d, f), *mod = hd_frame_module(d, f);
    if (*fn)
        return flame_safe(xasprintf("%s", fn));
    if (*file)
        return flame_safe(xasprintf("%s:%" PRIu32, file, hd_frame_line(d, f)));
    if (*mod)
        return flame_safe(xasprintf("%s+0x%" PRIx64, mod, hd_frame_offset(d, f)));
    return xasprintf("???");
}

char *site_label(const hd_dump *d, uint32_t s)
{
    const char *fn = hd_site_function(d, s), *file = hd_site_file(d, s);
    uint32_t line = hd_site_line(d, s);
    if (*fn)
        return xasprintf("%s (%s:%" PRIu32 ")", fn, *file ? file : "?", line);
    return xasprintf("%s:%" PRIu32, *file ? file : "?", line);
}

void jw_frame(json_writer *w, const hd_dump *d, uint32_t f)
{
    const char *fn = hd_frame_function(d, f), *file = hd_frame_file(d, f), *mod = hd_frame_module(d, f);
    jw_object_begin(w);
    if (*fn) {
        jw_key(w, "function");
        jw_string(w, fn);
    }
    if (*file) {
        jw_key(w, "file");
        jw_string(w, file);
    }
    if (hd_frame_line(d, f)) {
        jw_key(w, "line");
        jw_uint(w, hd_frame_line(d, f));
    }
    if (*mod) {
        jw_key(w, "module");
        jw_string(w, mod);
        jw_key(w, "offset");
        jw_uint(w, hd_frame_offset(d, f));
    }
    jw_object_end(w);
}
