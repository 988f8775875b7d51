/* query.h: SQL over a loaded heap dump (SQLite virtual tables that read the graph in place),
 * and the exports that write the same tables for other engines.
 *
 * Ownership: the dump is borrowed and must outlive the hq_db. Nothing here prints; errors come
 * back as SQLite result codes with a message in the connection (sqlite3_errmsg) or in msg.
 */
#ifndef HEAPTOOL_QUERY_H
#define HEAPTOOL_QUERY_H

#include "heapdump.h"

#include <sqlite3.h>
#include <stdio.h>

typedef struct hq_db hq_db;

enum hq_open_mode {
    HQ_READ_ONLY, /* only statements that read: the authorizer refuses the rest */
    HQ_EXPORT,    /* may ATTACH a new database file and write tables into it */
};

/* Opens an in-memory connection whose tables (objects, refs, types, sites, roots, weakrefs) and
 * functions (referrers, referents, path_to_root, retained_set, dominated, human_size) read d.
 * dump_name is what the dump column of an export says. SQLITE_OK or an SQLite error code. */
int hq_open(const hd_dump *d, const char *dump_name, enum hq_open_mode mode, hq_db **out);
void hq_close(hq_db *q);
sqlite3 *hq_sqlite(hq_db *q);
/* After a statement was refused (SQLITE_AUTH): what it tried to do, e.g. "INSERT", else NULL;
 * forgotten once told. */
const char *hq_refused(hq_db *q);

/* The tables, in the order .tables and exports list them. */
typedef struct hq_table_info {
    const char *name;
    const char *columns; /* "id INTEGER, type TEXT, ...": the declared columns */
} hq_table_info;
size_t hq_table_count(void);
const hq_table_info *hq_table_at(size_t i);

/* Writes the rows a statement gives, from its next step on. Each returns SQLITE_DONE when every
 * row was written, SQLITE_IOERR when writing failed, or the statement's error code. Text values
 * are the dump's bytes: CSV quotes as RFC 4180 says; JSON escapes as formats/heapdump.md says
 * (bytes that are not UTF-8 as \xNN). */
int hq_write_csv(sqlite3_stmt *st, FILE *out, int header);
int hq_write_json_array(sqlite3_stmt *st, FILE *out);       /* one array of objects */

/* "1.5 KiB", "312 B" (as heaptool prints sizes), into buf of at least 16 bytes. */
const char *hq_human_size(sqlite3_int64 bytes, char *buf);

/* Exports every table with its computed columns and a first column dump naming the source.
 * sqlite: one database file at path; csv and jsonl: one TABLE.csv / TABLE.jsonl per table in
 * the directory path. Written atomically: path is complete or untouched. On failure msg holds
 * one line saying why and the result is an SQLite error code. */
enum hq_export_format { HQ_EXPORT_SQLITE, HQ_EXPORT_CSV, HQ_EXPORT_JSONL };
int hq_export(hq_db *q, enum hq_export_format format, const char *path, char *msg, size_t msglen);

#endif
