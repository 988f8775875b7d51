/* read_only.c: a query reads the dump and nothing else. The connection is an in-memory database
 * opened read-only with no file attached, and SQLite's authorizer refuses every action but
 * reading: no INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH (which could create a file), no
 * writing PRAGMA. It remembers what it refused, for the one-line error. */
#include "query_internal.h"

#include <string.h>

/* PRAGMAs that only report. */
static bool harmless_pragma(const char *name)
{
    static const char *const ok[] = {"table_info", "table_xinfo", "function_list", "module_list",
                                     "pragma_list", "compile_options"};
    for (size_t i = 0; name && i < sizeof ok / sizeof ok[0]; i++)
        if (!sqlite3_stricmp(name, ok[i]))
            return true;
    return false;
}

static const char *action_name(int action)
{
    switch (action) {
    case SQLITE_INSERT: return "INSERT";
    case SQLITE_UPDATE: return "UPDATE";
    case SQLITE_DELETE: return "DELETE";
    case SQLITE_ATTACH: return "ATTACH";
    case SQLITE_DETACH: return "DETACH";
    case SQLITE_PRAGMA: return "PRAGMA";
    case SQLITE_TRANSACTION: return "a transaction";
    case SQLITE_SAVEPOINT: return "SAVEPOINT";
    case SQLITE_ANALYZE: return "ANALYZE";
    case SQLITE_REINDEX: return "REINDEX";
    case SQLITE_ALTER_TABLE: return "ALTER TABLE";
    case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_TABLE: case SQLITE_DROP_VTABLE: return "DROP TABLE";
    case SQLITE_DROP_VIEW: case SQLITE_DROP_TEMP_VIEW: return "DROP VIEW";
    case SQLITE_DROP_INDEX: case SQLITE_DROP_TEMP_INDEX: return "DROP INDEX";
    case SQLITE_DROP_TRIGGER: case SQLITE_DROP_TEMP_TRIGGER: return "DROP TRIGGER";
    case SQLITE_CREATE_VIEW: case SQLITE_CREATE_TEMP_VIEW: return "CREATE VIEW";
    case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TEMP_INDEX: return "CREATE INDEX";
    case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_TEMP_TRIGGER: return "CREATE TRIGGER";
    default: return "CREATE TABLE";
    }
}

static int authorize(void *user, int action, const char *a, const char *b, const char *db,
                     const char *trigger)
{
    (void)b, (void)db, (void)trigger;
    const char **refused = user;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        if (harmless_pragma(a))
            return SQLITE_OK;
        break;
    case SQLITE_UPDATE:
        /* Declaring a virtual table's columns parses a CREATE TABLE that notes itself in the
         * schema table; the database is read-only and defensive, so no statement can. */
        if (a && !strcmp(a, "sqlite_master"))
            return SQLITE_OK;
        break;
    default: break;
    }
    /* CREATE and DROP first ask to write the schema table: name them, not that write. */
    bool schema = a && !strncmp(a, "sqlite_", 7);
    if (!*refused)
        *refused = schema && action == SQLITE_INSERT ? "CREATE"
                 : schema && action == SQLITE_DELETE ? "DROP" : action_name(action);
    return SQLITE_DENY;
}

int hq_make_read_only(sqlite3 *db, const char **refused)
{
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    return sqlite3_set_authorizer(db, authorize, refused);
}
