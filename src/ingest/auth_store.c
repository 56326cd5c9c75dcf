/* auth — the cache's lookup over the store (auth.h). Its own file so that
 * the cache links without the store. */
#include "ingest/auth.h"

#include <errno.h>
#include "store/db.h"
#include "store/projects.h"
#include "store/store.h"

/* An SDK waits on a key lookup: it answers (503 when the database is slow
 * or away) within AUTH_ACQUIRE_MS + AUTH_QUERY_MS plus the client grace of
 * db_postgres_wait.c, under 2 s, not after DB_TIMEOUT_MS. */
#define AUTH_ACQUIRE_MS 300
#define AUTH_QUERY_MS 500

int auth_store_lookup(void *ctx, const char *key, int64_t *project_id, int *rate_limit)
{
    struct store *st = ctx;
    struct db *db = store_acquire_timed(st, AUTH_ACQUIRE_MS);
    if (!db) return -ETIMEDOUT;
    int timeout = db_timeout_ms(db);
    db_set_timeout_ms(db, AUTH_QUERY_MS);
    int rc = keys_lookup(db, key, project_id, rate_limit);
    db_set_timeout_ms(db, timeout);
    store_release(st, db);
    return rc;
}
