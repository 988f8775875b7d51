/* lexer.c: JSON tokens from a chunked byte source, with exact positions for every error.
 *
 * Invariant: buf[pos..end) are the bytes not yet consumed; everything before them has been
 * consumed and may be gone. Newlines only occur between tokens (JSON forbids raw ones in
 * strings), so the whitespace skipper alone keeps line and line_start current.
 */
#include "lexer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hd__lex_fail(hd__lexer *lx, int status, hd__pos pos, const char *fmt, ...)
{
    if (lx->err) {
        char msg[sizeof lx->err->message];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        hd__error_set(lx->err, status, lx->name, pos, "%s", msg);
    }
    return status;
}

const char *hd__tok_name(enum hd__tok tok)
{
    static const char *const names[] = {
        "end of input", "'{'", "'}'", "'['", "']'", "':'", "','", "a string", "a number",
        "true", "false", "null",
    };
    return names[tok];
}

static hd__pos here(const hd__lexer *lx)
{
    uint64_t off = lx->base + lx->pos;
    return (hd__pos){off, lx->line, off - lx->line_start + 1};
}

int hd__lex_init(hd__lexer *lx, hd__source src, const char *name, hd_error *err)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->name = name;
    lx->err = err;
    lx->line = 1;
    lx->buf = "";
    lx->str_cap = 256;
    lx->str = malloc(lx->str_cap);
    if (!lx->str) {
        hd__lex_free(lx);
        return hd__lex_fail(lx, HD_ENOMEM, (hd__pos){0, 0, 0}, "out of memory");
    }
    lx->str[0] = '\0';
    return HD_OK;
}

void hd__lex_free(hd__lexer *lx)
{
    free(lx->str);
    free(lx->cap);
    lx->str = lx->cap = NULL;
}

int hd__lex_seek(hd__lexer *lx, hd__pos at)
{
    if (!lx->src.seek || lx->src.seek(lx->src.ctx, at.offset) != 0)
        return HD_EIO;
    lx->pos = lx->end = 0;
    lx->eof = false;
    lx->base = at.offset;
    lx->line = at.line;
    lx->line_start = at.offset - (at.column - 1);
    lx->capturing = false;
    lx->open = 0;
    return HD_OK;
}

