#include "store/deliveries.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CLAIM_WHERE                                                                                \
    "status IN ('pending', 'sending') AND next_attempt_at <= $2 "                                  \
    "AND (locked_until IS NULL OR locked_until <= $2) ORDER BY next_attempt_at, id LIMIT $3"
#define CLAIM_RETURNING                                                                            \
    " RETURNING id, alert_id, destination_id, attempts, held_for_digest, rule_match"

/* SQLite holds the write lock for the statement: no one else can claim in
 * between. Postgres skips rows another node has locked. */
static const char CLAIM_SQLITE[] =
    "UPDATE deliveries SET status = 'sending', locked_until = $1, updated_at = $2 "
    "WHERE id IN (SELECT id FROM deliveries WHERE " CLAIM_WHERE ")" CLAIM_RETURNING;
static const char CLAIM_POSTGRES[] =
    "UPDATE deliveries SET status = 'sending', locked_until = $1, updated_at = $2 "
    "WHERE id IN (SELECT id FROM deliveries WHERE " CLAIM_WHERE
    " FOR UPDATE SKIP LOCKED)" CLAIM_RETURNING;

int deliveries_claim(struct db *db, long long now, long long lease_ms, int max,
                     struct delivery_claim *out, int *n)
{
    *n = 0;
    if (max <= 0) return 0;
    struct db_stmt *st = db_prepare(db, db_kind(db) == DB_POSTGRES ? CLAIM_POSTGRES : CLAIM_SQLITE);
    if (!st) return -EIO;
    long long lease = now + lease_ms;
    db_bind_int64(st, 1, lease);
    db_bind_int64(st, 2, now);
    db_bind_int64(st, 3, max);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*n >= max) continue; /* cannot happen (LIMIT), but never overrun out */
        struct delivery_claim *c = &out[(*n)++];
        c->id = db_col_int64(st, 0);
        c->alert_id = db_col_int64(st, 1);
        c->destination_id = db_col_int64(st, 2);
        c->attempts = (int)db_col_int64(st, 3);
        c->held_for_digest = db_col_int64(st, 4) != 0;
        c->rule_match = db_col_int64(st, 5) != 0;
        c->lease = lease;
    }
    db_finish(st);
    return rc == DB_DONE ? 0 : (rc < 0 ? rc : -EIO);
}

static int record_one(struct db *db, const struct delivery_claim *c,
                      const struct delivery_outcome *o)
{
    static const char UPDATE_SQL[] =
        "UPDATE deliveries SET status = $3, attempts = attempts + 1, next_attempt_at = $4, "
        "locked_until = NULL, last_status = $5, last_error = $6, updated_at = $7 "
        "WHERE id = $1 AND status = 'sending' AND locked_until = $2";
    static const char ATTEMPT_SQL[] = "INSERT INTO delivery_attempts (delivery_id, attempted_at, "
                                      "status_code, error, duration_ms) "
                                      "VALUES ($1, $2, $3, $4, $5)";
    struct db_stmt *st = db_prepare(db, UPDATE_SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, c->id);
    db_bind_int64(st, 2, c->lease);
    db_bind_text(st, 3, o->status, (size_t)-1);
    db_bind_int64(st, 4, o->next_attempt_at);
    if (o->status_code)
        db_bind_int64(st, 5, o->status_code);
    else
        db_bind_null(st, 5);
    if (o->error)
        db_bind_text(st, 6, o->error, (size_t)-1);
    else
        db_bind_null(st, 6);
    db_bind_int64(st, 7, o->attempted_at);
    int rc = db_step(st);
    int64_t changed = rc == DB_DONE ? db_changes(st) : 0;
    db_finish(st);
    if (rc != DB_DONE) return rc < 0 ? rc : -EIO;
    if (changed == 0) return 0; /* the lease was lost: the node that has it records */

    st = db_prepare(db, ATTEMPT_SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, c->id);
    db_bind_int64(st, 2, o->attempted_at);
    if (o->status_code)
        db_bind_int64(st, 3, o->status_code);
    else
        db_bind_null(st, 3);
    if (o->error)
        db_bind_text(st, 4, o->error, (size_t)-1);
    else
        db_bind_null(st, 4);
    db_bind_int64(st, 5, o->duration_ms);
    rc = db_step(st);
    db_finish(st);
    return rc == DB_DONE ? 0 : (rc < 0 ? rc : -EIO);
}

