/* store/grouping_transitions — see grouping_transitions.h. */
#include "store/grouping_transitions.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grouping/config.h"
#include "store/db.h"

static const int64_t DAY_MS = 86400000;

/* The WHERE before ON CONFLICT lets SQLite parse the upsert of a SELECT. */
static const char SQL_BEGIN[] =
    "INSERT INTO grouping_transitions (project_id, prev_script_version, prev_fingerprint_rules,"
    " prev_stacktrace_rules, prev_config, started_at, expires_at)"
    " SELECT p.id, COALESCE(p.active_script_version, 0), r.fingerprint_rules,"
    " r.stacktrace_rules, COALESCE(p.grouping_config, $2), CAST($3 AS BIGINT),"
    " CAST($3 AS BIGINT) + p.grouping_transition_days * CAST($4 AS BIGINT)"
    " FROM projects p LEFT JOIN project_grouping_rules r ON r.project_id = p.id"
    " WHERE p.id = $1 AND p.grouping_transition_days > 0"
    " ON CONFLICT (project_id) DO UPDATE SET"
    " prev_script_version = excluded.prev_script_version,"
    " prev_fingerprint_rules = excluded.prev_fingerprint_rules,"
    " prev_stacktrace_rules = excluded.prev_stacktrace_rules,"
    " prev_config = excluded.prev_config, started_at = excluded.started_at,"
    " expires_at = excluded.expires_at";

static const char SQL_GET[] =
    "SELECT t.prev_script_version, s.source, t.prev_fingerprint_rules, t.prev_stacktrace_rules,"
    " t.prev_config, t.expires_at FROM grouping_transitions t"
    " LEFT JOIN scripts s ON s.project_id = t.project_id AND s.version = t.prev_script_version"
    " WHERE t.project_id = $1 AND t.expires_at > $2";

static const char SQL_CONFIG_UNMARKED[] =
    "UPDATE projects SET grouping_config = $1 WHERE grouping_config IS NULL";
static const char SQL_CONFIG_CHANGED[] =
    "SELECT id FROM projects WHERE grouping_config <> $1 ORDER BY id";
static const char SQL_CONFIG_MARK[] = "UPDATE projects SET grouping_config = $2 WHERE id = $1";

static const char SQL_DAYS_GET[] = "SELECT grouping_transition_days FROM projects WHERE id = $1";
static const char SQL_DAYS_SET[] =
    "UPDATE projects SET grouping_transition_days = $2 WHERE id = $1";

void grouping_transition_clear(struct grouping_transition *t)
{
    free(t->prev_source);
    free(t->prev_fingerprint_rules);
    free(t->prev_stacktrace_rules);
    free(t->prev_config);
    memset(t, 0, sizeof *t);
}

static int begin_from(struct db *db, int64_t project_id, const char *config, int64_t now_ms)
{
    struct db_stmt *st = db_prepare(db, SQL_BEGIN);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, config, (size_t)-1);
    db_bind_int64(st, 3, now_ms);
    db_bind_int64(st, 4, DAY_MS);
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int grouping_transition_begin(struct db *db, int64_t project_id, int64_t now_ms)
{
    /* A project not marked yet (made since the start) runs this build's. */
    return begin_from(db, project_id, GROUPING_CONFIG_ID, now_ms);
}

static char *dup_col(struct db_stmt *st, int col)
{
    const char *s = db_col_text(st, col);
    return s && *s ? strdup(s) : NULL;
}

int grouping_transition_get(struct db *db, int64_t project_id, int64_t now_ms,
                            struct grouping_transition *out)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_prepare(db, SQL_GET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, now_ms);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        out->prev_version = db_col_int64(st, 0);
        out->prev_source = dup_col(st, 1);
        out->prev_len = out->prev_source ? strlen(out->prev_source) : 0;
        out->prev_fingerprint_rules = dup_col(st, 2);
        out->prev_stacktrace_rules = dup_col(st, 3);
        out->prev_config = dup_col(st, 4);
        out->expires_at_ms = db_col_int64(st, 5);
        /* A previous version that is gone: nothing to group by. */
        if (out->prev_version > 0 && !out->prev_source) rc = -ENOENT;
    }
    db_finish(st);
    if (rc != 0) grouping_transition_clear(out);
    return rc;
}

static int run_text(struct db *db, const char *sql, const char *text)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_text(st, 1, text, (size_t)-1);
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

/* The ids of projects marked with another config (caller frees). */
static int changed_projects(struct db *db, const char *config_id, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    struct db_stmt *st = db_prepare(db, SQL_CONFIG_CHANGED);
    if (!st) return -EIO;
    db_bind_text(st, 1, config_id, (size_t)-1);
    size_t cap = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *grown = realloc(*ids, cap * sizeof **ids);
            if (!grown) {
                rc = -ENOMEM;
                break;
            }
            *ids = grown;
        }
        (*ids)[(*n)++] = db_col_int64(st, 0);
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int grouping_transition_config_check(struct db *db, const char *config_id, int64_t now_ms,
                                     int *started)
{
    int64_t *ids = NULL;
    size_t n = 0;
    *started = 0;
    int rc = db_begin(db);
    if (rc != 0) return rc;
    rc = run_text(db, SQL_CONFIG_UNMARKED, config_id);
    if (rc == 0) rc = changed_projects(db, config_id, &ids, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = begin_from(db, ids[i], config_id, now_ms);
        struct db_stmt *st = rc == 0 ? db_prepare(db, SQL_CONFIG_MARK) : NULL;
        if (rc == 0 && !st) rc = -EIO;
        if (rc == 0) {
            db_bind_int64(st, 1, ids[i]);
            db_bind_text(st, 2, config_id, (size_t)-1);
            rc = db_step(st);
            rc = rc < 0 ? rc : 0;
            db_finish(st);
        }
    }
    free(ids);
    if (rc == 0) rc = db_commit(db);
    if (rc != 0) {
        db_rollback(db);
        return rc;
    }
    *started = (int)n;
    return 0;
}

int grouping_transition_days_get(struct db *db, int64_t project_id, int *days)
{
    struct db_stmt *st = db_prepare(db, SQL_DAYS_GET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) *days = (int)db_col_int64(st, 0);
    db_finish(st);
    return rc;
}

int grouping_transition_days_set(struct db *db, int64_t project_id, int days)
{
    if (days < 0 || days > GROUPING_TRANSITION_DAYS_MAX) return -EINVAL;
    struct db_stmt *st = db_prepare(db, SQL_DAYS_SET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, days);
    int rc = db_step(st);
    rc = rc < 0 ? rc : db_changes(st) > 0 ? 0 : -ENOENT;
    db_finish(st);
    return rc;
}
