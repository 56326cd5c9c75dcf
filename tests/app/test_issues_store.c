/* issues.h, issue_tags.h, events_read.h, events_retention.h and retention.h
 * on both backends. Rows are seeded with plain INSERTs (the writer's own
 * tests cover how they get there). */
#include "base/clock.h"
#include "support.h"

#include <zstd.h>

#include "model/event_tags.h"
#include "app/retention.h"
#include "store/events_read.h"
#include "store/events_retention.h"
#include "store/issue_tags.h"
#include "store/counters.h"
#include "store/issues.h"
#include "store/projects.h"

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)

static struct db *writer(void **state)
{
    return store_writer(((struct test_store *)*state)->store);
}

static int64_t add_issue(struct db *db, int64_t pid, const char *title, const char *culprit,
                         const char *level, const char *status, int64_t first, int64_t last,
                         int64_t count)
{
    static int seq;
    char hash[33];
    snprintf(hash, sizeof hash, "%032d", ++seq);
    struct db_stmt *st = db_prepare(
        db, "INSERT INTO issues (project_id, hash, title, culprit, level, status, first_seen,"
            " last_seen, times_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id");
    assert_non_null(st);
    db_bind_int64(st, 1, pid);
    db_bind_text(st, 2, hash, (size_t)-1);
    db_bind_text(st, 3, title, (size_t)-1);
    db_bind_text(st, 4, culprit, (size_t)-1);
    db_bind_text(st, 5, level, (size_t)-1);
    db_bind_text(st, 6, status, (size_t)-1);
    db_bind_int64(st, 7, first);
    db_bind_int64(st, 8, last);
    db_bind_int64(st, 9, count);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t id = db_col_int64(st, 0);
    db_finish(st);
    return id;
}

/* An event whose payload is json compressed like the writer does; its
 * event id is n in the last bytes. Returns the row id. */
static int64_t add_event(struct db *db, int64_t pid, int64_t issue, uint32_t n, int64_t received,
                         const char *env, const char *json)
{
    uint8_t eid[16] = {0xab};
    eid[12] = (uint8_t)(n >> 24), eid[13] = (uint8_t)(n >> 16), eid[14] = (uint8_t)(n >> 8),
    eid[15] = (uint8_t)n;
    char buf[1024];
    size_t clen = ZSTD_compress(buf, sizeof buf, json, strlen(json), 1);
    assert_false(ZSTD_isError(clen));
    struct db_stmt *st = db_prepare(
        db, "INSERT INTO events (project_id, event_id, issue_id, timestamp, received_at, level,"
            " environment, release, title, payload) VALUES ($1, $2, $3, $4, $4, 'error', $5, 'r1',"
            " 'T', $6) RETURNING id");
    assert_non_null(st);
    db_bind_int64(st, 1, pid);
    db_bind_blob(st, 2, eid, 16);
    db_bind_int64(st, 3, issue);
    db_bind_int64(st, 4, received);
    if (env)
        db_bind_text(st, 5, env, (size_t)-1);
    else
        db_bind_null(st, 5);
    db_bind_blob(st, 6, buf, clen);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t id = db_col_int64(st, 0);
    db_finish(st);
    return id;
}

static int64_t scalar(struct db *db, const char *sql, int64_t arg)
{
    struct db_stmt *st = db_prepare(db, sql);
    assert_non_null(st);
    db_bind_int64(st, 1, arg);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t v = db_col_int64(st, 0);
    db_finish(st);
    return v;
}

static struct issue_query query(void)
{
    struct issue_query q = {0};
    q.status = "unresolved";
    q.limit = 50;
    return q;
}

/* The ids of a page, in order, as "a,b,c". */
static void ids_of(cJSON *rows, char *out, size_t outlen)
{
    size_t i, o = 0;
    cJSON *r;
    out[0] = '\0';
    json_array_each(rows, i, r) o += (size_t)snprintf(out + o, outlen - o, "%s%lld", i ? "," : "",
                                                      (long long)json_i64(json_get(r, "id")));
}

