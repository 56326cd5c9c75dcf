/* overview — counts for the web interface's lists and issue page (contract
 * in overview.h). */
#include "store/overview.h"

#include <errno.h>
#include <string.h>

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

static const char SQL_PROJECT_HOURS[] =
    "SELECT (received_at - $2) / 3600000 AS bucket, COUNT(*) FROM events"
    " WHERE project_id = $1 AND received_at >= $2 AND received_at < $3 GROUP BY bucket";
static const char SQL_UNRESOLVED[] =
    "SELECT COUNT(*) FROM issues WHERE project_id = $1 AND status = 'unresolved'";
static const char SQL_ISSUE_DAYS[] =
    "SELECT (received_at - $2) / 86400000 AS bucket, COUNT(*) FROM events"
    " WHERE issue_id = $1 AND received_at >= $2 AND received_at < $3 GROUP BY bucket";
static const char SQL_USERS[] =
    "SELECT COUNT(*) FROM issue_tags WHERE issue_id = $1 AND key = 'user'";
static const char SQL_FIRST_EVENT[] =
    "SELECT event_id FROM events WHERE issue_id = $1 ORDER BY id LIMIT 1";

/* Counts per bucket of width ms over n buckets ending after now's bucket,
 * for the rows sql selects with ($1 = id, $2 = start, $3 = end). */
static int histogram(struct db *db, const char *sql, int64_t id, int64_t now_ms, int64_t width,
                     int n, int64_t *total, cJSON **out)
{
    int64_t counts[32] = {0};
    int64_t end = (now_ms / width + 1) * width;
    int64_t start = end - n * width;
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, start);
    db_bind_int64(st, 3, end);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t b = db_col_int64(st, 0);
        if (b >= 0 && b < n) counts[b] = db_col_int64(st, 1);
    }
    db_finish(st);
    if (rc < 0) return rc;
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return -ENOMEM;
    *total = 0;
    for (int i = 0; i < n; i++) {
        json_push(arr, json_new_int(counts[i]));
        *total += counts[i];
    }
    *out = arr;
    return 0;
}

static int count(struct db *db, const char *sql, int64_t id, int64_t *out)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) *out = db_col_int64(st, 0);
    db_finish(st);
    return rc;
}

int overview_project(struct db *db, int64_t project_id, int64_t now_ms,
                     struct project_overview *out)
{
    memset(out, 0, sizeof *out);
    int rc = histogram(db, SQL_PROJECT_HOURS, project_id, now_ms, HOUR_MS, OVERVIEW_PROJECT_HOURS,
                       &out->events_24h, &out->histogram_24h);
    if (rc == 0) rc = count(db, SQL_UNRESOLVED, project_id, &out->unresolved_issues);
    if (rc) {
        cJSON_Delete(out->histogram_24h);
        out->histogram_24h = NULL;
    }
    return rc;
}

int overview_issue(struct db *db, int64_t issue_id, int64_t now_ms, struct issue_overview *out)
{
    static const char hex[] = "0123456789abcdef";
    memset(out, 0, sizeof *out);
    int64_t total;
    int rc = histogram(db, SQL_ISSUE_DAYS, issue_id, now_ms, DAY_MS, OVERVIEW_ISSUE_DAYS, &total,
                       &out->histogram_14d);
    if (rc == 0) rc = count(db, SQL_USERS, issue_id, &out->users);
    struct db_stmt *st = rc == 0 ? db_prepare(db, SQL_FIRST_EVENT) : NULL;
    if (rc == 0 && !st) rc = -EIO;
    if (st) {
        db_bind_int64(st, 1, issue_id);
        rc = db_step_row(st, -ENOENT);
        size_t len = 0;
        const unsigned char *raw = rc == 0 ? db_col_blob(st, 0, &len) : NULL;
        for (size_t i = 0; raw && len == 16 && i < 16; i++) {
            out->first_event_id[2 * i] = hex[raw[i] >> 4];
            out->first_event_id[2 * i + 1] = hex[raw[i] & 15];
        }
        if (rc == -ENOENT) rc = 0; /* every event deleted: no first one */
        db_finish(st);
    }
    if (rc) {
        cJSON_Delete(out->histogram_14d);
        out->histogram_14d = NULL;
    }
    return rc;
}
