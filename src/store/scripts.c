/* store/scripts — the scripts table and projects.active_script_version. */
#include "store/scripts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "store/store.h"

static int copy_text(struct db_stmt *st, int col, char **out, size_t *len_out)
{
    const char *text = db_col_text(st, col);
    size_t len = text ? strlen(text) : 0;
    char *copy = malloc(len + 1);
    if (!copy) return -ENOMEM;
    memcpy(copy, text ? text : "", len + 1);
    *out = copy;
    if (len_out) *len_out = len;
    return 0;
}

int scripts_create_version(struct db *db, int64_t project_id, const char *source, size_t len,
                           int64_t *version_out)
{
    struct db_stmt *st = db_prepare(
        db, "INSERT INTO scripts (project_id, version, source, created_at) "
            "SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3 FROM scripts WHERE project_id = $1 "
            "RETURNING version");
    if (!st) return -EIO;
    if (db_bind_int64(st, 1, project_id) || db_bind_text(st, 2, source, len) ||
        db_bind_int64(st, 3, clock_wall_ms()))
        return -EIO;
    int rc = db_step_row(st, -EIO);
    if (rc == 0) {
        *version_out = db_col_int64(st, 0);
    }
    db_finish(st);
    return rc;
}

int scripts_get_version(struct db *db, int64_t project_id, int64_t version, char **source_out,
                        size_t *len_out)
{
    struct db_stmt *st =
        db_prepare(db, "SELECT source FROM scripts WHERE project_id = $1 AND version = $2");
    if (!st) return -EIO;
    if (db_bind_int64(st, 1, project_id) || db_bind_int64(st, 2, version)) return -EIO;
    int rc = db_step(st);
    if (rc == DB_ROW)
        rc = copy_text(st, 0, source_out, len_out);
    else if (rc == DB_DONE)
        rc = -ENOENT;
    db_finish(st);
    return rc;
}

int scripts_get_active(struct db *db, int64_t project_id, int64_t *version_out, char **source_out,
                       size_t *len_out)
{
    struct db_stmt *st = db_prepare(
        db, "SELECT p.active_script_version, s.source FROM projects p "
            "LEFT JOIN scripts s ON s.project_id = p.id AND s.version = p.active_script_version "
            "WHERE p.id = $1");
    if (!st) return -EIO;
    if (db_bind_int64(st, 1, project_id)) return -EIO;
    *version_out = 0;
    *source_out = NULL;
    if (len_out) *len_out = 0;
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        if (!db_col_is_null(st, 0) && !db_col_is_null(st, 1)) {
            *version_out = db_col_int64(st, 0);
            rc = copy_text(st, 1, source_out, len_out);
        }
    }
    db_finish(st);
    return rc;
}

int scripts_set_active(struct db *db, int64_t project_id, int64_t version)
{
    struct db_stmt *st;
    if (version > 0) {
        st = db_prepare(
            db, "UPDATE projects SET active_script_version = $2 WHERE id = $1 "
                "AND EXISTS (SELECT 1 FROM scripts WHERE project_id = $1 AND version = $2)");
        if (!st || db_bind_int64(st, 1, project_id) || db_bind_int64(st, 2, version)) return -EIO;
    } else {
        st = db_prepare(db, "UPDATE projects SET active_script_version = NULL WHERE id = $1");
        if (!st || db_bind_int64(st, 1, project_id)) return -EIO;
    }
    int rc = db_step(st);
    if (rc == DB_DONE) rc = db_changes(st) == 1 ? 0 : -ENOENT;
    db_finish(st);
    return rc;
}

int scripts_list_versions(struct db *db, int64_t project_id, cJSON **out)
{
    struct db_stmt *st =
        db_prepare(db, "SELECT s.version, s.created_at, LENGTH(s.source), "
                       "CASE WHEN p.active_script_version = s.version THEN 1 ELSE 0 END "
                       "FROM scripts s JOIN projects p ON p.id = s.project_id "
                       "WHERE s.project_id = $1 ORDER BY s.version DESC");
    if (!st || db_bind_int64(st, 1, project_id)) return -EIO;
    cJSON *list = cJSON_CreateArray();
    if (!list) return -ENOMEM;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        cJSON *row = json_build("{s:I, s:I, s:I, s:b}", "version", (int64_t)db_col_int64(st, 0),
                                "created_at", (int64_t)db_col_int64(st, 1), "size",
                                (int64_t)db_col_int64(st, 2), "active", (int)db_col_int64(st, 3));
        if (!row || json_push(list, row) != 0) {
            rc = -ENOMEM;
            break;
        }
    }
    db_finish(st);
    if (rc != DB_DONE) {
        cJSON_Delete(list);
        return rc < 0 ? rc : -EIO;
    }
    *out = list;
    return 0;
}

int scripts_for_each_active(struct db *db, scripts_active_fn fn, void *ctx)
{
    struct db_stmt *st = db_prepare(
        db, "SELECT p.id, p.active_script_version, s.source FROM projects p "
            "JOIN scripts s ON s.project_id = p.id AND s.version = p.active_script_version "
            "ORDER BY p.id");
    if (!st) return -EIO;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *source = db_col_text(st, 2);
        rc = fn(ctx, db_col_int64(st, 0), db_col_int64(st, 1), source ? source : "",
                source ? strlen(source) : 0);
        if (rc != 0) break;
    }
    db_finish(st);
    return rc == DB_DONE ? 0 : rc;
}