static void expect_ids(struct db *db, int64_t pid, const struct issue_query *q, const char *want)
{
    cJSON *rows = NULL;
    bool more = true;
    int lrc = issues_list(db, pid, q, &rows, &more);
    if (lrc) fprintf(stderr, "%s\n", db_errmsg(db));
    assert_int_equal(lrc, 0);
    char got[256];
    ids_of(rows, got, sizeof got);
    assert_string_equal(got, want);
    cJSON_Delete(rows);
}

static void test_list_defaults_to_unresolved_newest_first(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "p");
    int64_t a = add_issue(db, p, "A", "", "error", "unresolved", 100, 300, 1);
    int64_t b = add_issue(db, p, "B", "", "error", "unresolved", 200, 500, 1);
    int64_t c = add_issue(db, p, "C", "", "error", "resolved", 200, 900, 1);
    int64_t d = add_issue(db, p, "D", "", "error", "unresolved", 200, 500, 1); /* tie with b */
    add_issue(db, test_project(db, "p"), "other project", "", "error", "unresolved", 1, 1000, 1);
    struct issue_query q = query();
    char want[128];
    snprintf(want, sizeof want, "%lld,%lld,%lld", (long long)d, (long long)b, (long long)a);
    expect_ids(db, p, &q, want);

    cJSON *rows = NULL;
    bool more = true;
    assert_int_equal(issues_list(db, p, &q, &rows, &more), 0);
    assert_false(more);
    cJSON *r = json_at(rows, 0);
    assert_string_equal(json_str(json_get(r, "title")), "D");
    assert_string_equal(json_str(json_get(r, "status")), "unresolved");
    assert_int_equal(json_i64(json_get(r, "project_id")), p);
    assert_int_equal(json_i64(json_get(r, "last_seen")), 500);
    assert_int_equal(strlen(json_str(json_get(r, "hash"))), 32);
    cJSON_Delete(rows);

    q.status = NULL;
    snprintf(want, sizeof want, "%lld,%lld,%lld,%lld", (long long)c, (long long)d, (long long)b,
             (long long)a);
    expect_ids(db, p, &q, want);
}

static void test_list_filters_status_level_text_and_time(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "p");
    int64_t a = add_issue(db, p, "ValueError: Bad 100%", "app.views in get", "error", "resolved",
                          100, 300, 1);
    int64_t b =
        add_issue(db, p, "KeyError: x", "app.models in save", "warning", "ignored", 200, 500, 1);
    int64_t c =
        add_issue(db, p, "Timeout", "worker_job in run", "error", "unresolved", 600, 700, 1);
    char want[64];
    struct issue_query q = query();

    q.status = "resolved";
    snprintf(want, sizeof want, "%lld", (long long)a);
    expect_ids(db, p, &q, want);
    q.status = "ignored";
    snprintf(want, sizeof want, "%lld", (long long)b);
    expect_ids(db, p, &q, want);

    q.status = NULL;
    q.level = "warning";
    expect_ids(db, p, &q, want);
    q.level = NULL;

    q.text = "VALUEERROR"; /* case-insensitive, title */
    snprintf(want, sizeof want, "%lld", (long long)a);
    expect_ids(db, p, &q, want);
    q.text = "models in"; /* culprit */
    snprintf(want, sizeof want, "%lld", (long long)b);
    expect_ids(db, p, &q, want);
    q.text = "100%"; /* % is literal */
    snprintf(want, sizeof want, "%lld", (long long)a);
    expect_ids(db, p, &q, want);
    q.text = "r_j"; /* _ is literal: matches worker_job only */
    snprintf(want, sizeof want, "%lld", (long long)c);
    expect_ids(db, p, &q, want);
    q.text = NULL;

    q.has_since = true, q.since_ms = 500; /* last_seen >= 500 */
    snprintf(want, sizeof want, "%lld,%lld", (long long)c, (long long)b);
    expect_ids(db, p, &q, want);
    q.has_until = true, q.until_ms = 600; /* first_seen < 600 */
    snprintf(want, sizeof want, "%lld", (long long)b);
    expect_ids(db, p, &q, want);
}

