/* writer: batched idempotent storage, issues counted once per event, alerts
 * and outbox rows, acks after commit — on SQLite and on Postgres. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pipeline/writer.h"
#include "writer_support.h"

static const char EVENT_A[] =
    "{\"platform\":\"python\",\"level\":\"error\",\"exception\":{\"values\":"
    "[{\"type\":\"ValueError\",\"value\":\"bad input\"}]}}";
static const char EVENT_B[] = "{\"message\":\"disk full on %s\",\"level\":\"warning\"}";

static const char SQL_EVENTS[] = "SELECT COUNT(*) FROM events WHERE project_id = $1";
static const char SQL_ISSUES[] = "SELECT COUNT(*) FROM issues WHERE project_id = $1";
static const char SQL_SEEN[] = "SELECT SUM(times_seen) FROM issues WHERE project_id = $1";
static const char SQL_ALERTS_NEW[] =
    "SELECT COUNT(*) FROM alerts WHERE project_id = $1 AND kind = 'new'";
static const char SQL_ALERTS_REGRESSION[] =
    "SELECT COUNT(*) FROM alerts WHERE project_id = $1 AND kind = 'regression'";
static const char SQL_DELIVERIES[] =
    "SELECT COUNT(*) FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
    " WHERE a.project_id = $1 AND d.status = 'pending'";
static const char SQL_SET_STATUS[] = "UPDATE issues SET status = $2 WHERE project_id = $1";
static const char SQL_UNRESOLVED[] =
    "SELECT COUNT(*) FROM issues WHERE project_id = $1 AND status = 'unresolved'";
static const char SQL_ADD_DESTINATION[] =
    "INSERT INTO destinations (project_id, type, name, enabled, created_at)"
    " VALUES ($1, 'internal_logger', $2, 1, 0)";
static const char SQL_DISABLE_DESTINATION[] =
    "UPDATE destinations SET enabled = 0 WHERE project_id = $1 AND name = $2";

struct wstate {
    bool postgres;
    struct wfix *f;
    struct writer *w;
};

static int setup(void **state, bool postgres)
{
    struct wstate *s = calloc(1, sizeof(*s));
    s->postgres = postgres;
    if (wfix_open(&s->f, postgres, 1000, 4096) != 0 || writer_new(&s->f->srv, &s->w) != 0)
        return -1;
    *state = s;
    return 0;
}

static int setup_sqlite(void **state)
{
    return setup(state, false);
}
static int setup_postgres(void **state)
{
    return setup(state, true);
}

static int teardown(void **state)
{
    struct wstate *s = *state;
    if (!s) return 0;
    writer_free(s->w);
    wfix_close(s->f);
    free(s);
    return 0;
}

static struct wstate *get(void **state)
{
    return *state;
}

/* Processes (worker stage) and commits events as one batch. */
static int commit(struct wstate *s, struct raw_event **evs, size_t n)
{
    struct grouped_event **g = calloc(n, sizeof(*g));
    assert_non_null(g);
    for (size_t i = 0; i < n; i++)
        assert_non_null(g[i] = wfix_group(s->f->worker, evs[i]));
    int rc = writer_commit_batch(s->w, g, n);
    free(g);
    return rc;
}

static int64_t q(struct wstate *s, const char *sql)
{
    return wfix_query_int(s->f, sql, s->f->project_id);
}

static void test_duplicate_event_is_stored_and_counted_once(void **state)
{
    struct wstate *s = get(state);
    struct acks acks = {0};
    struct raw_event *evs[3] = {
        wfix_event(s->f, 1, EVENT_A, &acks),
        wfix_event(s->f, 1, EVENT_A, &acks), /* resent within the batch */
        wfix_event(s->f, 2, EVENT_A, &acks),
    };
    assert_int_equal(commit(s, evs, 3), 0);
    struct raw_event *again = wfix_event(s->f, 1, EVENT_A, &acks); /* a later batch */
    assert_int_equal(commit(s, &again, 1), 0);

    assert_int_equal(acks.done, 4);
    assert_int_equal(acks.ok, 4); /* the resend gets 200 with the same id */
    assert_int_equal(q(s, SQL_EVENTS), 2);
    assert_int_equal(q(s, SQL_ISSUES), 1);
    assert_int_equal(q(s, SQL_SEEN), 2);
    assert_int_equal(q(s, SQL_ALERTS_NEW), 1);
    struct writer_stats st;
    writer_get_stats(s->w, &st);
    assert_int_equal(st.stored, 2);
    assert_int_equal(st.duplicates, 2);
}

