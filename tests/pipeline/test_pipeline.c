/* pipeline: events published on the real "events" topic by many threads go
 * through the workers and the writer; each request is acked once, after its
 * commit; one new issue raises exactly one alert; stop drains and answers
 * everyone — on SQLite and on Postgres. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "lua/registry.h"
#include "pipeline/pipeline.h"
#include "store/scripts.h"
#include "writer_support.h"

enum { PRODUCERS = 4, PER_PRODUCER = 300 };

static const char EVENT_SAME_ISSUE[] =
    "{\"platform\":\"python\",\"exception\":[{\"type\":\"ConnectionError\",\"value\":\"db down\","
    "\"stacktrace\":{\"frames\":[{\"module\":\"app.db\",\"function\":\"connect\",\"in_app\":true}]}"
    "}],"
    "\"timestamp\":1709296496.25}";

static const char SQL_EVENTS[] = "SELECT COUNT(*) FROM events WHERE project_id = $1";
static const char SQL_ISSUES[] = "SELECT COUNT(*) FROM issues WHERE project_id = $1";
static const char SQL_SEEN[] = "SELECT SUM(times_seen) FROM issues WHERE project_id = $1";
static const char SQL_ALERTS[] = "SELECT COUNT(*) FROM alerts WHERE project_id = $1";

struct producer {
    struct wfix *f;
    struct acks *acks;
    unsigned first_id;
    int published, rejected;
};

/* Publishes like ingest: on a full topic the request would get 503 and the
 * SDK retries later — here the producer retries after a pause. */
static void *produce(void *arg)
{
    struct producer *p = arg;
    for (unsigned i = 0; i < PER_PRODUCER; i++) {
        /* Every third event is a resend of the one before (same id). */
        unsigned id = p->first_id + (i % 3 == 2 ? i - 1 : i);
        struct raw_event *ev = wfix_event(p->f, id, EVENT_SAME_ISSUE, p->acks);
        for (int tries = 0; tries < 10000; tries++) {
            int rc = topic_publish(p->f->srv.events, ev);
            if (rc == 0) {
                p->published++;
                ev = NULL;
                break;
            }
            p->rejected++;
            struct timespec pause = {0, 200000};
            nanosleep(&pause, NULL);
        }
        if (ev) {
            ack_event_done(ev->ack, -EAGAIN);
            raw_event_free(ev);
        }
    }
    return NULL;
}

static void run_many_producers(bool postgres)
{
    struct wfix *f = NULL;
    assert_int_equal(wfix_open(&f, postgres, 64, 256), 0);
    struct pipeline *p;
    assert_int_equal(pipeline_start(&f->srv, &p), 0);

    struct acks acks = {0};
    struct producer prod[PRODUCERS];
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        prod[i] = (struct producer){.f = f, .acks = &acks, .first_id = 100000u * (unsigned)(i + 1)};
        assert_int_equal(pthread_create(&th[i], NULL, produce, &prod[i]), 0);
    }
    int published = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        published += prod[i].published;
    }
    assert_int_equal(published, PRODUCERS * PER_PRODUCER);
    pipeline_stop(p);

    /* Every request answered once, all committed. */
    assert_int_equal(acks.done, PRODUCERS * PER_PRODUCER);
    assert_int_equal(acks.ok, PRODUCERS * PER_PRODUCER);
    int distinct = PRODUCERS * (PER_PRODUCER - PER_PRODUCER / 3);
    assert_int_equal(wfix_query_int(f, SQL_EVENTS, f->project_id), distinct);
    assert_int_equal(wfix_query_int(f, SQL_ISSUES, f->project_id), 1);
    assert_int_equal(wfix_query_int(f, SQL_SEEN, f->project_id), distinct);
    assert_int_equal(wfix_query_int(f, SQL_ALERTS, f->project_id), 1);
    struct topic_stats ts;
    topic_stats(f->srv.alerts, &ts);
    assert_int_equal(ts.published, 1);
    wfix_close(f);
}

static void test_many_producers_one_issue_one_alert_on_sqlite(void **state)
{
    (void)state;
    run_many_producers(false);
}

static void test_many_producers_one_issue_one_alert_on_postgres(void **state)
{
    (void)state;
    run_many_producers(true);
}

