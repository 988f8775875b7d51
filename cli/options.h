/* options.h: option parsing shared by the commands (getopt_long, errors as usage errors). */
#ifndef HEAPTOOL_OPTIONS_H
#define HEAPTOOL_OPTIONS_H

#include "cli.h"
#include <getopt.h>

void options_begin(void);
/* After getopt_long returned '?' or ':': prints the problem and usage, returns EXIT_USAGE. */
int options_error(const command *cmd, int argc, char **argv, const struct option *longopts);

#endif
