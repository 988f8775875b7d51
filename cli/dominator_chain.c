/* dominator_chain.c: what keeps an object alive, as a line: its dominators up to the top of the
 * dominator tree, then the roots that hold that top. An object dominated by the virtual root
 * alone is held by more than one root (or is a root): those are the root objects that reach it
 * through no other root (holding_roots.c), so the chain is never blank. */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

#define CHAIN_SHOWN 6 /* dominators named before a long chain is cut short */
#define ROOTS_SHOWN 3 /* roots named when several hold the chain's top */

static char *work_out_holders(chains *c, uint32_t x);

/* What holds a chain top, as text. A table keyed by top rather than an array over every object:
 * a command shows few chains, and a big heap has no room to spare for 8 bytes an object. */
struct holders_text {
    uint32_t top; /* HD_NONE: a free slot */
    char *text;
};

void chains_init(chains *c, const hd_dump *d, const hd_dominators *dom, uint32_t rows)
{
    *c = (chains){d, dom, rows, NULL, NULL, NULL, NULL, NULL, 0, 0};
}

void chains_free(chains *c)
{
    holding_roots_free(c);
    for (uint32_t i = 0; i < c->texts_room; i++)
        free(c->texts[i].text);
    free(c->texts);
    c->texts = NULL;
    c->ntexts = c->texts_room = 0;
}

uint32_t chain_top(const chains *c, uint32_t o)
{
    uint32_t x = o;
    for (uint32_t up = hd_dominator_of(c->dom, x); up != HD_DOM_ROOT && up != HD_NONE; up = hd_dominator_of(c->dom, x))
        x = up;
    return x;
}

/* x's slot in a table of room slots: its own, or the free one where it belongs. */
static struct holders_text *text_slot(struct holders_text *texts, uint32_t room, uint32_t x)
{
    uint32_t i = (uint32_t)(x * 2654435761u) & (room - 1);
    while (texts[i].top != HD_NONE && texts[i].top != x)
        i = (i + 1) & (room - 1);
    return &texts[i];
}

static void grow_texts(chains *c)
{
    uint32_t room = c->texts_room ? 2 * c->texts_room : 16;
    struct holders_text *texts = xmalloc((size_t)room * sizeof *texts);
    for (uint32_t i = 0; i < room; i++)
        texts[i] = (struct holders_text){HD_NONE, NULL};
    for (uint32_t i = 0; i < c->texts_room; i++)
        if (c->texts[i].top != HD_NONE)
            *text_slot(texts, room, c->texts[i].top) = c->texts[i];
    free(c->texts);
    c->texts = texts;
    c->texts_room = room;
}

/* "[named 'cache']", or "[2 roots: (GC roots), [named 'cache']]". */
static char *holders_text(chains *c, uint32_t x)
{
    if (2 * (c->ntexts + 1) > c->texts_room) /* many chains share a top: each is walked back once */
        grow_texts(c);
    struct holders_text *slot = text_slot(c->texts, c->texts_room, x);
    if (slot->top == HD_NONE) {
        *slot = (struct holders_text){x, work_out_holders(c, x)};
        c->ntexts++;
    }
    return xasprintf("%s", slot->text);
}

static char *work_out_holders(chains *c, uint32_t x)
{
    uint32_t roots[ROOTS_SHOWN];
    uint32_t n = holding_roots(c, x, roots, ROOTS_SHOWN);
    if (n == 0)
        return xasprintf("(no root)");
    if (n == 1)
        return root_label(c->d, roots[0]);
    char *text = xasprintf("[%u roots: ", n);
    for (uint32_t i = 0; i < n && i < ROOTS_SHOWN; i++) {
        char *label = root_label(c->d, roots[i]);
        char *longer = xasprintf("%s%s%s", text, i ? ", " : "", label);
        free(label);
        free(text);
        text = longer;
    }
    char *done = xasprintf("%s%s]", text, n > ROOTS_SHOWN ? ", ..." : "");
    free(text);
    return done;
}

char *dominator_chain(chains *c, uint32_t o)
{
    if (hd_dominator_of(c->dom, o) == HD_NONE)
        return xasprintf("%s", "");
    char *text = xasprintf("%s", "");
    uint32_t hops = 0, x = o;
    for (uint32_t up = hd_dominator_of(c->dom, x); up != HD_DOM_ROOT; up = hd_dominator_of(c->dom, x)) {
        x = up;
        if (++hops > CHAIN_SHOWN && hd_dominator_of(c->dom, x) != HD_DOM_ROOT)
            continue; /* skip to the chain's top */
        char *name = objref(c->d, x, false);
        char *longer = xasprintf("%s%s%s%s", text, text[0] ? " <- " : "", hops > CHAIN_SHOWN + 1 ? "... <- " : "",
                                 name);
        free(name);
        free(text);
        text = longer;
    }
    char *holders = holders_text(c, x);
    char *longer = xasprintf("%s%s%s", text, text[0] ? " <- " : "", holders);
    free(holders);
    free(text);
    return longer;
}

void jw_dominators(json_writer *w, chains *c, uint32_t o)
{
    bool reachable = hd_dominator_of(c->dom, o) != HD_NONE;
    jw_key(w, "dominators"); /* ids from the immediate dominator up */
    if (reachable) {
        jw_array_begin(w);
        for (uint32_t x = hd_dominator_of(c->dom, o); x != HD_DOM_ROOT; x = hd_dominator_of(c->dom, x))
            jw_uint(w, hd_object_id(c->d, x));
        jw_array_end(w);
    } else {
        jw_null(w);
    }
    jw_key(w, "held_by"); /* the roots that hold the chain's top, nearest first */
    if (!reachable) {
        jw_null(w);
        return;
    }
    uint32_t x = chain_top(c, o);
    uint32_t n = holding_roots(c, x, NULL, 0);
    uint32_t *roots = xmalloc(((size_t)n + 1) * sizeof *roots);
    holding_roots(c, x, roots, n);
    jw_array_begin(w);
    for (uint32_t i = 0; i < n; i++)
        jw_root(w, c->d, roots[i]);
    jw_array_end(w);
    free(roots);
}
