/* read_document.c: a document's top-level members, each read by its section's reader (one
 * table, reader.h's HD__SECTIONS), and the V8 dispatch: a document whose first member is one of
 * a heap snapshot's is read by v8_read.c instead.
 *
 * Invariant: members come in any order and each section is read once, in document order, by
 * its reader; a second one is a problem and is skipped, an unknown one is skipped. What must be
 * there is checked only at the end.
 */
#include "reader.h"
#include "v8.h"

#include <string.h>

#define SECTION_NAME(e, name, fn) name,
#define SECTION_READER(e, name, fn) fn,
const char *const hd__section_names[S_COUNT] = {HD__SECTIONS(SECTION_NAME)};
static int (*const section_readers[S_COUNT])(loader *L) = {HD__SECTIONS(SECTION_READER)};

int hd__read_format(loader *L)
{
    hd__lexer *lx = &L->lx;
    if (lx->tok != HD__T_STRING || strcmp(lx->str, "heapdump"))
        return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos,
                            "not a heapdump: 'format' is %s%s%s, expected \"heapdump\"",
                            lx->tok == HD__T_STRING ? "\"" : "",
                            lx->tok == HD__T_STRING ? lx->str : hd__tok_name(lx->tok),
                            lx->tok == HD__T_STRING ? "\"" : "");
    return HD_OK;
}

int hd__read_version(loader *L)
{
    hd__lexer *lx = &L->lx;
    if (lx->tok != HD__T_NUMBER || lx->num_kind != HD__N_UINT || lx->num == 0)
        return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "'version' must be a positive integer");
    if (lx->num > HD_FORMAT_VERSION)
        return hd__lex_fail(lx, HD_EVERSION, lx->tok_pos,
                            "heapdump version %llu is newer than this reader (version %d)",
                            (unsigned long long)lx->num, HD_FORMAT_VERSION);
    L->d->version = (uint32_t)lx->num;
    return HD_OK;
}

/* One top-level member: its section's reader, once; a member this reader does not know is
 * skipped (a later version's, or a producer's own). */
static int top_member(loader *L, int k, const char *key, void *state)
{
    (void)state;
    hd__lexer *lx = &L->lx;
    if (k < 0)
        return hd__lex_skip_value(lx);
    if (L->seen[k]) {
        int rc = hd__problem(L, HD_EFORMAT, lx->tok_pos, "member '%s' appears twice", key);
        return rc ? rc : hd__lex_skip_value(lx);
    }
    L->seen[k] = true;
    return section_readers[k](L);
}

int hd__read_document(loader *L)
{
    hd__lexer *lx = &L->lx;
    int rc = hd__lex_next(lx);
    if (rc)
        return rc;
    if (lx->tok == HD__T_EOF)
        return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "empty input (expected a heapdump object)");
    if (lx->tok != HD__T_LBRACE)
        return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "not a heapdump: expected a JSON object, found %s",
                            hd__tok_name(lx->tok));
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_STRING && hd__v8_is_member(lx->str)) {
        L->v8 = true;
        return hd__v8_read(lx, L->d);
    }
    static const char *const keys[S_COUNT + 1] = {HD__SECTIONS(SECTION_NAME) NULL};
    if ((rc = hd__members_from(L, keys, top_member, NULL)))
        return rc < 0 ? rc : HD_OK;
    rc = hd__lex_next(lx);
    if (rc == HD_EIO || rc == HD_ENOMEM)
        return rc;
    if (rc || lx->tok != HD__T_EOF) /* whatever the junk is, say where it starts */
        return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "unexpected data after the document");
    static const enum section required[] = {S_FORMAT, S_VERSION, S_TYPES, S_OBJECTS};
    for (unsigned i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!L->seen[required[i]])
            return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "%smissing member '%s'",
                                i < 2 ? "not a heapdump: " : "", hd__section_names[required[i]]);
    return HD_OK;
}
