/* cmd_index.c: `heaptool index`: a dump's binary index (formats/heapdump-binary.md), which every
 * command then opens in place of the dump. */
#include "analysis.h"
#include "index.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

typedef struct index_args {
    const char *output;
    uint64_t memory; /* MiB; 0: in memory */
} index_args;

static const option_spec index_options[] = {
    {"output", 'o', OPT_STRING, offsetof(index_args, output), "FILE", "where to write the index", "DUMP.hdx", 0,
     NULL},
    {"memory", 0, OPT_COUNT, offsetof(index_args, memory), "MIB",
     "build out of core, keeping the resident set near MIB mebibytes (scratch files beside FILE)", NULL, 0, NULL},
    OPT_END,
};

/* Scratch files go beside the index, on the disk that has to hold it anyway. */
static bool out_of_core(uint64_t mib, const char *out)
{
    const char *slash = strrchr(out, '/');
    char *dir = slash ? xasprintf("%.*s", (int)(slash - out + 1), out) : xasprintf(".");
    int rc = hd_memory_budget(mib > UINT64_MAX >> 20 ? UINT64_MAX : mib << 20, dir);
    if (rc)
        fprintf(stderr, "heaptool: index: cannot make scratch files in '%s'\n", dir);
    free(dir);
    return rc != HD_OK;
}

static int index_run(int argc, char **argv)
{
    index_args a = {0};
    operands ops;
    int rc = options_parse(&cmd_index, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *path = ops.v[0];
    if (!strcmp(path, "-"))
        return usage_error(&cmd_index, "index: needs a dump file, not standard input");
    char *out = a.output ? xasprintf("%s", a.output) : xasprintf("%s.hdx", path);
    if (same_file(path, out))
        rc = usage_error(&cmd_index, "index: -o names the dump itself; heaptool never writes to its input");
    else if (!a.output && foreign_file(out))
        rc = usage_error(&cmd_index, "index: '%s' is there and is not an index; name the output with -o", out);
    else if (a.memory && out_of_core(a.memory, out))
        rc = EXIT_IO;
    else {
        cli_index_cycles = !a.memory;
        rc = build_index("index", path, out, true, NULL);
    }
    hd_memory_budget(0, NULL);
    free(out);
    return rc;
}

const command cmd_index = {
    "index", "write a dump's binary index, which commands then open at once", "DUMP",
    "Reads DUMP once and writes its binary index (formats/heapdump-binary.md): the loaded\n"
    "graph's arrays with its reachability and dominator tree, which commands map and use as\n"
    "they are instead of parsing DUMP again. Commands on DUMP use DUMP.hdx by themselves\n"
    "while DUMP is unchanged; FILE.hdx may also be given to any command in place of a dump.\n"
    "The file is written whole or not at all (a temporary file renamed over FILE).\n"
    "DUMP may be an index without analyses (as a producer or tests/bench/gen_binary writes\n"
    "one): they are added. With --memory the build works out of core, for heaps whose graph\n"
    "does not fit in memory: the same file, made through mapped scratch files.\n",
    index_options,
    "Commands index a dump over 64 MiB by themselves the first time they open it (beside it,\n"
    "or in $XDG_CACHE_HOME/heaptool when its directory is not writable). --no-index, given\n"
    "anywhere, or HEAPTOOL_INDEX=never turns that off; HEAPTOOL_INDEX=always indexes every\n"
    "dump. An index whose dump changed, or that is damaged, is rebuilt; named explicitly,\n"
    "it is refused (exit 3).\n",
    index_run,
};
