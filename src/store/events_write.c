/* store/events_write — see events_write.h. */
#include "store/events_write.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "store/db.h"

/* An event's hash is looked up in issue_hashes (an issue owns one or more
 * hashes: merges, grouping transitions), not in issues.hash. */
static const char SQL_ISSUE_FIND[] =
    "SELECT i.id, i.status FROM issue_hashes h JOIN issues i ON i.id = h.issue_id"
    " WHERE h.project_id = $1 AND h.hash = $2";

/* EVENTS_WRITE_FIND_CHUNK hashes in one statement; a chunk not full
 * repeats its first hash in the unused slots (one statement to prepare,
 * and a repeated value matches the same row once). */
static const char SQL_ISSUE_FIND_CHUNK[] =
    "SELECT i.id, h.hash, i.status FROM issue_hashes h JOIN issues i ON i.id = h.issue_id"
    " WHERE h.project_id = $1 AND h.hash IN"
    " ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

/* A batch's new issues in one statement whose one parameter is a JSON array
 * of rows [project id, hash, title, culprit, level, first seen, message]
 * (as store/counters.c does): on SQLite the issues_fts trigger (migration
 * 0310) then indexes them all before FTS5 writes its pending terms, once
 * per statement — a statement per issue made FTS5 write a segment per
 * issue, most of the cost of a new issue; on Postgres one round trip.
 * RETURNING names the rows inserted (a row that lost to another
 * transaction is missing). WHERE true: SQLite's parser would take ON
 * CONFLICT for a join constraint of the FROM. */
#define ISSUES_INSERT                                                                              \
    "INSERT INTO issues (project_id, hash, title, culprit, level, status, first_seen,"             \
    " last_seen, times_seen, message) "
#define ISSUES_CONFLICT " ON CONFLICT (project_id, hash) DO NOTHING RETURNING id, project_id, hash"
static const char SQL_ISSUES_CREATE_SQLITE[] =
    ISSUES_INSERT "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,"
                  " 'unresolved', value ->> 5, value ->> 5, 0, value ->> 6 FROM json_each($1)"
                  " WHERE true" ISSUES_CONFLICT;
static const char SQL_ISSUES_CREATE_POSTGRES[] =
    ISSUES_INSERT "SELECT CAST(e ->> 0 AS BIGINT), e ->> 1, e ->> 2, e ->> 3, e ->> 4,"
                  " 'unresolved', CAST(e ->> 5 AS BIGINT), CAST(e ->> 5 AS BIGINT), 0, e ->> 6"
                  " FROM jsonb_array_elements(CAST($1 AS jsonb)) AS e" ISSUES_CONFLICT;

/* The created issues' hashes, rows [project id, hash, issue id, created
 * at]; RETURNING names the hashes the new issues own. */
#define HASHES_INSERT "INSERT INTO issue_hashes (project_id, hash, issue_id, created_at) "
#define HASHES_CONFLICT " ON CONFLICT (project_id, hash) DO NOTHING RETURNING project_id, hash"
static const char SQL_HASHES_INSERT_SQLITE[] =
    HASHES_INSERT "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each($1)"
                  " WHERE true" HASHES_CONFLICT;
static const char SQL_HASHES_INSERT_POSTGRES[] = HASHES_INSERT
    "SELECT CAST(e ->> 0 AS BIGINT), e ->> 1, CAST(e ->> 2 AS BIGINT),"
    " CAST(e ->> 3 AS BIGINT) FROM jsonb_array_elements(CAST($1 AS jsonb)) AS e" HASHES_CONFLICT;

