/* issues_list — the issue list: its statement assembled from fixed
 * fragments for the filters and search terms present (issue_search.h), so
 * that each query gets a plan for exactly its filters (a tag term starts
 * from the issue_tags (key, value) index) and every value is a bound
 * parameter. Prepared once per call (db_prepare_once), never cached: the
 * text is not a literal. */
#include "store/issues.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/issue_search.h"
#include "store/issues_internal.h"
#include "store/store.h"

/* Fixed filters + search terms + cursor + limit, at most 4 values each. */
#define LIST_MAX_BINDS (4 * (ISSUE_SEARCH_MAX_TERMS + 12))
#define LIST_SQL_MAX 8192
/* Free-text patterns: two texts, each exact and (SQLite) for the index. */
#define LIST_MAX_PATTERNS 4

struct bind {
    const char *text; /* NULL: the integer */
    int64_t integer;
};

struct list_sql {
    char sql[LIST_SQL_MAX];
    size_t len;
    int overflow;
    struct bind binds[LIST_MAX_BINDS];
    int nbinds;
    bool postgres;
    /* LIKE patterns, kept until the statement ran. */
    char patterns[LIST_MAX_PATTERNS][ISSUE_SEARCH_MAX_BYTES * 2 + 3];
    int npatterns;
    /* SQLite: the rare tag (key, value) the statement starts from (NULL:
     * none); "+" before every column test then, so that no index of
     * issues competes with it (see drive_tag). */
    const char *drive_key, *drive_value;
    bool drive_absent; /* the issues without drive_key (a !has:key term) */
    bool drive_used;
    int64_t project_id;
    /* Postgres: the project's issues without absent_key (a !has:key term)
     * as an array literal "{id,…}" when there are fewer than DRIVE_MAX
     * (NULL: not so; see absent_ids). */
    const char *absent_key;
    char *absent_ids;
    const char *col;
};

static void append(struct list_sql *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(struct list_sql *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->sql + l->len, sizeof l->sql - l->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof l->sql - l->len)
        l->overflow = 1;
    else
        l->len += (size_t)n;
}

/* The parameter number of a new bound value. */
static int bind_text(struct list_sql *l, const char *v)
{
    if (l->nbinds == LIST_MAX_BINDS) {
        l->overflow = 1;
        return 1;
    }
    l->binds[l->nbinds] = (struct bind){.text = v};
    return ++l->nbinds;
}

static int bind_int(struct list_sql *l, int64_t v)
{
    if (l->nbinds == LIST_MAX_BINDS) {
        l->overflow = 1;
        return 1;
    }
    l->binds[l->nbinds] = (struct bind){.integer = v};
    return ++l->nbinds;
}

/* "%text%" in lower case with LIKE's wildcards escaped (escape: with
 * ESCAPE '\\'), else taken as they are (a wider pattern: a literal % or _
 * becomes a wildcard). */
