/* dot_palette.h: every colour a graph picture uses, in one table (defined in dot.c).
 *
 * Invariant: dark text on light fills. Each text colour on each fill (and on the background,
 * where edge labels are drawn) reaches WCAG AA contrast, 4.5:1; tests/test_graph.c computes it
 * from this table, so a colour added here is checked without touching the test.
 */
#ifndef HD_DOT_PALETTE_H
#define HD_DOT_PALETTE_H

/* Fills come in shades, lightest first: a node's shade grows with its depth (objgraph's
 * gradient, in steps so that every colour drawn is in the table). */
enum { HD_DOT_SHADES = 5 };

enum hd_dot_fill {
    HD_DOT_FILL_OBJECT,    /* grey: an ordinary object */
    HD_DOT_FILL_ROOT,      /* green: an object a root names (objgraph's modules) */
    HD_DOT_FILL_HIGHLIGHT, /* pink: an object --highlight accepts */
    HD_DOT_FILL_MORE,      /* amber: an "N more references" box */
    HD_DOT_NFILLS
};

enum hd_dot_text {
    HD_DOT_TEXT_PLAIN, /* labels, edge names */
    HD_DOT_TEXT_START, /* start objects and the edges of a cycle (objgraph's red) */
    HD_DOT_NTEXTS
};

typedef struct hd_dot_palette {
    const char *background; /* behind the edge labels */
    const char *fill[HD_DOT_NFILLS][HD_DOT_SHADES];
    const char *text[HD_DOT_NTEXTS];
    const char *cycle_edge;       /* the line of an edge inside a cycle */
    const char *finalizer_border; /* the border of an object with a finalizer */
} hd_dot_palette;

/* Colours as "#rrggbb". */
extern const hd_dot_palette hd_dot_colors;

#endif
