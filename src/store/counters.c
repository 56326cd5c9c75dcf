/* counters — the SQL half of counters.h: a flush writes each table of the
 * buffer with one statement whose one parameter is the table's rows as a
 * JSON array (json_each on SQLite, jsonb_array_elements on Postgres), so a
 * flush costs three statements however many rows it carries. */
#include "store/counters.h"
#include "base/clock.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/counter_buffer_internal.h"
#include "base/json.h"
#include "store/db.h"
#include "store/issue_hashes.h"

/* Each row's issue: the owner of its hash now (a merge or unmerge since
 * the event moved it), else the issue it was counted for. Rows are JSON
 * arrays [issue id, project id, hash, ...]. */
#define RESOLVE_SQLITE                                                                             \
    "COALESCE((SELECT h.issue_id FROM issue_hashes h WHERE h.project_id = value ->> 1"             \
    " AND h.hash = value ->> 2), value ->> 0)"
#define RESOLVE_POSTGRES                                                                           \
    "COALESCE((SELECT h.issue_id FROM issue_hashes h WHERE h.project_id = CAST(e ->> 1 AS BIGINT)" \
    " AND h.hash = e ->> 2), CAST(e ->> 0 AS BIGINT))"
#define ROWS_POSTGRES " FROM jsonb_array_elements(CAST($1 AS jsonb)) AS e"
#define BIG(i) "CAST(e ->> " #i " AS BIGINT)"

/* Several rows may meet on one issue (its hashes): summed first, since
 * an UPDATE FROM changes a row once and an upsert may not touch it twice. */
#define ISSUE_SET                                                                                  \
    "UPDATE issues SET times_seen = issues.times_seen + d.n,"                                      \
    " last_seen = CASE WHEN issues.last_seen < d.s THEN d.s ELSE issues.last_seen END FROM "
static const char SQL_ISSUES_SQLITE[] =
    ISSUE_SET "(SELECT " RESOLVE_SQLITE " AS id, SUM(value ->> 3) AS n, MAX(value ->> 4) AS s"
              " FROM json_each($1) GROUP BY 1) AS d WHERE issues.id = d.id";
static const char SQL_ISSUES_POSTGRES[] = ISSUE_SET
    "(SELECT r.id, CAST(SUM(r.n) AS BIGINT) AS n, MAX(r.s) AS s FROM (SELECT " RESOLVE_POSTGRES
    " AS id, " BIG(3) " AS n, " BIG(4) " AS s" ROWS_POSTGRES ") AS r"
                                       " GROUP BY r.id ORDER BY r.id) AS d WHERE issues.id = d.id";

/* Rows of issues deleted since their events were counted are left out
 * (their foreign key would fail the statement). */
#define TAGS_INSERT "INSERT INTO issue_tags (issue_id, key, value, times_seen, last_seen) "
#define TAGS_CONFLICT                                                                              \
    " ON CONFLICT (issue_id, key, value) DO UPDATE SET"                                            \
    " times_seen = issue_tags.times_seen + excluded.times_seen,"                                   \
    " last_seen = CASE WHEN issue_tags.last_seen < excluded.last_seen"                             \
    " THEN excluded.last_seen ELSE issue_tags.last_seen END"
#define EXISTING " WHERE EXISTS (SELECT 1 FROM issues WHERE issues.id = d.id)"
static const char SQL_TAGS_SQLITE[] =
    TAGS_INSERT "SELECT d.id, d.k, d.v, SUM(d.n), MAX(d.s) FROM (SELECT " RESOLVE_SQLITE " AS id,"
                " value ->> 3 AS k, value ->> 4 AS v, value ->> 5 AS n, value ->> 6 AS s"
                " FROM json_each($1)) AS d" EXISTING " GROUP BY d.id, d.k, d.v" TAGS_CONFLICT;
static const char SQL_TAGS_POSTGRES[] = TAGS_INSERT
    "SELECT d.id, d.k, d.v, CAST(SUM(d.n) AS BIGINT), MAX(d.s) FROM (SELECT " RESOLVE_POSTGRES
    " AS id, e ->> 3 AS k, e ->> 4 AS v, " BIG(5) " AS n, " BIG(
        6) " AS s" ROWS_POSTGRES ") AS d" EXISTING
           " GROUP BY d.id, d.k, d.v ORDER BY 1, 2, 3" TAGS_CONFLICT;

#define HOURS_INSERT "INSERT INTO issue_hourly (issue_id, hour, events) "
#define HOURS_CONFLICT                                                                             \
    " ON CONFLICT (issue_id, hour) DO UPDATE SET events = issue_hourly.events + excluded.events"