static void test_list_sorts_and_pages_with_stable_cursors(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "p");
    int64_t id[5];
    for (int i = 0; i < 5; i++) /* first_seen ascending, counts descending, last_seen tied */
        id[i] = add_issue(db, p, "I", "", "error", "unresolved", 10 * (i + 1), 1000, 50 - i);
    struct issue_query q = query();
    char want[128];

    q.sort = ISSUE_SORT_FIRST_SEEN;
    snprintf(want, sizeof want, "%lld,%lld,%lld,%lld,%lld", (long long)id[4], (long long)id[3],
             (long long)id[2], (long long)id[1], (long long)id[0]);
    expect_ids(db, p, &q, want);
    q.sort = ISSUE_SORT_TIMES_SEEN;
    snprintf(want, sizeof want, "%lld,%lld,%lld,%lld,%lld", (long long)id[0], (long long)id[1],
             (long long)id[2], (long long)id[3], (long long)id[4]);
    expect_ids(db, p, &q, want);

    /* last_seen ties everywhere: pages of 2 still walk every row once. */
    q.sort = ISSUE_SORT_LAST_SEEN;
    q.limit = 2;
    int seen = 0;
    bool more = true;
    for (int page = 0; more; page++) {
        cJSON *rows = NULL;
        assert_true(page < 5);
        assert_int_equal(issues_list(db, p, &q, &rows, &more), 0);
        for (size_t i = 0; i < json_size(rows); i++, seen++)
            assert_int_equal(json_i64(json_get(json_at(rows, i), "id")), id[4 - seen]);
        cJSON *last = json_at(rows, json_size(rows) - 1);
        q.has_cursor = true;
        q.cursor_key = issues_sort_key(last, q.sort);
        q.cursor_id = json_i64(json_get(last, "id"));
        cJSON_Delete(rows);
    }
    assert_int_equal(seen, 5);
    expect_ids(db, p, &q, ""); /* past the end: empty */

    q.has_cursor = false;
    q.limit = 5; /* exactly one page */
    cJSON *rows = NULL;
    assert_int_equal(issues_list(db, p, &q, &rows, &more), 0);
    assert_int_equal(json_size(rows), 5);
    assert_false(more);
    cJSON_Delete(rows);
    q.limit = 0;
    assert_int_equal(issues_list(db, p, &q, &rows, &more), -EINVAL);
}

static void test_status_changes_single_and_bulk_stay_in_project(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "p"), other = test_project(db, "p");
    int64_t a = add_issue(db, p, "A", "", "error", "unresolved", 1, 1, 1);
    int64_t b = add_issue(db, p, "B", "", "error", "unresolved", 1, 1, 1);
    int64_t x = add_issue(db, other, "X", "", "error", "unresolved", 1, 1, 1);

    assert_int_equal(issues_set_status(db, p, a, "resolved"), 0);
    assert_int_equal(issues_set_status(db, p, a, "bogus"), -EINVAL);
    assert_int_equal(issues_set_status(db, p, x, "resolved"), -ENOENT);
    cJSON *row = NULL;
    assert_int_equal(issues_get(db, p, a, &row), 0);
    assert_string_equal(json_str(json_get(row, "status")), "resolved");
    cJSON_Delete(row);
    assert_int_equal(issues_get(db, p, x, &row), -ENOENT);

    int64_t ids[] = {a, b, x, 999999}, updated = -1;
    assert_int_equal(issues_set_status_bulk(db, p, ids, 4, "ignored", &updated), 0);
    assert_int_equal(updated, 2);
    assert_int_equal(scalar(db,
                            "SELECT COUNT(*) FROM issues WHERE status = 'ignored' AND"
                            " project_id = $1",
                            p),
                     2);
    assert_int_equal(scalar(db,
                            "SELECT COUNT(*) FROM issues WHERE status = 'unresolved' AND"
                            " id = $1",
                            x),
                     1);
}

