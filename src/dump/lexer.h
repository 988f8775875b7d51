/* lexer.h: a pull lexer for JSON over a byte source read in bounded chunks.
 *
 * Tokens never need to be contiguous in memory: strings are decoded into their own growing
 * buffer and numbers are converted as their digits go by, so the chunk buffer stays a fixed
 * size however large the document or a value in it. Integers are kept exact as uint64.
 */
#ifndef HD_LEXER_H
#define HD_LEXER_H

#include "error.h"
#include "heapdump.h"
#include "source.h"
#include <stdbool.h>

#define HD__MAX_STRING (16u << 20) /* one decoded string */
#define HD__MAX_DEPTH 256          /* nesting while skipping a value */
#define HD__MAX_CAPTURE (64u << 20)/* raw text of a section handed to cJSON */
#define HD__PROGRESS_STEP (4u << 20)

enum hd__tok {
    HD__T_EOF, HD__T_LBRACE, HD__T_RBRACE, HD__T_LBRACKET, HD__T_RBRACKET, HD__T_COLON,
    HD__T_COMMA, HD__T_STRING, HD__T_NUMBER, HD__T_TRUE, HD__T_FALSE, HD__T_NULL,
};

enum hd__num { HD__N_UINT, HD__N_BIGUINT, HD__N_NEGINT, HD__N_REAL };

typedef struct hd__lexer {
    hd__source src;
    const char *name;   /* for error messages */
    hd_error *err;      /* where a lexical error goes */
    const char *buf;    /* the source's current chunk */
    size_t pos, end;
    bool eof;
    uint64_t base;      /* absolute offset of buf[0] */
    uint64_t line, line_start;

    unsigned open;      /* '{' and '[' not closed yet: end of input then is a cut, not a value */
    enum hd__tok tok;   /* the current token and where it began */
    hd__pos tok_pos;
    char *str;          /* decoded string of HD__T_STRING, NUL-terminated */
    size_t str_len, str_cap;
    enum hd__num num_kind;
    uint64_t num;       /* value of an HD__N_UINT */

    uint64_t raw;       /* how far into the source itself the current chunk ends */
    hd_progress_fn progress; /* called every HD__PROGRESS_STEP bytes of the source, or NULL */
    void *progress_user;
    uint64_t progress_total, progress_last;

    char *cap;          /* raw text being captured (see hd__lex_capture_value) */
    size_t cap_len, cap_size, cap_from;
    bool capturing;
} hd__lexer;

int hd__lex_init(hd__lexer *lx, hd__source src, const char *name, hd_error *err);
void hd__lex_free(hd__lexer *lx);
/* Goes on from position at (offset, line and column of a byte; {0, 1, 1} starts over), with no
 * token current; HD_EIO when the source cannot seek. */
int hd__lex_seek(hd__lexer *lx, hd__pos at);
/* Reads the next token into lx->tok; HD_OK or an error status with lx->err filled. */
int hd__lex_next(hd__lexer *lx);
/* Moves to the next element of the array being read: with the array's '[' current, or the last
 * token of its previous element, makes the next element's first token current, or the closing
 * ']'. */
int hd__lex_next_element(hd__lexer *lx);
/* Reads up to max elements of that array into out, as long as they are unsigned integers; *got
 * says how many. Stops early when the array ends (']' current) or at an element that is not an
 * unsigned integer (current, for the caller to report: it is element *got of the call). The
 * last number read is current, with its position; the positions of the others are not kept.
 * Runs of numbers inside a chunk are read in one tight loop: the flat arrays of V8 heap
 * snapshots hold hundreds of millions of them. */
int hd__lex_uints(hd__lexer *lx, uint64_t *out, size_t max, size_t *got);

/* The common shape of a reference, read straight from the current chunk: with '[' current and
 * then, before the chunk ends, an unsigned integer, ',', a string without escapes and ']' (spaces
 * only between them), consumes them, makes that ']' current and returns true with the integer
 * and the string (in the chunk, valid until the next token) and where the string began.
 * Otherwise consumes nothing and returns false: the tokens say what else is there, and where. */
bool hd__lex_pair(hd__lexer *lx, uint64_t *num, const char **str, size_t *len, hd__pos *str_pos);
/* With the first token of a value current, consumes the whole value (its last token becomes
 * current). Iterative; fails with HD_ELIMIT past HD__MAX_DEPTH. */
int hd__lex_skip_value(hd__lexer *lx);
/* Like skip, and also returns the value's raw text (an object or array) in lx->cap. */
int hd__lex_capture_value(hd__lexer *lx, const char **text, size_t *len);

/* A place wanted by hd__lex_locate: element index of the top-level member's array, or with
 * whole, the member's value itself. */
typedef struct hd__locate {
    const char *member;
    uint64_t index;
    bool whole;
    bool met;    /* set by hd__lex_locate: the member was found */
    hd__pos pos; /* set by hd__lex_locate when found; left as it is otherwise */
} hd__locate;
/* Reads the document (an object) again from its start and sets the pos of each place wanted,
 * in the first member of that name. The places of one member are next to each other in wanted,
 * by increasing index. Stops as soon as all are found. */
void hd__lex_locate(hd__lexer *lx, hd__locate *wanted, size_t n);

/* Fills lx->err for a problem at pos; returns status. */
int hd__lex_fail(hd__lexer *lx, int status, hd__pos pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *hd__tok_name(enum hd__tok tok);

#endif
