/* store/triage_write — see triage_write.h. */
#include "store/triage_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hll.h"
#include "store/db.h"

static const char SQL_RELEASE_UPSERT[] =
    "INSERT INTO releases (project_id, version, first_seen, last_seen, events, new_issues)"
    " VALUES ($1, $2, $3, $3, $4, $5) ON CONFLICT (project_id, version) DO UPDATE SET"
    " events = releases.events + excluded.events,"
    " new_issues = releases.new_issues + excluded.new_issues,"
    " last_seen = CASE WHEN releases.last_seen < excluded.last_seen THEN excluded.last_seen"
    " ELSE releases.last_seen END,"
    " first_seen = CASE WHEN releases.first_seen > excluded.first_seen THEN excluded.first_seen"
    " ELSE releases.first_seen END";

static const char SQL_ISSUE_RELEASES[] =
    "UPDATE issues SET first_release = COALESCE(first_release, CAST($2 AS TEXT)),"
    " last_release = COALESCE(CAST($3 AS TEXT), last_release) WHERE id = $1";

static const char SQL_USER_COUNT[] = "SELECT user_count FROM issues WHERE id = $1";
static const char SQL_USER_INSERT[] = "INSERT INTO issue_users (issue_id, user_hash)"
                                      " VALUES ($1, $2) ON CONFLICT DO NOTHING";
static const char SQL_USER_COUNT_SET[] = "UPDATE issues SET user_count = $2 WHERE id = $1";
static const char SQL_SKETCH_LOAD_SQLITE[] =
    "SELECT registers FROM issue_user_sketches WHERE issue_id = $1";
static const char SQL_SKETCH_LOAD_PG[] =
    "SELECT registers FROM issue_user_sketches WHERE issue_id = $1 FOR UPDATE";
static const char SQL_SKETCH_SEED[] = "SELECT user_hash FROM issue_users WHERE issue_id = $1";
static const char SQL_SKETCH_STORE[] =
    "INSERT INTO issue_user_sketches (issue_id, registers) VALUES ($1, $2)"
    " ON CONFLICT (issue_id) DO UPDATE SET registers = excluded.registers";

static const char SQL_WINDOW_ADD[] =
    "INSERT INTO issue_windows (issue_id, window_minutes, window_start, events, users)"
    " VALUES ($1, $2, $3, $4, 0) ON CONFLICT (issue_id, window_minutes, window_start)"
    " DO UPDATE SET events = issue_windows.events + excluded.events RETURNING events, users";
static const char SQL_WINDOW_USER[] =
    "INSERT INTO issue_window_users (issue_id, window_minutes, window_start, user_hash)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
static const char SQL_WINDOW_USERS_ADD[] =
    "UPDATE issue_windows SET users = users + 1"
    " WHERE issue_id = $1 AND window_minutes = $2 AND window_start = $3";
static const char SQL_WINDOWS_PRUNE[] = "DELETE FROM issue_windows WHERE window_start < $1";
static const char SQL_WINDOW_USERS_PRUNE[] =
    "DELETE FROM issue_window_users WHERE window_start < $1";

static const char SQL_SNOOZE_GET[] =
    "SELECT s.kind, s.threshold, s.until_ms, s.window_minutes, s.base_times_seen, s.base_users,"
    " i.times_seen, i.user_count FROM issue_snoozes s JOIN issues i ON i.id = s.issue_id"
    " WHERE s.issue_id = $1";
static const char SQL_UNSNOOZE[] =
    "UPDATE issues SET status = 'unresolved' WHERE id = $1 AND status = 'ignored'";
static const char SQL_SNOOZE_DELETE[] = "DELETE FROM issue_snoozes WHERE issue_id = $1";

static const char SQL_RESOLUTION_GET[] =
    "SELECT kind, version, after_release FROM issue_resolutions WHERE issue_id = $1";
static const char SQL_RELEASE_ID[] =
    "SELECT id FROM releases WHERE project_id = $1 AND version = $2";

static const char SQL_RULE_FIRE[] =
    "INSERT INTO alert_rule_fires (project_id, rule, issue_id, fired_at, window_start)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, rule, issue_id) DO UPDATE SET"
    " fired_at = excluded.fired_at, window_start = excluded.window_start"
    " WHERE alert_rule_fires.window_start < excluded.window_start"
    " AND alert_rule_fires.fired_at <= excluded.fired_at - CAST($6 AS BIGINT) RETURNING fired_at";

static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts (project_id, issue_id, kind, event_id, created_at)"
    " VALUES ($1, $2, $3, $4, $5) RETURNING id";
static const char SQL_DELIVERIES_INSERT[] =
    "INSERT INTO deliveries (alert_id, destination_id, status, attempts, next_attempt_at,"
    " created_at, updated_at, rule_match) SELECT CAST($1 AS BIGINT), id, 'pending', 0,"
    " CAST($2 AS BIGINT), CAST($2 AS BIGINT), CAST($2 AS BIGINT), CAST($4 AS INTEGER)"
    " FROM destinations WHERE project_id = $3 AND enabled <> 0"
    " ON CONFLICT (alert_id, destination_id) DO NOTHING";