static const char *like_pattern(struct list_sql *l, const char *text, bool escape)
{
    if (l->npatterns == LIST_MAX_PATTERNS) {
        l->overflow = 1;
        return "";
    }
    char *out = l->patterns[l->npatterns++];
    size_t o = 0, max = sizeof l->patterns[0];
    out[o++] = '%';
    for (const char *p = text; *p && o + 4 < max; p++) {
        char c = *p;
        if (escape && (c == '%' || c == '_' || c == '\\')) out[o++] = '\\';
        out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[o++] = '%';
    out[o] = '\0';
    return out;
}

/* SQLite: the project's issues without a tag key, in id order: a merge of
 * two index scans in id order, issues (project_id) and issue_tags (key,
 * issue_id) of migration 0340 (with ORDER BY, SQLite merges a compound
 * SELECT instead of building a temporary B-tree of every issue). */
#define SQL_ABSENT_IDS                                                                             \
    "SELECT id FROM issues WHERE project_id = $%d"                                                 \
    " EXCEPT SELECT issue_id FROM issue_tags WHERE key = $%d ORDER BY 1"

/* A tag test. The rows of the tag the statement starts from (SQLite's
 * drive tag, or the issues without the key of a !has:key term) as a set of
 * ids to look up; other positive tests probe issue_tags' primary key per
 * candidate (an EXISTS is no index to start from). On Postgres the issues
 * without a tag key are the set absent_ids found when it is small, else
 * they are found by probing per issue in sort order: a NOT IN would first
 * read every issue that has the key. */
static void tag_filter(struct list_sql *l, bool negated, const char *key, const char *value)
{
    if (negated && !value && l->absent_ids && !l->drive_used && strcmp(key, l->absent_key) == 0) {
        append(l, " AND id = ANY(CAST($%d AS BIGINT[]))", bind_text(l, l->absent_ids));
        l->drive_used = true;
        return;
    }
    if (negated && !value && l->drive_absent && !l->drive_used && strcmp(key, l->drive_key) == 0) {
        int p = bind_int(l, l->project_id), k = bind_text(l, key);
        append(l, " AND id IN (" SQL_ABSENT_IDS ")", p, k);
        l->drive_used = true;
        return;
    }
    bool drive = !negated && l->drive_key && !l->drive_absent && !l->drive_used &&
                 strcmp(key, l->drive_key) == 0 &&
                 (value ? l->drive_value && strcmp(value, l->drive_value) == 0 : !l->drive_value);
    bool probe = (!negated && l->drive_key && !drive) || (negated && !value && l->postgres);
    int k = bind_text(l, key);
    if (probe)
        append(l,
               " AND %sEXISTS (SELECT 1 FROM issue_tags t WHERE t.issue_id = issues.id"
               " AND t.key = $%d",
               negated ? "NOT " : "", k);
    else
        append(l, " AND id %sIN (SELECT issue_id FROM issue_tags WHERE key = $%d",
               negated ? "NOT " : "", k);
    if (value) append(l, " AND %svalue = $%d", probe ? "t." : "", bind_text(l, value));
    append(l, ")");
    if (drive) l->drive_used = true; /* once */
}

/* SQLite: the candidates from the trigram index (issues_fts, migration
 * 0310) whose columns match the unescaped, wider pattern; FTS5 uses the
 * index for LIKE only without ESCAPE. Texts under 3 bytes have no trigram
 * to look up. */
static void fts_candidates(struct list_sql *l, const char *text)
{
    if (strlen(text) < 3) return;
    int k = bind_text(l, like_pattern(l, text, false));
    append(l,
           " AND id IN (SELECT rowid FROM issues_fts WHERE title LIKE $%d"
           " UNION SELECT rowid FROM issues_fts WHERE culprit LIKE $%d"
           " UNION SELECT rowid FROM issues_fts WHERE message LIKE $%d)",
           k, k, k);
}

/* SQLite's LIKE ignores ASCII case already; Postgres needs ILIKE (its
 * escape character is the backslash already: no ESCAPE clause, so that the
 * pg_trgm indexes of migration 0310 apply). The pattern is lower case for
 * both; the exact test is the same on both, the index narrows first. */
static void text_filter(struct list_sql *l, const char *text)
{
    if (!l->postgres && !l->drive_key) fts_candidates(l, text);
    int k = bind_text(l, like_pattern(l, text, true));
    if (l->postgres)
        append(l, " AND (title ILIKE $%d OR culprit ILIKE $%d OR message ILIKE $%d)", k, k, k);
    else
        append(l,
               " AND (title LIKE $%d ESCAPE '\\' OR culprit LIKE $%d ESCAPE '\\'"
               " OR message LIKE $%d ESCAPE '\\')",
               k, k, k);
}

static void assigned_filter(struct list_sql *l, const struct issue_search_term *t)
{
    if (t->user_id == 0) {
        append(l, " AND %sassignee_id IS %sNULL", l->col, t->negated ? "NOT " : "");
        return;
    }
    int k = bind_int(l, t->user_id);
    if (t->negated)
        append(l, " AND (assignee_id IS NULL OR assignee_id <> $%d)", k);
    else
        append(l, " AND %sassignee_id = $%d", l->col, k);
}

static void term_filter(struct list_sql *l, const struct issue_search_term *t)
{
    const char *eq = t->negated ? "<>" : "=";
    switch (t->kind) {
    case ISSUE_SEARCH_STATUS:
        append(l, " AND %sstatus %s $%d", l->col, eq, bind_text(l, t->value));
        break;
    case ISSUE_SEARCH_LEVEL:
        append(l, " AND %slevel %s $%d", l->col, eq, bind_text(l, t->value));
        break;
    case ISSUE_SEARCH_ASSIGNED:
        assigned_filter(l, t);
        break;
    case ISSUE_SEARCH_TAG:
        tag_filter(l, t->negated, t->key, t->value);
        break;
    case ISSUE_SEARCH_HAS:
        tag_filter(l, t->negated, t->key, NULL);
        break;
    case ISSUE_SEARCH_TEXT:
        text_filter(l, t->value);
        break;
    }
}

static const char *sort_column(enum issue_sort sort)
{
    switch (sort) {
    case ISSUE_SORT_FIRST_SEEN:
        return "first_seen";
    case ISSUE_SORT_TIMES_SEEN:
        return "times_seen";
    case ISSUE_SORT_USERS:
        return "user_count";
    case ISSUE_SORT_LAST_SEEN:
        break;
    }
    return "last_seen";
}

static void build(struct list_sql *l, int64_t project_id, const struct issue_query *q)
{
    l->col = l->drive_key ? "+" : "";
    append(l, "SELECT " ISSUE_COLS " FROM issues WHERE %sproject_id = $%d", l->col,
           bind_int(l, project_id));
    bool search_status = q->search && issue_search_has_status(q->search);
    if (q->status && !search_status)
        append(l, " AND %sstatus = $%d", l->col, bind_text(l, q->status));
    if (q->level) append(l, " AND %slevel = $%d", l->col, bind_text(l, q->level));
    if (q->environment) tag_filter(l, false, "environment", q->environment);
    if (q->release) tag_filter(l, false, "release", q->release);
    if (q->text) text_filter(l, q->text);
    for (size_t i = 0; q->search && i < q->search->n; i++)
        term_filter(l, &q->search->terms[i]);
    if (q->has_since) append(l, " AND %slast_seen >= $%d", l->col, bind_int(l, q->since_ms));
    if (q->has_until) append(l, " AND %sfirst_seen < $%d", l->col, bind_int(l, q->until_ms));
    const char *key = sort_column(q->sort);
    if (q->has_cursor) {
        int k = bind_int(l, q->cursor_key), id = bind_int(l, q->cursor_id);
        append(l, " AND (%s%s < $%d OR (%s = $%d AND id < $%d))", l->col, key, k, key, k, id);
    }
    /* One more row than asked tells whether a next page exists. Given a
     * Postgres absent set, "+" keeps the planner from walking the sort
     * index in search of its few ids (it guesses from the key's
     * statistics how many there are, and guessed hundreds where there
     * were none: 100,000 issues walked); they are looked up and sorted. */
    append(l, " ORDER BY %s%s DESC, id DESC LIMIT $%d", l->absent_ids ? "+" : "", key,
           bind_int(l, q->limit + 1));
}

/* SQLite keeps no statistics (no ANALYZE: it would change other plans),
 * so given a status, level or sort it walks that index of issues and tests
 * every row against the tags — all 100,000 issues when the tags match
 * none. A positive tag with fewer than DRIVE_MAX issues is a better start:
 * its index rows (key, value, issue_id) are the candidates, each looked up
 * by id and tested, the few matches sorted. The rarest such tag of the
 * query (counted up to DRIVE_MAX) is chosen; a has:key term is such a tag
 * too (its rows of any value, from the (key, issue_id) index). */
enum { DRIVE_MAX = 2000 };

static const char SQL_TAG_ROWS[] = "SELECT COUNT(*) FROM (SELECT 1 FROM issue_tags"
                                   " WHERE key = $1 AND value = $2 LIMIT $3)";
static const char SQL_KEY_ROWS[] = "SELECT COUNT(*) FROM (SELECT 1 FROM issue_tags"
                                   " WHERE key = $1 LIMIT $2)";

/* The issue_tags rows of (key, value), or of key when value is NULL
 * (has:key), counted up to DRIVE_MAX. */
static int64_t tag_rows(struct db *db, const char *key, const char *value)
{
    struct db_stmt *st = db_prepare(db, value ? SQL_TAG_ROWS : SQL_KEY_ROWS);
    if (!st) return DRIVE_MAX;
    int k = 1;
    db_bind_text(st, k++, key, (size_t)-1);
    if (value) db_bind_text(st, k++, value, (size_t)-1);
    db_bind_int64(st, k, DRIVE_MAX);
    int64_t n = db_step_row(st, -EIO) == 0 ? db_col_int64(st, 0) : DRIVE_MAX;
    db_finish(st);
    return n;
}

/* The project's issues without key, counted up to DRIVE_MAX: the merge of
 * SQL_ABSENT_IDS stops at the limit, so a key most issues lack costs a few
 * thousand index rows, one every issue has one pass over both indexes. */
#define SQL_ABSENT_ROWS "SELECT COUNT(*) FROM (" SQL_ABSENT_IDS " LIMIT $3)"

static int64_t absent_rows(struct db *db, int64_t project_id, const char *key)
{
    char sql[sizeof SQL_ABSENT_ROWS];
    snprintf(sql, sizeof sql, SQL_ABSENT_ROWS, 1, 2);
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return DRIVE_MAX;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, key, (size_t)-1);
    db_bind_int64(st, 3, DRIVE_MAX);
    int64_t n = db_step_row(st, -EIO) == 0 ? db_col_int64(st, 0) : DRIVE_MAX;
    db_finish(st);
    return n;
}

