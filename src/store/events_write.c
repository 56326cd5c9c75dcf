/* store/events_write — see events_write.h. */
#include "store/events_write.h"

#include <errno.h>
#include <string.h>

#include "event.h"
#include "store/db.h"

static const char SQL_ISSUE_FIND[] =
    "SELECT id, status FROM issues WHERE project_id = $1 AND hash = $2";

static const char SQL_ISSUE_CREATE[] =
    "INSERT INTO issues (project_id, hash, title, culprit, level, status, first_seen,"
    " last_seen, times_seen) VALUES ($1, $2, $3, $4, $5, 'unresolved', $6, $6, 0)"
    " ON CONFLICT (project_id, hash) DO NOTHING RETURNING id";

static const char SQL_ISSUE_DELETE[] = "DELETE FROM issues WHERE id = $1";

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO events (project_id, event_id, issue_id, timestamp, received_at, level,"
    " environment, release, title, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT (project_id, event_id) DO NOTHING";

static const char SQL_ISSUE_COUNT[] =
    "UPDATE issues SET times_seen = times_seen + $2,"
    " last_seen = CASE WHEN last_seen < $3 THEN $3 ELSE last_seen END WHERE id = $1";

static const char SQL_ISSUE_REOPEN[] =
    "UPDATE issues SET status = 'unresolved' WHERE id = $1 AND status = 'resolved'";

static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts (project_id, issue_id, kind, event_id, created_at)"
    " VALUES ($1, $2, $3, $4, $5) RETURNING id";

static const char SQL_DELIVERIES_INSERT[] =
    "INSERT INTO deliveries (alert_id, destination_id, status, attempts, next_attempt_at,"
    " created_at, updated_at) SELECT CAST($1 AS BIGINT), id, 'pending', 0, CAST($2 AS BIGINT),"
    " CAST($2 AS BIGINT), CAST($2 AS BIGINT) FROM destinations"
    " WHERE project_id = $3 AND enabled <> 0 ON CONFLICT (alert_id, destination_id) DO NOTHING";

int events_write_begin(struct db *db)
{
    return db_begin(db);
}

int events_write_commit(struct db *db)
{
    return db_commit(db);
}

void events_write_rollback(struct db *db)
{
    db_rollback(db);
}

const char *events_write_errmsg(struct db *db)
{
    return db_errmsg(db);
}

bool events_write_reconnected(struct db *db)
{
    return db_reconnected(db);
}

static enum issue_status status_from_text(const char *s)
{
    if (s && strcmp(s, "resolved") == 0)
        return ISSUE_RESOLVED;
    if (s && strcmp(s, "ignored") == 0)
        return ISSUE_IGNORED;
    return ISSUE_UNRESOLVED;
}

/* Steps a statement that returns no rows; negative on error. */
static int run(struct db_stmt *st)
{
    int rc = db_step(st);
    return rc < 0 ? rc : 0;
}

int events_write_issue_find(struct db *db, int64_t project_id, const char *hash, int64_t *id,
                            enum issue_status *status)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_FIND);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, hash, (size_t)-1);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_int64(st, 0);
        *status = status_from_text(db_col_text(st, 1));
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = -ENOENT;
    }
    db_finish(st);
    return rc;
}

int events_write_issue_create(struct db *db, const struct ingest_event *ev, int64_t *id)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_CREATE);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, ev->project_id);
    db_bind_text(st, 2, ev->hash, (size_t)-1);
    db_bind_text(st, 3, ev->title ? ev->title : "", (size_t)-1);
    db_bind_text(st, 4, ev->culprit ? ev->culprit : "", (size_t)-1);
    db_bind_text(st, 5, ev->level ? ev->level : "error", (size_t)-1);
    db_bind_int64(st, 6, ev->timestamp_ms);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_int64(st, 0);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = -EEXIST;
    }
    db_finish(st);
    return rc;
}

int events_write_issue_delete(struct db *db, int64_t id)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_DELETE);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    return run(st);
}

static void bind_text_or_null(struct db_stmt *st, int idx, const char *s)
{
    if (s)
        db_bind_text(st, idx, s, (size_t)-1);
    else
        db_bind_null(st, idx);
}

int events_write_event_insert(struct db *db, const struct ingest_event *ev, int64_t issue_id)
{
    struct db_stmt *st = db_prepare(db, SQL_EVENT_INSERT);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, ev->project_id);
    db_bind_blob(st, 2, ev->event_id, sizeof(ev->event_id));
    db_bind_int64(st, 3, issue_id);
    db_bind_int64(st, 4, ev->timestamp_ms);
    db_bind_int64(st, 5, ev->received_at_ms);
    db_bind_text(st, 6, ev->level ? ev->level : "error", (size_t)-1);
    bind_text_or_null(st, 7, ev->environment);
    bind_text_or_null(st, 8, ev->release);
    db_bind_text(st, 9, ev->title ? ev->title : "", (size_t)-1);
    db_bind_blob(st, 10, ev->payload ? ev->payload : "", ev->payload_len);
    int rc = run(st);
    return rc < 0 ? rc : db_changes(st) > 0;
}

int events_write_issue_count(struct db *db, int64_t id, int64_t count, int64_t last_seen_ms)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_COUNT);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, count);
    db_bind_int64(st, 3, last_seen_ms);
    return run(st);
}

int events_write_issue_reopen(struct db *db, int64_t id)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_REOPEN);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    int rc = run(st);
    return rc < 0 ? rc : db_changes(st) > 0;
}

int events_write_alert(struct db *db, int64_t project_id, int64_t issue_id, const char *kind,
                       const uint8_t event_id[16], int64_t now_ms, int64_t *alert_id)
{
    struct db_stmt *st = db_prepare(db, SQL_ALERT_INSERT);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    db_bind_text(st, 3, kind, (size_t)-1);
    db_bind_blob(st, 4, event_id, 16);
    db_bind_int64(st, 5, now_ms);
    int rc = db_step(st);
    if (rc != DB_ROW) {
        db_finish(st);
        return rc < 0 ? rc : -EIO;
    }
    *alert_id = db_col_int64(st, 0);
    db_finish(st);

    st = db_prepare(db, SQL_DELIVERIES_INSERT);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, *alert_id);
    db_bind_int64(st, 2, now_ms);
    db_bind_int64(st, 3, project_id);
    return run(st);
}
