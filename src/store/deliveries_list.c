/* The admin listing of alerts with their deliveries and attempts: three
 * queries for a page (alerts, their deliveries, their attempts), joined in
 * memory by id. */
#include "store/deliveries.h"

#include <errno.h>
#include <stdio.h>
#include "store/store.h"

static json_t *col_int(struct db_stmt *st, int col)
{
    return db_col_is_null(st, col) ? json_null() : json_integer(db_col_int64(st, col));
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

static int load_alerts(struct db *db, int64_t project_id, int64_t before_id, int limit,
                       json_t *list, json_t *by_id)
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
        json_t *a = json_pack(
            "{s:I, s:I, s:o, s:I, s:o, s:[]}", "id", (json_int_t)db_col_int64(st, 0), "issue_id",
            (json_int_t)db_col_int64(st, 1), "kind", db_col_json_text(st, 2), "created_at",
            (json_int_t)db_col_int64(st, 3), "issue_title", db_col_json_text(st, 4), "deliveries");
        char key[24];
        key_of(db_col_int64(st, 0), key);
        if (!a) {
            store_row_skipped("alerts", (long long)db_col_int64(st, 0));
            continue;
        }
        if (json_array_append_new(list, a) < 0 || json_object_set(by_id, key, a) < 0) {
            db_finish(st);
            return -ENOMEM;
        }
    }
    return finish(st, rc);
}

static int load_deliveries(struct db *db, int64_t project_id, int64_t lo, int64_t hi,
                           json_t *alerts_by_id, json_t *by_id)
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
        json_t *alert = json_object_get(alerts_by_id, akey);
        if (!alert) continue;
        json_t *d = json_pack(
            "{s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:I, s:I, s:[]}", "id",
            (json_int_t)db_col_int64(st, 0), "destination_id", (json_int_t)db_col_int64(st, 2),
            "destination_name", db_col_json_text(st, 3), "destination_type",
            db_col_json_text(st, 4), "status", db_col_json_text(st, 5), "attempt_count",
            (json_int_t)db_col_int64(st, 6), "next_attempt_at", (json_int_t)db_col_int64(st, 7),
            "last_status", col_int(st, 8), "last_error", db_col_json_text(st, 9), "created_at",
            (json_int_t)db_col_int64(st, 10), "updated_at", (json_int_t)db_col_int64(st, 11),
            "attempts");
        key_of(db_col_int64(st, 0), dkey);
        if (!d) {
            store_row_skipped("deliveries", (long long)db_col_int64(st, 0));
            continue;
        }
        if (json_array_append_new(json_object_get(alert, "deliveries"), d) < 0 ||
            json_object_set(by_id, dkey, d) < 0) {
            db_finish(st);
            return -ENOMEM;
        }
    }
    return finish(st, rc);
}

static int load_attempts(struct db *db, int64_t project_id, int64_t lo, int64_t hi,
                         json_t *deliveries_by_id)
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
        json_t *d = json_object_get(deliveries_by_id, key);
        if (!d) continue;
        json_t *x =
            json_pack("{s:I, s:o, s:o, s:I}", "attempted_at", (json_int_t)db_col_int64(st, 1),
                      "status_code", col_int(st, 2), "error", db_col_json_text(st, 3),
                      "duration_ms", (json_int_t)db_col_int64(st, 4));
        if (!x) {
            store_row_skipped("delivery_attempts", (long long)db_col_int64(st, 0));
            continue;
        }
        if (json_array_append_new(json_object_get(d, "attempts"), x) < 0) {
            db_finish(st);
            return -ENOMEM;
        }
    }
    return finish(st, rc);
}

int deliveries_list_alerts(struct db *db, int64_t project_id, int64_t before_id, int limit,
                           json_t **out)
{
    json_t *list = json_array(), *alerts_by_id = json_object(), *deliveries_by_id = json_object();
    int rc = -ENOMEM;
    if (!list || !alerts_by_id || !deliveries_by_id) goto fail;
    rc = load_alerts(db, project_id, before_id, limit, list, alerts_by_id);
    if (rc < 0) goto fail;
    size_t n = json_array_size(list);
    if (n > 0) {
        /* Newest first: the page spans [last id, first id]. */
        int64_t hi = json_integer_value(json_object_get(json_array_get(list, 0), "id"));
        int64_t lo = json_integer_value(json_object_get(json_array_get(list, n - 1), "id"));
        rc = load_deliveries(db, project_id, lo, hi, alerts_by_id, deliveries_by_id);
        if (rc == 0) rc = load_attempts(db, project_id, lo, hi, deliveries_by_id);
        if (rc < 0) goto fail;
    }
    json_decref(alerts_by_id);
    json_decref(deliveries_by_id);
    *out = list;
    return 0;
fail:
    json_decref(list);
    json_decref(alerts_by_id);
    json_decref(deliveries_by_id);
    return rc;
}
