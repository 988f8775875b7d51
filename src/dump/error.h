/* error.h: filling an hd_error, the one way every part of libheapdump reports a problem.
 *
 * Invariant: a filled hd_error's message is one line whatever it quotes from a dump, so a caller
 * can print it as it is: control characters show as \xNN.
 */
#ifndef HD_ERROR_H
#define HD_ERROR_H

#include "heapdump.h"

/* Where a problem is in the input: 0-based byte offset, 1-based line and column (0: nowhere). */
typedef struct hd__pos { uint64_t offset, line, column; } hd__pos;

/* Fills *err (when err is not NULL) with the status, the file name (NULL: none), the position
 * and the formatted message, escaped as above. */
void hd__error_set(hd_error *err, int status, const char *file, hd__pos pos, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Fills *err with "out of memory" for file, at no position; returns HD_ENOMEM. */
int hd__error_oom(hd_error *err, const char *file);

#endif