static const char SQL_HOURS_SQLITE[] =
    HOURS_INSERT "SELECT d.id, d.hour, SUM(d.n) FROM (SELECT " RESOLVE_SQLITE " AS id,"
                 " value ->> 3 AS hour, value ->> 4 AS n FROM json_each($1)) AS d" EXISTING
                 " GROUP BY d.id, d.hour" HOURS_CONFLICT;
static const char SQL_HOURS_POSTGRES[] = HOURS_INSERT
    "SELECT d.id, d.hour, CAST(SUM(d.n) AS BIGINT) FROM (SELECT " RESOLVE_POSTGRES
    " AS id, " BIG(3) " AS hour, " BIG(4) " AS n" ROWS_POSTGRES ") AS d" EXISTING
                                          " GROUP BY d.id, d.hour ORDER BY 1, 2" HOURS_CONFLICT;

/* The newest event of the node: on SQLite every event (one node, one
 * writer); on Postgres the node's own, from its previous mark on. */
static const char SQL_NEWEST_SQLITE[] = "SELECT COALESCE(MAX(id), 0) FROM events";
static const char SQL_NEWEST_POSTGRES[] =
    "SELECT COALESCE(MAX(id), $1) FROM events WHERE id > $1 AND node = $2";

static const char SQL_MARK_GET[] = "SELECT event_mark FROM counter_marks WHERE node = $1";
static const char SQL_MARK_SET[] =
    "INSERT INTO counter_marks (node, event_mark, flushed_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (node) DO UPDATE SET event_mark = excluded.event_mark,"
    " flushed_at = excluded.flushed_at";

#define PAST_MARK                                                                                  \
    "SELECT e.id, e.issue_id, e.timestamp, e.received_at, e.payload, e.event_id, e.project_id,"    \
    " e.hash FROM events e WHERE e.id > $1"
static const char SQL_PAST_MARK_SQLITE[] = PAST_MARK " ORDER BY e.id";
static const char SQL_PAST_MARK_POSTGRES[] = PAST_MARK " AND e.node = $2 ORDER BY e.id";

static bool is_pg(struct db *db)
{
    return db_kind(db) == DB_POSTGRES;
}

/* SQLite has one node whatever it is called. */
static int node_of(struct db *db, int node)
{
    return is_pg(db) ? node : 0;
}

static int row_cmp(const void *a, const void *b)
{
    const struct counter_row *x = *(struct counter_row *const *)a,
                             *y = *(struct counter_row *const *)b;
    int64_t ix = counter_row_issue(x), iy = counter_row_issue(y);
    if (ix != iy) return ix < iy ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key + 8, y->key + 8, n - 8); /* keys are at least 17 bytes */
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* One row as a JSON array: issue id, project id, hash, then what its
 * table needs. */
