/* issue_merge_counts — see issue_merge_internal.h. */
#include "store/issue_merge_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/hll.h"
#include "model/event_tags.h"
#include "store/counters.h"
#include "store/db.h"
#include "store/triage_write.h"

/* WHERE before ON CONFLICT: SQLite needs it to parse an upsert from a
 * SELECT. */
static const char SQL_MOVE_USERS[] =
    "INSERT INTO issue_users (issue_id, user_hash) SELECT CAST($1 AS BIGINT), user_hash"
    " FROM issue_users WHERE issue_id = $2 ON CONFLICT DO NOTHING";
static const char SQL_MOVE_WINDOWS[] =
    "INSERT INTO issue_windows (issue_id, window_minutes, window_start, events, users)"
    " SELECT CAST($1 AS BIGINT), window_minutes, window_start, events, 0 FROM issue_windows"
    " WHERE issue_id = $2 ON CONFLICT (issue_id, window_minutes, window_start)"
    " DO UPDATE SET events = issue_windows.events + excluded.events";
static const char SQL_MOVE_WINDOW_USERS[] =
    "INSERT INTO issue_window_users (issue_id, window_minutes, window_start, user_hash)"
    " SELECT CAST($1 AS BIGINT), window_minutes, window_start, user_hash FROM issue_window_users"
    " WHERE issue_id = $2 ON CONFLICT DO NOTHING";
/* A window's users are the distinct ones of both issues. */
static const char SQL_WINDOW_USERS_RECOUNT[] =
    "UPDATE issue_windows SET users = (SELECT COUNT(*) FROM issue_window_users u"
    " WHERE u.issue_id = issue_windows.issue_id AND u.window_minutes = issue_windows.window_minutes"
    " AND u.window_start = issue_windows.window_start) WHERE issue_id = $1";
static const char SQL_MOVE_FIRES[] =
    "INSERT INTO alert_rule_fires (project_id, rule, issue_id, fired_at, window_start)"
    " SELECT project_id, rule, CAST($1 AS BIGINT), fired_at, window_start FROM alert_rule_fires"
    " WHERE issue_id = $2 ON CONFLICT DO NOTHING";
static const char SQL_USERS_EXACT[] = "SELECT COUNT(*) FROM issue_users WHERE issue_id = $1";
static const char SQL_USER_COUNT_GET[] = "SELECT user_count FROM issues WHERE id = $1";
/* A snooze counts from when it was set: what the fold added is not new. */
static const char SQL_SNOOZE_BASE[] =
    "UPDATE issue_snoozes SET base_times_seen = base_times_seen"
    " + (SELECT times_seen FROM issues WHERE id = $2), base_users = base_users + $3"
    " WHERE issue_id = $1";

/* The events of an issue with what the recount needs, and whether the
 * counters hold them already. */
#define ISSUE_EVENTS "SELECT e.timestamp, e.received_at, e.payload, e.event_id, CASE WHEN "
static const char SQL_EVENTS_SQLITE[] =
    ISSUE_EVENTS COUNTERS_FLUSHED_SQLITE " THEN 1 ELSE 0 END FROM events e WHERE e.issue_id = $1";
static const char SQL_EVENTS_POSTGRES[] =
    ISSUE_EVENTS COUNTERS_FLUSHED_POSTGRES " THEN 1 ELSE 0 END FROM events e WHERE e.issue_id = $1";

/* The old issue's rows the recount took to 0. */
static const char SQL_TAGS_EMPTY[] =
    "DELETE FROM issue_tags WHERE issue_id = $1 AND times_seen <= 0";
static const char SQL_HOURS_EMPTY[] =
    "DELETE FROM issue_hourly WHERE issue_id = $1 AND events <= 0";

static int get_count(struct db *db, const char *sql, int64_t id, int64_t *out)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    int rc = db_step_row(st, -ENOENT);
    *out = rc == 0 ? db_col_int64(st, 0) : 0;
    db_finish(st);
    return rc;
}

/* target's user_count from its exact set, and past the exact limit (or
 * when either issue had a sketch) from the union of both sketches seeded
 * with the exact set. */
static int users_recount(struct db *db, int64_t target, int64_t source)
{
    uint8_t *t = malloc(HLL_REGISTERS), *s = malloc(HLL_REGISTERS);
    int64_t exact = 0;
    int rc = t && s ? 0 : -ENOMEM, ts = 0, ss = 0;
    if (rc == 0) rc = ts = triage_write_sketch_load(db, target, t);
    if (rc >= 0) rc = ss = triage_write_sketch_load(db, source, s);
    if (rc >= 0) rc = get_count(db, SQL_USERS_EXACT, target, &exact);
    int64_t count = exact;
    if (rc == 0 && (ts || ss || exact >= TRIAGE_WRITE_USERS_EXACT_MAX)) {
        for (size_t i = 0; i < HLL_REGISTERS; i++)
            if (s[i] > t[i]) t[i] = s[i];
        rc = triage_write_sketch_seed(db, target, t);
        if (rc == 0) rc = triage_write_sketch_store(db, target, t);
        int64_t estimate = (int64_t)(hll_estimate(t) + 0.5);
        if (estimate > count) count = estimate;
    }
    if (rc == 0) rc = triage_write_user_count_set(db, target, count);
    free(t);
    free(s);
    return rc;
}