static void test_histogram_counts_the_last_24_hours_by_hour(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "p");
    int64_t i = add_issue(db, p, "A", "", "error", "unresolved", 1, 1, 4);
    int64_t now = 1000 * DAY_MS + 30 * 60000; /* half past an hour */
    int64_t received[] = {now, now - 10 * 60000, now - 2 * HOUR_MS,
                          now - 25 * HOUR_MS /* outside */};
    /* The histogram reads the hourly counts a counter flush writes. */
    struct counter_buffer *buf = counter_buffer_new();
    for (uint32_t n = 0; n < 4; n++) {
        add_event(db, p, i, n + 1, received[n], NULL, "{}");
        assert_int_equal(counter_buffer_add_event(buf, i, received[n], received[n], NULL), 0);
    }
    assert_int_equal(counters_flush(db, buf, 0), 0);
    assert_int_equal(counter_buffer_rows(buf), 0);
    counter_buffer_free(buf);
    assert_int_equal(scalar(db, "SELECT times_seen FROM issues WHERE id = $1", i), 4 + 4);
    cJSON *h = NULL;
    assert_int_equal(issues_histogram(db, i, now, &h), 0);
    assert_int_equal(json_size(h), ISSUES_HISTOGRAM_HOURS);
    assert_int_equal(json_i64(json_at(h, 23)), 2);
    assert_int_equal(json_i64(json_at(h, 21)), 1);
    assert_int_equal(json_i64(json_at(h, 0)), 0);
    cJSON_Delete(h);
}

static void test_tags_are_counted_per_batch_and_summarized(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "p");
    int64_t i = add_issue(db, p, "A", "", "error", "unresolved", 1, 1, 3);
    int64_t j = add_issue(db, p, "B", "", "error", "unresolved", 1, 1, 1);
    struct event_tags *prod = test_tags_of("{\"environment\":\"prod\",\"release\":\"1.0\","
                                           "\"server_name\":\"web1\",\"user\":{\"id\":42},"
                                           "\"tags\":{\"browser\":\"Firefox\",\"n\":3}}");
    struct event_tags *staging =
        test_tags_of("{\"environment\":\"staging\",\"tags\":"
                     "[[\"browser\",\"Chrome\"],[\"environment\",\"x\"]]}");
    struct counter_buffer *b = counter_buffer_new();
    assert_non_null(b);
    assert_int_equal(counter_buffer_add_event(b, i, 100, 100, prod), 0);
    assert_int_equal(counter_buffer_add_event(b, i, 300, 300, prod), 0);
    assert_int_equal(counter_buffer_add_event(b, j, 200, 200, staging), 0);
    assert_int_equal(counters_flush(db, b, 0), 0);
    /* a second flush adds to the counts */
    assert_int_equal(counter_buffer_add_event(b, i, 400, 400, staging), 0);
    assert_int_equal(counters_flush(db, b, 0), 0);

    cJSON *sum = NULL;
    assert_int_equal(issue_tags_summary(db, i, 1, &sum), 0);
    char *text = json_print(sum, 0);
    assert_string_equal(text, "[{\"key\":\"browser\",\"total\":3,\"top_values\":[{\"value\":"
                              "\"Firefox\",\"count\":2,\"last_seen\":300}]},"
                              "{\"key\":\"environment\",\"total\":3,\"top_values\":[{\"value\":"
                              "\"prod\",\"count\":2,\"last_seen\":300}]},"
                              "{\"key\":\"n\",\"total\":2,\"top_values\":[{\"value\":\"3\","
                              "\"count\":2,\"last_seen\":300}]},"
                              "{\"key\":\"release\",\"total\":2,\"top_values\":[{\"value\":\"1.0\","
                              "\"count\":2,\"last_seen\":300}]},"
                              "{\"key\":\"server_name\",\"total\":2,\"top_values\":[{\"value\":"
                              "\"web1\",\"count\":2,\"last_seen\":300}]},"
                              "{\"key\":\"user\",\"total\":2,\"top_values\":[{\"value\":\"id:42\","
                              "\"count\":2,\"last_seen\":300}]}]");
    free(text);
    cJSON_Delete(sum);

    /* environment and release filter the list through these counts */
    struct issue_query q = query();
    char want[64];
    q.environment = "staging";
    /* the flush moved last_seen too: i's newest event (400) after j's (200) */
    snprintf(want, sizeof want, "%lld,%lld", (long long)i, (long long)j);
    expect_ids(db, p, &q, want);
    q.environment = "prod";
    snprintf(want, sizeof want, "%lld", (long long)i);
    expect_ids(db, p, &q, want);
    q.environment = NULL;
    q.release = "1.0";
    expect_ids(db, p, &q, want);
    q.release = "2.0";
    expect_ids(db, p, &q, "");
    counter_buffer_free(b);
    free(prod);
    free(staging);
}

