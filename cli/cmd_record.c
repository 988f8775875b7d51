/* cmd_record.c: `heaptool record`: runs any program with the native recorder preloaded
 * (libheaptool-record.so, src/record/) and the settings passed as HEAPTOOL_* environment
 * variables; exits with the program's status. */
#include "options.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HT_LIBDIR
#define HT_LIBDIR "/usr/local/lib"
#endif
#define RECORDER "libheaptool-record.so"

typedef struct record_args {
    const char *output, *signal, *wrappers;
    uint64_t depth, interval;
    int huge_pages; /* index in huge_words */
} record_args;

static const char *const huge_words[] = {"yes", "no", NULL};

static const option_spec record_options[] = {
    {"output", 'o', OPT_STRING, offsetof(record_args, output), "FILE",
     "dump path: %p is the pid, %n the dump number, .gz compresses,\n.hdx writes a binary index", "heaptool.PROGRAM.%p.json.gz", 0, NULL},
    {"depth", 'd', OPT_COUNT, offsetof(record_args, depth), "N",
     "frames per allocation stack, 0 for none (at most 256)", "32", 0, NULL},
    {"signal", 's', OPT_STRING, offsetof(record_args, signal), "SIG",
     "also dump when SIG (USR2, or a number) arrives; numbered files", NULL, 0, NULL},
    {"interval", 'i', OPT_COUNT, offsetof(record_args, interval), "N",
     "also dump every N seconds; numbered files", NULL, 0, NULL},
    {"wrappers", 'w', OPT_STRING, offsetof(record_args, wrappers), "LIST",
     "more allocation wrappers, comma-separated, * ends a prefix", NULL, 0, NULL},
    {"huge-pages", 0, OPT_CHOICE, offsetof(record_args, huge_pages), "WHEN",
     "'yes' (default): glibc's malloc puts the heap in 2 MiB\nhuge pages (glibc.malloc.hugetlb=1), so that a dump\n"
     "pauses the program less; 'no': its own layout", NULL, 0, huge_words},
    OPT_END,
};

/* The recorder beside this binary (the build tree), in ../lib (an install), or in HT_LIBDIR. */
static bool find_recorder(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    const char *dirs[3] = {NULL, NULL, HT_LIBDIR};
    char lib[PATH_MAX + 8];
    if (n > 0) {
        self[n] = '\0';
        dirs[0] = dirname(self);
        snprintf(lib, sizeof lib, "%s/../lib", dirs[0]);
        dirs[1] = lib;
    }
    for (size_t i = 0; i < 3; i++) {
        if (dirs[i] && (size_t)snprintf(out, cap, "%s/%s", dirs[i], RECORDER) < cap &&
            access(out, R_OK) == 0)
            return true;
    }
    return false;
}

static bool valid_signal(const char *s)
{
    const char *bare = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (int i = 1; i < NSIG; i++)
        if (sigabbrev_np(i) && !strcmp(bare, sigabbrev_np(i)))
            return i != SIGKILL && i != SIGSTOP;
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v > 0 && v < NSIG && v != SIGKILL && v != SIGSTOP;
}

/* Says where the dump went when the template names it by pid alone. */
static void tell_output(const char *output, pid_t pid)
{
    char path[PATH_MAX];
    size_t len = 0;
    for (const char *p = output; *p && len + 24 < sizeof path; p++) {
        if (p[0] == '%' && p[1] == 'p')
            len += (size_t)snprintf(path + len, sizeof path - len, "%ld", (long)pid), p++;
        else if (p[0] == '%' && p[1] == '%')
            path[len++] = '%', p++;
        else
            path[len++] = *p;
    }
    path[len] = '\0';
    if (!cli_quiet && access(path, F_OK) == 0) {
        fputs("heaptool: record: dump written to ", stderr);
        print_escaped(stderr, path);
        fputc('\n', stderr);
    }
}

static int run_program(char **argv, const char *output)
{
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "heaptool: record: cannot start %s: %s\n", argv[0], strerror(errno));
        return EXIT_IO;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "heaptool: record: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    /* Like a shell: ^C and ^\ are for the program, whose status is ours. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return EXIT_IO;
    tell_output(output, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* glibc.malloc.hugetlb=1 added to the program's GLIBC_TUNABLES, unless it sets that tunable
 * itself: a dump's pause is mostly the fork copying one page-table entry per 4 KiB page of the
 * heap, and in huge pages there is one per 2 MiB. Only the heap's layout changes (and its RSS,
 * counted in whole huge pages), never what the program computes. */
