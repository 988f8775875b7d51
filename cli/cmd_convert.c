/* cmd_convert.c: `heaptool convert`: a dump from one form to another: JSON (or a V8 snapshot)
 * to a binary index, and an index (or any dump) back to heapdump JSON, plain or gzip, so JSON
 * stays the format dumps are exchanged in. The output's form is told by its name. */
#include "analysis.h"
#include "index.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

typedef struct convert_args {
    const char *output;
} convert_args;

static const option_spec convert_options[] = {
    {"output", 'o', OPT_STRING, offsetof(convert_args, output), "FILE",
     "the converted dump: FILE.hdx (binary index), FILE.json or\nFILE.json.gz (heapdump JSON); required", NULL, 0,
     NULL},
    OPT_END,
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcmp(s + n - k, suffix);
}

static int convert_run(int argc, char **argv)
{
    convert_args a = {0};
    operands ops;
    int rc = options_parse(&cmd_convert, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *in = ops.v[0], *out = a.output;
    if (!out)
        return usage_error(&cmd_convert, "convert: -o FILE is required");
    bool hdx = ends_with(out, ".hdx"), gz = ends_with(out, ".json.gz");
    if (!hdx && !gz && !ends_with(out, ".json"))
        return usage_error(&cmd_convert, "convert: cannot tell the form of '%s': name it .hdx, .json or .json.gz", out);
    if (strcmp(in, "-") && same_file(in, out))
        return usage_error(&cmd_convert, "convert: -o names the dump itself; heaptool never writes to its input");
    if (hdx) {
        if (!strcmp(in, "-") || hd_is_index(in))
            return usage_error(&cmd_convert, "convert: an index is made from a dump file, not %s",
                               strcmp(in, "-") ? "from an index" : "from standard input");
        return build_index("convert", in, out, true, NULL);
    }
    hd_dump *d;
    if ((rc = load_or_report(in, &d)))
        return rc;
    hd_error err;
    if ((rc = hd_dump_write_json_file(d, out, gz, &err))) {
        print_load_error(&err);
        rc = exit_for_status(rc);
    }
    hd_dump_free(d);
    return rc;
}

const command cmd_convert = {
    "convert", "a dump to a binary index, or back to heapdump JSON", "DUMP",
    "Converts DUMP (heapdump JSON, a V8 snapshot or a binary index) into the form OUT's name\n"
    "says: FILE.hdx writes the binary index (as 'heaptool index -o FILE'), FILE.json or\n"
    "FILE.json.gz heapdump v1 JSON, which answers every command as DUMP does (a V8\n"
    "snapshot becomes a heapdump, so its internal objects are no longer told apart).\n"
    "The output is written whole or not at all.\n",
    convert_options, NULL, convert_run,
};