static int append(char **buf, size_t *len, size_t *size, const char *src, size_t n, size_t limit)
{
    if (n > limit - *len)
        return HD_ELIMIT;
    if (*len + n + 1 > *size) {
        size_t want = *size ? *size : 256;
        while (want < *len + n + 1)
            want *= 2;
        char *grown = realloc(*buf, want);
        if (!grown)
            return HD_ENOMEM;
        *buf = grown;
        *size = want;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = '\0';
    return HD_OK;
}

static int capture_flush(hd__lexer *lx, size_t upto)
{
    int rc = append(&lx->cap, &lx->cap_len, &lx->cap_size, lx->buf + lx->cap_from,
                    upto - lx->cap_from, HD__MAX_CAPTURE);
    lx->cap_from = upto;
    if (rc == HD_ELIMIT)
        return hd__lex_fail(lx, rc, here(lx), "section longer than %u MiB", HD__MAX_CAPTURE >> 20);
    if (rc)
        return hd__lex_fail(lx, rc, here(lx), "out of memory");
    return HD_OK;
}

/* Reads the next chunk once buf[pos..end) is used up. */
static int refill(hd__lexer *lx)
{
    if (lx->eof)
        return 0;
    if (lx->capturing) {
        int rc = capture_flush(lx, lx->end);
        if (rc)
            return rc;
        lx->cap_from = 0;
    }
    lx->base += lx->end;
    lx->pos = lx->end = 0;
    long got = lx->src.next(lx->src.ctx, &lx->buf, &lx->raw);
    if (got < 0 && errno == EILSEQ)
        return hd__lex_fail(lx, HD_EFORMAT, here(lx), "corrupt or truncated gzip data");
    if (got < 0)
        return hd__lex_fail(lx, HD_EIO, here(lx), "read error: %s", strerror(errno));
    if (lx->progress && (got == 0 || lx->raw - lx->progress_last >= HD__PROGRESS_STEP)) {
        lx->progress_last = lx->raw;
        lx->progress(lx->raw, lx->progress_total, lx->progress_user);
    }
    if (got == 0) {
        lx->eof = true;
        return 0;
    }
    lx->end = (size_t)got;
    return 1;
}

/* Makes buf[pos] readable: 1 when a byte is there, 0 at end of input, <0 on error. */
static inline int fill(hd__lexer *lx)
{
    return lx->pos < lx->end ? 1 : refill(lx);
}

static void describe_byte(unsigned char c, char out[8])
{
    if (c >= 0x21 && c < 0x7f)
        snprintf(out, 8, "'%c'", c);
    else
        snprintf(out, 8, "0x%02x", c);
}

static int str_put(hd__lexer *lx, const char *s, size_t n)
{
    if (lx->str_len + n < lx->str_cap) { /* the common case: room already there */
        memcpy(lx->str + lx->str_len, s, n);
        lx->str_len += n;
        lx->str[lx->str_len] = '\0';
        return HD_OK;
    }
    int rc = append(&lx->str, &lx->str_len, &lx->str_cap, s, n, HD__MAX_STRING);
    if (rc == HD_ELIMIT)
        return hd__lex_fail(lx, rc, lx->tok_pos, "string longer than %u MiB", HD__MAX_STRING >> 20);
    if (rc)
        return hd__lex_fail(lx, rc, lx->tok_pos, "out of memory");
    return HD_OK;
}

static int put_utf8(hd__lexer *lx, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return str_put(lx, b, n);
}

/* Reads the next byte of a token that must go on; end of input there is an error. */
static int token_byte(hd__lexer *lx, const char *what, unsigned char *c)
{
    int r = fill(lx);
    if (r < 0)
        return r;
    if (r == 0)
        return hd__lex_fail(lx, HD_ESYNTAX, here(lx), "unexpected end of input in %s", what);
    *c = (unsigned char)lx->buf[lx->pos];
    return HD_OK;
}

static int read_hex4(hd__lexer *lx, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = 0;
        int rc = token_byte(lx, "a string escape", &c);
        if (rc)
            return rc;
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return hd__lex_fail(lx, HD_ESYNTAX, here(lx), "bad \\u escape in string");
        v = v << 4 | (uint32_t)d;
        lx->pos++;
    }
    *out = v;
    return HD_OK;
}

static int lex_escape(hd__lexer *lx)
{
    unsigned char c = 0;
    int rc = token_byte(lx, "a string escape", &c);
    if (rc)
        return rc;
    lx->pos++;
    char simple;
    switch (c) {
    case '"': simple = '"'; break;
    case '\\': simple = '\\'; break;
    case '/': simple = '/'; break;
    case 'b': simple = '\b'; break;
    case 'f': simple = '\f'; break;
    case 'n': simple = '\n'; break;
    case 'r': simple = '\r'; break;
    case 't': simple = '\t'; break;
    case 'u': {
        uint32_t cp;
        if ((rc = read_hex4(lx, &cp)))
            return rc;
        if (cp >= 0xD800 && cp < 0xDC00) {
            /* A high surrogate must be followed by "\u" and a low one; a lone one becomes U+FFFD. */
            unsigned char c1 = 0, c2 = 0;
            if ((rc = token_byte(lx, "a string", &c1)))
                return rc;
            if (c1 == '\\') {
                lx->pos++;
                if ((rc = token_byte(lx, "a string escape", &c2)))
                    return rc;
                if (c2 != 'u') { /* a lone surrogate, then an ordinary escape */
                    if ((rc = put_utf8(lx, 0xFFFD)))
                        return rc;
                    return lex_escape(lx);
                }
                lx->pos++;
                uint32_t lo;
                if ((rc = read_hex4(lx, &lo)))
                    return rc;
                if (lo >= 0xDC00 && lo < 0xE000)
                    return put_utf8(lx, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
                if ((rc = put_utf8(lx, 0xFFFD)))
                    return rc;
                cp = lo >= 0xD800 && lo < 0xE000 ? 0xFFFD : lo;
            } else {
                cp = 0xFFFD;
            }
        } else if (cp >= 0xDC00 && cp < 0xE000) {
            cp = 0xFFFD;
        }
        return put_utf8(lx, cp);
    }
    default: {
        char d[8];
        describe_byte(c, d);
        lx->pos--;
        return hd__lex_fail(lx, HD_ESYNTAX, here(lx), "bad escape \\%s in string", d);
    }
    }
    return str_put(lx, &simple, 1);
}

/* Bytes that end a run of plain string text: the quote, the backslash, control characters. */
static const bool string_stop[256] = {
    [0x00] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};

__attribute__((noinline)) static int lex_string(hd__lexer *lx)
{
    lx->pos++; /* the opening quote */
    lx->str_len = 0;
    lx->str[0] = '\0';
    for (;;) {
        size_t i = lx->pos;
        const unsigned char *b = (const unsigned char *)lx->buf;
        while (i < lx->end && !string_stop[b[i]])
            i++;
        if (i > lx->pos) {
            int rc = str_put(lx, lx->buf + lx->pos, i - lx->pos);
            if (rc)
                return rc;
            lx->pos = i;
        }
        int r = fill(lx);
        if (r < 0)
            return r;
        if (r == 0)
            return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "unterminated string");
        unsigned char c = (unsigned char)lx->buf[lx->pos];
        if (c == '"') {
            lx->pos++;
            lx->tok = HD__T_STRING;
            return HD_OK;
        }
        if (c == '\\') {
            lx->pos++;
            int rc = lex_escape(lx);
            if (rc)
                return rc;
            continue;
        }
        if (c >= 0x20)
            continue; /* the run above stopped at the chunk's end */
        return hd__lex_fail(lx, HD_ESYNTAX, here(lx), c == 0 ? "NUL byte in string"
                            : "raw control character 0x%02x in string (must be escaped)", c);
    }
}

