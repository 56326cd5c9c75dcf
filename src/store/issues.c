/* issues — see issues.h. */
#include "store/issues.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/issues_internal.h"
#include "store/store.h"

static const char SQL_GET[] = "SELECT " ISSUE_COLS " FROM issues WHERE project_id = $1 AND id = $2";

static const char SQL_SET_STATUS[] =
    "UPDATE issues SET status = $3 WHERE project_id = $1 AND id = $2";

/* The hourly counts the writer's counter flush keeps (store/counters.h);
 * $2 is an hour's start, so each row is one bucket. */
static const char SQL_HISTOGRAM[] =
    "SELECT (hour - $2) / 3600000 AS bucket, events FROM issue_hourly"
    " WHERE issue_id = $1 AND hour >= $2 AND hour < $3";

cJSON *issues_row_json(struct db_stmt *st)
{
    cJSON *row = json_build(
        "{s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o}", "id", (int64_t)db_col_int64(st, 0),
        "project_id", (int64_t)db_col_int64(st, 1), "title", db_col_json_text_or_empty(st, 2),
        "culprit", db_col_json_text_or_empty(st, 3), "level", db_col_json_text_or_empty(st, 4),
        "status", db_col_json_text_or_empty(st, 5), "first_seen", (int64_t)db_col_int64(st, 6),
        "last_seen", (int64_t)db_col_int64(st, 7), "count", (int64_t)db_col_int64(st, 8), "hash",
        db_col_json_text_or_empty(st, 9));
    if (row) {
        json_set(row, "assignee_id",
                 db_col_is_null(st, 10) ? cJSON_CreateNull() : json_new_int(db_col_int64(st, 10)));
        json_set(row, "user_count", json_new_int(db_col_int64(st, 11)));
        json_set(row, "first_release", db_col_json_text(st, 12));
        json_set(row, "last_release", db_col_json_text(st, 13));
    }
    return row;
}

int64_t issues_sort_key(const cJSON *row, enum issue_sort sort)
{
    const char *name = sort == ISSUE_SORT_FIRST_SEEN   ? "first_seen"
                       : sort == ISSUE_SORT_TIMES_SEEN ? "count"
                       : sort == ISSUE_SORT_USERS      ? "user_count"
                                                       : "last_seen";
    return json_i64(json_get(row, name));
}

int issues_get(struct db *db, int64_t project_id, int64_t issue_id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_GET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        *out = issues_row_json(st);
        rc = *out ? 0 : -ENOMEM;
    }
    db_finish(st);
    return rc;
}

bool issues_status_valid(const char *status)
{
    return status && (strcmp(status, "unresolved") == 0 || strcmp(status, "resolved") == 0 ||
                      strcmp(status, "ignored") == 0);
}

/* 1 updated, 0 no such issue, negative on error. */
static int set_status(struct db *db, int64_t project_id, int64_t issue_id, const char *status)
{
    struct db_stmt *st = db_prepare(db, SQL_SET_STATUS);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    db_bind_text(st, 3, status, (size_t)-1);
    int rc = db_step(st);
    return rc < 0 ? rc : db_changes(st) > 0;
}

int issues_set_status(struct db *db, int64_t project_id, int64_t issue_id, const char *status)
{
    if (!issues_status_valid(status)) return -EINVAL;
    int rc = set_status(db, project_id, issue_id, status);
    return rc < 0 ? rc : rc == 1 ? 0 : -ENOENT;
}

int issues_set_status_bulk(struct db *db, int64_t project_id, const int64_t *ids, size_t n,
                           const char *status, int64_t *updated)
{
    if (!issues_status_valid(status) || n > ISSUES_BULK_MAX) return -EINVAL;
    *updated = 0;
    int rc = db_begin(db);
    if (rc < 0) return rc;
    for (size_t i = 0; i < n; i++) {
        rc = set_status(db, project_id, ids[i], status);
        if (rc < 0) goto fail;
        *updated += rc;
    }
    rc = db_commit(db);
    if (rc < 0) goto fail;
    return 0;
fail:
    db_rollback(db);
    *updated = 0;
    return rc;
}

int issues_histogram(struct db *db, int64_t issue_id, int64_t now_ms, cJSON **out)
{
    const int64_t hour = 3600000;
    int64_t counts[ISSUES_HISTOGRAM_HOURS] = {0};
    int64_t end = (now_ms / hour + 1) * hour;
    int64_t start = end - ISSUES_HISTOGRAM_HOURS * hour;
    struct db_stmt *st = db_prepare(db, SQL_HISTOGRAM);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, start);
    db_bind_int64(st, 3, end);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t b = db_col_int64(st, 0);
        if (b >= 0 && b < ISSUES_HISTOGRAM_HOURS) counts[b] = db_col_int64(st, 1);
    }
    db_finish(st);
    if (rc < 0) return rc;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < ISSUES_HISTOGRAM_HOURS; i++)
        json_push(arr, json_new_int(counts[i]));
    if (!arr) return -ENOMEM;
    *out = arr;
    return 0;
}

/* One statement for a list page: "issue_id IN ($3, $4, …)" with one bound
 * parameter per issue (the text depends only on their number). */
int issues_histograms(struct db *db, cJSON *rows, int64_t now_ms)
{
    const int64_t hour = 3600000;
    size_t n = json_size(rows);
    if (n == 0) return 0;
    if (n > ISSUES_HISTOGRAM_BATCH_MAX) return -EINVAL;
    int64_t end = (now_ms / hour + 1) * hour;
    int64_t start = end - ISSUES_HISTOGRAM_HOURS * hour;
    int64_t ids[ISSUES_HISTOGRAM_BATCH_MAX];
    char sql[128 + ISSUES_HISTOGRAM_BATCH_MAX * 8];
    size_t len = (size_t)snprintf(sql, sizeof sql,
                                  "SELECT issue_id, (hour - $1) / 3600000 AS bucket, events"
                                  " FROM issue_hourly WHERE hour >= $1 AND hour < $2"
                                  " AND issue_id IN (");
    for (size_t i = 0; i < n; i++) {
        ids[i] = json_i64(json_get(json_at(rows, i), "id"));
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s$%zu", i ? ", " : "", i + 3);
    }
    snprintf(sql + len, sizeof sql - len, ")");
    int64_t(*c)[ISSUES_HISTOGRAM_HOURS] = calloc(n, sizeof *c);
    if (!c) return -ENOMEM;
    struct db_stmt *st = db_prepare_once(db, sql);
    if (!st) {
        free(c);
        return -EIO;
    }
    db_bind_int64(st, 1, start);
    db_bind_int64(st, 2, end);
    for (size_t i = 0; i < n; i++)
        db_bind_int64(st, (int)(i + 3), ids[i]);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t id = db_col_int64(st, 0), b = db_col_int64(st, 1);
        for (size_t i = 0; i < n; i++)
            if (ids[i] == id && b >= 0 && b < ISSUES_HISTOGRAM_HOURS) c[i][b] = db_col_int64(st, 2);
    }
    db_stmt_discard(st);
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        cJSON *arr = cJSON_CreateArray();
        for (int k = 0; arr && k < ISSUES_HISTOGRAM_HOURS; k++)
            if (json_push(arr, json_new_int(c[i][k])) != 0) {
                cJSON_Delete(arr);
                arr = NULL;
            }
        if (!arr || json_set(json_at(rows, i), "histogram_24h", arr) != 0) rc = -ENOMEM;
    }
    free(c);
    return rc < 0 ? rc : 0;
}
