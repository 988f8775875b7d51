/* fuzz_reader.c: libFuzzer harness for the heapdump reader. Any input must load or fail with a
 * status and a position, never crash, hang or leak; whatever loads is run through every
 * analysis, so hostile graphs reach them too. Built and run by `make fuzz`; `make test` replays
 * the inputs in tests/fuzz/regressions/reader/. */
#include "analyse_all.h"

#include <stdlib.h>
#include <string.h>

static void count_problem(const hd_error *e, void *user)
{
    (void)e;
    ++*(int *)user;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(data, size, "fuzz.json", NULL, &d, &err);
    if (rc == HD_OK) {
        analyse(d);
        hd_dump_free(d);
    } else if (err.status != rc || !memchr(err.message, '\0', sizeof err.message) || strchr(err.message, '\n') ||
               (!(err.line && err.column) && strncmp(err.message, "index: ", 7)) || rc == HD_ENOMEM) {
        /* A failure comes with its own one-line description and position (a line and column,
         * or for a binary index a byte offset in the message); and no input this small may run
         * the reader out of memory. */
        abort();
    }
    /* Validation mode walks other paths (records dropped, problems placed afterwards). */
    int problems = 0;
    hd_load_options opts = {.on_problem = count_problem, .user = &problems};
    rc = hd_load_buffer(data, size, "fuzz.json", &opts, &d, &err);
    if ((rc == HD_OK) != (d != NULL) || (rc == HD_OK && problems))
        abort();
    hd_dump_free(d);
    return 0;
}