static const char SQL_ISSUE_DELETE[] = "DELETE FROM issues WHERE id = $1";

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO events (project_id, event_id, issue_id, timestamp, received_at, level,"
    " environment, release, title, payload, hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (project_id, event_id) DO NOTHING";

/* EVENTS_WRITE_CHUNK rows in one statement: on Postgres one round trip
 * instead of sixteen. RETURNING names the rows inserted (not duplicates). */
static const char SQL_EVENT_INSERT_CHUNK[] =
    "INSERT INTO events (project_id, event_id, issue_id, timestamp, received_at, level,"
    " environment, release, title, payload, hash) VALUES"
    " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11),"
    " ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22),"
    " ($23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33),"
    " ($34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44),"
    " ($45, $46, $47, $48, $49, $50, $51, $52, $53, $54, $55),"
    " ($56, $57, $58, $59, $60, $61, $62, $63, $64, $65, $66),"
    " ($67, $68, $69, $70, $71, $72, $73, $74, $75, $76, $77),"
    " ($78, $79, $80, $81, $82, $83, $84, $85, $86, $87, $88),"
    " ($89, $90, $91, $92, $93, $94, $95, $96, $97, $98, $99),"
    " ($100, $101, $102, $103, $104, $105, $106, $107, $108, $109, $110),"
    " ($111, $112, $113, $114, $115, $116, $117, $118, $119, $120, $121),"
    " ($122, $123, $124, $125, $126, $127, $128, $129, $130, $131, $132),"
    " ($133, $134, $135, $136, $137, $138, $139, $140, $141, $142, $143),"
    " ($144, $145, $146, $147, $148, $149, $150, $151, $152, $153, $154),"
    " ($155, $156, $157, $158, $159, $160, $161, $162, $163, $164, $165),"
    " ($166, $167, $168, $169, $170, $171, $172, $173, $174, $175, $176)"
    " ON CONFLICT (project_id, event_id) DO NOTHING RETURNING project_id, event_id";

static const char SQL_ISSUE_REOPEN[] =
    "UPDATE issues SET status = 'unresolved' WHERE id = $1 AND status = 'resolved'";

static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts (project_id, issue_id, kind, event_id, created_at)"
    " VALUES ($1, $2, $3, $4, $5) RETURNING id";

static const char SQL_DELIVERIES_INSERT[] =
    "INSERT INTO deliveries (alert_id, destination_id, status, attempts, next_attempt_at,"
    " created_at, updated_at) SELECT CAST($1 AS BIGINT), id, 'pending', 0, CAST($2 AS BIGINT),"
    " CAST($2 AS BIGINT), CAST($2 AS BIGINT) FROM destinations"
    " WHERE project_id = $3 AND enabled <> 0 ON CONFLICT (alert_id, destination_id) DO NOTHING";

int events_write_begin(struct db *db)
{
    return db_begin(db);
}

int events_write_commit(struct db *db)
{
    return db_commit(db);
}

void events_write_rollback(struct db *db)
{
    db_rollback(db);
}

const char *events_write_errmsg(struct db *db)
{
    return db_errmsg(db);
}

int events_write_ping(struct db *db)
{
    struct db_stmt *st = db_prepare(db, "SELECT 1");
    int rc = st ? db_step(st) : -EIO;
    if (st) db_finish(st);
    return rc == DB_ROW ? 0 : rc < 0 ? rc : -EIO;
}

bool events_write_reconnected(struct db *db)
{
    return db_reconnected(db);
}

static enum issue_status status_from_text(const char *s)
{
    if (s && strcmp(s, "resolved") == 0) return ISSUE_RESOLVED;
    if (s && strcmp(s, "ignored") == 0) return ISSUE_IGNORED;
    return ISSUE_UNRESOLVED;
}

/* Steps a statement that returns no rows; negative on error. */
static int run(struct db_stmt *st)
{
    int rc = db_step(st);
    return rc < 0 ? rc : 0;
}

int events_write_issue_find(struct db *db, int64_t project_id, const char *hash, int64_t *id,
                            enum issue_status *status)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_FIND);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, hash, (size_t)-1);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        *id = db_col_int64(st, 0);
        *status = status_from_text(db_col_text(st, 1));
    }
    db_finish(st);
    return rc;
}

int events_write_issue_find_chunk(struct db *db, int64_t project_id, const char *const *hashes,
                                  size_t n, int64_t *ids, enum issue_status *status)
{
    assert(n >= 1 && n <= EVENTS_WRITE_FIND_CHUNK);
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_FIND_CHUNK);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    for (size_t i = 0; i < EVENTS_WRITE_FIND_CHUNK; i++)
        db_bind_text(st, 2 + (int)i, hashes[i < n ? i : 0], (size_t)-1);
    for (size_t i = 0; i < n; i++) {
        ids[i] = 0;
        status[i] = ISSUE_UNRESOLVED;
    }
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *hash = db_col_text(st, 1);
        for (size_t i = 0; hash && i < n; i++) {
            if (strcmp(hashes[i], hash) != 0) continue;
            ids[i] = db_col_int64(st, 0);
            status[i] = status_from_text(db_col_text(st, 2));
        }
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}

/* (project id, hash) order: a RETURNING row's issue is found by binary
 * search. */
