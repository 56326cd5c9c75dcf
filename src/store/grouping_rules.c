/* store/grouping_rules — the project_grouping_rules table. */
#include "store/grouping_rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "store/store.h"

int grouping_rules_get(struct db *db, int64_t project_id, char **fingerprint, char **stacktrace,
                       int64_t *updated_ms)
{
    *fingerprint = *stacktrace = NULL;
    struct db_stmt *st = db_prepare(db, "SELECT fingerprint_rules, stacktrace_rules, updated_at "
                                        "FROM project_grouping_rules WHERE project_id = $1");
    if (!st) return -EIO;
    if (db_bind_int64(st, 1, project_id)) return -EIO;
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        const char *fp = db_col_text(st, 0), *stk = db_col_text(st, 1);
        *fingerprint = strdup(fp ? fp : "");
        *stacktrace = strdup(stk ? stk : "");
        if (updated_ms) *updated_ms = db_col_int64(st, 2);
        if (!*fingerprint || !*stacktrace) {
            free(*fingerprint);
            free(*stacktrace);
            *fingerprint = *stacktrace = NULL;
            rc = -ENOMEM;
        }
    }
    db_finish(st);
    return rc;
}

static int project_exists(struct db *db, int64_t project_id)
{
    struct db_stmt *st = db_prepare(db, "SELECT 1 FROM projects WHERE id = $1");
    if (!st) return -EIO;
    if (db_bind_int64(st, 1, project_id)) return -EIO;
    int rc = db_step_row(st, -ENOENT);
    db_finish(st);
    return rc;
}

int grouping_rules_set(struct db *db, int64_t project_id, const char *fingerprint,
                       const char *stacktrace)
{
    int rc = project_exists(db, project_id);
    if (rc != 0) return rc;
    struct db_stmt *st;
    if (fingerprint[0] == '\0' && stacktrace[0] == '\0') {
        st = db_prepare(db, "DELETE FROM project_grouping_rules WHERE project_id = $1");
        if (!st) return -EIO;
        if (db_bind_int64(st, 1, project_id)) return -EIO;
    } else {
        st = db_prepare(db, "INSERT INTO project_grouping_rules "
                            "(project_id, fingerprint_rules, stacktrace_rules, updated_at) "
                            "VALUES ($1, $2, $3, $4) ON CONFLICT (project_id) DO UPDATE SET "
                            "fingerprint_rules = excluded.fingerprint_rules, "
                            "stacktrace_rules = excluded.stacktrace_rules, "
                            "updated_at = excluded.updated_at");
        if (!st) return -EIO;
        if (db_bind_int64(st, 1, project_id) ||
            db_bind_text(st, 2, fingerprint, strlen(fingerprint)) ||
            db_bind_text(st, 3, stacktrace, strlen(stacktrace)) ||
            db_bind_int64(st, 4, clock_wall_ms()))
            return -EIO;
    }
    rc = db_step(st) == DB_DONE ? 0 : -EIO;
    db_finish(st);
    return rc;
}

int grouping_rules_for_each(struct db *db, grouping_rules_fn fn, void *ctx)
{
    struct db_stmt *st = db_prepare(db, "SELECT project_id, fingerprint_rules, stacktrace_rules "
                                        "FROM project_grouping_rules ORDER BY project_id");
    if (!st) return -EIO;
    int rc, step;
    while ((step = db_step(st)) == DB_ROW) {
        const char *fp = db_col_text(st, 1), *stk = db_col_text(st, 2);
        rc = fn(ctx, db_col_int64(st, 0), fp ? fp : "", stk ? stk : "");
        if (rc != 0) {
            db_finish(st);
            return rc;
        }
    }
    rc = step == DB_DONE ? 0 : -EIO;
    db_finish(st);
    return rc;
}
