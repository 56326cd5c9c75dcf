/* store/issue_merge — see issue_merge.h. */
#include "store/issue_merge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "base/json.h"

#include "store/db.h"
#include "store/issue_activity.h"
#include "store/issue_hashes.h"
#include "store/issue_merge_internal.h"

static const char SQL_ISSUE_EXISTS[] = "SELECT id FROM issues WHERE project_id = $1 AND id = $2";

/* Events stored before issue_hashes (hash NULL) get their issue's primary
 * hash before anything moves, so that they can be told apart later. */
static const char SQL_FILL_EVENT_HASHES[] =
    "UPDATE events SET hash = (SELECT hash FROM issues WHERE id = $1)"
    " WHERE issue_id = $1 AND hash IS NULL";

static const char SQL_MOVE_HASHES[] = "UPDATE issue_hashes SET issue_id = $1 WHERE issue_id = $2";
static const char SQL_MOVE_EVENTS[] = "UPDATE events SET issue_id = $1 WHERE issue_id = $2";
static const char SQL_MOVE_ALERTS[] = "UPDATE alerts SET issue_id = $1 WHERE issue_id = $2";
static const char SQL_MOVE_ACTIVITY[] =
    "UPDATE issue_activity SET issue_id = $1 WHERE issue_id = $2";

/* WHERE before ON CONFLICT: SQLite needs it to parse an upsert from a
 * SELECT. */
static const char SQL_MOVE_TAGS[] =
    "INSERT INTO issue_tags (issue_id, key, value, times_seen, last_seen)"
    " SELECT CAST($1 AS BIGINT), key, value, times_seen, last_seen FROM issue_tags"
    " WHERE issue_id = $2"
    " ON CONFLICT (issue_id, key, value) DO UPDATE SET"
    " times_seen = issue_tags.times_seen + excluded.times_seen,"
    " last_seen = CASE WHEN issue_tags.last_seen < excluded.last_seen"
    " THEN excluded.last_seen ELSE issue_tags.last_seen END";

/* The 24 h histogram's hours (store/counters.h). */
static const char SQL_MOVE_HOURLY[] =
    "INSERT INTO issue_hourly (issue_id, hour, events)"
    " SELECT CAST($1 AS BIGINT), hour, events FROM issue_hourly WHERE issue_id = $2"
    " ON CONFLICT (issue_id, hour) DO UPDATE SET events = issue_hourly.events + excluded.events";

/* The release of the earlier first sighting and of the later last one
 * (SET reads the row as it was). */
static const char SQL_ADD_COUNTS[] =
    "UPDATE issues SET times_seen = issues.times_seen + s.times_seen,"
    " first_seen = CASE WHEN s.first_seen < issues.first_seen"
    " THEN s.first_seen ELSE issues.first_seen END,"
    " last_seen = CASE WHEN s.last_seen > issues.last_seen"
    " THEN s.last_seen ELSE issues.last_seen END,"
    " first_release = CASE WHEN s.first_release IS NOT NULL AND (issues.first_release IS NULL"
    " OR s.first_seen < issues.first_seen) THEN s.first_release ELSE issues.first_release END,"
    " last_release = CASE WHEN s.last_release IS NOT NULL AND (issues.last_release IS NULL"
    " OR s.last_seen > issues.last_seen) THEN s.last_release ELSE issues.last_release END"
    " FROM (SELECT times_seen, first_seen, last_seen, first_release, last_release FROM issues"
    " WHERE id = $2) AS s WHERE issues.id = $1";

static const char SQL_DELETE_ISSUE[] = "DELETE FROM issues WHERE id = $1";

static const char SQL_HASH_OWNER[] =
    "SELECT h.issue_id, (SELECT COUNT(*) FROM issue_hashes o WHERE o.issue_id = h.issue_id),"
    " i.hash FROM issue_hashes h JOIN issues i ON i.id = h.issue_id"
    " WHERE h.project_id = $1 AND h.hash = $2";

/* The issue keeps a primary hash it owns (issues.hash is unique per project
 * and the new issue takes the one split out). */
static const char SQL_NEW_PRIMARY[] =
    "UPDATE issues SET hash = (SELECT hash FROM issue_hashes WHERE issue_id = $1 AND hash <> $2"
    " ORDER BY created_at, hash LIMIT 1) WHERE id = $1";