int issue_merge_fold_counts(struct db *db, int64_t target, int64_t source)
{
    static const char *const moves[] = {SQL_MOVE_USERS, SQL_MOVE_WINDOWS, SQL_MOVE_WINDOW_USERS,
                                        SQL_MOVE_FIRES};
    int64_t before = 0, after = 0;
    int rc = get_count(db, SQL_USER_COUNT_GET, target, &before);
    for (size_t i = 0; i < sizeof moves / sizeof moves[0] && rc == 0; i++)
        rc = issue_merge_run_ids(db, moves[i], target, source);
    if (rc == 0) rc = issue_merge_run_id(db, SQL_WINDOW_USERS_RECOUNT, target);
    if (rc == 0) rc = users_recount(db, target, source);
    if (rc == 0) rc = get_count(db, SQL_USER_COUNT_GET, target, &after);
    struct db_stmt *st = rc == 0 ? db_prepare(db, SQL_SNOOZE_BASE) : NULL;
    if (rc == 0 && !st) rc = -EIO;
    if (st) {
        db_bind_int64(st, 1, target);
        db_bind_int64(st, 2, source);
        db_bind_int64(st, 3, after - before);
        rc = db_step(st);
        db_finish(st);
        if (rc > 0) rc = 0;
    }
    return rc;
}

/* What the recount gathered from the new issue's events. */
struct recount {
    struct counter_buffer *plus, *minus;
    uint64_t *users;
    size_t nusers, cap;
};

static int user_add(struct recount *r, const struct event_tags *tags)
{
    for (size_t i = 0; tags && i < tags->n; i++) {
        if (strcmp(tags->tag[i].key, "user") != 0) continue;
        if (r->nusers == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 64;
            uint64_t *u = realloc(r->users, cap * sizeof *u);
            if (!u) return -ENOMEM;
            r->users = u;
            r->cap = cap;
        }
        r->users[r->nusers++] = hll_hash(tags->tag[i].value, strlen(tags->tag[i].value));
        break;
    }
    return 0;
}

static int gather(struct db *db, int64_t old_id, int64_t new_id, issue_event_tags_fn tags_fn,
                  void *ctx, struct recount *r)
{
    struct db_stmt *st =
        db_prepare(db, db_kind(db) == DB_POSTGRES ? SQL_EVENTS_POSTGRES : SQL_EVENTS_SQLITE);
    if (!st) return -EIO;
    db_bind_int64(st, 1, new_id);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct counter_event ev = {.timestamp_ms = db_col_int64(st, 0),
                                   .received_at_ms = db_col_int64(st, 1)};
        size_t len = 0, idlen = 0;
        const void *payload = db_col_blob(st, 2, &len);
        const void *id = db_col_blob(st, 3, &idlen);
        uint8_t event_id[16] = {0};
        if (id && idlen == sizeof event_id) memcpy(event_id, id, idlen);
        struct event_tags *tags = NULL;
        /* Unreadable: the event still counts, without its tags. */
        if (!payload || tags_fn(ctx, payload, len, event_id, ev.received_at_ms, &tags) != 0)
            tags = NULL;
        ev.tags = tags;
        rc = user_add(r, tags);
        if (rc == 0 && db_col_int64(st, 4)) {
            ev.issue_id = new_id;
            rc = counter_buffer_add(r->plus, &ev, 1);
            ev.issue_id = old_id;
            if (rc == 0) rc = counter_buffer_add(r->minus, &ev, -1);
        }
        free(tags);
        if (rc != 0) break;
    }
    db_finish(st);
    return rc < 0 ? rc : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The new issue's users from its events: exact, then the sketch. */
static int users_write(struct db *db, int64_t issue_id, struct recount *r)
{
    qsort(r->users, r->nusers, sizeof *r->users, cmp_u64);
    size_t n = 0;
    for (size_t i = 0; i < r->nusers; i++)
        if (n == 0 || r->users[n - 1] != r->users[i]) r->users[n++] = r->users[i];
    int rc = 0;
    int64_t count = 0;
    for (size_t i = 0; i < n && rc >= 0 && count < TRIAGE_WRITE_USERS_EXACT_MAX; i++)
        if ((rc = triage_write_user_insert(db, issue_id, (int64_t)r->users[i])) > 0) count++;
    if (rc < 0) return rc;
    rc = 0;
    if ((size_t)count < n) {
        uint8_t *regs = calloc(1, HLL_REGISTERS);
        if (!regs) return -ENOMEM;
        for (size_t i = 0; i < n; i++)
            hll_add(regs, r->users[i]);
        rc = triage_write_sketch_store(db, issue_id, regs);
        int64_t estimate = (int64_t)(hll_estimate(regs) + 0.5);
        if (estimate > count) count = estimate;
        free(regs);
    }
    return rc == 0 ? triage_write_user_count_set(db, issue_id, count) : rc;
}

int issue_unmerge_recount(struct db *db, int64_t old_id, int64_t new_id,
                          issue_event_tags_fn tags_fn, void *ctx)
{
    struct recount r = {.plus = counter_buffer_new(), .minus = counter_buffer_new()};
    int rc = r.plus && r.minus ? 0 : -ENOMEM;
    if (rc == 0) rc = gather(db, old_id, new_id, tags_fn, ctx, &r);
    if (rc == 0) rc = counters_apply(db, r.plus);
    if (rc == 0) rc = counters_apply(db, r.minus);
    if (rc == 0) rc = issue_merge_run_id(db, SQL_TAGS_EMPTY, old_id);
    if (rc == 0) rc = issue_merge_run_id(db, SQL_HOURS_EMPTY, old_id);
    if (rc == 0) rc = users_write(db, new_id, &r);
    counter_buffer_free(r.plus);
    counter_buffer_free(r.minus);
    free(r.users);
    return rc;
}