static int new_issue_cmp(const void *a, const void *b)
{
    const struct events_write_new_issue *x = *(struct events_write_new_issue *const *)a,
                                        *y = *(struct events_write_new_issue *const *)b;
    if (x->ev->project_id != y->ev->project_id)
        return x->ev->project_id < y->ev->project_id ? -1 : 1;
    return strcmp(x->ev->hash, y->ev->hash);
}

/* The index in sorted of the issue of (project_id, hash), or n. */
static size_t new_issue_find(struct events_write_new_issue *const *sorted, size_t n,
                             int64_t project_id, const char *hash)
{
    size_t lo = 0, hi = n;
    while (hash && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct event_row *ev = sorted[mid]->ev;
        int c = ev->project_id != project_id ? (ev->project_id < project_id ? -1 : 1)
                                             : strcmp(ev->hash, hash);
        if (c == 0) return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n;
}

/* The rows of the issues (hashes: false) or of their hashes (true; only
 * the issues created) as JSON text, caller frees; NULL on ENOMEM, "" (a
 * literal) when there is no row. */
static char *rows_json(const struct events_write_new_issue *issues, size_t n, bool hashes)
{
    cJSON *arr = cJSON_CreateArray();
    size_t rows = 0;
    bool ok = arr != NULL;
    for (size_t i = 0; i < n && ok; i++) {
        const struct event_row *ev = issues[i].ev;
        if (hashes && issues[i].id == 0) continue;
        cJSON *row = cJSON_CreateArray();
        ok = row && cJSON_AddItemToArray(arr, row) && json_push_int(row, ev->project_id) == 0 &&
             json_push_str(row, ev->hash) == 0;
        if (ok && hashes)
            ok = json_push_int(row, issues[i].id) == 0 &&
                 json_push_int(row, ev->received_at_ms) == 0;
        else if (ok)
            ok = json_push_str(row, ev->title ? ev->title : "") == 0 &&
                 json_push_str(row, ev->culprit ? ev->culprit : "") == 0 &&
                 json_push_str(row, ev->level ? ev->level : "error") == 0 &&
                 json_push_int(row, ev->timestamp_ms) == 0 &&
                 json_push_str(row, ev->message ? ev->message : "") == 0;
        rows++;
    }
    char *text = ok && rows == 0 ? (char *)"" : ok ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    return text;
}

/* Runs one of the two statements over the rows of issues, in their order
 * (the batch's: ids follow first sight): a RETURNING row gives its issue
 * its id (issues) or marks it as owning its hash (hashes: owns[i]). */
static int run_rows(struct db *db, const char *sql, struct events_write_new_issue *issues,
                    struct events_write_new_issue *const *sorted, size_t n, bool hashes, bool *owns)
{
    char *text = rows_json(issues, n, hashes);
    if (!text) return -ENOMEM;
    if (!*text) return 0;
    struct db_stmt *st = db_prepare(db, sql);
    int rc = -EIO;
    if (st) {
        db_bind_text(st, 1, text, strlen(text));
        int col = hashes ? 0 : 1;
        while ((rc = db_step(st)) == DB_ROW) {
            size_t k = new_issue_find(sorted, n, db_col_int64(st, col), db_col_text(st, col + 1));
            if (k < n && hashes)
                owns[sorted[k] - issues] = true;
            else if (k < n)
                sorted[k]->id = db_col_int64(st, 0);
        }
        db_finish(st);
    }
    free(text);
    return rc < 0 ? rc : 0;
}

int events_write_issues_create(struct db *db, struct events_write_new_issue *issues, size_t n)
{
    if (n == 0) return 0;
    struct events_write_new_issue **sorted = malloc(n * sizeof *sorted);
    bool *owns = calloc(n, sizeof *owns);
    int rc = sorted && owns ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        issues[i].id = 0;
        sorted[i] = &issues[i];
    }
    bool pg = db_kind(db) == DB_POSTGRES;
    if (rc == 0) {
        qsort(sorted, n, sizeof *sorted, new_issue_cmp);
        rc = run_rows(db, pg ? SQL_ISSUES_CREATE_POSTGRES : SQL_ISSUES_CREATE_SQLITE, issues,
                      sorted, n, false, owns);
    }
    if (rc == 0)
        rc = run_rows(db, pg ? SQL_HASHES_INSERT_POSTGRES : SQL_HASHES_INSERT_SQLITE, issues,
                      sorted, n, true, owns);
    /* A grouping transition or an unmerge on another node gave the hash to
     * an issue meanwhile: the new issue is removed (the caller looks the
     * hash up again). */
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (issues[i].id == 0 || owns[i]) continue;
        rc = events_write_issue_delete(db, issues[i].id);
        issues[i].id = 0;
    }
    free(sorted);
    free(owns);
    return rc;
}

