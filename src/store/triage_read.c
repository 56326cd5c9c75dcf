/* store/triage_read — see triage_read.h. */
#include "store/triage_read.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "store/db.h"
#include "store/store.h"

static const char SQL_RULES_LOAD[] = "SELECT rules FROM project_alert_rules WHERE project_id = $1";
static const char SQL_RULES_SAVE[] =
    "INSERT INTO project_alert_rules (project_id, rules, updated_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (project_id) DO UPDATE SET rules = excluded.rules,"
    " updated_at = excluded.updated_at";
static const char SQL_RULES_DELETE[] = "DELETE FROM project_alert_rules WHERE project_id = $1";
static const char SQL_DEST_EXISTS[] =
    "SELECT 1 FROM destinations WHERE project_id = $1 AND id = $2";

static const char SQL_RELEASES[] =
    "SELECT version, first_seen, last_seen, events, new_issues FROM releases"
    " WHERE project_id = $1 ORDER BY id DESC LIMIT 1000";

static const char SQL_STATUS[] = "UPDATE issues SET status = $3 WHERE project_id = $1 AND id = $2";
static const char SQL_SNOOZE_DELETE[] = "DELETE FROM issue_snoozes WHERE issue_id = $1";
static const char SQL_RESOLUTION_DELETE[] = "DELETE FROM issue_resolutions WHERE issue_id = $1";
static const char SQL_SNOOZE_INSERT[] =
    "INSERT INTO issue_snoozes (issue_id, kind, threshold, until_ms, window_minutes,"
    " base_times_seen, base_users, created_at)"
    " SELECT id, $2, $3, $4, $5, times_seen, user_count, $6 FROM issues WHERE id = $1";
/* "Next release": after the release of the issue's latest event, else the
 * project's newest. */
static const char SQL_NEWEST_RELEASE[] =
    "SELECT COALESCE((SELECT last_release FROM issues WHERE id = $2),"
    " (SELECT version FROM releases WHERE project_id = $1 ORDER BY id DESC LIMIT 1))";
static const char SQL_RESOLUTION_INSERT[] =
    "INSERT INTO issue_resolutions (issue_id, kind, version, after_release, created_at)"
    " VALUES ($1, $2, $3, $4, $5)";
static const char SQL_SNOOZE_DESCRIBE[] =
    "SELECT kind, threshold, until_ms, window_minutes FROM issue_snoozes WHERE issue_id = $1";
static const char SQL_RESOLUTION_DESCRIBE[] =
    "SELECT kind, version, after_release FROM issue_resolutions WHERE issue_id = $1";

static int run(struct db_stmt *st)
{
    int rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int alert_rules_load(struct db *db, int64_t project_id, char **text)
{
    struct db_stmt *st = db_prepare(db, SQL_RULES_LOAD);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        const char *s = db_col_text(st, 0);
        *text = strdup(s ? s : "");
        if (!*text) rc = -ENOMEM;
    }
    db_finish(st);
    return rc;
}

int alert_rules_save(struct db *db, int64_t project_id, const char *text, int64_t now_ms)
{
    struct db_stmt *st = db_prepare(db, text ? SQL_RULES_SAVE : SQL_RULES_DELETE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    if (text) {
        db_bind_text(st, 2, text, (size_t)-1);
        db_bind_int64(st, 3, now_ms);
    }
    return run(st);
}

int alert_rules_destination_exists(struct db *db, int64_t project_id, int64_t id)
{
    struct db_stmt *st = db_prepare(db, SQL_DEST_EXISTS);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, id);
    int rc = db_step_row(st, 1);
    db_finish(st);
    return rc < 0 ? rc : rc == 0;
}

