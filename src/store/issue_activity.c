/* store/issue_activity — see issue_activity.h. */
#include "store/issue_activity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static const char SQL_ADD[] =
    "INSERT INTO issue_activity (project_id, issue_id, kind, user_id, text, data, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

static const char SQL_ISSUE_EXISTS[] = "SELECT id FROM issues WHERE project_id = $1 AND id = $2";

/* The newest ISSUE_ACTIVITY_MAX, put back in order by the caller. */
static const char SQL_LIST[] =
    "SELECT id, kind, user_id, text, data, created_at FROM issue_activity WHERE issue_id = $1"
    " ORDER BY id DESC LIMIT $2";

static const char SQL_SPLITS[] =
    "SELECT data FROM issue_activity WHERE issue_id = $1 AND kind = $2";

static const char SQL_ASSIGN[] =
    "UPDATE issues SET assignee_id = $3 WHERE project_id = $1 AND id = $2";

static int add(struct db *db, int64_t project_id, int64_t issue_id, const char *kind,
               int64_t user_id, const char *text, const cJSON *data, int64_t now_ms, int64_t *id)
{
    char *data_text = json_print(data ? data : cJSON_CreateObject(), 0);
    if (!data_text) return -ENOMEM;
    struct db_stmt *st = db_prepare(db, SQL_ADD);
    int rc = -EIO;
    if (st) {
        db_bind_int64(st, 1, project_id);
        db_bind_int64(st, 2, issue_id);
        db_bind_text(st, 3, kind, (size_t)-1);
        if (user_id > 0)
            db_bind_int64(st, 4, user_id);
        else
            db_bind_null(st, 4);
        db_bind_text(st, 5, text ? text : "", (size_t)-1);
        db_bind_text(st, 6, data_text, (size_t)-1);
        db_bind_int64(st, 7, now_ms);
        rc = db_step_row(st, -EIO);
        if (rc == 0 && id) *id = db_col_int64(st, 0);
        db_finish(st);
    }
    free(data_text);
    return rc;
}

int issue_activity_add(struct db *db, int64_t project_id, int64_t issue_id, const char *kind,
                       int64_t user_id, const char *text, const cJSON *data, int64_t now_ms)
{
    return add(db, project_id, issue_id, kind, user_id, text, data, now_ms, NULL);
}

static int issue_exists(struct db *db, int64_t project_id, int64_t issue_id)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_EXISTS);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    int rc = db_step_row(st, -ENOENT);
    db_finish(st);
    return rc;
}

static cJSON *row_json(int64_t id, const char *kind, int64_t user_id, const char *text, cJSON *data,
                       int64_t created_at)
{
    return json_build("{s:I, s:s, s:o, s:s, s:o, s:I}", "id", (int64_t)id, "kind", kind, "user_id",
                      user_id > 0 ? json_new_int(user_id) : cJSON_CreateNull(), "text", text,
                      "data", data ? data : cJSON_CreateObject(), "created_at",
                      (int64_t)created_at);
}

int issue_activity_comment(struct db *db, int64_t project_id, int64_t issue_id, int64_t user_id,
                           const char *text, int64_t now_ms, cJSON **out)
{
    int64_t id = 0;
    int rc = issue_exists(db, project_id, issue_id);
    if (rc == 0) rc = add(db, project_id, issue_id, "comment", user_id, text, NULL, now_ms, &id);
    if (rc != 0) return rc;
    *out = row_json(id, "comment", user_id, text, NULL, now_ms);
    return *out ? 0 : -ENOMEM;
}

int issue_activity_list(struct db *db, int64_t issue_id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_LIST);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, ISSUE_ACTIVITY_MAX);
    cJSON *rows = cJSON_CreateArray();
    int rc;
    while (rows && (rc = db_step(st)) == DB_ROW) {
        const char *data_text = db_col_text(st, 4);
        cJSON *data = data_text ? json_parse_text(data_text) : NULL;
        cJSON *text = db_col_json_text_or_empty(st, 3);
        cJSON *row = row_json(db_col_int64(st, 0), db_col_text(st, 1) ? db_col_text(st, 1) : "",
                              db_col_int64(st, 2), "", data, db_col_int64(st, 5));
        if (row)
            json_set(row, "text", text);
        else
            cJSON_Delete(text);
        if (row && !cJSON_InsertItemInArray(rows, 0, row)) cJSON_Delete(row);
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

int issue_activity_users_upper_bound(struct db *db, int64_t issue_id, bool *out)
{
    struct db_stmt *st = db_prepare(db, SQL_SPLITS);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_text(st, 2, "unmerged", (size_t)-1);
    *out = false;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *text = db_col_text(st, 0);
        cJSON *data = text ? json_parse_text(text) : NULL;
        const cJSON *to = data ? json_get(data, "to_issue") : NULL;
        /* The issue made by the split has its users counted afresh. */
        if (to && json_is_int(to) && json_i64(to) != issue_id) *out = true;
        cJSON_Delete(data);
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int issue_assign(struct db *db, int64_t project_id, int64_t issue_id, int64_t assignee_id,
                 int64_t user_id, int64_t now_ms)
{
    int rc = db_begin(db);
    if (rc != 0) return rc;
    struct db_stmt *st = db_prepare(db, SQL_ASSIGN);
    rc = st ? 0 : -EIO;
    if (st) {
        db_bind_int64(st, 1, project_id);
        db_bind_int64(st, 2, issue_id);
        if (assignee_id > 0)
            db_bind_int64(st, 3, assignee_id);
        else
            db_bind_null(st, 3);
        rc = db_step(st);
        rc = rc < 0 ? rc : db_changes(st) > 0 ? 0 : -ENOENT;
        db_finish(st);
    }
    cJSON *data = json_build("{s:o}", "assignee_id",
                             assignee_id > 0 ? json_new_int(assignee_id) : cJSON_CreateNull());
    if (rc == 0) rc = data ? 0 : -ENOMEM;
    if (rc == 0)
        rc = issue_activity_add(db, project_id, issue_id, "assigned", user_id, "", data, now_ms);
    cJSON_Delete(data);
    if (rc == 0) rc = db_commit(db);
    if (rc != 0) db_rollback(db);
    return rc;
}
