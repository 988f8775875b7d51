/* scalars.c: human_size(n), a byte count as heaptool prints sizes ("1.5 KiB", "312 B"); NULL
 * stays NULL. */
#include "query_internal.h"

const char *hq_human_size(sqlite3_int64 bytes, char *buf)
{
    return hd_human_size(bytes < 0 ? 0 : (uint64_t)bytes, buf); /* sizes are never negative */
}

static void human_size_function(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    char buf[16];
    sqlite3_result_text(ctx, hq_human_size(sqlite3_value_int64(argv[0]), buf), -1, SQLITE_TRANSIENT);
}

int hq_register_scalars(sqlite3 *db)
{
    return sqlite3_create_function(db, "human_size", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                   NULL, human_size_function, NULL, NULL);
}
