/* settings.c: the recorder's settings, from the environment (`heaptool record` sets them; the
 * library works on its own too):
 *   HEAPTOOL_OUTPUT    dump path template, %p pid, %n dump number, %% (heaptool.PROGRAM.%p.json.gz);
 *                      ".gz" compresses, ".hdx" writes a binary index (".hdx.gz" is refused)
 *   HEAPTOOL_DEPTH     frames per allocation stack, 0 for none (32, at most 256)
 *   HEAPTOOL_SIGNAL    dump when this signal arrives (a name like USR2, or a number)
 *   HEAPTOOL_INTERVAL  dump every N seconds, numbered files
 *   HEAPTOOL_WRAPPERS  more allocation wrappers, comma-separated ("my_alloc,pool_*")
 *   HEAPTOOL_MEMORY_LIMIT  MiB the recorder's records may take: 8 or 12 bytes a block and the table (past it, tracing stops)
 *   HEAPTOOL_VERBOSE   say on stderr how long each dump paused the program
 * Runs in the constructor, before anything may allocate through the recorder: no malloc here. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record/record.h"

rec_settings rec_config = {.depth = 32};

static unsigned parse_unsigned(const char *name, const char *text, unsigned fallback, unsigned max)
{
    if (!text || !*text)
        return fallback;
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (*end || errno || text[0] == '-' || v > max) {
        fprintf(stderr, "heaptool: %s=%s: expected a whole number from 0 to %u; using %u\n", name,
                text, max, fallback);
        return fallback;
    }
    return (unsigned)v;
}

static int parse_signal(const char *text)
{
    if (!text || !*text)
        return 0;
    const char *bare = strncmp(text, "SIG", 3) == 0 ? text + 3 : text;
    int signo = 0;
    for (int i = 1; i < NSIG && !signo; i++)
        if (sigabbrev_np(i) && !strcmp(bare, sigabbrev_np(i)))
            signo = i;
    if (!signo)
        signo = (int)parse_unsigned("HEAPTOOL_SIGNAL", text, 0, NSIG - 1);
    if (signo == SIGKILL || signo == SIGSTOP) {
        fprintf(stderr, "heaptool: HEAPTOOL_SIGNAL=%s cannot be caught; no signal dumps\n", text);
        return 0;
    }
    return signo;
}

void rec_settings_read(void)
{
    const char *out = getenv("HEAPTOOL_OUTPUT");
    if (out && *out && strlen(out) < sizeof rec_config.output)
        strcpy(rec_config.output, out);
    else
        snprintf(rec_config.output, sizeof rec_config.output, "heaptool.%s.%%p.json.gz",
                 program_invocation_short_name);
    rec_config.depth = parse_unsigned("HEAPTOOL_DEPTH", getenv("HEAPTOOL_DEPTH"), 32, REC_MAX_DEPTH);
    rec_config.signo = parse_signal(getenv("HEAPTOOL_SIGNAL"));
    rec_config.interval = parse_unsigned("HEAPTOOL_INTERVAL", getenv("HEAPTOOL_INTERVAL"), 0, 86400 * 365);
    rec_config.wrappers = getenv("HEAPTOOL_WRAPPERS");
    rec_config.memory_limit =
        (size_t)parse_unsigned("HEAPTOOL_MEMORY_LIMIT", getenv("HEAPTOOL_MEMORY_LIMIT"), 0, 1u << 30) << 20;
}

bool rec_expand_path(char *out, size_t cap, unsigned n, bool numbered)
{
    const char *t = rec_config.output;
    bool has_n = strstr(t, "%n") != NULL;
    const char *ext = NULL; /* where ".N" goes: before ".json" or a final ".hdx", else at the end */
    size_t tlen = strlen(t);
    if (numbered && !has_n)
        ext = strstr(t, ".json")                                   ? strstr(t, ".json")
            : tlen >= 4 && !strcmp(t + tlen - 4, ".hdx")         ? t + tlen - 4
                                                                   : t + tlen;
    size_t len = 0;
    for (const char *p = t;; p++) {
        int k = 0;
        if (p == ext)
            k = snprintf(out + len, cap - len, ".%u", n);
        if (k < 0 || (size_t)k >= cap - len)
            return false;
        len += (size_t)k;
        if (!*p)
            break;
        if (p[0] == '%' && (p[1] == 'p' || p[1] == 'n')) {
            k = snprintf(out + len, cap - len, "%ld", p[1] == 'p' ? (long)getpid() : (long)n);
            p++;
        } else {
            k = snprintf(out + len, cap - len, "%c", p[0] == '%' && p[1] == '%' ? *p++ : *p);
        }
        if (k < 0 || (size_t)k >= cap - len)
            return false;
        len += (size_t)k;
    }
    return true;
}

void rec_check_output(void)
{
    char path[4096], probe[4200];
    if (!rec_expand_path(path, sizeof path, 1, false)) {
        fprintf(stderr, "heaptool: HEAPTOOL_OUTPUT is too long\n");
        return;
    }
    size_t len = strlen(path);
    if (len >= 7 && !strcmp(path + len - 7, ".hdx.gz")) {
        fprintf(stderr, "heaptool: cannot write the dump %s: a binary index is not compressed (name it .hdx, or "
                        ".json.gz)\n", path);
        rec_config.quiet_failures = true;
        return;
    }
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) + 1 : 0;
    snprintf(probe, sizeof probe, "%.*s.heaptool-probe-%ld", dirlen, path, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "heaptool: cannot write the dump %s: %s\n", path, strerror(errno));
        rec_config.quiet_failures = true;
        return;
    }
    close(fd);
    unlink(probe);
}
