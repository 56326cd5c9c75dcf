/* stats — see stats.h. */
#include "store/stats.h"

#include <errno.h>

#include "store/db.h"

static const char SQL_DELIVERIES[] = "SELECT status, COUNT(*) FROM deliveries GROUP BY status";

int stats_deliveries_by_status(struct db *db, void (*fn)(const char *status, int64_t n, void *ctx),
                               void *ctx)
{
    struct db_stmt *st = db_prepare(db, SQL_DELIVERIES);
    if (!st) return -EIO;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *status = db_col_text(st, 0);
        if (status) fn(status, db_col_int64(st, 1), ctx);
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}
