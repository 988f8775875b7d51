/* gen_dump.c: writes a synthetic heapdump of N objects and about R references for benchmarks,
 * shaped like a real heap: a few hot types, labels, named fields, list indices, some cycles.
 * usage: gen_dump OBJECTS REFS OUT.json [SEED] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../random_numbers.h"

static uint64_t state;
static uint64_t rnd(void) { return xorshift64(&state); }

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: gen_dump OBJECTS REFS OUT.json [SEED]\n");
        return 2;
    }
    uint64_t n = strtoull(argv[1], NULL, 10), refs = strtoull(argv[2], NULL, 10);
    state = argc > 4 ? strtoull(argv[4], NULL, 10) | 1 : 88172645463325252ull;
    FILE *f = fopen(argv[3], "w");
    if (!f || n == 0) {
        perror(argv[3]);
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    static const char *const types[] = {"dict", "list", "str", "int", "tuple", "Node", "Entry",
                                        "bytes", "function", "weakref", "set", "float", "Request",
                                        "Session", "cell", "frame"};
    static const char *const fields[] = {"next", "value", "parent", "data", "__dict__", "key"};
    const unsigned ntypes = sizeof types / sizeof types[0];
    fprintf(f, "{\"format\": \"heapdump\", \"version\": 1,\n"
               " \"meta\": {\"producer\": \"gen_dump\", \"pid\": 1, \"pointer_size\": 8},\n"
               " \"types\": [\n");
    for (unsigned t = 0; t < ntypes; t++)
        fprintf(f, "  {\"id\": %u, \"name\": \"%s\", \"size\": %u, \"gc\": %s}%s\n", t, types[t],
                16 + 8 * t, t == 2 || t == 3 || t == 7 || t == 11 ? "false" : "true",
                t + 1 < ntypes ? "," : "");
    fprintf(f, " ],\n \"sites\": [{\"id\": 0, \"file\": \"app.c\", \"line\": 10, \"function\": \"main\"}],\n"
               " \"objects\": [\n");
    uint64_t per = refs / n, extra = refs % n;
    for (uint64_t i = 0; i < n; i++) {
        /* Skewed type mix: the first few types dominate as in real heaps. */
        unsigned t = (unsigned)(rnd() % ntypes);
        if (rnd() % 2)
            t %= 4;
        fprintf(f, "  {\"id\": %" PRIu64 ", \"type\": %u, \"size\": %u, \"rc\": %u, \"site\": 0, "
                   "\"label\": \"%s(%" PRIu64 ")\", \"refs\": [",
                i + 1, t, (unsigned)(16 + rnd() % 240), (unsigned)(1 + rnd() % 4), types[t], i);
        uint64_t k = per + (i < extra ? 1 : 0);
        for (uint64_t j = 0; j < k; j++) {
            uint64_t target = j == 0 && i + 1 < n ? i + 2 : 1 + rnd() % n;
            if (t == 1 || t == 4)
                fprintf(f, "%s[%" PRIu64 ", \"[%" PRIu64 "]\"]", j ? ", " : "", target, j);
            else
                fprintf(f, "%s[%" PRIu64 ", \"%s\"]", j ? ", " : "", target, fields[j % 6]);
        }
        fprintf(f, "]}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, " ],\n \"roots\": [{\"id\": 1, \"kind\": \"named\", \"name\": \"main\"}],\n"
               " \"weakrefs\": []\n}\n");
    if (fclose(f) != 0) {
        perror(argv[3]);
        return 1;
    }
    return 0;
}
