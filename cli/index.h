/* index.h: binary indexes from the command line (index.c): building one, and finding a fresh
 * one for a dump so that commands open it instead of parsing the dump (auto-indexing). */
#ifndef HEAPTOOL_INDEX_H
#define HEAPTOOL_INDEX_H

#include "cli.h"

enum index_mode { INDEX_NEVER, INDEX_AUTO, INDEX_ALWAYS };
/* --no-index (given anywhere) or HEAPTOOL_INDEX; set by heaptool_main before a command runs. */
extern enum index_mode cli_index_mode;
/* Reads HEAPTOOL_INDEX (unset or empty: auto); false after printing a usage error. */
bool index_mode_from_env(void);

/* In auto mode a dump bigger than this gets an index the first time a command opens it. */
#define AUTO_INDEX_FROM ((uint64_t)64 << 20)

/* Loads the dump at path, computes reachability, dominators and cycles and writes the index to out
 * (atomically). A dump that changes while being read is refused. *keep, when not NULL, takes
 * the loaded dump (else it is freed). Unless must_write, failing to write the index is no
 * failure (the dump is there to use). Prints what went wrong; returns an exit status. */
int build_index(const char *cmd, const char *path, const char *out, bool must_write, hd_dump **keep);

/* Where the automatic index of path lives: DUMP.hdx beside it, or in $XDG_CACHE_HOME/heaptool
 * (~/.cache/heaptool) when its directory is not writable or DUMP.hdx is a file of the user's
 * (foreign_file). Caller frees. */
char *auto_index_path(const char *path);
/* path exists and is not an index (by its first bytes): a file heaptool must not replace. */
bool foreign_file(const char *path);

/* An index found damaged while a command reads it ends the command (exit 3) with the one-line
 * error; an automatic index (as opened) is removed too (index_damage.c). */
void index_damage_handle(void);
void index_opened_automatic(const char *index);

#endif
