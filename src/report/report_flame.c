/* report_flame.c: live bytes by where they were allocated, for the flame graph: nodes
 * [parent, name, bytes], parents first, node 0 the whole heap. From the dump's sites the graph
 * has two levels (file, then function and line); a reader of full call stacks would give each
 * site its frames as the levels between, through the same node list.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define SITES 200

int hd__report_flame(const hd__report_ctx *c)
{
    const hd_dump *d = c->d;
    FILE *out = c->out;
    hd_site_stat *st = malloc(((size_t)hd_site_count(d) + 1) * sizeof *st);
    const char **files = malloc(SITES * sizeof *files);
    uint64_t *file_bytes = calloc(SITES, sizeof *file_bytes);
    uint32_t *site_file = malloc(SITES * sizeof *site_file);
    if (!st || !files || !file_bytes || !site_file) {
        free(st), free(files), free(file_bytes), free(site_file);
        return HD_ENOMEM;
    }
    uint32_t n = hd_stats_by_site(d, HD_SORT_SIZE, st), shown = n < SITES ? n : SITES, nfiles = 0;
    uint64_t rest = 0;
    for (uint32_t i = shown; i < n; i++)
        rest += st[i].size;
    for (uint32_t i = 0; i < shown; i++) {
        const char *file = st[i].site == HD_NONE ? "(no site)" : hd_site_file(d, st[i].site);
        uint32_t f = 0;
        while (f < nfiles && strcmp(files[f], file))
            f++;
        if (f == nfiles)
            files[nfiles++] = file;
        file_bytes[f] += st[i].size;
        site_file[i] = f;
    }
    fprintf(out, "[[-1,\"all\",%llu]", (unsigned long long)hd_total_size(d));
    for (uint32_t f = 0; f < nfiles; f++) {
        fputs(",[0,", out);
        hd__rj_str(out, files[f]);
        fprintf(out, ",%llu]", (unsigned long long)file_bytes[f]);
    }
    for (uint32_t i = 0; i < shown; i++) {
        if (st[i].site == HD_NONE)
            continue;
        char name[160];
        const char *fn = hd_site_function(d, st[i].site);
        snprintf(name, sizeof name, "%.100s%s%u", fn, fn[0] ? ":" : "line ", hd_site_line(d, st[i].site));
        fprintf(out, ",[%u,", 1 + site_file[i]);
        hd__rj_str(out, name);
        fprintf(out, ",%llu]", (unsigned long long)st[i].size);
    }
    if (rest)
        fprintf(out, ",[0,\"%u more sites\",%llu]", n - shown, (unsigned long long)rest);
    fputc(']', out);
    free(st), free(files), free(file_bytes), free(site_file);
    return HD_OK;
}