static int lex_digits(hd__lexer *lx, bool exact, const char *what)
{
    unsigned char c = 0;
    int rc = token_byte(lx, what, &c);
    if (rc)
        return rc;
    if (c < '0' || c > '9')
        return hd__lex_fail(lx, HD_ESYNTAX, here(lx), "expected a digit in %s", what);
    for (;;) {
        /* Digits within the chunk in a tight loop; the chunk's end falls back to refilling. */
        const unsigned char *b = (const unsigned char *)lx->buf;
        size_t i = lx->pos, end = lx->end;
        uint64_t num = lx->num;
        bool big = lx->num_kind == HD__N_BIGUINT;
        for (; i < end && b[i] >= '0' && b[i] <= '9'; i++) {
            uint64_t d = (uint64_t)(b[i] - '0');
            if (!exact || big)
                continue;
            if (num >= UINT64_MAX / 10 && (num > UINT64_MAX / 10 || d > UINT64_MAX % 10))
                big = true;
            else
                num = num * 10 + d;
        }
        lx->pos = i;
        lx->num = num;
        if (big)
            lx->num_kind = HD__N_BIGUINT;
        int r = fill(lx);
        if (r < 0)
            return r;
        if (r == 0)
            return HD_OK;
        c = (unsigned char)lx->buf[lx->pos];
        if (c < '0' || c > '9')
            return HD_OK;
    }
}

__attribute__((noinline)) static int lex_number(hd__lexer *lx)
{
    bool neg = lx->buf[lx->pos] == '-';
    lx->num = 0;
    lx->num_kind = HD__N_UINT;
    if (neg)
        lx->pos++;
    unsigned char c = 0;
    int rc = token_byte(lx, "a number", &c);
    if (rc)
        return rc;
    if (c == '0') {
        lx->pos++;
        int r = fill(lx);
        if (r < 0)
            return r;
        if (r > 0 && lx->buf[lx->pos] >= '0' && lx->buf[lx->pos] <= '9')
            return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "number with a leading zero");
    } else if ((rc = lex_digits(lx, true, "a number"))) {
        return rc;
    }
    int r = fill(lx);
    if (r < 0)
        return r;
    if (r > 0 && lx->buf[lx->pos] == '.') {
        lx->pos++;
        if ((rc = lex_digits(lx, false, "a number's fraction")))
            return rc;
        lx->num_kind = HD__N_REAL;
    }
    if ((r = fill(lx)) < 0)
        return r;
    if (r > 0 && (lx->buf[lx->pos] == 'e' || lx->buf[lx->pos] == 'E')) {
        lx->pos++;
        if ((rc = token_byte(lx, "a number's exponent", &c)))
            return rc;
        if (c == '+' || c == '-')
            lx->pos++;
        if ((rc = lex_digits(lx, false, "a number's exponent")))
            return rc;
        lx->num_kind = HD__N_REAL;
    }
    if (neg && lx->num_kind != HD__N_REAL)
        lx->num_kind = lx->num == 0 && lx->num_kind == HD__N_UINT ? HD__N_UINT : HD__N_NEGINT;
    lx->tok = HD__T_NUMBER;
    return HD_OK;
}

