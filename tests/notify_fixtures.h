/* notify_fixtures — rows the notifier tests need that the pipeline's
 * writer makes in production (an issue, an event, an alert and its outbox
 * rows), written here with plain bound SQL through db.h. Header-only. */
#ifndef PERISCOPE_TEST_NOTIFY_FIXTURES_H
#define PERISCOPE_TEST_NOTIFY_FIXTURES_H

#include "base/clock.h"
#include "support.h"
#include "store/deliveries.h"
#include "store/destinations.h"
#include "store/projects.h"

static inline int64_t fx_insert_id(struct db *db, struct db_stmt *st)
{
    (void)db;
    assert_int_equal(db_step(st), DB_ROW);
    int64_t id = db_col_int64(st, 0);
    db_finish(st);
    return id;
}

static inline int64_t fx_destination(struct db *db, int64_t project, const char *type,
                                     const char *config_json)
{
    cJSON *cfg = json_parse_text(config_json);
    assert_non_null(cfg);
    int64_t id = 0;
    assert_int_equal(destinations_create(db, project, type, type, 1, cfg, clock_wall_ms(), &id), 0);
    cJSON_Delete(cfg);
    return id;
}

/* An issue with one event and a "new" alert, its deliveries enqueued. */
static inline int64_t fx_alert(struct db *db, int64_t project, const char *title)
{
    static const unsigned char EVENT_ID[16] = {0xfc, 0x6d, 0x8c, 0x0c, 0x43, 0xfc, 0x46, 0x30,
                                               0xad, 0x85, 0x0e, 0xe5, 0x18, 0xf1, 0xb9, 0xd0};
    static int serial;
    long long now = clock_wall_ms();
    char hash[33];
    snprintf(hash, sizeof hash, "%032x", ++serial);
    struct db_stmt *st = db_prepare(
        db,
        "INSERT INTO issues (project_id, hash, title, culprit, level, first_seen, last_seen, "
        "times_seen) VALUES ($1, $2, $3, 'app.views in divide', 'error', $4, $4, 1) RETURNING id");
    db_bind_int64(st, 1, project);
    db_bind_text(st, 2, hash, (size_t)-1);
    db_bind_text(st, 3, title, (size_t)-1);
    db_bind_int64(st, 4, now);
    int64_t issue = fx_insert_id(db, st);
    unsigned char event_id[16];
    memcpy(event_id, EVENT_ID, 16);
    event_id[15] = (unsigned char)serial;
    st = db_prepare(db,
                    "INSERT INTO events (project_id, event_id, issue_id, timestamp, received_at, "
                    "level, environment, release, title, payload) VALUES ($1, $2, $3, $4, $4, "
                    "'error', 'production', 'shop@1.2.3', $5, $6) RETURNING id");
    db_bind_int64(st, 1, project);
    db_bind_blob(st, 2, event_id, 16);
    db_bind_int64(st, 3, issue);
    db_bind_int64(st, 4, now);
    db_bind_text(st, 5, title, (size_t)-1);
    db_bind_blob(st, 6, "x", 1);
    fx_insert_id(db, st);
    st = db_prepare(db, "INSERT INTO alerts (project_id, issue_id, kind, event_id, created_at) "
                        "VALUES ($1, $2, 'new', $3, $4) RETURNING id");
    db_bind_int64(st, 1, project);
    db_bind_int64(st, 2, issue);
    db_bind_blob(st, 3, event_id, 16);
    db_bind_int64(st, 4, now);
    int64_t alert = fx_insert_id(db, st);
    assert_int_equal(deliveries_enqueue(db, alert, project, now), 0);
    return alert;
}

static inline int64_t fx_scalar(struct db *db, const char *sql, int64_t arg)
{
    struct db_stmt *st = db_prepare(db, sql);
    assert_non_null(st);
    db_bind_int64(st, 1, arg);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t v = db_col_int64(st, 0);
    db_finish(st);
    return v;
}

#endif
