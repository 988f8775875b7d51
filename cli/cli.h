/* cli.h: what heaptool's commands share: exit codes, the command table, loading with
 * diagnostics, and output helpers (escaped text, human sizes, JSON). */
#ifndef HEAPTOOL_CLI_H
#define HEAPTOOL_CLI_H

#include "heapdump.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum exit_code {
    EXIT_OK = 0,
    EXIT_FOUND = 1,   /* a "found" result, e.g. growth under diff --fail-on-growth */
    EXIT_USAGE = 2,
    EXIT_INVALID = 3, /* malformed or inconsistent dump */
    EXIT_IO = 4,      /* cannot open or read a file */
    EXIT_NOMEM = 5,   /* out of memory */
};

typedef struct option_spec option_spec; /* options.h */

/* A command: its name, its help (made from these and its option table) and its code. */
typedef struct command {
    const char *name;
    const char *summary;  /* one line for heaptool --help */
    const char *operands; /* "DUMP", "DUMP ID", "OLD NEW": as many as its words */
    const char *about;    /* what it does: the paragraph after the usage line */
    const option_spec *options;
    const char *notes;    /* after the option list (exit status and such), or NULL */
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
} command;
/* The command's help: usage line, about, options (with --help), notes. */
void command_usage(const command *cmd, FILE *out);

/* Runs one heaptool command line (argv[0] is the program's name, argv[argc] NULL; argv is
 * rearranged) and returns its exit status. main() is only this (and interrupt handling), so the
 * fuzzer can run command lines in-process, one after another. */
int heaptool_main(int argc, char **argv);
/* SIGINT and SIGTERM remove the temporary files of writes in progress before heaptool dies of
 * them (interrupt.c); main() sets this up, not heaptool_main, which runs inside fuzzers too. */
void remove_unfinished_files_on_interrupt(void);

extern const command cmd_stats, cmd_validate, cmd_top;
extern const command cmd_cycles, cmd_diff, cmd_path, cmd_leaks, cmd_show;
extern const command cmd_graph, cmd_flame, cmd_record;
extern const command cmd_query, cmd_export;
extern const command cmd_suspects, cmd_report;
extern const command cmd_index, cmd_convert;

/* --quiet, anywhere on the command line: no progress bar (and for validate, no report). */
extern bool cli_quiet;
/* --internals, anywhere on the command line: V8's own objects stay in text tables and graphs. */
extern bool cli_internals;
/* True for a type text output leaves out: one of V8's internal types ((system), (object shape),
 * (compiled code), (synthetic)) in a V8 snapshot, unless --internals. --json keeps them all. */
bool hidden_type(const hd_dump *d, uint32_t t);
bool hidden_type_name(const hd_dump *d, const char *name);

/* The progress callback for loading path: a bar on stderr when stderr is a terminal, the dump
 * is big and --quiet was not given; NULL otherwise. Its user pointer is ignored. */
hd_progress_fn progress_for(const char *path);

/* Exit status for a libheapdump status. */
int exit_for_status(int status);
/* How every command reports a failed libheapdump call: "heaptool: CMD: <the status's message>"
 * on stderr; returns exit_for_status(status). */
int report_status(const char *cmd, int status);
/* Prints "heaptool: FILE:LINE:COL: message" (or without the position when unknown). */
void print_load_error(const hd_error *err);
/* Loads path, printing the error on failure; returns an exit status, EXIT_OK with *out set.
 * A JSON or V8 dump is opened through its fresh binary index when it has one, and gets one
 * first when it is big (auto-indexing, index.c). */
int load_or_report(const char *path, hd_dump **out);
/* The same for n dumps loaded together (hd_load_many); the first failure in order is reported,
 * and the dumps that did load are in out[] for the caller to free. */
int load_all_or_report(const char *const *paths, size_t n, hd_dump **out);
/* Both without any index: the file as it is (output.c). */
int load_plain(const char *path, hd_dump **out);
int load_all_plain(const char *const *paths, size_t n, hd_dump **out);
/* Usage error: message and the command's usage on stderr; returns EXIT_USAGE. */
int usage_error(const command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a decimal count for option name; false (after a usage message) when it is not one. */
bool parse_count(const command *cmd, const char *name, const char *text, uint64_t *out);

/* Allocation that cannot fail (alloc.c): on exhaustion prints "heaptool: out of memory" and
 * exits with EXIT_NOMEM. A size of 0 is taken as 1. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Text from a dump, made safe for a terminal: newlines and tabs become \n and \t, other
 * control characters and invalid UTF-8 \xNN escapes. Returns the number of columns written. */
size_t print_escaped(FILE *out, const char *s);
size_t escaped_width(const char *s);
/* "1 object", "3 objects": into buf (at least 48 bytes). */
const char *plural(uint64_t n, const char *noun, char *buf);
/* "1.5 KiB", "312 B": into buf (at least 16 bytes). */
const char *human_size(uint64_t bytes, char *buf);
/* Numbers for tables: "1234", "+5" / "-3" / "0", "+1.5 KiB" / "-96 B" / "0 B" (after - before,
 * exact: a size change may be beyond the int64 range). buf >= 32. */
const char *fmt_u64(uint64_t v, char *buf);
const char *fmt_delta(int64_t v, char *buf);
const char *fmt_size_change(uint64_t before, uint64_t after, char *buf);
/* Writes s padded with spaces to width columns (left-aligned unless right is set). */
void print_cell(FILE *out, const char *s, size_t width, bool right);

/* A tiny streaming JSON writer: commas and escapes handled, integers exact. */
typedef struct json_writer {
    FILE *out;
    int depth;
    bool need_comma[64];
    bool after_key;
} json_writer;
void jw_init(json_writer *w, FILE *out);
void jw_object_begin(json_writer *w);
void jw_object_end(json_writer *w);
void jw_array_begin(json_writer *w);
void jw_array_end(json_writer *w);
void jw_key(json_writer *w, const char *key);
void jw_string(json_writer *w, const char *s);
void jw_uint(json_writer *w, uint64_t v);
void jw_int(json_writer *w, int64_t v);
void jw_difference(json_writer *w, uint64_t after, uint64_t before); /* exact, even beyond int64 */
void jw_double(json_writer *w, double v);
void jw_bool(json_writer *w, bool v);
void jw_null(json_writer *w);
void jw_finish(json_writer *w); /* newline at the end of the document */

#endif
