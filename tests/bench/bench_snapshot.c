/* bench_snapshot.c: the snapshot writer's speed and memory. Builds a heap of N Node instances
 * (two slots each, pointing at random other Nodes: 2N references, the 1M/2M shape),
 * then times hm_snapshot_write to a file, plain, gzip and as a binary index (.hdx), and reports objects per second, bytes
 * per object, and how much the process's peak RSS grew while writing (the writer streams, so it
 * should not grow with N).
 * Usage: bench_snapshot N DIR   -> "name value" lines */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hm.h"
#include "hm_snapshot.h"
#include "timing.h"

/* Peak resident set in KiB, from /proc (VmHWM). */
static long peak_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static const char *const node_slots[] = {"left", "right", NULL};

static void timed_write(hm_heap *h, const char *path, long n, const char *name)
{
    long before = peak_kib();
    double t0 = now();
    int r = hm_snapshot_write(h, path, NULL);
    double t = now() - t0;
    if (r != HM_OK) {
        fprintf(stderr, "bench_snapshot: %s: %s\n", path, hm_status_message(r));
        exit(1);
    }
    struct stat st;
    stat(path, &st);
    printf("%s_seconds %.3f\n", name, t);
    printf("%s_objects_per_second %.0f\n", name, (double)n / t);
    printf("%s_bytes_per_object %.1f\n", name, (double)st.st_size / (double)n);
    printf("%s_peak_rss_growth_kib %ld\n", name, peak_kib() - before);
    unlink(path);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : ".";
    hm_type *Node = hm_class_new(&(hm_class_spec){.name = "Node", .slots = node_slots});
    hm_heap *h = hm_heap_new();
    hm_gc_disable(h);
    hm_object **nodes = malloc((size_t)n * sizeof *nodes);
    for (long i = 0; i < n; i++)
        nodes[i] = hm_instance_new(h, Node);
    uint64_t x = 88172645463325252u;
    for (long i = 0; i < n; i++)
        for (size_t s = 0; s < 2; s++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            hm_instance_set_slot(nodes[i], s, nodes[x % (uint64_t)n]);
        }
    printf("heap_objects %ld\nheap_peak_rss_kib %ld\n", n, peak_kib());
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-snapshot.json", dir);
    timed_write(h, path, n, "write");
    snprintf(path, sizeof path, "%s/bench-snapshot.json.gz", dir);
    timed_write(h, path, n, "write_gzip");
    snprintf(path, sizeof path, "%s/bench-snapshot.hdx", dir);
    timed_write(h, path, n, "write_index");
    for (long i = 0; i < n; i++)
        hm_decref(nodes[i]);
    free(nodes);
    hm_heap_destroy(h, NULL);
    hm_class_free(Node);
    return 0;
}
