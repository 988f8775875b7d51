/* main.c: heaptool's entry point: the command table and dispatch, like git's. */
#include "cli.h"
#include "index.h"

#include <string.h>

/* One line per command, in the order heaptool --help lists them. */
static const command *const commands[] = {
    &cmd_stats,
    &cmd_top,
    &cmd_cycles,
    &cmd_leaks,
    &cmd_path,
    &cmd_show,
    &cmd_graph,
    &cmd_suspects,
    &cmd_report,
    &cmd_flame,
    &cmd_diff,
    &cmd_validate,
    &cmd_record,
    &cmd_query,
    &cmd_export,
    &cmd_index,
    &cmd_convert,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("usage: heaptool <command> [options] <args>\n"
          "       heaptool help <command> | --help [<command>] | --version\n\n"
          "Answers questions about heap dumps, told apart by content: heapdump v1, described in\n"
          "  " HT_DOCDIR "/formats/heapdump.md\n"
          "and Chrome/Node heap snapshots (.heapsnapshot), described in\n"
          "  " HT_DOCDIR "/formats/v8-heapsnapshot.md\n\n"
          "commands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\nOptions may come before or after the operands ('--' ends them: 'heaptool show DUMP\n"
          "-- -x'); values go as '--top 5', '--top=5', '-n 5' or '-n5'. An -n/--top of 0 means\n"
          "all. An object ID is a number, TYPE#NUMBER (checked against the object's type) or\n"
          "@NUMBER. A DUMP argument of '-' reads standard input; gzip-compressed dumps are read\n"
          "as they are. Loading a big dump on a terminal shows a progress bar on stderr;\n"
          "--quiet, given anywhere, turns it off. V8's own objects ((system), (object shape),\n"
          "(compiled code), (synthetic)) are left out of text tables and graphs, as DevTools\n"
          "does; --internals, given anywhere, shows them. A dump over 64 MiB is indexed the\n"
          "first time (DUMP.hdx, see 'heaptool help index'); --no-index, given anywhere, or\n"
          "HEAPTOOL_INDEX=never|auto|always says otherwise.\n\n"
          "exit status:\n"
          "  0  success\n"
          "  1  a \"found\" result (e.g. diff --fail-on-growth saw growth)\n"
          "  2  usage error\n"
          "  3  invalid input: the dump is malformed or inconsistent\n"
          "  4  a file cannot be opened or read\n"
          "  5  out of memory\n", out);
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    return NULL;
}

bool cli_quiet, cli_internals;

/* --quiet, --internals and --no-index may stand anywhere before a "--": they are taken out here, so no
 * command sees them. */
static int take_global_flags(int argc, char **argv)
{
    int kept = 1;
    bool options_end = false;
    for (int i = 1; i < argc; i++) {
        options_end |= !strcmp(argv[i], "--");
        if (!options_end && !strcmp(argv[i], "--quiet"))
            cli_quiet = true;
        else if (!options_end && !strcmp(argv[i], "--internals"))
            cli_internals = true;
        else if (!options_end && !strcmp(argv[i], "--no-index"))
            cli_index_mode = INDEX_NEVER;
        else
            argv[kept++] = argv[i];
    }
    argv[kept] = NULL;
    return kept;
}

int heaptool_main(int argc, char **argv)
{
    cli_quiet = cli_internals = false;
    if (!index_mode_from_env())
        return EXIT_USAGE;
    index_damage_handle();
    argc = take_global_flags(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h"))
        name = "help"; /* heaptool --help stats: the same as heaptool help stats */
    if (!strcmp(name, "--version")) {
        printf("heaptool %s (heapdump format version %d)\n", HT_VERSION, HD_FORMAT_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(name, "help")) {
        if (argc < 3) {
            usage(stdout);
            return EXIT_OK;
        }
        const command *cmd = find(argv[2]);
        if (!cmd)
            return usage_error(NULL, "'%s' is not a heaptool command; see 'heaptool --help'", argv[2]);
        command_usage(cmd, stdout);
        return EXIT_OK;
    }
    const command *cmd = find(name);
    if (!cmd) {
        if (name[0] == '-')
            return usage_error(NULL, "unknown option '%s'; see 'heaptool --help'", name);
        return usage_error(NULL, "'%s' is not a heaptool command; see 'heaptool --help'", name);
    }
    int rc = cmd->run(argc - 1, argv + 1);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("heaptool: writing output");
        return EXIT_IO;
    }
    return rc;
}