__attribute__((noinline)) static int lex_literal(hd__lexer *lx, const char *word, enum hd__tok tok)
{
    for (const char *w = word; *w; w++) {
        unsigned char c = 0;
        int rc = token_byte(lx, word, &c);
        if (rc)
            return rc;
        if (c != (unsigned char)*w)
            return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "invalid literal (expected '%s')", word);
        lx->pos++;
    }
    lx->tok = tok;
    return HD_OK;
}

int hd__lex_next(hd__lexer *lx)
{
    for (;;) {
        int r = fill(lx);
        if (r < 0)
            return r;
        if (r == 0) {
            lx->tok = HD__T_EOF;
            lx->tok_pos = here(lx);
            if (lx->open) /* whatever the reader wanted next, the document is cut short */
                return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos,
                                    "unexpected end of input (the dump is cut short)");
            return HD_OK;
        }
        /* Whitespace runs are the common case between records: scan them within the chunk. */
        const char *b = lx->buf;
        size_t i = lx->pos, end = lx->end;
        while (i < end) {
            char c = b[i];
            if (c == ' ' || c == '\t' || c == '\r') {
                i++;
            } else if (c == '\n') {
                i++;
                lx->line++;
                lx->line_start = lx->base + i;
            } else {
                break;
            }
        }
        lx->pos = i;
        if (i < end)
            break;
    }
    lx->tok_pos = here(lx);
    unsigned char c = (unsigned char)lx->buf[lx->pos];
    switch (c) {
    case '{': lx->pos++; lx->open++; lx->tok = HD__T_LBRACE; return HD_OK;
    case '}': lx->pos++; lx->open -= lx->open > 0; lx->tok = HD__T_RBRACE; return HD_OK;
    case '[': lx->pos++; lx->open++; lx->tok = HD__T_LBRACKET; return HD_OK;
    case ']': lx->pos++; lx->open -= lx->open > 0; lx->tok = HD__T_RBRACKET; return HD_OK;
    case ':': lx->pos++; lx->tok = HD__T_COLON; return HD_OK;
    case ',': lx->pos++; lx->tok = HD__T_COMMA; return HD_OK;
    case '"': return lex_string(lx);
    case 't': return lex_literal(lx, "true", HD__T_TRUE);
    case 'f': return lex_literal(lx, "false", HD__T_FALSE);
    case 'n': return lex_literal(lx, "null", HD__T_NULL);
    case 0: return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "NUL byte in input");
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return lex_number(lx);
        char d[8];
        describe_byte(c, d);
        return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "unexpected character %s", d);
    }
}

int hd__lex_next_element(hd__lexer *lx)
{
    bool first = lx->tok == HD__T_LBRACKET;
    int rc = hd__lex_next(lx);
    if (rc || first || lx->tok == HD__T_RBRACKET)
        return rc;
    if (lx->tok != HD__T_COMMA)
        return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected ',' or ']', found %s",
                            hd__tok_name(lx->tok));
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_RBRACKET)
        return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected a value after ',', found ']'");
    return HD_OK;
}