static void test_duplicates_inside_multi_row_inserts_count_once(void **state)
{
    struct wstate *s = get(state);
    struct raw_event *first = wfix_event(s->f, 7, EVENT_B, NULL);
    assert_int_equal(commit(s, &first, 1), 0);
    /* 40 events, each id twice in a row, and id 7 (stored already) again. */
    struct raw_event *evs[41];
    for (unsigned i = 0; i < 40; i++)
        evs[i] = wfix_event(s->f, 1000 + i / 2, i % 3 ? EVENT_A : EVENT_B, NULL);
    evs[40] = wfix_event(s->f, 7, EVENT_B, NULL);
    assert_int_equal(commit(s, evs, 41), 0);
    assert_int_equal(q(s, SQL_EVENTS), 21);
    assert_int_equal(q(s, SQL_SEEN), 21);
    assert_int_equal(q(s, SQL_ISSUES), 2);
    assert_int_equal(q(s, SQL_ALERTS_NEW), 2);
    struct writer_stats st;
    writer_get_stats(s->w, &st);
    assert_int_equal(st.duplicates, 21);
}

static void test_events_of_one_batch_on_one_issue_count_each(void **state)
{
    struct wstate *s = get(state);
    struct raw_event *evs[50];
    for (unsigned i = 0; i < 50; i++)
        evs[i] = wfix_event(s->f, 100 + i, i % 2 ? EVENT_A : EVENT_B, NULL);
    assert_int_equal(commit(s, evs, 50), 0);
    assert_int_equal(q(s, SQL_ISSUES), 2);
    assert_int_equal(q(s, SQL_SEEN), 50);
    assert_int_equal(q(s, SQL_EVENTS), 50);
    assert_int_equal(q(s, SQL_ALERTS_NEW), 2);
    /* One alert message per new issue is published for the notifier. */
    struct topic_stats ts;
    topic_stats(s->f->srv.alerts, &ts);
    assert_int_equal(ts.depth, 2);
}

static void test_new_issue_writes_one_delivery_per_enabled_destination(void **state)
{
    struct wstate *s = get(state);
    assert_int_equal(wfix_exec(s->f, SQL_ADD_DESTINATION, s->f->project_id, "one"), 0);
    assert_int_equal(wfix_exec(s->f, SQL_ADD_DESTINATION, s->f->project_id, "two"), 0);
    assert_int_equal(wfix_exec(s->f, SQL_ADD_DESTINATION, s->f->project_id, "off"), 0);
    assert_int_equal(wfix_exec(s->f, SQL_DISABLE_DESTINATION, s->f->project_id, "off"), 0);
    struct raw_event *ev = wfix_event(s->f, 7, EVENT_A, NULL);
    assert_int_equal(commit(s, &ev, 1), 0);
    assert_int_equal(q(s, SQL_ALERTS_NEW), 1);
    assert_int_equal(q(s, SQL_DELIVERIES), 2);
}

static void test_event_on_resolved_issue_reopens_it_with_a_regression_alert(void **state)
{
    struct wstate *s = get(state);
    assert_int_equal(wfix_exec(s->f, SQL_ADD_DESTINATION, s->f->project_id, "one"), 0);
    struct raw_event *ev = wfix_event(s->f, 1, EVENT_A, NULL);
    assert_int_equal(commit(s, &ev, 1), 0);
    assert_int_equal(wfix_exec(s->f, SQL_SET_STATUS, s->f->project_id, "resolved"), 0);
    assert_int_equal(q(s, SQL_UNRESOLVED), 0);

    struct raw_event *evs[3] = {wfix_event(s->f, 2, EVENT_A, NULL),
                                wfix_event(s->f, 3, EVENT_A, NULL),
                                wfix_event(s->f, 4, EVENT_A, NULL)};
    assert_int_equal(commit(s, evs, 3), 0);
    assert_int_equal(q(s, SQL_UNRESOLVED), 1);
    assert_int_equal(q(s, SQL_ALERTS_REGRESSION), 1);
    assert_int_equal(q(s, SQL_DELIVERIES), 2); /* the new alert's and the regression's */
    assert_int_equal(q(s, SQL_SEEN), 4);

    /* A duplicate on a resolved issue is not a regression. */
    assert_int_equal(wfix_exec(s->f, SQL_SET_STATUS, s->f->project_id, "resolved"), 0);
    ev = wfix_event(s->f, 4, EVENT_A, NULL);
    assert_int_equal(commit(s, &ev, 1), 0);
    assert_int_equal(q(s, SQL_ALERTS_REGRESSION), 1);
    assert_int_equal(q(s, SQL_UNRESOLVED), 0);
}

