/* frames.h: how heaptool shows code locations: a dump's frames (formats/heapdump.md 5.1), or a
 * site's file and line when the site has no stack. */
#ifndef HEAPTOOL_FRAMES_H
#define HEAPTOOL_FRAMES_H

#include "cli.h"

/* As memcheck shows a frame: "parse (json.c:12)", "parse (in /usr/lib/libjq.so.1)",
 * "/usr/lib/libjq.so.1+0x1f3a" (no symbol). Raw dump text: print it through print_escaped.
 * The caller frees. */
char *frame_label(const hd_dump *d, uint32_t f);
/* A site without a stack: "function (file:line)" or "file:line" (hd_site_label). */
char *site_label(const hd_dump *d, uint32_t s);

/* {"function"?, "file"?, "line"?, "module"?, "offset"?}: the members the frame has. */
void jw_frame(json_writer *w, const hd_dump *d, uint32_t f);

#endif
