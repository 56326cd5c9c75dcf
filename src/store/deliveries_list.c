/* The admin listing of alerts with their deliveries and attempts: three
 * queries for a page (alerts, their deliveries, their attempts), joined in
 * memory by id. */
#include "store/deliveries.h"

#include <errno.h>
#include <stdio.h>
#include "store/store.h"

static cJSON *col_int(struct db_stmt *st, int col)
{
    return db_col_is_null(st, col) ? cJSON_CreateNull() : json_new_int(db_col_int64(st, col));
}

static int finish(struct db_stmt *st, int rc)
{
    db_finish(st);
    return rc == DB_DONE ? 0 : (rc < 0 ? rc : -EIO);
}

/* The statement with $1, $2, $3 bound to a, b, c; NULL on error. */
static struct db_stmt *prepare_bound(struct db *db, const char *sql, int64_t a, int64_t b,
                                     int64_t c)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (st && (db_bind_int64(st, 1, a) || db_bind_int64(st, 2, b) || db_bind_int64(st, 3, c)))
        return NULL;
    return st;
}

/* id → object maps use the decimal id as key. */
static void key_of(int64_t id, char buf[24])
{
    snprintf(buf, 24, "%lld", (long long)id);
}

static int load_alerts(struct db *db, int64_t project_id, int64_t before_id, int limit, cJSON *list,
                       cJSON *by_id)
{
    static const char SQL[] =
        "SELECT a.id, a.issue_id, a.kind, a.created_at, i.title FROM alerts a "
        "JOIN issues i ON i.id = a.issue_id WHERE a.project_id = $1 AND a.id < $2 "
        "ORDER BY a.id DESC LIMIT $3";
    struct db_stmt *st =
        prepare_bound(db, SQL, project_id, before_id > 0 ? before_id : INT64_MAX, limit);
    if (!st) return -EIO;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        cJSON *a = json_build("{s:I, s:I, s:o, s:I, s:o, s:[]}", "id", (int64_t)db_col_int64(st, 0),
                              "issue_id", (int64_t)db_col_int64(st, 1), "kind",
                              db_col_json_text(st, 2), "created_at", (int64_t)db_col_int64(st, 3),
                              "issue_title", db_col_json_text(st, 4), "deliveries");
        char key[24];
        key_of(db_col_int64(st, 0), key);
        if (!a) {
            store_row_skipped("alerts", (long long)db_col_int64(st, 0));
            continue;
        }
        if (json_push(list, a) < 0 || !cJSON_AddItemReferenceToObject(by_id, key, a)) {
            db_finish(st);
            return -ENOMEM;
        }
    }
    return finish(st, rc);
}

static int load_deliveries(struct db *db, int64_t project_id, int64_t lo, int64_t hi,
                           cJSON *alerts_by_id, cJSON *by_id)
{
    static const char SQL[] =
        "SELECT d.id, d.alert_id, d.destination_id, t.name, t.type, d.status, d.attempts, "
        "d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.updated_at "
        "FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
        "JOIN destinations t ON t.id = d.destination_id "
        "WHERE a.project_id = $1 AND d.alert_id >= $2 AND d.alert_id <= $3 ORDER BY d.id";
    struct db_stmt *st = prepare_bound(db, SQL, project_id, lo, hi);
    if (!st) return -EIO;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        char akey[24], dkey[24];
        key_of(db_col_int64(st, 1), akey);
        cJSON *alert = json_get(alerts_by_id, akey);
        if (!alert) continue;
        cJSON *d = json_build(
            "{s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:I, s:I, s:[]}", "id",
            (int64_t)db_col_int64(st, 0), "destination_id", (int64_t)db_col_int64(st, 2),
            "destination_name", db_col_json_text(st, 3), "destination_type",
            db_col_json_text(st, 4), "status", db_col_json_text(st, 5), "attempt_count",
            (int64_t)db_col_int64(st, 6), "next_attempt_at", (int64_t)db_col_int64(st, 7),
            "last_status", col_int(st, 8), "last_error", db_col_json_text(st, 9), "created_at",
            (int64_t)db_col_int64(st, 10), "updated_at", (int64_t)db_col_int64(st, 11), "attempts");
        key_of(db_col_int64(st, 0), dkey);
        if (!d) {
            store_row_skipped("deliveries", (long long)db_col_int64(st, 0));
            continue;
        }
        if (json_push(json_get(alert, "deliveries"), d) < 0 ||
            !cJSON_AddItemReferenceToObject(by_id, dkey, d)) {
            db_finish(st);
            return -ENOMEM;
        }
    }
    return finish(st, rc);
}

static int load_attempts(struct db *db, int64_t project_id, int64_t lo, int64_t hi,
                         cJSON *deliveries_by_id)
{
    static const char SQL[] =
        "SELECT x.delivery_id, x.attempted_at, x.status_code, x.error, x.duration_ms "
        "FROM delivery_attempts x JOIN deliveries d ON d.id = x.delivery_id "
        "JOIN alerts a ON a.id = d.alert_id "
        "WHERE a.project_id = $1 AND d.alert_id >= $2 AND d.alert_id <= $3 ORDER BY x.id";
    struct db_stmt *st = prepare_bound(db, SQL, project_id, lo, hi);
    if (!st) return -EIO;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        char key[24];
        key_of(db_col_int64(st, 0), key);
        cJSON *d = json_get(deliveries_by_id, key);
        if (!d) continue;
        cJSON *x = json_build("{s:I, s:o, s:o, s:I}", "attempted_at", (int64_t)db_col_int64(st, 1),
                              "status_code", col_int(st, 2), "error", db_col_json_text(st, 3),
                              "duration_ms", (int64_t)db_col_int64(st, 4));
        if (!x) {
            store_row_skipped("delivery_attempts", (long long)db_col_int64(st, 0));
            continue;
        }
        if (json_push(json_get(d, "attempts"), x) < 0) {
            db_finish(st);
            return -ENOMEM;
        }
    }
    return finish(st, rc);
}

int deliveries_list_alerts(struct db *db, int64_t project_id, int64_t before_id, int limit,
                           cJSON **out)
{
    cJSON *list = cJSON_CreateArray(), *alerts_by_id = cJSON_CreateObject(),
          *deliveries_by_id = cJSON_CreateObject();
    int rc = -ENOMEM;
    if (!list || !alerts_by_id || !deliveries_by_id) goto fail;
    rc = load_alerts(db, project_id, before_id, limit, list, alerts_by_id);
    if (rc < 0) goto fail;
    size_t n = json_size(list);
    if (n > 0) {
        /* Newest first: the page spans [last id, first id]. */
        int64_t hi = json_i64(json_get(json_at(list, 0), "id"));
        int64_t lo = json_i64(json_get(json_at(list, n - 1), "id"));
        rc = load_deliveries(db, project_id, lo, hi, alerts_by_id, deliveries_by_id);
        if (rc == 0) rc = load_attempts(db, project_id, lo, hi, deliveries_by_id);
        if (rc < 0) goto fail;
    }
    cJSON_Delete(alerts_by_id);
    cJSON_Delete(deliveries_by_id);
    *out = list;
    return 0;
fail:
    cJSON_Delete(list);
    cJSON_Delete(alerts_by_id);
    cJSON_Delete(deliveries_by_id);
    return rc;
}
