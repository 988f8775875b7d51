/* alloc.c: the CLI's allocation that cannot fail. Running out of memory ends the command with
 * one line and EXIT_NOMEM, here and nowhere else. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>

static void *checked(void *p)
{
    if (!p) {
        fputs("heaptool: out of memory\n", stderr);
        exit(EXIT_NOMEM);
    }
    return p;
}

void *xmalloc(size_t n) { return checked(malloc(n ? n : 1)); }
void *xcalloc(size_t n, size_t size) { return checked(calloc(n ? n : 1, size ? size : 1)); }
void *xrealloc(void *p, size_t n) { return checked(realloc(p, n ? n : 1)); }

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return checked(n < 0 ? NULL : s);
}