static void run_stop_answers_everyone(bool postgres)
{
    struct wfix *f = NULL;
    assert_int_equal(wfix_open(&f, postgres, 1000, 2048), 0);
    /* Queue first, then start and stop at once: stop must drain it all. */
    struct acks acks = {0}; /* every tenth event is queue mode: no ack */
    for (unsigned i = 0; i < 1500; i++)
        assert_int_equal(topic_publish(f->srv.events, wfix_event(f, i + 1, EVENT_SAME_ISSUE,
                                                                 i % 10 ? &acks : NULL)),
                         0);
    struct pipeline *p;
    assert_int_equal(pipeline_start(&f->srv, &p), 0);
    pipeline_stop(p);
    assert_int_equal(acks.done, 1350);
    assert_int_equal(acks.ok, 1350);
    assert_int_equal(wfix_query_int(f, SQL_EVENTS, f->project_id), 1500);
    assert_int_equal(topic_publish(f->srv.events, NULL), -ESHUTDOWN);
    wfix_close(f);
}

static void test_stop_drains_commits_and_answers_every_request_on_sqlite(void **state)
{
    (void)state;
    run_stop_answers_everyone(false);
}

static void test_stop_drains_commits_and_answers_every_request_on_postgres(void **state)
{
    (void)state;
    run_stop_answers_everyone(true);
}

static void test_unstorable_event_is_acked_with_an_error_through_the_pipeline(void **state)
{
    (void)state;
    struct wfix *f = NULL;
    assert_int_equal(wfix_open(&f, false, 100, 64), 0);
    struct pipeline *p;
    assert_int_equal(pipeline_start(&f->srv, &p), 0);
    struct acks good = {0}, bad = {0};
    struct raw_event *ev = wfix_event(f, 1, "[\"not an object\"]", &bad);
    assert_int_equal(topic_publish(f->srv.events, ev), 0);
    ev = wfix_event(f, 2, EVENT_SAME_ISSUE, &bad);
    ev->project_id = 999; /* deleted meanwhile: no such project */
    assert_int_equal(topic_publish(f->srv.events, ev), 0);
    assert_int_equal(topic_publish(f->srv.events, wfix_event(f, 3, EVENT_SAME_ISSUE, &good)), 0);
    pipeline_stop(p);
    assert_int_equal(bad.done, 2);
    assert_int_equal(bad.failed, 2);
    assert_int_equal(bad.last_status, -EIO);
    assert_int_equal(good.ok, 1);
    wfix_close(f);
}

static const char DROP_DEBUG_SCRIPT[] =
    "return { filter = function(event) return event.level ~= 'debug' end }";

static void test_filtered_events_are_acked_and_not_stored(void **state)
{
    (void)state;
    struct wfix *f;
    assert_int_equal(wfix_open(&f, false, 100, 64), 0);
    int64_t version;
    assert_int_equal(scripts_create_version(store_writer(f->srv.store), f->project_id,
                                            DROP_DEBUG_SCRIPT, sizeof(DROP_DEBUG_SCRIPT) - 1,
                                            &version),
                     0);
    assert_int_equal(script_registry_open(f->srv.store, f->srv.cfg, &f->srv.scripts), 0);
    char *msg = NULL;
    int line = 0;
    assert_int_equal(script_registry_activate(f->srv.scripts, f->project_id, version, &msg, &line),
                     0);
    struct pipeline *p;
    assert_int_equal(pipeline_start(&f->srv, &p), 0);
    struct acks acks = {0};
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(
            topic_publish(f->srv.events,
                          wfix_event(f, i + 1,
                                     i % 2 ? "{\"message\":\"noise\",\"level\":\"debug\"}"
                                           : "{\"message\":\"real\",\"level\":\"error\"}",
                                     &acks)),
            0);
    pipeline_stop(p);
    assert_int_equal(acks.done, 10);
    assert_int_equal(acks.ok, 10); /* dropped on purpose: answered 200 */
    assert_int_equal(wfix_query_int(f, SQL_EVENTS, f->project_id), 5);
    assert_int_equal(wfix_query_int(f, SQL_SEEN, f->project_id), 5);
    script_registry_close(f->srv.scripts);
    wfix_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_producers_one_issue_one_alert_on_sqlite),
        cmocka_unit_test(test_many_producers_one_issue_one_alert_on_postgres),
        cmocka_unit_test(test_stop_drains_commits_and_answers_every_request_on_sqlite),
        cmocka_unit_test(test_stop_drains_commits_and_answers_every_request_on_postgres),
        cmocka_unit_test(test_unstorable_event_is_acked_with_an_error_through_the_pipeline),
        cmocka_unit_test(test_filtered_events_are_acked_and_not_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
