/* error.c: hd__error_set, the one writer of hd_error (see error.h for its one-line rule). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void hd__error_set(hd_error *err, int status, const char *file, hd__pos pos, const char *fmt, ...)
{
    if (!err)
        return;
    err->status = status;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = pos.line;
    err->column = pos.column;
    err->offset = pos.offset;
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* A message may quote the dump (a member name, a format): it stays one line that a caller
     * can print as it is, with control characters as \xNN. */
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && n + 4 < sizeof err->message; p++) {
        if (*p < 0x20 || *p == 0x7f)
            n += (size_t)snprintf(err->message + n, 5, "\\x%02x", *p);
        else
            err->message[n++] = (char)*p;
    }
    err->message[n] = '\0';
}

int hd__error_oom(hd_error *err, const char *file)
{
    hd__error_set(err, HD_ENOMEM, file, (hd__pos){0, 0, 0}, "out of memory");
    return HD_ENOMEM;
}