/* count, first, last, and the newest event's title and level. */
static const char SQL_HASH_EVENTS[] =
    "SELECT COUNT(*), MIN(timestamp), MAX(timestamp),"
    " (SELECT title FROM events WHERE issue_id = $1 AND hash = $2 ORDER BY id DESC LIMIT 1),"
    " (SELECT level FROM events WHERE issue_id = $1 AND hash = $2 ORDER BY id DESC LIMIT 1)"
    " FROM events WHERE issue_id = $1 AND hash = $2";

/* Its count comes from the recount (issue_merge_internal.h). */
static const char SQL_SPLIT_CREATE[] =
    "INSERT INTO issues (project_id, hash, title, culprit, level, status, first_seen, last_seen,"
    " times_seen, message) SELECT project_id, $2, COALESCE($3, title), culprit,"
    " COALESCE($4, level), 'unresolved', $5, $6, 0, message FROM issues WHERE id = $1"
    " RETURNING id";

static const char SQL_MOVE_HASH[] =
    "UPDATE issue_hashes SET issue_id = $3 WHERE project_id = $1 AND hash = $2";
static const char SQL_MOVE_HASH_EVENTS[] =
    "UPDATE events SET issue_id = $3 WHERE issue_id = $1 AND hash = $2";

int issue_merge_run_ids(struct db *db, const char *sql, int64_t a, int64_t b)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_int64(st, 1, a);
    db_bind_int64(st, 2, b);
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int issue_merge_run_id(struct db *db, const char *sql, int64_t a)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_int64(st, 1, a);
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

static int check_ids(const int64_t *ids, size_t n)
{
    if (n < 2 || n > ISSUE_MERGE_MAX) return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] <= 0) return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (ids[i] == ids[j]) return -EINVAL;
    }
    return 0;
}

static int issue_exists(struct db *db, int64_t project_id, int64_t id)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_EXISTS);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, id);
    int rc = db_step_row(st, -ENOENT);
    db_finish(st);
    return rc;
}

/* Moves everything of source onto target and deletes source. */
static int fold(struct db *db, int64_t target, int64_t source)
{
    static const char *const moves[] = {SQL_MOVE_HASHES,   SQL_MOVE_EVENTS, SQL_MOVE_ALERTS,
                                        SQL_MOVE_ACTIVITY, SQL_MOVE_TAGS,   SQL_MOVE_HOURLY,
                                        SQL_ADD_COUNTS};
    int rc = issue_merge_run_id(db, SQL_FILL_EVENT_HASHES, source);
    for (size_t i = 0; i < sizeof moves / sizeof moves[0] && rc == 0; i++)
        rc = issue_merge_run_ids(db, moves[i], target, source);
    if (rc == 0) rc = issue_merge_fold_counts(db, target, source);
    return rc == 0 ? issue_merge_run_id(db, SQL_DELETE_ISSUE, source) : rc;
}

static int merge_locked(struct db *db, int64_t project_id, const int64_t *ids, size_t n,
                        int64_t user_id, int64_t now_ms, int64_t *missing)
{
    int rc = issue_hashes_lock_exclusive(db, project_id);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = issue_exists(db, project_id, ids[i]);
        if (rc == -ENOENT) *missing = ids[i];
    }
    if (rc == 0) rc = issue_merge_run_id(db, SQL_FILL_EVENT_HASHES, ids[0]);
    for (size_t i = 1; i < n && rc == 0; i++)
        rc = fold(db, ids[0], ids[i]);
    if (rc != 0) return rc;
    cJSON *merged = cJSON_CreateArray();
    for (size_t i = 1; merged && i < n; i++)
        json_push(merged, json_new_int(ids[i]));
    cJSON *data = json_build("{s:o}", "issues", merged);
    if (!data) return -ENOMEM;
    rc = issue_activity_add(db, project_id, ids[0], "merged", user_id, "", data, now_ms);
    cJSON_Delete(data);
    return rc;
}

int issue_merge(struct db *db, int64_t project_id, const int64_t *ids, size_t n, int64_t user_id,
                int64_t now_ms, int64_t *missing)
{
    *missing = 0;
    int rc = check_ids(ids, n);
    if (rc != 0) return rc;
    if ((rc = db_begin(db)) != 0) return rc;
    rc = merge_locked(db, project_id, ids, n, user_id, now_ms, missing);
    if (rc == 0) rc = db_commit(db);
    if (rc != 0) db_rollback(db);
    return rc;
}

/* Whether hash belongs to issue_id (more than one hash: 0; only one:
 * -EMLINK), and *primary whether it is the issue's primary hash. */
