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

char *site_label(const hd_dump *d, uint32_t s)
{
    char *label = hd_site_label(d, s);
    if (!label) {
        fputs("heaptool: out of memory\n", stderr);
        exit(EXIT_NOMEM);
    }
    return label;
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
