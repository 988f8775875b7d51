/* connection.c: one SQLite connection over a dump: the tables and functions registered, and in
 * a query the read-only guard (read_only.c). */
#include "query_internal.h"

#include <stdlib.h>

static const hq_table *const tables[] = {&hq_objects_table,  &hq_refs_table,   &hq_types_table,
                                         &hq_sites_table,    &hq_roots_table,  &hq_weakrefs_table,
                                         &hq_frames_table,   &hq_stack_frames_table};
static const hq_table *const functions[] = {&hq_referrers_function, &hq_referents_function,
                                            &hq_path_function, &hq_retained_set_function,
                                            &hq_dominated_function};
#define NTABLES (sizeof tables / sizeof tables[0])
#define NFUNCTIONS (sizeof functions / sizeof functions[0])

size_t hq_table_count(void) { return NTABLES; }

const hq_table *hq_table_def(size_t i) { return i < NTABLES ? tables[i] : NULL; }

const hq_table_info *hq_table_at(size_t i)
{
    static hq_table_info info[NTABLES];
    if (i >= NTABLES)
        return NULL;
    info[i].name = tables[i]->name;
    info[i].columns = tables[i]->columns;
    return &info[i];
}

int hq_open(const hd_dump *d, const char *dump_name, enum hq_open_mode mode, hq_db **out)
{
    *out = NULL;
    hq_db *q = calloc(1, sizeof *q);
    hq_context *c = calloc(1, sizeof *c);
    if (!q || !c) {
        free(q);
        free(c);
        return SQLITE_NOMEM;
    }
    c->d = d;
    c->dump_name = dump_name;
    q->ctx = c;
    /* One thread uses the connection: no mutex around every call (a tenth of an export's time). */
    int flags = SQLITE_OPEN_NOMUTEX |
                (mode == HQ_READ_ONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(":memory:", &q->db, flags, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < NTABLES; i++)
        rc = hq_table_register(q->db, tables[i], c);
    for (size_t i = 0; rc == SQLITE_OK && i < NFUNCTIONS; i++)
        rc = hq_table_register(q->db, functions[i], c);
    if (rc == SQLITE_OK)
        rc = hq_register_scalars(q->db);
    if (rc == SQLITE_OK && mode == HQ_READ_ONLY)
        rc = hq_make_read_only(q->db, &q->refused);
    if (rc != SQLITE_OK) {
        hq_close(q);
        return rc;
    }
    *out = q;
    return SQLITE_OK;
}

void hq_close(hq_db *q)
{
    if (!q)
        return;
    sqlite3_close(q->db);
    hq_context_free(q->ctx);
    free(q);
}

sqlite3 *hq_sqlite(hq_db *q) { return q->db; }
const char *hq_refused(hq_db *q)
{
    const char *what = q->refused;
    q->refused = NULL;
    return what;
}