static void test_tag_extraction_skips_oversized_and_keeps_first_key(void **state)
{
    (void)state;
    char json[600];
    char big[EVENT_TAG_VALUE_MAX + 2];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(json, sizeof json,
             "{\"tags\":{\"long\":\"%s\",\"ok\":true,\"obj\":{}},\"user\":{\"email\":\"a@b\"}}",
             big);
    struct event_tags *t = test_tags_of(json);
    assert_non_null(t);
    assert_int_equal(t->n, 3);
    assert_string_equal(t->tag[0].key, "user");
    assert_string_equal(t->tag[0].value, "email:a@b");
    assert_string_equal(t->tag[1].key, "user.email"); /* for search */
    assert_string_equal(t->tag[1].value, "a@b");
    assert_string_equal(t->tag[2].key, "ok");
    assert_string_equal(t->tag[2].value, "true");
    free(t);
    assert_null(test_tags_of("{\"tags\":\"not a map\"}"));
}

static void test_events_page_newest_first_and_payload_round_trips(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "p");
    int64_t i = add_issue(db, p, "A", "", "error", "unresolved", 1, 1, 3);
    add_event(db, p, i, 1, 1000, "prod", "{\"event_id\":\"one\"}");
    add_event(db, p, i, 2, 2000, NULL, "{\"event_id\":\"two\"}");
    int64_t e3 = add_event(db, p, i, 3, 3000, "prod", "{\"event_id\":\"three\",\"x\":[1,2]}");

    cJSON *rows = NULL;
    int64_t next = -1;
    assert_int_equal(events_list_for_issue(db, p, i, false, 0, 2, &rows, &next), 0);
    assert_int_equal(json_size(rows), 2);
    cJSON *r = json_at(rows, 0);
    assert_string_equal(json_str(json_get(r, "event_id")), "ab000000000000000000000000000003");
    assert_int_equal(json_i64(json_get(r, "received_at")), 3000);
    assert_string_equal(json_str(json_get(r, "environment")), "prod");
    assert_string_equal(json_str(json_get(r, "message")), "T");
    assert_true(cJSON_IsNull(json_get(json_at(rows, 1), "environment")));
    assert_true(next > 0 && next < e3);
    cJSON_Delete(rows);
    assert_int_equal(events_list_for_issue(db, p, i, true, next, 2, &rows, &next), 0);
    assert_int_equal(json_size(rows), 1);
    assert_int_equal(next, 0);
    cJSON_Delete(rows);

    uint8_t id[16];
    assert_int_equal(events_latest(db, p, i, &rows, id), 0);
    cJSON_Delete(rows);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(events_get_payload(db, p, id, &text, &len), 0);
    assert_string_equal(text, "{\"event_id\":\"three\",\"x\":[1,2]}");
    assert_int_equal(len, strlen(text));
    free(text);
    assert_int_equal(events_get_payload(db, test_project(db, "p"), id, &text, &len), -ENOENT);
}

