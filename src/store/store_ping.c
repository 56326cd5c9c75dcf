/* store_ping — the readiness probe's database round trip (store.h). */
#include "store/store.h"

#include <errno.h>

int store_ping(struct store *st)
{
    struct db *db = store_acquire(st);
    struct db_stmt *q = db_prepare(db, "SELECT 1");
    int rc = q ? db_step(q) : -EIO;
    if (q) db_finish(q);
    store_release(st, db);
    return rc == DB_ROW ? 0 : rc < 0 ? rc : -EIO;
}
