/* events_retention — see events_retention.h. */
#include "store/events_retention.h"

#include <errno.h>

#include "store/db.h"

/* The subquery keeps each DELETE to one small index range (events_received
 * / events_issue) on both backends. */
static const char SQL_DELETE_OLD[] =
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < $1"
    " ORDER BY received_at LIMIT $2)";

static const char SQL_CAPPED[] =
    "SELECT id FROM issues WHERE times_seen > $1 AND id > $2 ORDER BY id LIMIT $3";

/* The id of the newest event to drop: the (max+1)-th newest. */
static const char SQL_CUT[] =
    "SELECT id FROM events WHERE issue_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2";

static const char SQL_TRIM[] =
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE issue_id = $1 AND id <= $2"
    " ORDER BY id LIMIT $3)";

static const char SQL_AUTO_VACUUM[] = "PRAGMA auto_vacuum";
static const char SQL_INCREMENTAL_VACUUM[] = "PRAGMA incremental_vacuum(2000)";
static const char SQL_CHECKPOINT[] = "PRAGMA wal_checkpoint(TRUNCATE)";

/* Runs a prepared DELETE in its own transaction; rows deleted or negative. */
static int delete_in_tx(struct db *db, struct db_stmt *st)
{
    int rc = db_step(st);
    if (rc < 0) goto fail;
    int64_t n = db_changes(st);
    rc = db_commit(db);
    if (rc < 0) goto fail;
    return (int)n;
fail:
    db_rollback(db);
    return rc;
}

int events_retention_delete_old(struct db *db, int64_t cutoff_ms, int batch)
{
    int rc = db_begin(db);
    if (rc < 0) return rc;
    struct db_stmt *st = db_prepare(db, SQL_DELETE_OLD);
    if (!st) {
        db_rollback(db);
        return -EIO;
    }
    db_bind_int64(st, 1, cutoff_ms);
    db_bind_int64(st, 2, batch);
    return delete_in_tx(db, st);
}

int events_retention_capped_issues(struct db *db, int64_t max_events, int64_t after_id,
                                   int64_t *ids, int n)
{
    struct db_stmt *st = db_prepare(db, SQL_CAPPED);
    if (!st) return -EIO;
    db_bind_int64(st, 1, max_events);
    db_bind_int64(st, 2, after_id);
    db_bind_int64(st, 3, n);
    int rc, count = 0;
    while ((rc = db_step(st)) == DB_ROW && count < n)
        ids[count++] = db_col_int64(st, 0);
    db_finish(st);
    return rc < 0 ? rc : count;
}

int events_retention_trim_issue(struct db *db, int64_t issue_id, int64_t max_events, int batch)
{
    struct db_stmt *st = db_prepare(db, SQL_CUT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, max_events);
    int rc = db_step(st);
    int64_t cut = rc == DB_ROW ? db_col_int64(st, 0) : 0;
    db_finish(st);
    if (rc <= 0) return rc; /* DB_DONE: within the cap */
    if ((rc = db_begin(db)) < 0) return rc;
    st = db_prepare(db, SQL_TRIM);
    if (!st) {
        db_rollback(db);
        return -EIO;
    }
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, cut);
    db_bind_int64(st, 3, batch);
    return delete_in_tx(db, st);
}

/* Runs a PRAGMA that answers one row; its first column into *v (may be
 * NULL). */
static int pragma(struct db *db, const char *sql, int64_t *v)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        if (v) *v = db_col_int64(st, 0);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int events_retention_compact(struct db *db)
{
    if (db_kind(db) != DB_SQLITE) return 0;
    int64_t mode = 0;
    int rc = pragma(db, SQL_AUTO_VACUUM, &mode);
    if (rc == 0 && mode == 2) /* INCREMENTAL */
        rc = pragma(db, SQL_INCREMENTAL_VACUUM, NULL);
    if (rc == 0) rc = pragma(db, SQL_CHECKPOINT, NULL);
    return rc;
}
