/* index_damage.c: what heaptool does when an index it opened turns out damaged only as a
 * command reads it (its big sections are verified on first use: formats/heapdump-binary.md §7).
 * The command stops there with the one-line error and exit 3, as when the damage is found at
 * open; what it had printed and not yet flushed is dropped. An automatic index is removed, so
 * that the next command rebuilds it from its dump. */
#include "index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_AUTOMATIC = 8 };
static char *automatic[MAX_AUTOMATIC];

void index_opened_automatic(const char *index)
{
    for (int i = 0; i < MAX_AUTOMATIC; i++)
        if (!automatic[i]) {
            size_t n = strlen(index) + 1;
            automatic[i] = memcpy(xmalloc(n), index, n);
            return;
        }
}

static void damaged(const hd_error *err)
{
    hd_error said = *err;
    for (int i = 0; i < MAX_AUTOMATIC; i++)
        if (automatic[i] && !strcmp(automatic[i], err->file) && unlink(automatic[i]) == 0) {
            size_t n = strlen(said.message);
            snprintf(said.message + n, sizeof said.message - n, " (removed: the next command rebuilds it)");
        }
    print_load_error(&said);
    _exit(EXIT_INVALID);
}

void index_damage_handle(void) { hd_set_index_damage_handler(damaged); }
