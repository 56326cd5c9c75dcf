/* store/issue_hashes — see issue_hashes.h. */
#include "store/issue_hashes.h"

#include <errno.h>

#include "store/db.h"

/* The advisory lock's first key names what it guards (issue hashes), the
 * second the project. */
enum { ISSUE_HASHES_LOCK_CLASS = 19019 };

static const char SQL_LOCK_SHARED[] =
    "SELECT pg_advisory_xact_lock_shared(CAST($1 AS INTEGER), CAST($2 AS INTEGER))";
static const char SQL_LOCK_EXCLUSIVE[] =
    "SELECT pg_advisory_xact_lock(CAST($1 AS INTEGER), CAST($2 AS INTEGER))";

static const char SQL_ATTACH[] =
    "INSERT INTO issue_hashes (project_id, hash, issue_id, created_at)"
    " SELECT project_id, $2, issue_id, $4 FROM issue_hashes WHERE project_id = $1 AND hash = $3"
    " ON CONFLICT (project_id, hash) DO NOTHING";

static const char SQL_LIST[] =
    "SELECT hash FROM issue_hashes WHERE issue_id = $1 ORDER BY created_at, hash";

/* Project ids past 2^31 share a lock with a smaller one: harmless, the
 * lock only serializes. */
static int lock(struct db *db, const char *sql, int64_t project_id)
{
    if (db_kind(db) != DB_POSTGRES) return 0;
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_int64(st, 1, ISSUE_HASHES_LOCK_CLASS);
    db_bind_int64(st, 2, project_id & 0x7fffffff);
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int issue_hashes_lock_shared(struct db *db, const int64_t *project_ids, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (i == 0 || project_ids[i] != project_ids[i - 1])
            rc = lock(db, SQL_LOCK_SHARED, project_ids[i]);
    return rc;
}

int issue_hashes_lock_exclusive(struct db *db, int64_t project_id)
{
    return lock(db, SQL_LOCK_EXCLUSIVE, project_id);
}

int issue_hashes_attach(struct db *db, int64_t project_id, const char *hash, const char *prev_hash,
                        int64_t now_ms, int64_t *id, enum issue_status *status)
{
    struct db_stmt *st = db_prepare(db, SQL_ATTACH);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, hash, (size_t)-1);
    db_bind_text(st, 3, prev_hash, (size_t)-1);
    db_bind_int64(st, 4, now_ms);
    int rc = db_step(st);
    if (rc < 0) return rc;
    /* Attached now or before (by another node): either way hash has an
     * issue; none means prev_hash had none. */
    return events_write_issue_find(db, project_id, hash, id, status);
}

int issue_hashes_list(struct db *db, int64_t issue_id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_LIST);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while (arr && (rc = db_step(st)) == DB_ROW)
        json_push(arr, db_col_json_text_or_empty(st, 0));
    db_finish(st);
    if (!arr) return -ENOMEM;
    if (rc < 0) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
