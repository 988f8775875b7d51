/* options.c: getopt_long driven by a command's option table, and the usage text made from it. */
#include "options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN_MAX 28 /* help text starts after the longest option, but no further */
#define LETTERLESS 256 /* getopt values of options without a letter: LETTERLESS + index */

void string_list_free(string_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static size_t count_options(const option_spec *o)
{
    size_t n = 0;
    while (o && o[n].name)
        n++;
    return n;
}

static size_t count_words(const char *s)
{
    size_t n = 0;
    for (bool in = false; *s; s++) {
        n += *s != ' ' && !in;
        in = *s != ' ';
    }
    return n;
}

/* Operands "PROGRAM [ARGS...]" are a command line: options stop at PROGRAM. */
static bool takes_a_command(const command *cmd) { return !strncmp(cmd->operands, "PROGRAM", 7); }

/* Columns of "  -n, --top N" or "      --json". */
static int head_width(const option_spec *o)
{
    return 8 + (int)strlen(o->name) + (o->arg ? 1 + (int)strlen(o->arg) : 0);
}

/* The option's head, and its help from column on, continuation lines aligned. */
static void print_option(FILE *out, const option_spec *o, int column)
{
    int w = o->letter ? fprintf(out, "  -%c, --%s", o->letter, o->name) : fprintf(out, "      --%s", o->name);
    if (o->arg)
        w += fprintf(out, " %s", o->arg);
    if (w + 2 > column) {
        fputc('\n', out);
        w = 0;
    }
    fprintf(out, "%*s", column - w, "");
    for (const char *p = o->help; *p; p++) {
        fputc(*p, out);
        if (*p == '\n')
            fprintf(out, "%*s", column, "");
    }
    if (o->dflt || (o->flags & OPTF_ZERO_ALL))
        fprintf(out, " (%s%s%s%s)", o->dflt ? "default " : "", o->dflt ? o->dflt : "",
                o->dflt && (o->flags & OPTF_ZERO_ALL) ? "; " : "", o->flags & OPTF_ZERO_ALL ? "0: all" : "");
    fputc('\n', out);
}

void command_usage(const command *cmd, FILE *out)
{
    static const option_spec help = {"help", 'h', OPT_FLAG, 0, NULL, "this help", NULL, 0, NULL};
    int column = head_width(&help) + 2;
    for (const option_spec *o = cmd->options; o && o->name; o++)
        if (o->kind != OPT_GROUP && head_width(o) + 2 > column)
            column = head_width(o) + 2 > HELP_COLUMN_MAX ? HELP_COLUMN_MAX : head_width(o) + 2;
    fprintf(out, "usage: heaptool %s [options] %s\n%s\n", cmd->name, cmd->operands, cmd->about);
    for (const option_spec *o = cmd->options; o && o->name; o++)
        if (o->kind == OPT_GROUP)
            fprintf(out, "%s\n", o->help);
        else
            print_option(out, o, column);
    print_option(out, &help, column);
    if (cmd->notes)
        fprintf(out, "\n%s", cmd->notes);
}

/* The spec getopt_long returned c for, or NULL. */
static const option_spec *spec_for(const command *cmd, int c)
{
    size_t n = count_options(cmd->options);
    if (c >= LETTERLESS && (size_t)(c - LETTERLESS) < n)
        return &cmd->options[c - LETTERLESS];
    for (size_t i = 0; i < n; i++)
        if (cmd->options[i].letter && cmd->options[i].letter == c)
            return &cmd->options[i];
    return NULL;
}

/* The option named by a long argument ("--top=5", "--top"), or NULL. */
static const option_spec *spec_named(const command *cmd, const char *arg)
{
    size_t len = strcspn(arg, "=");
    for (const option_spec *o = cmd->options; o && o->name; o++)
        if (strlen(o->name) == len && !strncmp(arg, o->name, len))
            return o;
    return NULL;
}

/* After getopt_long returned '?' or ':' (missing value): one line saying which and why. */
static int option_error(const command *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    bool is_long = !strncmp(arg, "--", 2);
    const option_spec *o = is_long ? spec_named(cmd, arg + 2) : spec_for(cmd, optopt);
    if (c == ':' && is_long)
        return usage_error(cmd, "%s: option '--%s' needs a value", cmd->name, o ? o->name : arg + 2);
    if (c == ':')
        return usage_error(cmd, "%s: option '-%c' needs a value", cmd->name, optopt);
    if (is_long && o && o->kind == OPT_FLAG && strchr(arg, '='))
        return usage_error(cmd, "%s: option '--%s' takes no value", cmd->name, o->name);
    if (!is_long && optopt)
        return usage_error(cmd, "%s: unknown option '-%c'", cmd->name, optopt);
    return usage_error(cmd, "%s: unknown option '%.*s'", cmd->name, (int)strcspn(arg, "="), arg);
}

static int take_value(const command *cmd, const option_spec *o, const char *text, char *values)
{
    void *target = values + o->target;
    if (text && text[0] == '=' && o->letter && o->arg) /* "-n=5": getopt hands over "=5" */
        return usage_error(cmd, "%s: '-%c=%s': write '-%c %s', '-%c%s' or '--%s=%s'", cmd->name, o->letter,
                           text + 1, o->letter, text + 1, o->letter, text + 1, o->name, text + 1);
    switch (o->kind) {
    case OPT_GROUP: break;
    case OPT_FLAG: *(bool *)target = true; break;
    case OPT_STRING: *(const char **)target = text; break;
    case OPT_COUNT: {
        char name[64];
        snprintf(name, sizeof name, "%s: --%s", cmd->name, o->name);
        if (!parse_count(cmd, name, text, target))
            return EXIT_USAGE;
        break;
    }
    case OPT_LIST: {
        string_list *l = target;
        l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
        l->v[l->n++] = text;
        break;
    }
    case OPT_CHOICE: {
        int i = 0;
        while (o->choices[i] && strcmp(o->choices[i], text))
            i++;
        if (o->choices[i]) {
            *(int *)target = i;
            break;
        }
        char list[256] = "";
        for (int k = 0; o->choices[k]; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'",
                     !k ? "" : o->choices[k + 1] ? ", " : " or ", o->choices[k]);
        return usage_error(cmd, "%s: --%s takes %s, not '%s'", cmd->name, o->name, list, text);
    }
    }
    return OPTIONS_GO_ON;
}

/* The getopt string and long options for cmd's table; the caller frees both. */
static bool getopt_tables(const command *cmd, char **shorts, struct option **longs)
{
    size_t n = count_options(cmd->options);
    *shorts = malloc(2 * n + 4);
    *longs = calloc(n + 2, sizeof **longs);
    if (!*shorts || !*longs)
        return false;
    char *s = *shorts;
    size_t k = 0;
    if (takes_a_command(cmd))
        *s++ = '+'; /* options end at PROGRAM: what follows is the program's */
    *s++ = ':'; /* a missing value returns ':', not '?' */
    for (size_t i = 0; i < n; i++) {
        const option_spec *o = &cmd->options[i];
        if (o->kind == OPT_GROUP)
            continue; /* getopt_long stops at the first nameless entry */
        int has_arg = o->kind == OPT_FLAG ? no_argument : required_argument;
        (*longs)[k++] = (struct option){o->name, has_arg, NULL, o->letter ? o->letter : LETTERLESS + (int)i};
        if (o->letter) {
            *s++ = o->letter;
            if (has_arg == required_argument)
                *s++ = ':';
        }
    }
    *s++ = 'h';
    *s = '\0';
    (*longs)[k] = (struct option){"help", no_argument, NULL, 'h'};
    return true;
}

/* Operand words in brackets ("[SQL]") are optional; they come last. */
static size_t count_optional(const char *s)
{
    size_t n = 0;
    for (const char *p = s; (p = strchr(p, '[')); p++)
        n++;
    return n;
}

/* As many operands as cmd->operands has words; fewer when the last are optional ("[SQL]"),
 * more when the last word ends in "..." ("DUMP [MORE...]"). */
static int check_operands(const command *cmd, const operands *ops)
{
    size_t words = count_words(cmd->operands), optional = count_optional(cmd->operands);
    size_t n = (size_t)ops->n;
    if (n + optional >= words && (n <= words || strstr(cmd->operands, "...")))
        return OPTIONS_GO_ON;
    if (takes_a_command(cmd))
        return usage_error(cmd, "%s: expected a PROGRAM to run", cmd->name);
    char names[64];
    if (optional)
        snprintf(names, sizeof names, "%s", cmd->operands);
    else if (words == 1)
        snprintf(names, sizeof names, "one %s", cmd->operands);
    else
        snprintf(names, sizeof names, "%.*s and %s", (int)strcspn(cmd->operands, " "), cmd->operands,
                 strchr(cmd->operands, ' ') + 1);
    return usage_error(cmd, "%s: expected %s, got %d argument%s", cmd->name, names, ops->n, ops->n == 1 ? "" : "s");
}

int options_parse(const command *cmd, int argc, char **argv, void *values, operands *ops)
{
    char *shorts;
    struct option *longs;
    *ops = (operands){0, NULL, 0};
    if (!getopt_tables(cmd, &shorts, &longs)) {
        free(shorts);
        free(longs);
        return report_status(cmd->name, HD_ENOMEM);
    }
    optind = 0; /* GNU getopt: a full reset, so each command line parses afresh */
    opterr = 0;
    int rc = OPTIONS_GO_ON;
    for (int c; rc == OPTIONS_GO_ON && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1;) {
        const option_spec *o = c == 'h' ? NULL : spec_for(cmd, c);
        if (c == 'h') {
            command_usage(cmd, stdout);
            rc = EXIT_OK;
        } else if (!o) {
            rc = option_error(cmd, c, argv);
        } else {
            ops->given |= (uint64_t)1 << (o - cmd->options);
            rc = take_value(cmd, o, optarg, values);
        }
    }
    free(shorts);
    free(longs);
    if (rc != OPTIONS_GO_ON)
        return rc;
    ops->n = argc - optind;
    ops->v = argv + optind;
    return check_operands(cmd, ops);
}

int options_parse_dump(const command *cmd, int argc, char **argv, void *values, operands *ops,
                       options_check *check, hd_dump **d)
{
    int rc = options_parse(cmd, argc, argv, values, ops);
    if (rc == OPTIONS_GO_ON && check)
        rc = check(cmd, values, ops);
    if (rc == OPTIONS_GO_ON && (rc = load_or_report(ops->v[0], d)) == EXIT_OK)
        rc = OPTIONS_GO_ON;
    return rc;
}

bool option_given(const command *cmd, const operands *ops, const char *name)
{
    for (const option_spec *o = cmd->options; o && o->name; o++)
        if (!strcmp(o->name, name))
            return ops->given >> (o - cmd->options) & 1;
    return false;
}