static int prefer_huge_pages(void)
{
    const char *tunables = getenv("GLIBC_TUNABLES"), *mine = "glibc.malloc.hugetlb=1";
    if (tunables && strstr(tunables, "glibc.malloc.hugetlb="))
        return 0;
    char *both = malloc(strlen(mine) + (tunables ? strlen(tunables) : 0) + 2);
    if (!both)
        return EXIT_NOMEM;
    strcpy(both, mine);
    if (tunables && *tunables)
        strcat(strcat(both, ":"), tunables);
    setenv("GLIBC_TUNABLES", both, 1);
    free(both);
    return 0;
}

static int record_run(int argc, char **argv)
{
    record_args a = {.depth = 32};
    operands ops;
    int rc = options_parse(&cmd_record, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *output = a.output, *sig = a.signal, *wrappers = a.wrappers;
    uint64_t depth = a.depth, interval = a.interval;
    if (depth > 256)
        return usage_error(&cmd_record, "record: --depth %llu: at most 256", (unsigned long long)depth);
    if (sig && !valid_signal(sig))
        return usage_error(&cmd_record, "record: --signal %s: not a signal that can be caught", sig);
    if (option_given(&cmd_record, &ops, "interval") && (interval == 0 || interval > 86400 * 365))
        return usage_error(&cmd_record, "record: --interval %llu: from 1 to 31536000 seconds",
                           (unsigned long long)interval);
    size_t olen = output ? strlen(output) : 0;
    if (olen >= 7 && !strcmp(output + olen - 7, ".hdx.gz"))
        return usage_error(&cmd_record, "record: -o %s: a binary index is not compressed; name it .hdx (or .json.gz)",
                           output);
    char lib[PATH_MAX + 64], dflt[PATH_MAX], num[24];
    if (!find_recorder(lib, sizeof lib)) {
        fprintf(stderr, "heaptool: record: cannot find %s beside heaptool or in %s\n", RECORDER, HT_LIBDIR);
        return EXIT_IO;
    }
    if (!output) {
        char *prog = strdup(ops.v[0]);
        snprintf(dflt, sizeof dflt, "heaptool.%s.%%p.json.gz", prog ? basename(prog) : "program");
        free(prog);
        output = dflt;
    }
    const char *preload = getenv("LD_PRELOAD");
    char *both = malloc(strlen(lib) + (preload ? strlen(preload) : 0) + 2);
    if (!both)
        return EXIT_NOMEM;
    strcpy(both, lib);
    if (preload && *preload)
        strcat(strcat(both, ":"), preload);
    setenv("LD_PRELOAD", both, 1);
    free(both);
    setenv("HEAPTOOL_OUTPUT", output, 1);
    snprintf(num, sizeof num, "%llu", (unsigned long long)depth);
    setenv("HEAPTOOL_DEPTH", num, 1);
    if (sig)
        setenv("HEAPTOOL_SIGNAL", sig, 1);
    if (interval) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)interval);
        setenv("HEAPTOOL_INTERVAL", num, 1);
    }
    if (wrappers)
        setenv("HEAPTOOL_WRAPPERS", wrappers, 1);
    if (a.huge_pages == 0 && (rc = prefer_huge_pages()) != 0)
        return rc;
    return run_program(ops.v, output);
}

const command cmd_record = {
    "record", "run a C/C++ program and dump its malloc heap", "PROGRAM [ARGS...]",
    "Runs PROGRAM with the native recorder preloaded and writes a heap dump of every live\n"
    "malloc block, with its allocation stack and the pointers between blocks, when the\n"
    "program exits. Exits with the program's status. Put -- before PROGRAM when it starts\n"
    "with '-'.\n",
    record_options,
    "The same settings work without heaptool: LD_PRELOAD=.../" RECORDER " with\n"
    "HEAPTOOL_OUTPUT, HEAPTOOL_DEPTH, HEAPTOOL_SIGNAL, HEAPTOOL_INTERVAL, HEAPTOOL_WRAPPERS\n"
    "(--huge-pages yes is GLIBC_TUNABLES=glibc.malloc.hugetlb=1).\n"
    "A program calls heaptool_record_dump(path) (heaptool_record.h) for a dump of its own.\n",
    record_run,
};