int deliveries_record(struct db *db, const struct delivery_claim *claims, int n,
                      const struct delivery_outcome *o)
{
    int rc = db_begin(db);
    if (rc < 0) return rc;
    for (int i = 0; i < n; i++) {
        rc = record_one(db, &claims[i], o);
        if (rc < 0) goto fail;
    }
    rc = db_commit(db);
    if (rc < 0) goto fail;
    return 0;
fail:
    db_rollback(db);
    return rc;
}

int deliveries_release(struct db *db, const struct delivery_claim *c, long long next_attempt_at,
                       bool held)
{
    static const char SQL[] =
        "UPDATE deliveries SET status = 'pending', locked_until = NULL, next_attempt_at = $3, "
        "held_for_digest = $4 WHERE id = $1 AND status = 'sending' AND locked_until = $2";
    struct db_stmt *st = db_prepare(db, SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, c->id);
    db_bind_int64(st, 2, c->lease);
    db_bind_int64(st, 3, next_attempt_at);
    db_bind_int64(st, 4, held ? 1 : 0);
    int rc = db_step(st);
    db_finish(st);
    return rc == DB_DONE ? 0 : (rc < 0 ? rc : -EIO);
}

int deliveries_enqueue(struct db *db, int64_t alert_id, int64_t project_id, long long now)
{
    static const char SQL[] =
        "INSERT INTO deliveries (alert_id, destination_id, status, next_attempt_at, created_at, "
        "updated_at) SELECT $1, id, 'pending', $3, $3, $3 FROM destinations "
        "WHERE project_id = $2 AND enabled <> 0 ON CONFLICT (alert_id, destination_id) DO NOTHING";
    struct db_stmt *st = db_prepare(db, SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, alert_id);
    db_bind_int64(st, 2, project_id);
    db_bind_int64(st, 3, now);
    int rc = db_step(st);
    db_finish(st);
    return rc == DB_DONE ? 0 : (rc < 0 ? rc : -EIO);
}

static cJSON *event_id_hex(struct db_stmt *st, int col)
{
    size_t len = 0;
    const unsigned char *b = db_col_is_null(st, col) ? NULL : db_col_blob(st, col, &len);
    if (!b || len != 16) return cJSON_CreateNull();
    char hex[33];
    for (size_t i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    return cJSON_CreateString(hex);
}

int deliveries_alert_context(struct db *db, int64_t alert_id, cJSON **out)
{
    static const char SQL[] =
        "SELECT a.id, a.kind, a.created_at, i.id, i.project_id, i.title, i.culprit, i.level, "
        "i.status, i.first_seen, i.last_seen, i.times_seen, i.hash, p.id, p.name, e.event_id, "
        "e.environment, e.release, e.level "
        "FROM alerts a JOIN issues i ON i.id = a.issue_id JOIN projects p ON p.id = a.project_id "
        "LEFT JOIN events e ON e.project_id = a.project_id AND e.event_id = a.event_id "
        "WHERE a.id = $1";
    struct db_stmt *st = db_prepare(db, SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, alert_id);
    int rc = db_step(st);
    if (rc != DB_ROW) {
        db_finish(st);
        return rc == DB_DONE ? -ENOENT : (rc < 0 ? rc : -EIO);
    }
    cJSON *ctx = json_build(
        "{s:{s:I, s:o, s:I}, s:{s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o}, s:{s:I, s:o},"
        " s:{s:o, s:o, s:o, s:o}}",
        "alert", "id", (int64_t)db_col_int64(st, 0), "kind", db_col_json_text(st, 1), "created_at",
        (int64_t)db_col_int64(st, 2), "issue", "id", (int64_t)db_col_int64(st, 3), "project_id",
        (int64_t)db_col_int64(st, 4), "title", db_col_json_text(st, 5), "culprit",
        db_col_json_text(st, 6), "level", db_col_json_text(st, 7), "status",
        db_col_json_text(st, 8), "first_seen", (int64_t)db_col_int64(st, 9), "last_seen",
        (int64_t)db_col_int64(st, 10), "count", (int64_t)db_col_int64(st, 11), "hash",
        db_col_json_text(st, 12), "project", "id", (int64_t)db_col_int64(st, 13), "name",
        db_col_json_text(st, 14), "event", "event_id", event_id_hex(st, 15), "environment",
        db_col_json_text(st, 16), "release", db_col_json_text(st, 17), "level",
        db_col_json_text(st, 18));
    db_finish(st);
    if (!ctx) return -ENOMEM;
    *out = ctx;
    return 0;
}
