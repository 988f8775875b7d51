/* read_values.c: the heapdump reader's problems, its iteration over members and elements, and
 * its scalar value readers (see reader.h for the reader's invariant and parts).
 *
 * Invariant: a member, element or item function starts with its value's first token current
 * and returns with the value's last token current, whether it read the value or reported and
 * skipped it; so every iteration goes on at the ',' or the closing bracket that follows.
 */
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* --- problems ------------------------------------------------------------------------------ */

static void format_context(loader *L, char *out, size_t size)
{
    if (L->in_record)
        snprintf(out, size, "%s[%llu]: ", hd__section_names[L->ctx], (unsigned long long)L->ctx_index);
    else
        out[0] = '\0';
}

void hd__deliver(loader *L, const hd_error *e)
{
    if (L->nproblems++ == 0)
        L->first = *e;
    L->on_problem(e, L->user);
}

int hd__problem(loader *L, int status, hd__pos pos, const char *fmt, ...)
{
    char ctx[64], msg[200];
    format_context(L, ctx, sizeof ctx);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hd_error e;
    hd__error_set(&e, status, L->lx.name, pos, "%s%s", ctx, msg);
    if (!L->on_problem || status == HD_ENOMEM || status == HD_ELIMIT) {
        *L->err = e;
        return status;
    }
    hd__deliver(L, &e);
    return HD_OK;
}

int hd__oom(loader *L)
{
    return hd__problem(L, HD_ENOMEM, L->lx.tok_pos, "out of memory");
}

int hd__syntax(loader *L, const char *expected)
{
    return hd__lex_fail(&L->lx, HD_ESYNTAX, L->lx.tok_pos, "expected %s, found %s", expected,
                        hd__tok_name(L->lx.tok));
}

int hd__wrong_value(loader *L, const char *key, const char *expected)
{
    const hd__lexer *lx = &L->lx;
    const char *found = hd__tok_name(lx->tok);
    if (lx->tok == HD__T_NUMBER)
        found = lx->num_kind == HD__N_NEGINT  ? "a negative number"
              : lx->num_kind == HD__N_BIGUINT ? "a number above 2^64-1"
              : lx->num_kind == HD__N_REAL    ? "a non-integer number" : "a number";
    int rc = hd__problem(L, HD_EFORMAT, lx->tok_pos, "'%s' must be %s, found %s", key, expected, found);
    if (rc)
        return rc;
    rc = hd__lex_skip_value(&L->lx);
    return rc ? rc : SKIPPED;
}

/* --- value readers ------------------------------------------------------------------------ */

int hd__read_bool(loader *L, const char *key, bool *out)
{
    if (L->lx.tok == HD__T_TRUE || L->lx.tok == HD__T_FALSE) {
        *out = L->lx.tok == HD__T_TRUE;
        return HD_OK;
    }
    return hd__wrong_value(L, key, "true or false");
}

int hd__read_string(loader *L, const char *key, bool intern, uint32_t *out)
{
    if (L->lx.tok != HD__T_STRING)
        return hd__wrong_value(L, key, "a string");
    hd__strtab *st = &L->d->strings;
    *out = intern ? hd__strtab_intern(st, L->lx.str, L->lx.str_len)
                  : hd__strtab_append(st, L->lx.str, L->lx.str_len);
    if (*out == UINT32_MAX)
        return hd__problem(L, HD_ELIMIT, L->lx.tok_pos, "strings beyond 4 GiB in all");
    return HD_OK;
}

/* --- iteration over objects and arrays ----------------------------------------------------- */

static int key_index(const char *const *keys, const char *s)
{
    /* Member names are short: compare in line rather than call strcmp per candidate. */
    for (int i = 0; keys[i]; i++) {
        const char *a = keys[i], *b = s;
        if (*a != *b) /* most candidates differ at once */
            continue;
        while (*a && *a == *b)
            a++, b++;
        if (*a == '\0' && *b == '\0')
            return i;
    }
    return -1;
}

int hd__members_from(loader *L, const char *const *keys, member_fn fn, void *state)
{
    hd__lexer *lx = &L->lx;
    int rc;
    if (lx->tok == HD__T_RBRACE)
        return HD_OK;
    for (;;) {
        if (lx->tok != HD__T_STRING)
            return hd__syntax(L, "a member name");
        int k = keys ? key_index(keys, lx->str) : -1;
        const char *key = k >= 0 ? keys[k] : L->key;
        if (k < 0 && lx->str_len < sizeof L->key)
            memcpy(L->key, lx->str, lx->str_len + 1);
        else if (k < 0)
            strcpy(L->key, "(long name)");
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok != HD__T_COLON)
            return hd__syntax(L, "':' after a member name");
        if ((rc = hd__lex_next(lx)))
            return rc;
        if ((rc = fn(L, k, key, state)) < 0)
            return rc;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACE)
            return HD_OK;
        if (lx->tok != HD__T_COMMA)
            return hd__syntax(L, "',' or '}'");
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
}

int hd__not_an_object(loader *L)
{
    hd__lexer *lx = &L->lx;
    int rc = hd__problem(L, HD_EFORMAT, lx->tok_pos, "expected an object, found %s",
                         hd__tok_name(lx->tok));
    if (rc)
        return rc;
    return (rc = hd__lex_skip_value(lx)) ? rc : SKIPPED;
}

int hd__each_member(loader *L, member_fn fn, void *state)
{
    return hd__each_member_keyed(L, NULL, fn, state);
}

int hd__each_element(loader *L, enum section array, element_fn fn)
{
    hd__lexer *lx = &L->lx;
    int rc;
    if (lx->tok != HD__T_LBRACKET)
        return hd__wrong_value(L, hd__section_names[array], "an array");
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_RBRACKET)
        return HD_OK;
    L->ctx = array;
    L->in_record = true;
    for (L->ctx_index = 0;; L->ctx_index++) {
        if (L->split && lx->tok_pos.offset >= L->split_at) {
            if ((rc = hd__split_finish(L, lx->tok_pos.offset == L->split_at)) < 0)
                return rc;
            if (rc) /* the second thread read the rest: ']' is current */
                break;
        }
        if ((rc = fn(L)) < 0)
            return rc;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACKET)
            break;
        if (lx->tok != HD__T_COMMA)
            return hd__syntax(L, "',' or ']'");
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
    L->in_record = false;
    return HD_OK;
}

int hd__each_item(loader *L, const char *key, const char *expected, item_fn fn, void *state)
{
    hd__lexer *lx = &L->lx;
    if (lx->tok != HD__T_LBRACKET)
        return hd__wrong_value(L, key, expected);
    int rc;
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_RBRACKET)
        return HD_OK;
    for (uint64_t i = 0;; i++) {
        if ((rc = fn(L, i, state)) < 0)
            return rc;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACKET)
            return HD_OK;
        if (lx->tok != HD__T_COMMA)
            return hd__syntax(L, "',' or ']'");
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
}

int hd__missing(loader *L, const char *member)
{
    return hd__problem(L, HD_EFORMAT, L->lx.tok_pos, "missing member '%s'", member);
}

bool hd__note_element(loader *L, uint32_t **elem, uint32_t *cap, uint32_t i)
{
    if (!L->on_problem)
        return true;
    void **const arrays[] = {(void **)elem, NULL};
    const size_t sizes[] = {4};
    if (!hd__grow_records(i, cap, arrays, sizes))
        return false;
    (*elem)[i] = (uint32_t)L->ctx_index;
    return true;
}