static void test_ignored_issue_counts_but_raises_nothing(void **state)
{
    struct wstate *s = get(state);
    struct raw_event *ev = wfix_event(s->f, 1, EVENT_B, NULL);
    assert_int_equal(commit(s, &ev, 1), 0);
    assert_int_equal(wfix_exec(s->f, SQL_SET_STATUS, s->f->project_id, "ignored"), 0);
    ev = wfix_event(s->f, 2, EVENT_B, NULL);
    assert_int_equal(commit(s, &ev, 1), 0);
    assert_int_equal(q(s, SQL_ALERTS_NEW), 1);
    assert_int_equal(q(s, SQL_ALERTS_REGRESSION), 0);
    assert_int_equal(q(s, SQL_SEEN), 2);
    assert_int_equal(q(s, SQL_UNRESOLVED), 0);
}

static void test_event_that_cannot_be_stored_acks_eio_alone(void **state)
{
    struct wstate *s = get(state);
    struct acks good = {0}, bad = {0};
    struct raw_event *evs[3] = {wfix_event(s->f, 1, EVENT_A, &good),
                                wfix_event(s->f, 2, EVENT_A, &bad),
                                wfix_event(s->f, 3, EVENT_B, &good)};
    evs[1]->project_id = s->f->project_id + 1000; /* no such project: the insert fails */
    assert_int_equal(commit(s, evs, 3), -EIO);
    assert_int_equal(bad.done, 1);
    assert_int_equal(bad.last_status, -EIO);
    assert_int_equal(good.done, 2);
    assert_int_equal(good.ok, 2);
    assert_int_equal(q(s, SQL_EVENTS), 2);
    assert_int_equal(q(s, SQL_SEEN), 2);
    struct writer_stats st;
    writer_get_stats(s->w, &st);
    assert_int_equal(st.failed, 1);
}

struct node {
    struct wstate *s;
    struct writer *w;
    unsigned first_id;
    int rc;
};

/* One node's writer: 10 batches of 20, ids overlapping the other node's. */
static void *node_main(void *arg)
{
    struct node *n = arg;
    struct worker_ctx *wk;
    if (worker_ctx_new(&n->s->f->srv, &wk) != 0) {
        n->rc = -1;
        return NULL;
    }
    for (unsigned b = 0; b < 10; b++) {
        struct grouped_event *evs[20];
        for (unsigned i = 0; i < 20; i++) {
            evs[i] = wfix_group(wk, wfix_event(n->s->f, n->first_id + b * 20 + i, EVENT_A, NULL));
            if (!evs[i]) n->rc = -1;
        }
        if (writer_commit_batch(n->w, evs, 20) != 0) n->rc = -1;
    }
    worker_ctx_free(wk);
    return NULL;
}

static void test_two_nodes_on_one_postgres_create_the_issue_once(void **state)
{
    struct wstate *s = get(state);
    if (!s->postgres) skip();
    /* A second node: its own store (connections) on the same database. */
    struct pipeline_deps srv2 = s->f->srv;
    char err[256];
    assert_int_equal(store_open(&s->f->tb.cfg, &srv2.store, err, sizeof(err)), 0);
    struct writer *w2;
    assert_int_equal(writer_new(&srv2, &w2), 0);
    struct node a = {.s = s, .w = s->w, .first_id = 1000};
    struct node b = {.s = s, .w = w2, .first_id = 1100}; /* 100 ids shared */
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, node_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, node_main, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_int_equal(q(s, SQL_ISSUES), 1);
    assert_int_equal(q(s, SQL_ALERTS_NEW), 1);
    assert_int_equal(q(s, SQL_EVENTS), 300);
    assert_int_equal(q(s, SQL_SEEN), 300);
    writer_free(w2);
    store_close(srv2.store);
}

/* Eleven issues in one batch: eight counted by one multi-row update, three
 * singly; each issue gets exactly its own count and latest timestamp. */
/* SQLite: the search index holds exactly the text of the issues (FTS5's
 * integrity-check with rank 1 compares it with the issues table), and a
 * search through it finds each of the project's issues whose title has
 * the text. */
static void assert_search_index_in_step(struct wstate *s, const char *text, int64_t want)
{
    if (s->postgres) return;
    struct db *db = store_acquire(s->f->srv.store);
    struct db_stmt *st =
        db_prepare(db, "INSERT INTO issues_fts(issues_fts, rank) VALUES ('integrity-check', 1)");
    assert_non_null(st);
    assert_true(db_step(st) >= 0);
    db_finish(st);
    st = db_prepare(db, "SELECT COUNT(*) FROM issues_fts WHERE title LIKE $1");
    assert_non_null(st);
    db_bind_text(st, 1, text, (size_t)-1);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_int64(st, 0), want);
    db_finish(st);
    store_release(s->f->srv.store, db);
}

