/* store/project_scrub — scrubbing settings columns of projects. */
#include "store/project_scrub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_GET[] = "SELECT " PROJECT_SCRUB_COLUMNS " FROM projects p WHERE p.id = $1";
static const char SQL_SET[] = "UPDATE projects SET scrub_enabled = $2, scrub_ip_addresses = $3,"
                              " scrub_sensitive_fields = $4, scrub_safe_fields = $5 WHERE id = $1";
static const char SQL_NOT_DEFAULT[] =
    "SELECT p.id, " PROJECT_SCRUB_COLUMNS " FROM projects p"
    " WHERE p.scrub_enabled <> 1 OR p.scrub_ip_addresses <> 0"
    " OR p.scrub_sensitive_fields <> '' OR p.scrub_safe_fields <> '' ORDER BY p.id";

int project_scrub_from_row(struct db_stmt *st, int col, struct scrub_settings *out)
{
    scrub_settings_default(out);
    out->enabled = db_col_int64(st, col) != 0;
    out->scrub_ip_addresses = db_col_int64(st, col + 1) != 0;
    if (scrub_list_split(db_col_text(st, col + 2), out->sensitive, &out->n_sensitive) != 0 ||
        scrub_list_split(db_col_text(st, col + 3), out->safe, &out->n_safe) != 0)
        return -EIO;
    return 0;
}

int project_scrub_get(struct db *db, int64_t project_id, struct scrub_settings *out)
{
    struct db_stmt *st = db_prepare(db, SQL_GET);
    if (!st) return -EIO;
    int rc = db_bind_int64(st, 1, project_id);
    if (rc == 0) rc = db_step_row(st, -ENOENT);
    if (rc == 0) rc = project_scrub_from_row(st, 0, out);
    db_finish(st);
    return rc;
}

int project_scrub_set(struct db *db, int64_t project_id, const struct scrub_settings *s)
{
    char sensitive[SCRUB_LIST_TEXT_MAX], safe[SCRUB_LIST_TEXT_MAX];
    scrub_list_join(s->sensitive, s->n_sensitive, sensitive);
    scrub_list_join(s->safe, s->n_safe, safe);
    struct db_stmt *st = db_prepare(db, SQL_SET);
    if (!st) return -EIO;
    int rc;
    if ((rc = db_bind_int64(st, 1, project_id)) || (rc = db_bind_int64(st, 2, s->enabled)) ||
        (rc = db_bind_int64(st, 3, s->scrub_ip_addresses)) ||
        (rc = db_bind_text(st, 4, sensitive, strlen(sensitive))) ||
        (rc = db_bind_text(st, 5, safe, strlen(safe))))
        return rc;
    while ((rc = db_step(st)) == DB_ROW)
        ;
    if (rc < 0) return rc;
    return db_changes(st) > 0 ? 0 : -ENOENT;
}

int project_scrub_for_each(struct db *db, project_scrub_fn fn, void *ctx)
{
    struct db_stmt *st = db_prepare(db, SQL_NOT_DEFAULT);
    if (!st) return -EIO;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct scrub_settings s;
        int64_t id = db_col_int64(st, 0);
        if ((rc = project_scrub_from_row(st, 1, &s)) != 0 || (rc = fn(ctx, id, &s)) != 0) break;
    }
    db_finish(st);
    return rc; /* DB_DONE (0), an error, or fn's result */
}
