/* activity — who changed what, for both backends (contract in activity.h). */
#include "store/activity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "store/store.h"

static const char SQL_ACTIVITY_INSERT[] =
    "INSERT INTO activity (at, actor_type, actor_id, actor_name, project_id, action,"
    " target_type, target_id, changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_ACTIVITY_LIST[] =
    "SELECT id, at, actor_type, actor_id, actor_name, project_id, action, target_type,"
    " target_id, changes FROM activity"
    " WHERE (CAST($1 AS BIGINT) = 0 OR project_id = $1)"
    " AND (CAST($2 AS TEXT) IS NULL OR (target_type = $2 AND target_id = $3))"
    " AND (CAST($4 AS BIGINT) = 0 OR id < $4) ORDER BY id DESC LIMIT $5";

static int bind_entry(struct db_stmt *st, const struct activity_entry *e, const char *changes)
{
    int rc;
    if ((rc = db_bind_int64(st, 1, clock_wall_ms())) ||
        (rc = db_bind_text(st, 2, e->actor_type, (size_t)-1)) ||
        (rc = e->actor_id ? db_bind_int64(st, 3, e->actor_id) : db_bind_null(st, 3)) ||
        (rc = db_bind_text(st, 4, e->actor_name ? e->actor_name : "", (size_t)-1)) ||
        (rc = e->project_id ? db_bind_int64(st, 5, e->project_id) : db_bind_null(st, 5)) ||
        (rc = db_bind_text(st, 6, e->action, (size_t)-1)) ||
        (rc = db_bind_text(st, 7, e->target_type ? e->target_type : "", (size_t)-1)) ||
        (rc = db_bind_text(st, 8, e->target_id ? e->target_id : "", (size_t)-1)))
        return rc;
    return db_bind_text(st, 9, changes, (size_t)-1);
}

int activity_add(struct db *db, const struct activity_entry *e)
{
    char *changes = e->changes ? json_print(e->changes, JSON_PRINT_SORT) : NULL;
    const char *text = changes ? changes : "{}";
    if (strlen(text) > ACTIVITY_CHANGES_MAX) text = "{\"truncated\":true}";
    struct db_stmt *st = db_prepare(db, SQL_ACTIVITY_INSERT);
    int rc = st ? bind_entry(st, e, text) : -EIO;
    if (rc == 0)
        while ((rc = db_step(st)) == DB_ROW)
            ;
    free(changes);
    return rc < 0 ? rc : 0;
}

static cJSON *int_or_null(struct db_stmt *st, int col)
{
    return db_col_is_null(st, col) ? cJSON_CreateNull() : json_new_int(db_col_int64(st, col));
}

static cJSON *activity_row(struct db_stmt *st)
{
    const char *changes = db_col_text(st, 9);
    cJSON *parsed = changes ? json_parse_text(changes) : NULL;
    cJSON *o = json_build(
        "{s:I, s:I, s:{s:o, s:o, s:o}, s:o, s:o, s:{s:o, s:o}, s:o}", "id",
        (int64_t)db_col_int64(st, 0), "at", (int64_t)db_col_int64(st, 1), "actor", "type",
        db_col_json_text_or_empty(st, 2), "id", int_or_null(st, 3), "name",
        db_col_json_text_or_empty(st, 4), "project_id", int_or_null(st, 5), "action",
        db_col_json_text_or_empty(st, 6), "target", "type", db_col_json_text_or_empty(st, 7), "id",
        db_col_json_text_or_empty(st, 8), "changes", parsed ? parsed : cJSON_CreateObject());
    return o;
}

int activity_list(struct db *db, const struct activity_query *q, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_ACTIVITY_LIST);
    cJSON *arr = cJSON_CreateArray();
    int rc = st && arr ? 0 : -EIO;
    if (rc == 0 &&
        ((rc = db_bind_int64(st, 1, q->project_id)) ||
         (rc = db_bind_text(st, 2, q->target_type, (size_t)-1)) ||
         (rc = db_bind_text(st, 3, q->target_id, (size_t)-1)) ||
         (rc = db_bind_int64(st, 4, q->before_id)) || (rc = db_bind_int64(st, 5, q->limit))) == 0) {
        while ((rc = db_step(st)) == DB_ROW) {
            cJSON *row = activity_row(st);
            if (row)
                json_push(arr, row);
            else
                store_row_skipped("activity", (long long)db_col_int64(st, 0));
        }
    }
    if (rc < 0) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
