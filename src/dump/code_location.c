/* code_location.c: code locations as text, the one place that names a frame or a site.
 * Two spellings on purpose: memcheck's "fn (file:line)" (hd_frame_label) for the CLI's stacks and
 * SQL's sites.stack, and the short names of a flame graph (hd_frame_short_name, hd_site_label),
 * which flame.c folds into paths. */
#include "heapdump.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t hd_frame_label(const hd_dump *d, uint32_t f, char *buf, size_t len)
{
    const char *fn = hd_frame_function(d, f), *file = hd_frame_file(d, f), *mod = hd_frame_module(d, f);
    uint32_t line = hd_frame_line(d, f);
    const char *name = *fn ? fn : "???";
    int n;
    if (*file && line)
        n = snprintf(buf, len, "%s (%s:%" PRIu32 ")", name, file, line);
    else if (*file)
        n = snprintf(buf, len, "%s (%s)", name, file);
    else if (*fn && *mod)
        n = snprintf(buf, len, "%s (in %s)", fn, mod);
    else if (*mod)
        n = snprintf(buf, len, "%s+0x%" PRIx64, mod, hd_frame_offset(d, f));
    else
        n = snprintf(buf, len, "%s", name);
    return n < 0 ? 0 : (size_t)n;
}

char *hd_frame_short_name(const hd_dump *d, uint32_t f)
{
    const char *fn = hd_frame_function(d, f), *file = hd_frame_file(d, f), *mod = hd_frame_module(d, f);
    char *s = NULL;
    int n;
    if (*fn)
        return strdup(fn);
    if (*file)
        n = asprintf(&s, "%s:%" PRIu32, file, hd_frame_line(d, f));
    else if (*mod)
        n = asprintf(&s, "%s+0x%" PRIx64, mod, hd_frame_offset(d, f));
    else
        return strdup("???");
    return n < 0 ? NULL : s;
}

char *hd_site_label(const hd_dump *d, uint32_t s)
{
    const char *fn = hd_site_function(d, s), *file = hd_site_file(d, s);
    uint32_t line = hd_site_line(d, s);
    char *label = NULL;
    int n = *fn ? asprintf(&label, "%s (%s:%" PRIu32 ")", fn, *file ? file : "?", line)
                : asprintf(&label, "%s:%" PRIu32, *file ? file : "?", line);
    return n < 0 ? NULL : label;
}
