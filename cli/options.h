/* options.h: a command's options as data. Each command lists its options once, in a table of
 * option_spec (long name, letter, kind of value, where the value goes, help line); the getopt
 * string, the long options, the usage text and every option error come from that table.
 *
 * Values go into a struct of the command's own: target is the offsetof() of the member, whose C
 * type the kind fixes. Options may stand anywhere among the operands (GNU getopt permutes them);
 * "--" ends the options; --help is every command's, without being listed. */
#ifndef HEAPTOOL_OPTIONS_H
#define HEAPTOOL_OPTIONS_H

#include "cli.h"

#include <stddef.h>

enum option_kind {
    OPT_FLAG,   /* bool, set when given */
    OPT_COUNT,  /* uint64_t: a non-negative decimal integer */
    OPT_STRING, /* const char *: the last one given */
    OPT_LIST,   /* string_list: every one given, in order (repeatable) */
    OPT_CHOICE, /* int: the index in choices of the word given */
    OPT_GROUP,  /* not an option: a heading in the help (the help text), for long lists */
};

typedef struct string_list {
    size_t n;
    const char **v;
} string_list;
void string_list_free(string_list *l);

enum option_flag {
    OPTF_ZERO_ALL = 1u << 0, /* OPT_COUNT: 0 means "no limit"; the help says so */
};

struct option_spec {
    const char *name;  /* the long name without "--"; NULL ends a table */
    char letter;       /* the short form, or 0 */
    enum option_kind kind;
    size_t target;     /* offsetof the value in the command's values struct */
    const char *arg;   /* the value's name in the help ("N", "KEY"); NULL for flags */
    const char *help;  /* "\n" starts a continuation line, indented under the first */
    const char *dflt;  /* the default as the help shows it, or NULL */
    unsigned flags;    /* enum option_flag */
    const char *const *choices; /* OPT_CHOICE: the words accepted, NULL-terminated */
};

/* The options every command that counts rows shares: declared here once. */
#define OPT_TOP(type, member, what, dflt) \
    {"top", 'n', OPT_COUNT, offsetof(type, member), "N", what, dflt, OPTF_ZERO_ALL, NULL}
#define OPT_JSON(type, member) \
    {"json", 0, OPT_FLAG, offsetof(type, member), NULL, "machine-readable output", NULL, 0, NULL}
#define OPT_GROUP(heading) {"", 0, OPT_GROUP, 0, NULL, heading, NULL, 0, NULL}
#define OPT_END {NULL, 0, OPT_FLAG, 0, NULL, NULL, NULL, 0, NULL}

/* What is left after the options: the operands, in order. */
typedef struct operands {
    int n;
    char **v;
    uint64_t given; /* bit i: the table's option i was given */
} operands;

#define OPTIONS_GO_ON (-1)
/* Parses argv (argv[0] is the command's name) into values and ops. Returns OPTIONS_GO_ON, or an
 * exit status after printing: EXIT_OK after --help, EXIT_USAGE after a usage error (an unknown
 * option, a missing or malformed value, not as many operands as cmd->operands names). */
int options_parse(const command *cmd, int argc, char **argv, void *values, operands *ops);
/* What a command checks that its table cannot say (options that go together, operands to parse
 * into values): OPTIONS_GO_ON, or an exit status after printing. */
typedef int options_check(const command *cmd, void *values, const operands *ops);
/* options_parse, then check (when not NULL), then the first operand loaded (load_or_report), so
 * that a usage error costs no load: OPTIONS_GO_ON with *d set, or an exit status after printing. */
int options_parse_dump(const command *cmd, int argc, char **argv, void *values, operands *ops,
                       options_check *check, hd_dump **d);
/* True when the option called name was on the command line. */
bool option_given(const command *cmd, const operands *ops, const char *name);

#endif
