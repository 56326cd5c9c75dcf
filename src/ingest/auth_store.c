/* auth — the cache's lookup over the store (auth.h). Its own file so that
 * the cache links without the store. */
#include "ingest/auth.h"

#include <errno.h>
#include "store/projects.h"
#include "store/store.h"

int auth_store_lookup(void *ctx, const char *key, int64_t *project_id, int *rate_limit)
{
    struct store *st = ctx;
    struct db *db = store_acquire(st);
    if (!db) return -EIO;
    int rc = keys_lookup(db, key, project_id, rate_limit);
    store_release(st, db);
    return rc;
}
