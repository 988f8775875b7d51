/* fuzz_cli.c: libFuzzer harness for heaptool's command line. An input is an argument vector, one
 * argument per line, run in-process by heaptool_main() in a scratch directory holding the sample
 * dumps and a hostile one. Any vector must end with an exit status of 0..5: never a crash, a leak,
 * an exit() or a hang; and what a command writes on standard output must be valid UTF-8 with no
 * control character but newline, whatever the dump's text holds (binary graph formats and CSV,
 * which keeps the dump's bytes as they are, aside). A query runs under --timeout 2: a runaway
 * statement is something a user may write, and stops there.
 * Built and run by `make fuzz`; `make test` replays the inputs in tests/fuzz/regressions/cli/. */
#include "cli.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_SAMPLES
#define FUZZ_SAMPLES "samples/dumps"
#endif
#define MAX_ARGS 64

/* Under ASan (make fuzz, and make check's replay): graph and report render through Graphviz, so
 * this asks for the slow unwinder (why: tests/lsan.supp). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

/* Text from a dump that a terminal would act on, in every string the CLI prints somewhere. */
#define HOSTILE "\\u001b[2J\\u001b]0;owned\\u0007\\u009b31m\\u0085\\u0000x\\ud800\\u007f"
static const char hostile_dump[] =
    "{\"format\": \"heapdump\", \"version\": 1,\n"
    " \"meta\": {\"producer\": \"" HOSTILE "\", \"pid\": 1, \"name\": \"" HOSTILE "\"},\n"
    " \"types\": [{\"id\": 0, \"name\": \"T" HOSTILE "\", \"finalizer\": true},\n"
    "  {\"id\": 1, \"name\": \"\\u001b]8;;http://x\\u001b\\\\\"}],\n"
    " \"sites\": [{\"id\": 0, \"file\": \"" HOSTILE ".c\", \"line\": 1, \"function\": \"" HOSTILE "\"}],\n"
    " \"objects\": [\n"
    "  {\"id\": 18446744073709551615, \"type\": 0, \"size\": 18446744073709551615, \"site\": 0,"
    " \"label\": \"" HOSTILE "\", \"refs\": [[2, \"" HOSTILE "\"], [18446744073709551615, \"\\u009d\"]]},\n"
    "  {\"id\": 2, \"type\": 1, \"size\": 18446744073709551615, \"label\": \"\xff\xc0\xaf\xed\xa0\x80\","
    " \"refs\": [[18446744073709551615, \"\\u001b\"]]},\n"
    "  {\"id\": 3, \"type\": 1, \"size\": 1, \"refs\": [[3, \"\\r\"]]}],\n"
    " \"weakrefs\": [{\"id\": 3, \"referent\": 2}],\n"
    " \"roots\": [{\"id\": 2, \"kind\": \"\\u001b[5m\", \"name\": \"" HOSTILE "\"},"
    " {\"id\": 3, \"kind\": \"named\", \"name\": \"\\u0008\\u0008\"}]}\n";

typedef struct file {
    char *name;
    char *data;
    size_t len;
} file;
static file files[16];
static size_t nfiles;
static char scratch[64];
static int home = -1; /* the directory libFuzzer works in (corpus, artifacts), while not running */

static void add_file(const char *name, const char *data, size_t len)
{
    if (nfiles == sizeof files / sizeof files[0])
        abort();
    file *f = &files[nfiles++];
    f->name = strdup(name);
    f->data = malloc(len);
    if (!f->name || !f->data)
        abort();
    memcpy(f->data, data, len);
    f->len = len;
}

static void add_samples(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "fuzz_cli: cannot open %s\n", dir);
        abort();
    }
    for (struct dirent *e; (e = readdir(dp));) {
        if (!strstr(e->d_name, ".json"))
            continue;
        char path[4096], *data = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *in = fopen(path, "rb");
        size_t len = 0, cap = 0, n;
        char buf[4096];
        while (in && (n = fread(buf, 1, sizeof buf, in)) > 0) {
            if (len + n > cap && !(data = realloc(data, cap = 2 * (len + n))))
                abort();
            memcpy(data + len, buf, n);
            len += n;
        }
        if (in)
            fclose(in);
        add_file(e->d_name, data ? data : "", len);
        free(data);
    }
    closedir(dp);
}

/* Back to the starting state: only the dumps, as they were (a command may write files). */
static void reset_scratch(void)
{
    DIR *dp = opendir(".");
    if (!dp)
        abort();
    for (struct dirent *e; (e = readdir(dp));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strncmp(e->d_name, ".std", 4))
            unlink(e->d_name);
    closedir(dp);
    for (size_t i = 0; i < nfiles; i++) {
        FILE *out = fopen(files[i].name, "wb");
        if (!out || fwrite(files[i].data, 1, files[i].len, out) != files[i].len || fclose(out))
            abort();
    }
}

