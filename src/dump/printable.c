/* printable.c: which bytes of a dump's text may be shown as they are. Every escaper (the CLI's
 * text and JSON, DOT, SVG) writes the rest as \xNN, so they all agree on what that is. */
#include "heapdump.h"

#include <stdint.h>

size_t hd_utf8_printable_len(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    if (s[0] >= 0x20 && s[0] < 0x7f)
        return 1;
    int n = s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : s[0] >= 0xE0 ? (s[0] < 0xF0 ? 3 : 0)
          : s[0] >= 0xC2 ? 2 : 0;
    if (!n)
        return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    uint32_t cp = n == 2 ? (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F)
                : n == 3 ? (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F)
                : (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
                  (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    if ((n == 2 && cp < 0xA0) || (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* C1 controls, overlong forms, surrogates */
    return (size_t)n;
}
