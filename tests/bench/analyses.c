/* analyses.c: times the issue-7 analyses on a random heap (default 1M objects, 2M references):
 * load, reachability, cycles, leaks, referrers, one path, diff and the three-dump leak rule.
 * With an output directory it also writes the two dumps there, for timing the CLI.
 *   build/bench/analyses [OBJECTS [DIR]] */
#include "heapdump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../random_numbers.h"
#include "timing.h"

static uint64_t rng = 42;
static uint64_t next(void) { return splitmix64(&rng); }

/* Object i has id i*2+1+shift (shift moves a tenth of the ids: "freed and reallocated"). */
static char *generate(uint32_t n, uint64_t salt, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    fputs("{\"format\":\"heapdump\",\"version\":1,\"meta\":{\"producer\":\"bench\",\"pid\":1},\n\"types\":[", f);
    for (int t = 0; t < 50; t++)
        fprintf(f, "%s{\"id\":%d,\"name\":\"Type%d\",\"size\":32,\"gc\":true}", t ? "," : "", t, t);
    fputs("],\n\"sites\":[{\"id\":0,\"file\":\"a.c\",\"line\":1},{\"id\":1,\"file\":\"b.c\",\"line\":2}],\n\"objects\":[\n", f);
    rng = 42 + salt;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id = (uint64_t)i * 2 + 1 + (i % 10 == salt % 10 && salt ? 1000000000ull : 0);
        uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ull; /* the same per object in both dumps */
        h ^= h >> 29;
        fprintf(f, "%s{\"id\":%llu,\"type\":%u,\"size\":%u,\"site\":%u,\"refs\":[", i ? ",\n" : "",
                (unsigned long long)id, (unsigned)(h % 50), 16 + 16 * (unsigned)(h / 50 % 8),
                (unsigned)(h / 400 % 2));
        unsigned k = (unsigned)(next() % 5); /* 0..4 references, 2 on average */
        for (unsigned j = 0; j < k; j++) {
            uint32_t t = (uint32_t)(next() % n);
            uint64_t tid = (uint64_t)t * 2 + 1 + (t % 10 == salt % 10 && salt ? 1000000000ull : 0);
            fprintf(f, "%s[%llu,\"f%u\"]", j ? "," : "", (unsigned long long)tid, j);
        }
        fputs("]}", f);
    }
    fputs("],\n\"roots\":[", f);
    for (int r = 0; r < 100; r++) {
        uint64_t t = next() % n; /* roots pick from the unshifted tenths only */
        t -= t % 10 == salt % 10 && salt ? 1 : 0;
        fprintf(f, "%s{\"id\":%llu,\"kind\":\"%s\"}", r ? "," : "", (unsigned long long)t * 2 + 1,
                r % 10 ? "external" : "named");
    }
    fputs("]}\n", f);
    fclose(f);
    return buf;
}

static double mark;
static void lap(const char *what)
{
    double t = now();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  %-34s %7.3f s   (peak RSS so far %ld MiB)\n", what, t - mark, ru.ru_maxrss / 1024);
    mark = now();
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
    size_t la, lb;
    double t0 = now();
    char *a = generate(n, 0, &la), *b = generate(n, 3, &lb);
    printf("generated 2 dumps of %u objects (%.0f MB each) in %.2f s\n", n, (double)la / 1e6, now() - t0);
    if (argc > 2) {
        char path[4096];
        snprintf(path, sizeof path, "%s/bench_a.json", argv[2]);
        FILE *f = fopen(path, "w");
        fwrite(a, 1, la, f);
        fclose(f);
        snprintf(path, sizeof path, "%s/bench_b.json", argv[2]);
        f = fopen(path, "w");
        fwrite(b, 1, lb, f);
        fclose(f);
    }
    hd_dump *da, *db;
    hd_error err;
    mark = now();
    if (hd_load_buffer(a, la, "a", NULL, &da, &err) || hd_load_buffer(b, lb, "b", NULL, &db, &err)) {
        fprintf(stderr, "load: %s\n", err.message);
        return 1;
    }
    free(a);
    free(b);
    lap("load both dumps");
    hd_reach *r;
    hd_reach_compute(da, &r);
    lap("hd_reach_compute");
    hd_cycles *c;
    hd_cycles_find(da, r, &c);
    lap("hd_cycles_find (reach given)");
    printf("    %u cycles, %llu objects in cycles, largest %u\n", c->count,
           (unsigned long long)c->in_cycles, c->count ? c->cycles[0].nmembers : 0);
    hd_cycles_free(c);
    hd_leaks *l;
    hd_leaks_find(da, r, &l);
    lap("hd_leaks_find (reach given)");
    printf("    %u garbage, %u unreferenced\n", l->nunreachable, l->nunreferenced);
    hd_leaks_free(l);
    uint32_t far = 0;
    for (uint32_t o = 0; o < n; o++)
        if (r->depth[o] != HD_NONE && r->depth[o] > r->depth[far])
            far = o;
    hd_reach_free(r);
    mark = now();
    hd_referrers *rv;
    hd_referrers_build(da, &rv);
    lap("hd_referrers_build");
    hd_referrers_free(rv);
    hd_path *p;
    hd_path_find(da, far, &p);
    lap("hd_path_find (deepest object)");
    printf("    %u hops\n", p->nhops);
    hd_path_free(p);
    hd_diff *df;
    hd_diff_compute(da, db, HD_DIFF_BY_TYPE, &df);
    lap("hd_diff_compute by type");
    printf("    %u new, %u deleted\n", df->nadded, df->ndeleted);
    hd_diff_free(df);
    hd_diff_compute(da, db, HD_DIFF_BY_SITE, &df);
    lap("hd_diff_compute by site");
    hd_diff_free(df);
    hd_leak_report *lr;
    hd_leak_report_compute(da, db, db, &lr);
    lap("hd_leak_report_compute");
    printf("    %u leaked, %u path shapes\n", lr->nleaked, lr->ntraces);
    hd_leak_report_free(lr);
    hd_dump_free(da);
    hd_dump_free(db);
    return 0;
}
