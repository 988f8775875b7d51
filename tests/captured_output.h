/* captured_output.h: what a test's callbacks print, captured in out, line by line, to compare
 * with what the Python original prints. The suite empties out before each test. */
#ifndef TESTS_CAPTURED_OUTPUT_H
#define TESTS_CAPTURED_OUTPUT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static char out[4096];

/* A string literal as callback user data, for say() to print (-Wcast-qual: through an integer). */
#define TAG(s) ((void *)(uintptr_t)(s))

__attribute__((format(printf, 1, 2))) static inline void say(const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, sizeof out - n, fmt, ap);
    va_end(ap);
    strncat(out, "\n", sizeof out - strlen(out) - 1);
}

#endif
