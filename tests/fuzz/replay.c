/* replay.c: a main() for a libFuzzer harness without libFuzzer, so `make test` replays the kept
 * inputs with any compiler (and under the sanitizers of the build): each argument is a file,
 * run once. A harness's target may not exit; that is caught here as libFuzzer would. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static const char *running; /* the input being run, while it runs */

static void exited(void)
{
    if (running) {
        fprintf(stderr, "replay: %s: the target called exit()\n", running);
        _exit(1);
    }
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n;
    *len = 0;
    if (!f)
        return NULL;
    do {
        if (*len == cap) {
            unsigned char *b = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
    } while (n > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

int main(int argc, char **argv)
{
    /* All read first: a harness's initialization may change the working directory. */
    unsigned char **data = calloc((size_t)argc, sizeof *data);
    size_t *len = calloc((size_t)argc, sizeof *len);
    if (!data || !len)
        return 1;
    for (int i = 1; i < argc; i++)
        if (!(data[i] = slurp(argv[i], &len[i]))) {
            perror(argv[i]);
            return 1;
        }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    atexit(exited);
    for (int i = 1; i < argc; i++) {
        running = argv[i];
        LLVMFuzzerTestOneInput(data[i], len[i]);
        running = NULL;
        free(data[i]);
    }
    free(data);
    free(len);
    fprintf(stderr, "replay: %d inputs ran cleanly\n", argc - 1);
    return 0;
}
