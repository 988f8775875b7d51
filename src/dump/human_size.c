/* human_size.c: a byte count as heaptool prints sizes everywhere (tables, SQL, reports). */
#include "heapdump.h"

#include <stdio.h>

const char *hd_human_size(uint64_t bytes, char buf[16])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, 16, "%u B", (unsigned)bytes);
        return buf;
    }
    double v = (double)bytes;
    unsigned u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    snprintf(buf, 16, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}