static void remove_scratch(void)
{
    if (home >= 0)
        close(home);
    if (chdir(scratch) == 0) {
        DIR *dp = opendir(".");
        for (struct dirent *e; dp && (e = readdir(dp));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlink(e->d_name);
        if (dp)
            closedir(dp);
    }
    if (chdir("/") == 0)
        rmdir(scratch);
    for (size_t i = 0; i < nfiles; i++) {
        free(files[i].name);
        free(files[i].data);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    add_samples(FUZZ_SAMPLES);
    add_file("hostile.json", hostile_dump, sizeof hostile_dump - 1);
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/fuzz_cli.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(scratch) || (home = open(".", O_RDONLY | O_DIRECTORY)) < 0 || chdir(scratch) != 0)
        abort();
    atexit(remove_scratch);
    /* Standard output goes to a file that is checked after each run; "-" reads the hostile dump. */
    FILE *in = fopen(".stdin", "wb");
    if (!in || fwrite(hostile_dump, 1, sizeof hostile_dump - 1, in) != sizeof hostile_dump - 1 ||
        fclose(in) || !freopen(".stdin", "rb", stdin) || !freopen(".stdout", "w+", stdout) ||
        fchdir(home) != 0)
        abort();
    return 0;
}

/* Length of one valid UTF-8 sequence at s[0..n) that is not a control character, or 0. */
static size_t printable_utf8(const unsigned char *s, size_t n)
{
    if (s[0] >= 0x20 && s[0] < 0x7f)
        return 1;
    size_t k = s[0] >= 0xC2 && s[0] < 0xE0   ? 2
             : s[0] >= 0xE0 && s[0] < 0xF0 ? 3
             : s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : 0;
    if (!k || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((k == 2 && s[0] == 0xC2 && s[1] < 0xA0) ||                /* C1 controls */
        (k == 3 && s[0] == 0xE0 && s[1] < 0xA0) ||                /* overlong */
        (k == 3 && s[0] == 0xED && s[1] >= 0xA0) ||               /* surrogates */
        (k == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))))
        return 0;
    return k;
}

static void check_output(bool binary)
{
    fflush(stdout);
    long len = ftell(stdout);
    if (binary || len <= 0)
        return;
    unsigned char *out = malloc((size_t)len);
    if (!out || pread(fileno(stdout), out, (size_t)len, 0) != len)
        abort();
    for (size_t i = 0, n; i < (size_t)len; i += n) {
        n = out[i] == '\n' ? 1 : printable_utf8(out + i, (size_t)len - i);
        if (!n) {
            fprintf(stderr, "fuzz_cli: standard output has byte 0x%02x at offset %zu: %.*s\n", out[i], i,
                    (int)(i < 60 ? i + 1 : 60), (const char *)out + (i < 60 ? 0 : i - 59));
            abort();
        }
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static char program[] = "heaptool";
    char *text = malloc(size + 1), *argv[MAX_ARGS + 4]; /* + the program, query's --timeout 2, NULL */
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = 0;
    bool binary = false, usable = true;
    static char timeout_option[] = "--timeout", timeout_value[] = "2";
    argv[argc++] = program;
    for (char *arg = text, *end; arg; arg = end ? end + 1 : NULL) {
        if ((end = strchr(arg, '\n')))
            *end = '\0';
        if (!end && !*arg && argc > 1)
            break; /* a final newline ends the last argument */
        /* Paths stay inside the scratch directory, graphs on standard output stay text, and no
         * program is run (heaptool record runs any command and returns its status). */
        if (!(usable = argc <= MAX_ARGS && !strchr(arg, '/') && strcmp(arg, "record")))
            break;
        binary |= strcasestr(arg, "png") || strcasestr(arg, "pdf") || strcasestr(arg, "csv");
        argv[argc++] = arg;
        if (argc == 2 && !strcmp(arg, "query")) {
            argv[argc++] = timeout_option;
            argv[argc++] = timeout_value;
        }
    }
    argv[argc] = NULL;
    if (!usable) {
        free(text);
        return -1; /* not worth keeping in the corpus */
    }
    if (chdir(scratch) != 0)
        abort();
    reset_scratch();
    rewind(stdin);
    if (ftruncate(fileno(stdout), 0) != 0)
        abort();
    rewind(stdout);
    int rc = heaptool_main(argc, argv);
    if (rc < EXIT_OK || rc > EXIT_NOMEM) {
        fprintf(stderr, "fuzz_cli: exit status %d\n", rc);
        abort();
    }
    check_output(binary);
    if (fchdir(home) != 0)
        abort();
    free(text);
    return 0;
}