static void consider(struct db *db, struct list_sql *l, int64_t *best, const char *key,
                     const char *value, bool absent)
{
    int64_t n = absent ? absent_rows(db, l->project_id, key) : tag_rows(db, key, value);
    if (n < *best) {
        *best = n;
        l->drive_key = key;
        l->drive_value = value;
        l->drive_absent = absent;
    }
}

static void drive_tag(struct db *db, struct list_sql *l, const struct issue_query *q)
{
    int64_t best = DRIVE_MAX;
    if (q->environment) consider(db, l, &best, "environment", q->environment, false);
    if (q->release) consider(db, l, &best, "release", q->release, false);
    for (size_t i = 0; q->search && i < q->search->n; i++) {
        const struct issue_search_term *t = &q->search->terms[i];
        if (t->kind == ISSUE_SEARCH_TAG && !t->negated && t->value)
            consider(db, l, &best, t->key, t->value, false);
        else if (t->kind == ISSUE_SEARCH_HAS)
            consider(db, l, &best, t->key, NULL, t->negated);
    }
}

/* Postgres: the project's issues without key, up to DRIVE_MAX of them:
 * an anti-join of two index scans (issues (project_id, id) and issue_tags
 * (key, issue_id), migration 0340), which the LIMIT stops early when most
 * issues lack the key. Fewer than DRIVE_MAX: *ids gets them as an array
 * literal, the set the list starts from (a key every issue has: "{}",
 * nothing to look up). Else the list probes issue_tags per issue in sort
 * order, where issues without the key are common. */
