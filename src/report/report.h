/* report.h: what the report's parts (the .c files of src/report) share inside libheapdump. */
#ifndef HD_REPORT_H
#define HD_REPORT_H

#include "heapdump.h"

/* The page's parts, inlined at build time from page.html, page.css and page.js (the Makefile
 * writes assets.c); csp_script_hash is "sha256-..." of page_js, for the Content-Security-Policy. */
extern const char hd__page_html[], hd__page_css[], hd__page_js[], hd__csp_script_hash[];

/* JSON for a page: strings are safe inside <script> (no '<', '>', '&', U+2028, U+2029; control
 * characters and invalid UTF-8 escaped), so no text from a dump can end the element. */
void hd__rj_str(FILE *out, const char *s);

/* The sections' data, each written as one JSON member value. */
typedef struct hd__report_ctx {
    const hd_dump *d;       /* the dump analysed */
    const hd_dominators *dom;
    const hd_reach *reach;
    uint32_t top, tree_nodes;
    FILE *out;
} hd__report_ctx;
int hd__report_tree(const hd__report_ctx *c);   /* the dominator tree, capped */
int hd__report_flame(const hd__report_ctx *c);  /* live bytes by allocation stack or site */
int hd__report_cycles(const hd__report_ctx *c); /* the largest cycles, drawn */
int hd__report_compare(const hd__report_ctx *c, const hd_dump *const *dumps, size_t n);
/* An object as people read it: "Type#id 'label'" (label cut to 60 bytes), as a JSON string. */
void hd__rj_object(const hd__report_ctx *c, uint32_t o);

#endif
