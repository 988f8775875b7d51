/* frame_label.c: a code location as heaptool shows it everywhere (memcheck's way), for the CLI's
 * stacks and SQL's sites.stack. */
#include "heapdump.h"

#include <inttypes.h>
#include <stdio.h>

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