#define SQL_ABSENT_IDS_PG                                                                          \
    "SELECT i.id FROM issues i WHERE i.project_id = $1 AND NOT EXISTS (SELECT 1 FROM issue_tags t" \
    " WHERE t.key = $2 AND t.issue_id = i.id) LIMIT $3"

static int absent_ids(struct db *db, int64_t project_id, const char *key, char **ids)
{
    *ids = NULL;
    struct db_stmt *st = db_prepare(db, SQL_ABSENT_IDS_PG);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, key, (size_t)-1);
    db_bind_int64(st, 3, DRIVE_MAX);
    size_t cap = (size_t)DRIVE_MAX * 21 + 3, o = 0;
    char *buf = malloc(cap);
    int rc = buf ? 0 : -ENOMEM, n = 0;
    if (buf) buf[o++] = '{';
    while (rc == 0 && (rc = db_step(st)) == DB_ROW) {
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", n++ ? "," : "",
                              (long long)db_col_int64(st, 0));
        rc = 0;
    }
    db_finish(st);
    if (rc < 0 || n >= DRIVE_MAX) {
        free(buf);
        return rc < 0 ? rc : 0;
    }
    snprintf(buf + o, cap - o, "}");
    *ids = buf;
    return 0;
}

/* Postgres: the first !has:key term's absent set, when small. */
static int absent_drive(struct db *db, struct list_sql *l, const struct issue_query *q)
{
    for (size_t i = 0; q->search && i < q->search->n; i++) {
        const struct issue_search_term *t = &q->search->terms[i];
        if (t->kind == ISSUE_SEARCH_HAS && t->negated) {
            l->absent_key = t->key;
            return absent_ids(db, l->project_id, t->key, &l->absent_ids);
        }
    }
    return 0;
}