int hd__lex_uints(hd__lexer *lx, uint64_t *out, size_t max, size_t *got)
{
    size_t n = 0;
    *got = 0;
    while (n < max) {
        /* The fast run: "[ws] , [ws] digits" whole inside the chunk, state kept in registers
         * and committed once; anything else ends it and goes to the general path. */
        const unsigned char *b = (const unsigned char *)lx->buf;
        size_t i = lx->pos, end = lx->end, start = i;
        uint64_t line = lx->line, line_start = lx->line_start;
        bool comma_done = lx->tok == HD__T_LBRACKET;
        size_t before = n;
        while (n < max) {
            size_t j = i;
            uint64_t ln = line, ls = line_start;
            bool comma = comma_done;
            for (;;) {
                if (j == end)
                    goto general;
                unsigned char c = b[j];
                if (c >= '0' && c <= '9' && comma)
                    break;
                if (c == ',' && !comma)
                    comma = true;
                else if (c == '\n')
                    ln++, ls = lx->base + j + 1;
                else if (c != ' ' && c != '\t' && c != '\r')
                    goto general;
                j++;
            }
            size_t s = j;
            uint64_t num = 0;
            while (j < end && b[j] >= '0' && b[j] <= '9')
                num = num * 10 + (uint64_t)(b[j++] - '0');
            if (j == end || j - s >= 20 || (b[s] == '0' && j - s > 1) || b[j] == '.' || b[j] == 'e' ||
                b[j] == 'E')
                goto general;
            out[n++] = num;
            i = j;
            start = s;
            line = ln;
            line_start = ls;
            comma_done = false;
        }
    general:
        if (n > before) {
            lx->pos = i;
            lx->line = line;
            lx->line_start = line_start;
            lx->tok = HD__T_NUMBER;
            lx->num = out[n - 1];
            lx->num_kind = HD__N_UINT;
            lx->tok_pos = (hd__pos){lx->base + start, line, lx->base + start - line_start + 1};
        }
        if (n == max)
            break;
        int rc = hd__lex_next_element(lx);
        if (rc)
            return rc;
        if (lx->tok != HD__T_NUMBER || lx->num_kind != HD__N_UINT)
            break;
        out[n++] = lx->num;
    }
    *got = n;
    return HD_OK;
}

bool hd__lex_pair(hd__lexer *lx, uint64_t *num, const char **str, size_t *len, hd__pos *str_pos)
{
    const unsigned char *b = (const unsigned char *)lx->buf;
    size_t i = lx->pos, end = lx->end;
    while (i < end && b[i] == ' ')
        i++;
    if (i >= end || b[i] < '0' || b[i] > '9' || (b[i] == '0' && i + 1 < end && b[i + 1] <= '9' &&
                                                  b[i + 1] >= '0'))
        return false;
    uint64_t v = 0;
    for (; i < end && b[i] >= '0' && b[i] <= '9'; i++) {
        unsigned d = b[i] - '0';
        if (v >= UINT64_MAX / 10 && (v > UINT64_MAX / 10 || d > UINT64_MAX % 10))
            return false;
        v = v * 10 + d;
    }
    while (i < end && b[i] == ' ')
        i++;
    if (i >= end || b[i] != ',')
        return false;
    for (i++; i < end && b[i] == ' '; i++)
        ;
    if (i >= end || b[i] != '"')
        return false;
    size_t quote = i, from = ++i;
    while (i < end && !string_stop[b[i]])
        i++;
    if (i >= end || b[i] != '"')
        return false;
    size_t to = i;
    for (i++; i < end && b[i] == ' '; i++)
        ;
    if (i >= end || b[i] != ']')
        return false;
    lx->pos = quote;
    *str_pos = here(lx);
    lx->pos = i;
    lx->tok_pos = here(lx);
    lx->pos++;
    lx->tok = HD__T_RBRACKET;
    lx->open -= lx->open > 0; /* the pair's ']' closes what hd__lex_next counted open */
    *num = v;
    *str = lx->buf + from;
    *len = to - from;
    return true;
}

static int expect(hd__lexer *lx, enum hd__tok want, const char *context)
{
    int rc = hd__lex_next(lx);
    if (rc)
        return rc;
    if (lx->tok != want)
        return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected %s %s, found %s",
                            hd__tok_name(want), context, hd__tok_name(lx->tok));
    return HD_OK;
}