static const char SQL_DELIVERY_MATCH[] =
    "UPDATE deliveries SET rule_match = 1 WHERE alert_id = $1 AND destination_id = $2";

/* Steps a statement that returns no rows: 0 or negative. */
static int run(struct db_stmt *st)
{
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

/* The same, answering whether it changed a row. */
static int run_changed(struct db_stmt *st)
{
    int rc = db_step(st);
    int64_t n = rc < 0 ? 0 : db_changes(st);
    db_finish(st);
    return rc < 0 ? rc : n > 0;
}

static void bind_opt_text(struct db_stmt *st, int idx, const char *s)
{
    if (s)
        db_bind_text(st, idx, s, (size_t)-1);
    else
        db_bind_null(st, idx);
}

int triage_write_release(struct db *db, int64_t project_id, const char *version, int64_t seen_ms,
                         int64_t events, int64_t new_issues)
{
    struct db_stmt *st = db_prepare(db, SQL_RELEASE_UPSERT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, version, (size_t)-1);
    db_bind_int64(st, 3, seen_ms);
    db_bind_int64(st, 4, events);
    db_bind_int64(st, 5, new_issues);
    return run(st);
}

int triage_write_issue_releases(struct db *db, int64_t issue_id, const char *first,
                                const char *last)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_RELEASES);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    bind_opt_text(st, 2, first);
    bind_opt_text(st, 3, last);
    return run(st);
}

int triage_write_user_count(struct db *db, int64_t issue_id, int64_t *count)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_COUNT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) *count = db_col_int64(st, 0);
    db_finish(st);
    return rc;
}

int triage_write_user_insert(struct db *db, int64_t issue_id, int64_t user_hash)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_INSERT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, user_hash);
    return run_changed(st);
}

int triage_write_user_count_set(struct db *db, int64_t issue_id, int64_t count)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_COUNT_SET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, count);
    return run(st);
}

int triage_write_sketch_load(struct db *db, int64_t issue_id, uint8_t *regs)
{
    struct db_stmt *st =
        db_prepare(db, db_kind(db) == DB_POSTGRES ? SQL_SKETCH_LOAD_PG : SQL_SKETCH_LOAD_SQLITE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    memset(regs, 0, HLL_REGISTERS);
    int rc = db_step_row(st, 1);
    if (rc == 0) {
        size_t len = 0;
        const void *p = db_col_blob(st, 0, &len);
        if (p && len == HLL_REGISTERS) memcpy(regs, p, len);
    }
    db_finish(st);
    return rc < 0 ? rc : rc == 0;
}

int triage_write_sketch_seed(struct db *db, int64_t issue_id, uint8_t *regs)
{
    struct db_stmt *st = db_prepare(db, SQL_SKETCH_SEED);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        hll_add(regs, (uint64_t)db_col_int64(st, 0));
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int triage_write_sketch_store(struct db *db, int64_t issue_id, const uint8_t *regs)
{
    struct db_stmt *st = db_prepare(db, SQL_SKETCH_STORE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_blob(st, 2, regs, HLL_REGISTERS);
    return run(st);
}

int triage_write_window_add(struct db *db, int64_t issue_id, int minutes, int64_t start,
                            int64_t events, int64_t *events_total, int64_t *users_total)
{
    struct db_stmt *st = db_prepare(db, SQL_WINDOW_ADD);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, minutes);
    db_bind_int64(st, 3, start);
    db_bind_int64(st, 4, events);
    int rc = db_step_row(st, -EIO);
    if (rc == 0) {
        *events_total = db_col_int64(st, 0);
        *users_total = db_col_int64(st, 1);
    }
    db_finish(st);
    return rc;
}

int triage_write_window_user(struct db *db, int64_t issue_id, int minutes, int64_t start,
                             int64_t user_hash)
{
    struct db_stmt *st = db_prepare(db, SQL_WINDOW_USER);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, minutes);
    db_bind_int64(st, 3, start);
    db_bind_int64(st, 4, user_hash);
    int rc = run_changed(st);
    if (rc <= 0) return rc;
    st = db_prepare(db, SQL_WINDOW_USERS_ADD);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, minutes);
    db_bind_int64(st, 3, start);
    rc = run(st);
    return rc < 0 ? rc : 1;
}

int triage_write_windows_prune(struct db *db, int64_t before_ms)
{
    const char *sqls[] = {SQL_WINDOWS_PRUNE, SQL_WINDOW_USERS_PRUNE};
    for (size_t i = 0; i < 2; i++) {
        struct db_stmt *st = db_prepare(db, sqls[i]);
        if (!st) return -EIO;
        db_bind_int64(st, 1, before_ms);
        int rc = run(st);
        if (rc != 0) return rc;
    }
    return 0;
}