static int read_rows(struct db_stmt *st, int limit, cJSON **out, bool *more)
{
    cJSON *rows = cJSON_CreateArray();
    int rc = 0;
    *more = false;
    while (rows && (rc = db_step(st)) == DB_ROW) {
        if (json_size(rows) == (size_t)limit) {
            *more = true;
            break;
        }
        cJSON *row = issues_row_json(st);
        if (!row || json_push(rows, row) != 0)
            store_row_skipped("issues", (long long)db_col_int64(st, 0));
    }
    if (!rows) return -ENOMEM;
    if (rc < 0) {
        cJSON_Delete(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

/* The plan's lines, one per row: SQLite's EXPLAIN QUERY PLAN detail
 * (column 3), Postgres' EXPLAIN text (column 0). */
static int read_plan(struct db_stmt *st, bool postgres, char *plan, size_t planlen)
{
    size_t o = 0;
    int rc;
    plan[0] = '\0';
    while ((rc = db_step(st)) == DB_ROW) {
        const char *line = db_col_text(st, postgres ? 0 : 3);
        int n = snprintf(plan + o, planlen - o, "%s\n", line ? line : "");
        if (n < 0 || (size_t)n >= planlen - o) return -ENOSPC;
        o += (size_t)n;
    }
    return rc < 0 ? rc : 0;
}

/* Postgres: the plan of absent_ids' statement for the list's !has:key. */
static int absent_plan(struct db *db, const struct list_sql *l, char *plan, size_t planlen)
{
    struct db_stmt *st = db_prepare(db, "EXPLAIN " SQL_ABSENT_IDS_PG);
    if (!st) return -EIO;
    db_bind_int64(st, 1, l->project_id);
    db_bind_text(st, 2, l->absent_key, (size_t)-1);
    db_bind_int64(st, 3, DRIVE_MAX);
    int rc = read_plan(st, true, plan, planlen);
    db_finish(st);
    return rc;
}

/* Assembles q's statement and runs it: its rows into *out (plan NULL), or
 * its plan into plan (on Postgres after the plan of absent_ids' statement,
 * when it ran). */
static int run_list(struct db *db, int64_t project_id, const struct issue_query *q, cJSON **out,
                    bool *more, char *plan, size_t planlen)
{
    if (q->limit < 1 || q->limit > 1000) return -EINVAL;
    if (q->text && strlen(q->text) > ISSUE_SEARCH_MAX_BYTES) return -EINVAL;
    struct list_sql *l = calloc(1, sizeof *l);
    if (!l) return -ENOMEM;
    l->postgres = db_kind(db) == DB_POSTGRES;
    l->project_id = project_id;
    if (plan) append(l, "%s", l->postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ");
    int rc = l->postgres ? absent_drive(db, l, q) : 0;
    if (rc < 0) {
        free(l);
        return rc;
    }
    if (!l->postgres) drive_tag(db, l, q);
    build(l, project_id, q);
    rc = -EINVAL;
    struct db_stmt *st = l->overflow ? NULL : db_prepare_once(db, l->sql);
    size_t used = 0;
    if (st && plan && l->absent_key) {
        if ((rc = absent_plan(db, l, plan, planlen)) < 0) {
            db_stmt_discard(st);
            st = NULL;
        }
        used = strlen(plan);
    }
    if (st) {
        for (int i = 0; i < l->nbinds; i++) {
            if (l->binds[i].text)
                db_bind_text(st, i + 1, l->binds[i].text, (size_t)-1);
            else
                db_bind_int64(st, i + 1, l->binds[i].integer);
        }
        rc = plan ? read_plan(st, l->postgres, plan + used, planlen - used)
                  : read_rows(st, q->limit, out, more);
        db_stmt_discard(st);
    } else if (!l->overflow && rc == -EINVAL) {
        rc = -EIO;
    }
    free(l->absent_ids);
    free(l);
    return rc;
}

int issues_list(struct db *db, int64_t project_id, const struct issue_query *q, cJSON **out,
                bool *more)
{
    return run_list(db, project_id, q, out, more, NULL, 0);
}

int issues_list_plan(struct db *db, int64_t project_id, const struct issue_query *q, char *plan,
                     size_t planlen)
{
    return run_list(db, project_id, q, NULL, NULL, plan, planlen);
}
