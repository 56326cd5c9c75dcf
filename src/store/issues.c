/* issues — see issues.h. */
#include "store/issues.h"

#include <errno.h>
#include <string.h>
#include "store/store.h"

#define ISSUE_COLS                                                                                 \
    "id, project_id, title, culprit, level, status, first_seen, last_seen, times_seen, hash"

/* Every filter is bound; NULL disables it. $1 project, $2 status, $3 level,
 * $4 environment, $5 release, $6 LIKE pattern (lower case), $7 since,
 * $8 until, $9/$10 cursor (key, id), $11 limit. Environment and release
 * come from issue_tags (primary-key lookups), so they survive retention. */
#define ISSUES_WHERE(KEY)                                                                          \
    " FROM issues WHERE project_id = $1"                                                           \
    " AND (CAST($2 AS TEXT) IS NULL OR status = $2)"                                               \
    " AND (CAST($3 AS TEXT) IS NULL OR level = $3)"                                                \
    " AND (CAST($4 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM issue_tags t WHERE t.issue_id = "     \
    "issues.id"                                                                                    \
    "      AND t.key = 'environment' AND t.value = $4))"                                           \
    " AND (CAST($5 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM issue_tags t WHERE t.issue_id = "     \
    "issues.id"                                                                                    \
    "      AND t.key = 'release' AND t.value = $5))"                                               \
    " AND (CAST($6 AS TEXT) IS NULL OR lower(title) LIKE $6 ESCAPE '\\' OR lower(culprit) LIKE "   \
    "$6 ESCAPE '\\')"                                                                              \
    " AND (CAST($7 AS BIGINT) IS NULL OR last_seen >= $7)"                                         \
    " AND (CAST($8 AS BIGINT) IS NULL OR first_seen < $8)"                                         \
    " AND (CAST($9 AS BIGINT) IS NULL OR " KEY " < $9 OR (" KEY " = $9 AND id < $10))"             \
    " ORDER BY " KEY " DESC, id DESC LIMIT $11"

static const char SQL_LIST_LAST_SEEN[] = "SELECT " ISSUE_COLS ISSUES_WHERE("last_seen");
static const char SQL_LIST_FIRST_SEEN[] = "SELECT " ISSUE_COLS ISSUES_WHERE("first_seen");
static const char SQL_LIST_TIMES_SEEN[] = "SELECT " ISSUE_COLS ISSUES_WHERE("times_seen");

static const char SQL_GET[] = "SELECT " ISSUE_COLS " FROM issues WHERE project_id = $1 AND id = $2";

static const char SQL_SET_STATUS[] =
    "UPDATE issues SET status = $3 WHERE project_id = $1 AND id = $2";

/* The hourly counts the writer's counter flush keeps (store/counters.h);
 * $2 is an hour's start, so each row is one bucket. */
static const char SQL_HISTOGRAM[] =
    "SELECT (hour - $2) / 3600000 AS bucket, events FROM issue_hourly"
    " WHERE issue_id = $1 AND hour >= $2 AND hour < $3";

/* The issue row at the statement's current row (ISSUE_COLS order). */
static json_t *row_json(struct db_stmt *st)
{
    return json_pack(
        "{s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o}", "id", (json_int_t)db_col_int64(st, 0),
        "project_id", (json_int_t)db_col_int64(st, 1), "title", db_col_json_text_or_empty(st, 2),
        "culprit", db_col_json_text_or_empty(st, 3), "level", db_col_json_text_or_empty(st, 4),
        "status", db_col_json_text_or_empty(st, 5), "first_seen", (json_int_t)db_col_int64(st, 6),
        "last_seen", (json_int_t)db_col_int64(st, 7), "count", (json_int_t)db_col_int64(st, 8),
        "hash", db_col_json_text_or_empty(st, 9));
}

int64_t issues_sort_key(const json_t *row, enum issue_sort sort)
{
    const char *name = sort == ISSUE_SORT_FIRST_SEEN   ? "first_seen"
                       : sort == ISSUE_SORT_TIMES_SEEN ? "count"
                                                       : "last_seen";
    return json_integer_value(json_object_get(row, name));
}

static void bind_opt_text(struct db_stmt *st, int idx, const char *s)
{
    if (s)
        db_bind_text(st, idx, s, (size_t)-1);
    else
        db_bind_null(st, idx);
}

static void bind_opt_int(struct db_stmt *st, int idx, bool has, int64_t v)
{
    if (has)
        db_bind_int64(st, idx, v);
    else
        db_bind_null(st, idx);
}

/* "%text%" in lower case with LIKE's wildcards escaped. -EINVAL when text
 * is too long for out. */
static int like_pattern(const char *text, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen < 3) return -EINVAL;
    out[o++] = '%';
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (o + 4 > outlen) return -EINVAL;
        if (c == '%' || c == '_' || c == '\\') out[o++] = '\\';
        out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[o++] = '%';
    out[o] = '\0';
    return 0;
}

static const char *list_sql(enum issue_sort sort)
{
    switch (sort) {
    case ISSUE_SORT_FIRST_SEEN:
        return SQL_LIST_FIRST_SEEN;
    case ISSUE_SORT_TIMES_SEEN:
        return SQL_LIST_TIMES_SEEN;
    case ISSUE_SORT_LAST_SEEN:
        break;
    }
    return SQL_LIST_LAST_SEEN;
}

int issues_list(struct db *db, int64_t project_id, const struct issue_query *q, json_t **out,
                bool *more)
{
    char pattern[ISSUES_QUERY_MAX * 2 + 3];
    if (q->limit < 1 || q->limit > 1000) return -EINVAL;
    if (q->text && like_pattern(q->text, pattern, sizeof pattern) != 0) return -EINVAL;
    struct db_stmt *st = db_prepare(db, list_sql(q->sort));
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    bind_opt_text(st, 2, q->status);
    bind_opt_text(st, 3, q->level);
    bind_opt_text(st, 4, q->environment);
    bind_opt_text(st, 5, q->release);
    bind_opt_text(st, 6, q->text ? pattern : NULL);
    bind_opt_int(st, 7, q->has_since, q->since_ms);
    bind_opt_int(st, 8, q->has_until, q->until_ms);
    bind_opt_int(st, 9, q->has_cursor, q->cursor_key);
    bind_opt_int(st, 10, q->has_cursor, q->cursor_id);
    db_bind_int64(st, 11, q->limit + 1); /* one more tells whether a next page exists */

    json_t *rows = json_array();
    int rc = 0;
    *more = false;
    while (rows && (rc = db_step(st)) == DB_ROW) {
        if (json_array_size(rows) == (size_t)q->limit) {
            *more = true;
            break;
        }
        json_t *row = row_json(st);
        if (!row || json_array_append_new(rows, row) != 0)
            store_row_skipped("issues", (long long)db_col_int64(st, 0));
    }
    db_finish(st);
    if (!rows) return -ENOMEM;
    if (rc < 0) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

int issues_get(struct db *db, int64_t project_id, int64_t issue_id, json_t **out)
{
    struct db_stmt *st = db_prepare(db, SQL_GET);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        *out = row_json(st);
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

int issues_histogram(struct db *db, int64_t issue_id, int64_t now_ms, json_t **out)
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
    json_t *arr = json_array();
    for (int i = 0; arr && i < ISSUES_HISTOGRAM_HOURS; i++)
        json_array_append_new(arr, json_integer(counts[i]));
    if (!arr) return -ENOMEM;
    *out = arr;
    return 0;
}