int triage_write_snooze_get(struct db *db, int64_t issue_id, struct triage_snooze *out)
{
    struct db_stmt *st = db_prepare(db, SQL_SNOOZE_GET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        const char *kind = db_col_text(st, 0);
        snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
        out->threshold = db_col_int64(st, 1);
        out->until_ms = db_col_int64(st, 2);
        out->window_minutes = (int)db_col_int64(st, 3);
        out->base_times_seen = db_col_int64(st, 4);
        out->base_users = db_col_int64(st, 5);
        out->times_seen = db_col_int64(st, 6);
        out->user_count = db_col_int64(st, 7);
    }
    db_finish(st);
    return rc;
}

int triage_write_unsnooze(struct db *db, int64_t issue_id)
{
    struct db_stmt *st = db_prepare(db, SQL_UNSNOOZE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    int changed = run_changed(st);
    if (changed <= 0) return changed;
    st = db_prepare(db, SQL_SNOOZE_DELETE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    int rc = run(st);
    return rc < 0 ? rc : 1;
}

static char *dup_col(struct db_stmt *st, int col)
{
    const char *s = db_col_text(st, col);
    return s ? strdup(s) : NULL;
}

int triage_write_resolution_get(struct db *db, int64_t issue_id, char **kind, char **version,
                                char **after)
{
    *kind = *version = *after = NULL;
    struct db_stmt *st = db_prepare(db, SQL_RESOLUTION_GET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        *kind = dup_col(st, 0);
        *version = dup_col(st, 1);
        *after = dup_col(st, 2);
        if (!*kind) rc = -ENOMEM;
    }
    db_finish(st);
    if (rc != 0) {
        free(*kind);
        free(*version);
        free(*after);
        *kind = *version = *after = NULL;
    }
    return rc;
}

/* The release's id (its first-seen rank), INT64_MAX when not seen yet. */
static int release_rank(struct db *db, int64_t project_id, const char *version, int64_t *rank)
{
    struct db_stmt *st = db_prepare(db, SQL_RELEASE_ID);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, version, (size_t)-1);
    int rc = db_step_row(st, -ENOENT);
    *rank = rc == 0 ? db_col_int64(st, 0) : INT64_MAX;
    db_finish(st);
    return rc == -ENOENT ? 0 : rc;
}

int triage_write_release_order(struct db *db, int64_t project_id, const char *a, const char *b,
                               int *cmp)
{
    int64_t ra, rb;
    int rc = release_rank(db, project_id, a, &ra);
    if (rc == 0) rc = release_rank(db, project_id, b, &rb);
    if (rc != 0) return rc;
    *cmp = strcmp(a, b) == 0 ? 0 : ra < rb ? -1 : ra > rb ? 1 : 0;
    return 0;
}

int triage_write_rule_fire(struct db *db, int64_t project_id, const char *rule, int64_t issue_id,
                           int64_t now_ms, int64_t window_start, int64_t throttle_ms)
{
    struct db_stmt *st = db_prepare(db, SQL_RULE_FIRE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, rule, (size_t)-1);
    db_bind_int64(st, 3, issue_id);
    db_bind_int64(st, 4, now_ms);
    /* Without a window every firing gets a later "window", so only the
     * throttle decides. */
    db_bind_int64(st, 5, window_start ? window_start : now_ms);
    db_bind_int64(st, 6, throttle_ms);
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : rc == DB_ROW;
}

int triage_write_alert(struct db *db, int64_t project_id, int64_t issue_id, const char *kind,
                       const uint8_t event_id[16], int64_t now_ms, bool all_match,
                       const int64_t *dest_ids, size_t n, int64_t *alert_id)
{
    struct db_stmt *st = db_prepare(db, SQL_ALERT_INSERT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    db_bind_text(st, 3, kind, (size_t)-1);
    db_bind_blob(st, 4, event_id, 16);
    db_bind_int64(st, 5, now_ms);
    int rc = db_step_row(st, -EIO);
    if (rc == 0) *alert_id = db_col_int64(st, 0);
    db_finish(st);
    if (rc != 0) return rc;
    st = db_prepare(db, SQL_DELIVERIES_INSERT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, *alert_id);
    db_bind_int64(st, 2, now_ms);
    db_bind_int64(st, 3, project_id);
    db_bind_int64(st, 4, all_match ? 1 : 0);
    rc = run(st);
    for (size_t i = 0; i < n && rc == 0 && !all_match; i++) {
        st = db_prepare(db, SQL_DELIVERY_MATCH);
        if (!st) return -EIO;
        db_bind_int64(st, 1, *alert_id);
        db_bind_int64(st, 2, dest_ids[i]);
        rc = run(st);
    }
    return rc;
}