int events_write_issue_create(struct db *db, const struct event_row *ev, int64_t *id)
{
    struct events_write_new_issue it = {.ev = ev};
    int rc = events_write_issues_create(db, &it, 1);
    if (rc != 0) return rc;
    *id = it.id;
    return it.id != 0 ? 0 : -EEXIST;
}

int events_write_issue_delete(struct db *db, int64_t id)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_DELETE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    return run(st);
}

enum { EVENT_COLUMNS = 11 };

static void bind_text_or_null(struct db_stmt *st, int idx, const char *s)
{
    if (s)
        db_bind_text(st, idx, s, (size_t)-1);
    else
        db_bind_null(st, idx);
}

/* Binds one event's EVENT_COLUMNS columns starting at parameter first. */
static void bind_event(struct db_stmt *st, int first, const struct event_row *ev, int64_t issue_id)
{
    db_bind_int64(st, first, ev->project_id);
    db_bind_blob(st, first + 1, ev->event_id, sizeof(ev->event_id));
    db_bind_int64(st, first + 2, issue_id);
    db_bind_int64(st, first + 3, ev->timestamp_ms);
    db_bind_int64(st, first + 4, ev->received_at_ms);
    db_bind_text(st, first + 5, ev->level ? ev->level : "error", (size_t)-1);
    bind_text_or_null(st, first + 6, ev->environment);
    bind_text_or_null(st, first + 7, ev->release);
    db_bind_text(st, first + 8, ev->title ? ev->title : "", (size_t)-1);
    db_bind_blob(st, first + 9, ev->payload ? ev->payload : "", ev->payload_len);
    db_bind_text(st, first + 10, ev->hash, (size_t)-1);
}

int events_write_event_insert(struct db *db, const struct event_row *ev, int64_t issue_id)
{
    struct db_stmt *st = db_prepare(db, SQL_EVENT_INSERT);
    if (!st) return -EIO;
    bind_event(st, 1, ev, issue_id);
    int rc = run(st);
    return rc < 0 ? rc : db_changes(st) > 0;
}

/* Marks the first not yet marked event of the chunk with this id. */
static void mark_inserted(const struct event_row *evs, size_t n, int64_t project_id, const void *id,
                          size_t id_len, bool *inserted)
{
    for (size_t i = 0; i < n; i++) {
        if (!inserted[i] && evs[i].project_id == project_id && id_len == 16 &&
            memcmp(evs[i].event_id, id, 16) == 0) {
            inserted[i] = true;
            return;
        }
    }
}

int events_write_event_insert_chunk(struct db *db, const struct event_row *evs,
                                    const int64_t *issue_ids, bool *inserted)
{
    struct db_stmt *st = db_prepare(db, SQL_EVENT_INSERT_CHUNK);
    if (!st) return -EIO;
    for (int i = 0; i < EVENTS_WRITE_CHUNK; i++) {
        bind_event(st, 1 + EVENT_COLUMNS * i, &evs[i], issue_ids[i]);
        inserted[i] = false;
    }
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        size_t len = 0;
        const void *id = db_col_blob(st, 1, &len);
        mark_inserted(evs, EVENTS_WRITE_CHUNK, db_col_int64(st, 0), id, len, inserted);
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int events_write_issue_reopen(struct db *db, int64_t id)
{
    struct db_stmt *st = db_prepare(db, SQL_ISSUE_REOPEN);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    int rc = run(st);
    return rc < 0 ? rc : db_changes(st) > 0;
}

int events_write_alert(struct db *db, int64_t project_id, int64_t issue_id, const char *kind,
                       const uint8_t event_id[16], int64_t now_ms, int64_t *alert_id)
{
    struct db_stmt *st = db_prepare(db, SQL_ALERT_INSERT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    db_bind_text(st, 3, kind, (size_t)-1);
    db_bind_blob(st, 4, event_id, 16);
    db_bind_int64(st, 5, now_ms);
    int rc = db_step(st);
    if (rc != DB_ROW) {
        db_finish(st);
        return rc < 0 ? rc : -EIO;
    }
    *alert_id = db_col_int64(st, 0);
    db_finish(st);

    st = db_prepare(db, SQL_DELIVERIES_INSERT);
    if (!st) return -EIO;
    db_bind_int64(st, 1, *alert_id);
    db_bind_int64(st, 2, now_ms);
    db_bind_int64(st, 3, project_id);
    return run(st);
}