static void test_retention_deletes_old_and_over_cap_keeping_counts(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    int64_t p = test_project(db, "p");
    int64_t now = clock_wall_ms();
    int64_t old = add_issue(db, p, "old", "", "error", "unresolved", 1, 1, 7);
    int64_t busy = add_issue(db, p, "busy", "", "error", "unresolved", 1, 1, 12);
    uint32_t n = 0;
    for (int k = 0; k < 7; k++) /* 5 past retention, 2 recent */
        add_event(db, p, old, ++n, k < 5 ? now - 40 * DAY_MS + k : now - k, NULL, "{}");
    int64_t newest[4];
    for (int k = 0; k < 12; k++) {
        int64_t id = add_event(db, p, busy, ++n, now - 1000 + k, NULL, "{}");
        if (k >= 8) newest[k - 8] = id;
    }
    struct retention_options o = {.retention_days = 30,
                                  .max_events_per_issue = 4,
                                  .interval_ms = 1000,
                                  .batch = 3,
                                  .pause_ms = 0};
    struct retention_stats s;
    assert_int_equal(retention_run_once(ts->store, &o, now, NULL, &s), 0);
    assert_int_equal(s.deleted_old, 5);
    assert_int_equal(s.deleted_over_cap, 8);
    assert_int_equal(s.errors, 0);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM events WHERE issue_id = $1", old), 2);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM events WHERE issue_id = $1", busy), 4);
    assert_int_equal(scalar(db, "SELECT MIN(id) FROM events WHERE issue_id = $1", busy), newest[0]);
    assert_int_equal(scalar(db, "SELECT times_seen FROM issues WHERE id = $1", old), 7);
    assert_int_equal(scalar(db, "SELECT times_seen FROM issues WHERE id = $1", busy), 12);

    assert_int_equal(retention_run_once(ts->store, &o, now, NULL, &s), 0); /* idempotent */
    assert_int_equal(s.deleted_old + s.deleted_over_cap, 0);
}

static int count_past_mark(void *ctx, const struct counters_event *ev)
{
    (void)ev;
    ++*(int *)ctx;
    return 0;
}

/* Retention empties the events table after a counter flush; events stored
 * next must still lie past the flush mark, or a crash before the next flush
 * would leave them uncounted at the restart's reconcile. */
static void test_events_after_retention_emptied_the_table_lie_past_the_mark(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    int64_t p = test_project(db, "p");
    int64_t now = clock_wall_ms();
    int64_t issue = add_issue(db, p, "gone", "", "error", "unresolved", 1, 1, 0);
    struct counter_buffer *buf = counter_buffer_new();
    for (uint32_t n = 1; n <= 3; n++) {
        add_event(db, p, issue, n, now - 40 * DAY_MS + n, NULL, "{}");
        assert_int_equal(counter_buffer_add_event(buf, issue, now, now - 40 * DAY_MS, NULL), 0);
    }
    assert_int_equal(counters_flush(db, buf, 0), 0);
    counter_buffer_free(buf);
    int64_t mark = 0;
    assert_int_equal(counters_mark(db, 0, &mark), 0);
    assert_true(mark > 0);
    struct retention_options o = {.retention_days = 30, .interval_ms = 1000, .batch = 10};
    struct retention_stats s;
    assert_int_equal(retention_run_once(ts->store, &o, now, NULL, &s), 0);
    assert_int_equal(s.deleted_old, 3);
    assert_int_equal(scalar(db, "SELECT COUNT(*) + $1 FROM events", 0), 0);
    /* Two events stored, then the node dies before its next flush. */
    assert_true(add_event(db, p, issue, 4, now, NULL, "{}") > mark);
    assert_true(add_event(db, p, issue, 5, now, NULL, "{}") > mark);
    int past = 0;
    assert_int_equal(counters_reconcile_each(db, 0, mark, count_past_mark, &past), 0);
    assert_int_equal(past, 2);
}