int hd__lex_skip_value(hd__lexer *lx)
{
    /* One bit per open container: 1 for an object, 0 for an array. */
    unsigned char stack[HD__MAX_DEPTH / 8];
    unsigned depth = 0;
    int rc;
    for (;;) {
        /* Here the current token must start a value. */
        switch (lx->tok) {
        case HD__T_LBRACE:
        case HD__T_LBRACKET: {
            if (depth == HD__MAX_DEPTH)
                return hd__lex_fail(lx, HD_ELIMIT, lx->tok_pos, "nesting deeper than %d levels",
                                    HD__MAX_DEPTH);
            bool is_obj = lx->tok == HD__T_LBRACE;
            if (is_obj)
                stack[depth / 8] |= (unsigned char)(1u << (depth % 8));
            else
                stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));
            depth++;
            if ((rc = hd__lex_next(lx)))
                return rc;
            if (lx->tok == (is_obj ? HD__T_RBRACE : HD__T_RBRACKET)) {
                depth--;
                break;
            }
            if (is_obj) {
                if (lx->tok != HD__T_STRING)
                    return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos,
                                        "expected a member name, found %s", hd__tok_name(lx->tok));
                if ((rc = expect(lx, HD__T_COLON, "after a member name")) || (rc = hd__lex_next(lx)))
                    return rc;
            }
            continue;
        }
        case HD__T_STRING: case HD__T_NUMBER: case HD__T_TRUE: case HD__T_FALSE: case HD__T_NULL:
            break;
        default:
            return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected a value, found %s",
                                hd__tok_name(lx->tok));
        }
        /* A value just ended: close containers or move to the next element. */
        for (;;) {
            if (depth == 0)
                return HD_OK;
            bool in_obj = stack[(depth - 1) / 8] >> ((depth - 1) % 8) & 1;
            if ((rc = hd__lex_next(lx)))
                return rc;
            if (lx->tok == (in_obj ? HD__T_RBRACE : HD__T_RBRACKET)) {
                depth--;
                continue;
            }
            if (lx->tok != HD__T_COMMA)
                return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "expected ',' or %s, found %s",
                                    in_obj ? "'}'" : "']'", hd__tok_name(lx->tok));
            if (in_obj) {
                if ((rc = expect(lx, HD__T_STRING, "(a member name)")) ||
                    (rc = expect(lx, HD__T_COLON, "after a member name")))
                    return rc;
            }
            if ((rc = hd__lex_next(lx)))
                return rc;
            break;
        }
    }
}

static uint32_t hex4(const char *s)
{
    char digits[5] = {s[0], s[1], s[2], s[3], '\0'};
    return (uint32_t)strtoul(digits, NULL, 16);
}

/* cJSON refuses the unpaired UTF-16 surrogate escapes that lex_escape reads as U+FFFD, so in
 * captured text they become "\ufffd" (as long): a captured section decodes as the rest does.
 * The text has passed the lexer, so every "\u" has its four hex digits. */
static void replace_lone_surrogates(char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] != 'u') {
            i++; /* an escaped character, maybe a backslash */
            continue;
        }
        uint32_t cp = hex4(s + i + 2);
        if (cp >= 0xD800 && cp < 0xDC00 && i + 11 < len && s[i + 6] == '\\' && s[i + 7] == 'u') {
            uint32_t lo = hex4(s + i + 8);
            if (lo >= 0xDC00 && lo < 0xE000) {
                i += 11;
                continue;
            }
        }
        if (cp >= 0xD800 && cp < 0xE000)
            memcpy(s + i, "\\ufffd", 6);
        i += 5;
    }
}

int hd__lex_capture_value(hd__lexer *lx, const char **text, size_t *len)
{
    if (lx->tok != HD__T_LBRACE && lx->tok != HD__T_LBRACKET)
        return hd__lex_fail(lx, HD_EINVAL, lx->tok_pos, "internal: capture of a scalar");
    lx->cap_len = 0;
    char open = lx->tok == HD__T_LBRACE ? '{' : '[';
    int rc = append(&lx->cap, &lx->cap_len, &lx->cap_size, &open, 1, HD__MAX_CAPTURE);
    if (rc)
        return hd__lex_fail(lx, rc, lx->tok_pos, "out of memory");
    lx->capturing = true;
    lx->cap_from = lx->pos;
    rc = hd__lex_skip_value(lx);
    if (rc == HD_OK)
        rc = capture_flush(lx, lx->pos);
    lx->capturing = false;
    if (rc == HD_OK)
        replace_lone_surrogates(lx->cap, lx->cap_len);
    *text = lx->cap;
    *len = lx->cap_len;
    return rc;
}