int releases_list(struct db *db, int64_t project_id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_RELEASES);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    cJSON *rows = cJSON_CreateArray();
    int rc;
    while (rows && (rc = db_step(st)) == DB_ROW) {
        json_push(rows,
                  json_build("{s:o, s:I, s:I, s:I, s:I}", "version",
                             db_col_json_text_or_empty(st, 0), "first_seen",
                             (int64_t)db_col_int64(st, 1), "last_seen",
                             (int64_t)db_col_int64(st, 2), "events", (int64_t)db_col_int64(st, 3),
                             "new_issues", (int64_t)db_col_int64(st, 4)));
    }
    db_finish(st);
    if (!rows) return -ENOMEM;
    if (rc < 0) {
        cJSON_Delete(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

static int delete_by_issue(struct db *db, const char *sql, int64_t issue_id)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    return run(st);
}

static int insert_snooze(struct db *db, int64_t issue_id, const struct issue_snooze_spec *s,
                         int64_t now_ms)
{
    struct db_stmt *st = db_prepare(db, SQL_SNOOZE_INSERT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_text(st, 2, s->kind, (size_t)-1);
    db_bind_int64(st, 3, s->threshold);
    db_bind_int64(st, 4, s->until_ms);
    db_bind_int64(st, 5, s->window_minutes);
    db_bind_int64(st, 6, now_ms);
    return run(st);
}

static int insert_resolution(struct db *db, int64_t project_id, int64_t issue_id,
                             const struct issue_resolution_spec *r, int64_t now_ms)
{
    char *after = NULL;
    if (strcmp(r->kind, "next_release") == 0) {
        struct db_stmt *st = db_prepare(db, SQL_NEWEST_RELEASE);
        if (!st) return -EIO;
        db_bind_int64(st, 1, project_id);
        db_bind_int64(st, 2, issue_id);
        int rc = db_step_row(st, 1);
        if (rc == 0 && db_col_text(st, 0) && !(after = strdup(db_col_text(st, 0)))) rc = -ENOMEM;
        db_finish(st);
        if (rc < 0) return rc;
    }
    struct db_stmt *st = db_prepare(db, SQL_RESOLUTION_INSERT);
    if (!st) {
        free(after);
        return -EIO;
    }
    db_bind_int64(st, 1, issue_id);
    db_bind_text(st, 2, r->kind, (size_t)-1);
    if (r->version)
        db_bind_text(st, 3, r->version, (size_t)-1);
    else
        db_bind_null(st, 3);
    if (after)
        db_bind_text(st, 4, after, (size_t)-1);
    else
        db_bind_null(st, 4);
    db_bind_int64(st, 5, now_ms);
    free(after);
    return run(st);
}

static int set_in_tx(struct db *db, int64_t project_id, int64_t issue_id, const char *status,
                     const struct issue_snooze_spec *snooze,
                     const struct issue_resolution_spec *resolution, int64_t now_ms)
{
    struct db_stmt *st = db_prepare(db, SQL_STATUS);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    db_bind_text(st, 3, status, (size_t)-1);
    int rc = db_step(st);
    int64_t changed = rc < 0 ? 0 : db_changes(st);
    db_finish(st);
    if (rc < 0) return rc;
    if (changed == 0) return -ENOENT;
    rc = delete_by_issue(db, SQL_SNOOZE_DELETE, issue_id);
    if (rc == 0) rc = delete_by_issue(db, SQL_RESOLUTION_DELETE, issue_id);
    if (rc == 0 && snooze && snooze->kind) rc = insert_snooze(db, issue_id, snooze, now_ms);
    if (rc == 0 && resolution && resolution->kind)
        rc = insert_resolution(db, project_id, issue_id, resolution, now_ms);
    return rc;
}

int issue_triage_set(struct db *db, int64_t project_id, int64_t issue_id, const char *status,
                     const struct issue_snooze_spec *snooze,
                     const struct issue_resolution_spec *resolution)
{
    int64_t now_ms = clock_wall_ms();
    int rc = db_begin(db);
    if (rc != 0) return rc;
    rc = set_in_tx(db, project_id, issue_id, status, snooze, resolution, now_ms);
    if (rc == 0) return db_commit(db);
    db_rollback(db);
    return rc;
}

int issue_triage_set_bulk(struct db *db, int64_t project_id, const int64_t *ids, size_t n,
                          const char *status, const struct issue_snooze_spec *snooze,
                          const struct issue_resolution_spec *resolution, int64_t *updated)
{
    int64_t now_ms = clock_wall_ms();
    *updated = 0;
    int rc = db_begin(db);
    if (rc != 0) return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = set_in_tx(db, project_id, ids[i], status, snooze, resolution, now_ms);
        if (rc == 0) ++*updated;
        if (rc == -ENOENT) rc = 0; /* not in the project: skipped, not counted */
    }
    if (rc == 0) rc = db_commit(db);
    if (rc == 0) return 0;
    db_rollback(db);
    *updated = 0;
    return rc;
}

static const char SQL_SNOOZE_CLEAR[] =
    "DELETE FROM issue_snoozes WHERE issue_id IN (SELECT id FROM issues WHERE project_id = $1"
    " AND id = $2)";
static const char SQL_RESOLUTION_CLEAR[] =
    "DELETE FROM issue_resolutions WHERE issue_id IN (SELECT id FROM issues WHERE"
    " project_id = $1 AND id = $2)";

int issue_triage_clear(struct db *db, int64_t project_id, int64_t issue_id)
{
    const char *sqls[] = {SQL_SNOOZE_CLEAR, SQL_RESOLUTION_CLEAR};
    for (size_t i = 0; i < 2; i++) {
        struct db_stmt *st = db_prepare(db, sqls[i]);
        if (!st) return -EIO;
        db_bind_int64(st, 1, project_id);
        db_bind_int64(st, 2, issue_id);
        int rc = run(st);
        if (rc != 0) return rc;
    }
    return 0;
}

static int describe_snooze(struct db *db, int64_t issue_id, cJSON *issue)
{
    struct db_stmt *st = db_prepare(db, SQL_SNOOZE_DESCRIBE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    int rc = db_step_row(st, 1);
    if (rc == 0) {
        const char *kind = db_col_text(st, 0);
        cJSON *until = cJSON_CreateObject();
        if (kind && strcmp(kind, "until") == 0)
            json_set(until, "until", json_new_int(db_col_int64(st, 2)));
        else if (kind && strcmp(kind, "rate") == 0) {
            json_set(until, "rate", json_new_int(db_col_int64(st, 1)));
            json_set(until, "window_minutes", json_new_int(db_col_int64(st, 3)));
        } else if (kind)
            json_set(until, kind, json_new_int(db_col_int64(st, 1)));
        json_set(issue, "ignore_until", until);
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}

static int describe_resolution(struct db *db, int64_t issue_id, cJSON *issue)
{
    struct db_stmt *st = db_prepare(db, SQL_RESOLUTION_DESCRIBE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    int rc = db_step_row(st, 1);
    if (rc == 0) {
        const char *kind = db_col_text(st, 0);
        bool next = kind && strcmp(kind, "next_release") == 0;
        json_set(issue, "resolved_in",
                 next ? cJSON_CreateString("next_release") : db_col_json_text(st, 1));
        if (next) json_set(issue, "resolved_after_release", db_col_json_text(st, 2));
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int issue_triage_describe(struct db *db, cJSON *issue)
{
    int64_t id = json_i64(json_get(issue, "id"));
    int rc = describe_snooze(db, id, issue);
    return rc == 0 ? describe_resolution(db, id, issue) : rc;
}