static void test_retention_thread_starts_and_stops_promptly(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    int64_t p = test_project(db, "p");
    int64_t i = add_issue(db, p, "old", "", "error", "unresolved", 1, 1, 1);
    add_event(db, p, i, 1, clock_wall_ms() - 100 * DAY_MS, NULL, "{}");
    struct retention_options o = {.retention_days = 90,
                                  .max_events_per_issue = 1000,
                                  .interval_ms = 60000,
                                  .batch = 500,
                                  .pause_ms = 1};
    struct retention *r = NULL;
    assert_int_equal(retention_start(ts->store, &o, &r), 0);
    int64_t left = 1;
    for (int k = 0; k < 200 && left; k++) { /* the first pass runs at start */
        usleep(10000);
        struct db *pooled = store_acquire(ts->store);
        left = scalar(pooled, "SELECT COUNT(*) FROM events WHERE issue_id = $1", i);
        store_release(ts->store, pooled);
    }
    assert_int_equal(left, 0);
    long long t0 = clock_wall_ms();
    retention_stop(r); /* wakes the 60 s wait */
    assert_true(clock_wall_ms() - t0 < 2000);
}

/* Text that is not valid UTF-8 in a row (stored before ingest repaired it:
 * SQLite keeps any bytes; Postgres refuses them on the way in) is shown
 * with U+FFFD, and the lists, the issue and its events all answer. */
static void test_invalid_utf8_in_stored_text_is_shown_repaired(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "p");
    int64_t i = add_issue(db, p, "bad \xff\xfe", "mod\xc3", "error", "unresolved", 1, 1, 1);
    add_issue(db, p, "fine", "", "error", "unresolved", 2, 2, 1);
    struct db_stmt *st = db_prepare(
        db, "INSERT INTO events (project_id, event_id, issue_id, timestamp, received_at, level,"
            " environment, release, title, payload) VALUES ($1, $2, $3, 5, 5, 'error',"
            " 'prod\xe2\x82', 'r1', 'bad \xff\xfe', $4)");
    assert_non_null(st);
    uint8_t eid[16] = {0xcd};
    db_bind_int64(st, 1, p);
    db_bind_blob(st, 2, eid, 16);
    db_bind_int64(st, 3, i);
    db_bind_blob(st, 4, "x", 1);
    assert_int_equal(db_step(st), DB_DONE);
    db_finish(st);

    struct issue_query q = query();
    cJSON *rows = NULL, *issue = NULL;
    bool more;
    assert_int_equal(issues_list(db, p, &q, &rows, &more), 0);
    assert_int_equal(json_size(rows), 2);
    cJSON *bad = json_at(rows, 1);
    assert_string_equal(json_str(json_get(bad, "title")), "bad \xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(json_str(json_get(bad, "culprit")), "mod\xef\xbf\xbd");
    cJSON_Delete(rows);
    assert_int_equal(issues_get(db, p, i, &issue), 0);
    cJSON_Delete(issue);
    int64_t next;
    assert_int_equal(events_list_for_issue(db, p, i, false, 0, 10, &rows, &next), 0);
    assert_int_equal(json_size(rows), 1);
    cJSON *ev = json_at(rows, 0);
    assert_string_equal(json_str(json_get(ev, "message")), "bad \xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(json_str(json_get(ev, "environment")), "prod\xef\xbf\xbd");
    cJSON_Delete(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_list_defaults_to_unresolved_newest_first),
        TEST_BOTH(test_list_filters_status_level_text_and_time),
        TEST_BOTH(test_list_sorts_and_pages_with_stable_cursors),
        TEST_BOTH(test_status_changes_single_and_bulk_stay_in_project),
        TEST_BOTH(test_histogram_counts_the_last_24_hours_by_hour),
        TEST_BOTH(test_tags_are_counted_per_batch_and_summarized),
        cmocka_unit_test(test_tag_extraction_skips_oversized_and_keeps_first_key),
        TEST_BOTH(test_events_page_newest_first_and_payload_round_trips),
        TEST_BOTH(test_retention_deletes_old_and_over_cap_keeping_counts),
        TEST_BOTH(test_retention_thread_starts_and_stops_promptly),
        TEST_BOTH(test_events_after_retention_emptied_the_table_lie_past_the_mark),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_in_stored_text_is_shown_repaired,
                                        test_store_setup_sqlite, test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
