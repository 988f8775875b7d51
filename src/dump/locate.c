/* locate.c: where a record is, found by reading the document again: how both readers (heapdump
 * and V8) place a problem they find only once the whole document is read.
 *
 * Invariant: locating only reads. A failure here (the source cannot seek, or changed) only
 * leaves some positions as they were; the lexer's error is not touched.
 */
#include "lexer.h"

#include <string.h>

void hd__lex_locate(hd__lexer *lx, hd__locate *wanted, size_t n)
{
    hd_error scratch, *keep = lx->err;
    lx->err = &scratch;
    size_t left = n;
    if (n == 0 || hd__lex_seek(lx, (hd__pos){0, 1, 1}) != HD_OK || hd__lex_next(lx) ||
        lx->tok != HD__T_LBRACE || hd__lex_next(lx))
        goto out;
    while (lx->tok == HD__T_STRING) {
        size_t a = 0, b; /* [a, b): what is wanted in this member, if it was not met before */
        while (a < n && (wanted[a].met || strcmp(wanted[a].member, lx->str)))
            a++;
        for (b = a; b < n && !strcmp(wanted[b].member, wanted[a].member); b++)
            wanted[b].met = true;
        left -= b - a;
        if (hd__lex_next(lx) || hd__lex_next(lx)) /* ':', then the value's first token */
            goto out;
        if (a < b && wanted[a].whole) {
            for (size_t i = a; i < b; i++)
                wanted[i].pos = lx->tok_pos;
        } else if (a < b && lx->tok == HD__T_LBRACKET) {
            for (uint64_t i = 0; !hd__lex_next_element(lx) && lx->tok != HD__T_RBRACKET; i++) {
                while (a < b && wanted[a].index == i)
                    wanted[a++].pos = lx->tok_pos;
                if ((a == b && left == 0) || hd__lex_skip_value(lx))
                    goto out;
            }
            if (lx->tok != HD__T_RBRACKET)
                goto out;
        } else if (hd__lex_skip_value(lx)) {
            goto out;
        }
        if (left == 0 || hd__lex_next(lx) || lx->tok != HD__T_COMMA || hd__lex_next(lx))
            goto out;
    }
out:
    lx->err = keep;
}
