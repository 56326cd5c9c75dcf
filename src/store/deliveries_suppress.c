/* store/deliveries_suppress — see deliveries_suppress.h. */
#include "store/deliveries_suppress.h"

#include <errno.h>

static const char SQL_SUPPRESS[] =
    "UPDATE deliveries SET status = 'suppressed', locked_until = NULL, last_error = $3,"
    " updated_at = $4 WHERE id = $1 AND status = 'sending' AND locked_until = $2";

int deliveries_suppress(struct db *db, const struct delivery_claim *c, const char *reason,
                        long long now)
{
    struct db_stmt *st = db_prepare(db, SQL_SUPPRESS);
    if (!st) return -EIO;
    db_bind_int64(st, 1, c->id);
    db_bind_int64(st, 2, c->lease);
    db_bind_text(st, 3, reason, (size_t)-1);
    db_bind_int64(st, 4, now);
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}
