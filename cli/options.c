/* options.c: getopt_long wrapped so each command reports bad options in one line. */
#include "options.h"

#include <string.h>

void options_begin(void)
{
    optind = 0; /* GNU getopt: a full reset, so each command parses afresh */
    opterr = 0;
}

int options_error(const command *cmd, int argc, char **argv, const struct option *longopts)
{
    (void)longopts;
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    if (optopt && strncmp(arg, "--", 2) != 0) {
        bool needs_arg = false;
        for (const struct option *o = longopts; o->name; o++)
            if (o->val == optopt && o->has_arg == required_argument)
                needs_arg = true;
        if (needs_arg)
            return usage_error(cmd, "%s: option '-%c' needs a value", cmd->name, optopt);
        return usage_error(cmd, "%s: unknown option '-%c'", cmd->name, optopt);
    }
    for (const struct option *o = longopts; o->name; o++) {
        size_t n = strlen(o->name);
        if (!strncmp(arg + 2, o->name, n) && arg[2 + n] == '\0' && o->has_arg == required_argument)
            return usage_error(cmd, "%s: option '%s' needs a value", cmd->name, arg);
    }
    return usage_error(cmd, "%s: unknown option '%s'", cmd->name, arg);
}
