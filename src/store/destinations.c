#include "store/destinations.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEST_COLUMNS "id, project_id, type, name, enabled, config, created_at"

/* One row of DEST_COLUMNS as a JSON object; NULL on OOM. An unreadable
 * config becomes {} (the admin API only ever stores objects). */
static json_t *dest_row(struct db_stmt *st)
{
    const char *cfg_text = db_col_text(st, 5);
    json_t *cfg = cfg_text ? json_loads(cfg_text, 0, NULL) : NULL;
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        cfg = json_object();
    }
    return json_pack(
        "{s:I, s:I, s:s, s:s, s:b, s:o, s:I}", "id", (json_int_t)db_col_int64(st, 0), "project_id",
        (json_int_t)db_col_int64(st, 1), "type", db_col_text(st, 2) ? db_col_text(st, 2) : "",
        "name", db_col_text(st, 3) ? db_col_text(st, 3) : "", "enabled", db_col_int64(st, 4) != 0,
        "config", cfg, "created_at", (json_int_t)db_col_int64(st, 6));
}

static int step_err(int rc)
{
    return rc < 0 ? rc : -EIO;
}

int destinations_create(struct db *db, int64_t project_id, const char *type, const char *name,
                        int enabled, const json_t *config, long long now, int64_t *id_out)
{
    static const char SQL[] =
        "INSERT INTO destinations (project_id, type, name, enabled, config, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    char *cfg = json_dumps(config, JSON_COMPACT);
    if (!cfg) return -ENOMEM;
    struct db_stmt *st = db_prepare(db, SQL);
    int rc = -EIO;
    if (!st) goto done;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, type, (size_t)-1);
    db_bind_text(st, 3, name, (size_t)-1);
    db_bind_int64(st, 4, enabled ? 1 : 0);
    db_bind_text(st, 5, cfg, (size_t)-1);
    db_bind_int64(st, 6, now);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *id_out = db_col_int64(st, 0);
        rc = 0;
    } else {
        rc = step_err(rc);
    }
    db_finish(st);
done:
    free(cfg);
    return rc;
}

int destinations_get(struct db *db, int64_t project_id, int64_t id, json_t **out)
{
    static const char SQL_ANY[] = "SELECT " DEST_COLUMNS " FROM destinations WHERE id = $1";
    static const char SQL_PROJECT[] =
        "SELECT " DEST_COLUMNS " FROM destinations WHERE id = $1 AND project_id = $2";
    struct db_stmt *st = db_prepare(db, project_id ? SQL_PROJECT : SQL_ANY);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    if (project_id) db_bind_int64(st, 2, project_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *out = dest_row(st);
        rc = *out ? 0 : -ENOMEM;
    } else {
        rc = rc == DB_DONE ? -ENOENT : rc;
    }
    db_finish(st);
    return rc;
}

int destinations_list(struct db *db, int64_t project_id, int64_t after_id, int limit, json_t **out)
{
    static const char SQL[] = "SELECT " DEST_COLUMNS " FROM destinations "
                              "WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3";
    struct db_stmt *st = db_prepare(db, SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, after_id);
    db_bind_int64(st, 3, limit);
    json_t *rows = json_array();
    int rc;
    while (rows && (rc = db_step(st)) == DB_ROW) {
        json_t *row = dest_row(st);
        if (!row || json_array_append_new(rows, row) < 0) {
            rc = -ENOMEM;
            break;
        }
    }
    db_finish(st);
    if (!rows) return -ENOMEM;
    if (rc != DB_DONE) {
        json_decref(rows);
        return rc < 0 ? rc : -EIO;
    }
    *out = rows;
    return 0;
}

int destinations_update(struct db *db, int64_t project_id, int64_t id, const char *name,
                        int enabled, const json_t *config)
{
    /* COALESCE keeps a column whose new value is bound NULL. */
    static const char SQL[] = "UPDATE destinations SET name = COALESCE($3, name), "
                              "enabled = COALESCE($4, enabled), config = COALESCE($5, config) "
                              "WHERE id = $1 AND project_id = $2";
    char *cfg = config ? json_dumps(config, JSON_COMPACT) : NULL;
    if (config && !cfg) return -ENOMEM;
    struct db_stmt *st = db_prepare(db, SQL);
    int rc = -EIO;
    if (!st) goto done;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, project_id);
    if (name)
        db_bind_text(st, 3, name, (size_t)-1);
    else
        db_bind_null(st, 3);
    if (enabled >= 0)
        db_bind_int64(st, 4, enabled ? 1 : 0);
    else
        db_bind_null(st, 4);
    if (cfg)
        db_bind_text(st, 5, cfg, (size_t)-1);
    else
        db_bind_null(st, 5);
    rc = db_step(st);
    if (rc == DB_DONE)
        rc = db_changes(st) > 0 ? 0 : -ENOENT;
    else
        rc = step_err(rc);
    db_finish(st);
done:
    free(cfg);
    return rc;
}

int destinations_delete(struct db *db, int64_t project_id, int64_t id)
{
    static const char SQL[] = "DELETE FROM destinations WHERE id = $1 AND project_id = $2";
    struct db_stmt *st = db_prepare(db, SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, project_id);
    int rc = db_step(st);
    if (rc == DB_DONE)
        rc = db_changes(st) > 0 ? 0 : -ENOENT;
    else
        rc = step_err(rc);
    db_finish(st);
    return rc;
}