static void test_many_issues_in_one_batch_get_their_own_counts(void **state)
{
    struct wstate *s = get(state);
    static const char *const names[11] = {"alpha", "bravo", "charlie", "delta",   "echo", "foxtrot",
                                          "golf",  "hotel", "india",   "juliett", "kilo"};
    struct raw_event *evs[22];
    char json[160];
    for (unsigned i = 0; i < 22; i++) {
        unsigned ts = 1700000000 + i; /* numbers would be parameterized away: names */
        snprintf(json, sizeof json, "{\"message\":\"distinct issue %s\",\"timestamp\":%u}",
                 names[i % 11], ts);
        evs[i] = wfix_event(s->f, 100 + i, json, NULL);
    }
    assert_int_equal(commit(s, evs, 22), 0);
    assert_int_equal(q(s, SQL_ISSUES), 11);
    assert_int_equal(q(s, SQL_SEEN), 22);
    /* the batch's issues were created by one statement */
    assert_search_index_in_step(s, "%distinct issue%", 11);
    assert_search_index_in_step(s, "%issue juliett%", 1);
    assert_int_equal(q(s, "SELECT COUNT(*) FROM issues WHERE project_id = $1 AND times_seen = 2"),
                     11);
    /* issue k's events are k and k + 11: last_seen is the later one */
    assert_int_equal(q(s, "SELECT COUNT(*) FROM issues WHERE project_id = $1 AND"
                          " last_seen = 1700000000000 + 11000 + (SELECT COUNT(*) FROM issues i2"
                          " WHERE i2.project_id = issues.project_id AND i2.id < issues.id) * 1000"),
                     11);
    struct raw_event *again = wfix_event(s->f, 200, "{\"message\":\"distinct issue delta\"}", NULL);
    assert_int_equal(commit(s, &again, 1), 0);
    assert_int_equal(q(s, SQL_SEEN), 23);
    /* all eleven again: found (a chunk of eight, three singly), none new */
    for (unsigned i = 0; i < 11; i++) {
        snprintf(json, sizeof json, "{\"message\":\"distinct issue %s\"}", names[i]);
        evs[i] = wfix_event(s->f, 300 + i, json, NULL);
    }
    assert_int_equal(commit(s, evs, 11), 0);
    assert_int_equal(q(s, SQL_ISSUES), 11);
    assert_int_equal(q(s, SQL_SEEN), 34);
    assert_search_index_in_step(s, "%distinct issue%", 11);
    assert_int_equal(q(s, SQL_ALERTS_NEW), 11);
}

#define WRITER_TESTS(setup_fn)                                                                     \
    cmocka_unit_test_setup_teardown(test_duplicate_event_is_stored_and_counted_once, setup_fn,     \
                                    teardown),                                                     \
        cmocka_unit_test_setup_teardown(test_duplicates_inside_multi_row_inserts_count_once,       \
                                        setup_fn, teardown),                                       \
        cmocka_unit_test_setup_teardown(test_events_of_one_batch_on_one_issue_count_each,          \
                                        setup_fn, teardown),                                       \
        cmocka_unit_test_setup_teardown(test_many_issues_in_one_batch_get_their_own_counts,        \
                                        setup_fn, teardown),                                       \
        cmocka_unit_test_setup_teardown(                                                           \
            test_new_issue_writes_one_delivery_per_enabled_destination, setup_fn, teardown),       \
        cmocka_unit_test_setup_teardown(                                                           \
            test_event_on_resolved_issue_reopens_it_with_a_regression_alert, setup_fn, teardown),  \
        cmocka_unit_test_setup_teardown(test_ignored_issue_counts_but_raises_nothing, setup_fn,    \
                                        teardown),                                                 \
        cmocka_unit_test_setup_teardown(test_event_that_cannot_be_stored_acks_eio_alone, setup_fn, \
                                        teardown),                                                 \
        cmocka_unit_test_setup_teardown(test_two_nodes_on_one_postgres_create_the_issue_once,      \
                                        setup_fn, teardown)

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = {WRITER_TESTS(setup_sqlite)};
    const struct CMUnitTest postgres_tests[] = {WRITER_TESTS(setup_postgres)};
    int failed = cmocka_run_group_tests_name("writer on SQLite", sqlite_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("writer on Postgres", postgres_tests, NULL, NULL);
    return failed;
}