static cJSON *row_json(int which, const struct counter_row *r)
{
    cJSON *a = cJSON_CreateArray();
    size_t pl = counter_row_prefix(r);
    bool ok = a && json_push_int(a, counter_row_issue(r)) == 0 &&
              json_push_int(a, counter_row_project(r)) == 0 &&
              json_push_str(a, (const char *)r->key + 16) == 0;
    if (which == 0) { /* issues: count, last seen */
        ok = ok && json_push_int(a, r->count) == 0 && json_push_int(a, r->last) == 0;
    } else if (which == 1) { /* tags: key, value, count, last seen */
        const char *key = (const char *)r->key + pl;
        size_t kl = strlen(key), vl = r->len - pl - kl - 1;
        char value[r->len];
        memcpy(value, key + kl + 1, vl);
        value[vl] = '\0';
        ok = ok && json_push_str(a, key) == 0 && json_push_str(a, value) == 0 &&
             json_push_int(a, r->count) == 0 && json_push_int(a, r->last) == 0;
    } else { /* hours: hour, count */
        int64_t hour;
        memcpy(&hour, r->key + pl, 8);
        ok = ok && json_push_int(a, hour) == 0 && json_push_int(a, r->count) == 0;
    }
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* The table's rows, sorted (one lock order on every node), as JSON text;
 * caller frees. NULL on ENOMEM. */
static char *table_json(int which, const struct counter_table *t)
{
    struct counter_row **sorted = malloc((t->n ? t->n : 1) * sizeof *sorted);
    cJSON *arr = cJSON_CreateArray();
    char *text = NULL;
    if (sorted && arr) {
        memcpy(sorted, t->rows, t->n * sizeof *sorted);
        qsort(sorted, t->n, sizeof *sorted, row_cmp);
        size_t i = 0;
        for (; i < t->n; i++) {
            cJSON *row = row_json(which, sorted[i]);
            if (!row || !cJSON_AddItemToArray(arr, row)) {
                cJSON_Delete(row);
                break;
            }
        }
        if (i == t->n) text = cJSON_PrintUnformatted(arr);
    }
    cJSON_Delete(arr);
    free(sorted);
    return text;
}

static int run_json(struct db *db, const char *sql, int which, const struct counter_table *t)
{
    if (t->n == 0) return 0;
    char *text = table_json(which, t);
    if (!text) return -ENOMEM;
    struct db_stmt *st = db_prepare(db, sql);
    int rc = -EIO;
    if (st) {
        db_bind_text(st, 1, text, strlen(text));
        rc = db_step(st);
        db_finish(st);
    }
    free(text);
    return rc < 0 ? rc : 0;
}

/* The node's mark moved to its newest event. */
static int set_mark(struct db *db, int node)
{
    int64_t old = 0, mark = 0;
    int rc = counters_mark(db, node, &old);
    struct db_stmt *st =
        rc == 0 ? db_prepare(db, is_pg(db) ? SQL_NEWEST_POSTGRES : SQL_NEWEST_SQLITE) : NULL;
    if (rc == 0 && !st) rc = -EIO;
    if (rc == 0) {
        if (is_pg(db)) {
            db_bind_int64(st, 1, old);
            db_bind_int64(st, 2, node);
        }
        rc = db_step_row(st, -EIO);
        if (rc == 0) mark = db_col_int64(st, 0);
        db_finish(st);
    }
    if (rc != 0) return rc;
    st = db_prepare(db, SQL_MARK_SET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, node);
    db_bind_int64(st, 2, mark);
    db_bind_int64(st, 3, clock_wall_ms());
    rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The writer's shared lock on every project of the buffer (each event
 * has an issues row), so no merge or unmerge runs between the lookups of
 * the hashes and the commit. */
static int lock_projects(struct db *db, const struct counter_buffer *b)
{
    if (!is_pg(db) || b->issues.n == 0) return 0;
    int64_t *ids = malloc(b->issues.n * sizeof *ids);
    if (!ids) return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < b->issues.n; i++)
        ids[i] = counter_row_project(b->issues.rows[i]);
    qsort(ids, b->issues.n, sizeof *ids, cmp_id);
    for (size_t i = 0; i < b->issues.n; i++)
        if (n == 0 || ids[n - 1] != ids[i]) ids[n++] = ids[i];
    int rc = issue_hashes_lock_shared(db, ids, n);
    free(ids);
    return rc;
}

int counters_apply(struct db *db, const struct counter_buffer *b)
{
    bool pg = is_pg(db);
    int rc = run_json(db, pg ? SQL_ISSUES_POSTGRES : SQL_ISSUES_SQLITE, 0, &b->issues);
    if (rc == 0) rc = run_json(db, pg ? SQL_TAGS_POSTGRES : SQL_TAGS_SQLITE, 1, &b->tags);
    if (rc == 0) rc = run_json(db, pg ? SQL_HOURS_POSTGRES : SQL_HOURS_SQLITE, 2, &b->hours);
    return rc;
}

int counters_flush(struct db *db, struct counter_buffer *b, int node)
{
    node = node_of(db, node);
    int rc = db_begin(db);
    if (rc == 0) rc = lock_projects(db, b);
    if (rc == 0) rc = counters_apply(db, b);
    if (rc == 0) rc = set_mark(db, node);
    if (rc == 0) rc = db_commit(db);
    if (rc != 0) {
        db_rollback(db);
        return rc;
    }
    counter_buffer_clear(b);
    return 0;
}

int counters_mark(struct db *db, int node, int64_t *mark)
{
    struct db_stmt *st = db_prepare(db, SQL_MARK_GET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, node_of(db, node));
    int rc = db_step_row(st, -ENOENT);
    *mark = rc == 0 ? db_col_int64(st, 0) : 0;
    db_finish(st);
    return rc == -ENOENT ? 0 : rc;
}

int counters_reconcile_each(struct db *db, int node, int64_t mark,
                            int (*fn)(void *ctx, const struct counters_event *ev), void *ctx)
{
    struct db_stmt *st = db_prepare(db, is_pg(db) ? SQL_PAST_MARK_POSTGRES : SQL_PAST_MARK_SQLITE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, mark);
    if (is_pg(db)) db_bind_int64(st, 2, node_of(db, node));
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct counters_event ev = {.id = db_col_int64(st, 0),
                                    .issue_id = db_col_int64(st, 1),
                                    .timestamp_ms = db_col_int64(st, 2),
                                    .received_at_ms = db_col_int64(st, 3)};
        ev.payload = db_col_blob(st, 4, &ev.payload_len);
        size_t idlen = 0;
        const void *id = db_col_blob(st, 5, &idlen);
        if (id && idlen == sizeof ev.event_id) memcpy(ev.event_id, id, idlen);
        ev.project_id = db_col_int64(st, 6);
        ev.hash = db_col_text(st, 7);
        rc = fn(ctx, &ev);
        if (rc != 0) break;
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}