static int hash_of_issue(struct db *db, int64_t project_id, int64_t issue_id, const char *hash,
                         bool *primary)
{
    struct db_stmt *st = db_prepare(db, SQL_HASH_OWNER);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, hash, (size_t)-1);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0 && db_col_int64(st, 0) != issue_id) rc = -ENOENT;
    if (rc == 0 && db_col_int64(st, 1) < 2) rc = -EMLINK;
    if (rc == 0) {
        const char *p = db_col_text(st, 2);
        *primary = p && strcmp(p, hash) == 0;
    }
    db_finish(st);
    return rc;
}

/* The split-out issue, made from the hash's events (none: now, 0). */
static int split_create(struct db *db, int64_t issue_id, const char *hash, int64_t now_ms,
                        int64_t *new_id, int64_t *moved)
{
    struct db_stmt *st = db_prepare(db, SQL_HASH_EVENTS);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_text(st, 2, hash, (size_t)-1);
    int rc = db_step_row(st, -EIO);
    if (rc != 0) {
        db_finish(st);
        return rc;
    }
    *moved = db_col_int64(st, 0);
    int64_t first = *moved ? db_col_int64(st, 1) : now_ms,
            last = *moved ? db_col_int64(st, 2) : now_ms;
    char *title = db_col_text(st, 3) ? strdup(db_col_text(st, 3)) : NULL;
    char *level = db_col_text(st, 4) ? strdup(db_col_text(st, 4)) : NULL;
    db_finish(st);
    st = db_prepare(db, SQL_SPLIT_CREATE);
    if (!st) rc = -EIO;
    if (st) {
        db_bind_int64(st, 1, issue_id);
        db_bind_text(st, 2, hash, (size_t)-1);
        db_bind_text(st, 3, title, (size_t)-1); /* NULL binds NULL */
        db_bind_text(st, 4, level, (size_t)-1);
        db_bind_int64(st, 5, first);
        db_bind_int64(st, 6, last);
        rc = db_step_row(st, -EIO);
        if (rc == 0) *new_id = db_col_int64(st, 0);
        db_finish(st);
    }
    free(title);
    free(level);
    return rc;
}

/* Runs sql with $1 a, $2 hash and (has_b) $3 b. */
static int run_hash(struct db *db, const char *sql, int64_t a, const char *hash, bool has_b,
                    int64_t b)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_int64(st, 1, a);
    db_bind_text(st, 2, hash, (size_t)-1);
    if (has_b) db_bind_int64(st, 3, b);
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

static int unmerge_locked(struct db *db, int64_t project_id, int64_t issue_id, const char *hash,
                          int64_t user_id, int64_t now_ms, issue_event_tags_fn tags_fn, void *ctx,
                          int64_t *new_id)
{
    bool primary = false;
    int64_t moved = 0;
    int rc = issue_hashes_lock_exclusive(db, project_id);
    if (rc == 0) rc = hash_of_issue(db, project_id, issue_id, hash, &primary);
    if (rc == 0) rc = issue_merge_run_id(db, SQL_FILL_EVENT_HASHES, issue_id);
    if (rc == 0 && primary) rc = run_hash(db, SQL_NEW_PRIMARY, issue_id, hash, false, 0);
    if (rc == 0) rc = split_create(db, issue_id, hash, now_ms, new_id, &moved);
    if (rc == 0) rc = run_hash(db, SQL_MOVE_HASH, project_id, hash, true, *new_id);
    if (rc == 0) rc = run_hash(db, SQL_MOVE_HASH_EVENTS, issue_id, hash, true, *new_id);
    if (rc == 0) rc = issue_unmerge_recount(db, issue_id, *new_id, tags_fn, ctx);
    if (rc != 0) return rc;
    cJSON *data = json_build("{s:s, s:I, s:I}", "hash", hash, "from_issue", (int64_t)issue_id,
                             "to_issue", (int64_t)*new_id);
    if (!data) return -ENOMEM;
    rc = issue_activity_add(db, project_id, issue_id, "unmerged", user_id, "", data, now_ms);
    if (rc == 0)
        rc = issue_activity_add(db, project_id, *new_id, "unmerged", user_id, "", data, now_ms);
    cJSON_Delete(data);
    return rc;
}

int issue_unmerge(struct db *db, int64_t project_id, int64_t issue_id, const char *hash,
                  int64_t user_id, int64_t now_ms, issue_event_tags_fn tags_fn, void *ctx,
                  int64_t *new_issue_id)
{
    int rc = db_begin(db);
    if (rc != 0) return rc;
    rc =
        unmerge_locked(db, project_id, issue_id, hash, user_id, now_ms, tags_fn, ctx, new_issue_id);
    if (rc == 0) rc = db_commit(db);
    if (rc != 0) db_rollback(db);
    return rc;
}
