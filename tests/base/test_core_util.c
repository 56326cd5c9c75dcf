/* Tests for the small shared modules: ack, metrics (log: test_log.c). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ack.h"
#include "base/metrics.h"

static int resumed_calls;
static int resumed_status;

static void on_resume(void *ctx, int status)
{
    (void)ctx;
    resumed_calls++;
    resumed_status = status;
}

static void test_ack_resumes_once_after_last_event(void **state)
{
    (void)state;
    resumed_calls = 0;
    struct ack *a = ack_new(3, on_resume, NULL);
    assert_non_null(a);
    ack_event_done(a, 0);
    ack_event_done(a, 0);
    assert_int_equal(resumed_calls, 0);
    ack_event_done(a, 0);
    assert_int_equal(resumed_calls, 1);
    assert_int_equal(resumed_status, 0);
}

static void test_ack_reports_worst_status(void **state)
{
    (void)state;
    resumed_calls = 0;
    struct ack *a = ack_new(3, on_resume, NULL);
    ack_event_done(a, 0);
    ack_event_done(a, -EIO);
    ack_event_done(a, -ESHUTDOWN);
    assert_int_equal(resumed_calls, 1);
    assert_int_equal(resumed_status, -ESHUTDOWN < -EIO ? -ESHUTDOWN : -EIO);
}

static void test_ack_rejects_zero_expected(void **state)
{
    (void)state;
    assert_null(ack_new(0, on_resume, NULL));
    assert_null(ack_new(1, NULL, NULL));
}

struct ack_thread_arg {
    struct ack *a;
    int n;
};

static void *ack_worker(void *p)
{
    struct ack_thread_arg *arg = p;
    for (int i = 0; i < arg->n; i++)
        ack_event_done(arg->a, 0);
    return NULL;
}

static void test_ack_concurrent_done_resumes_exactly_once(void **state)
{
    (void)state;
    resumed_calls = 0;
    struct ack *a = ack_new(4000, on_resume, NULL);
    pthread_t t[4];
    struct ack_thread_arg arg = {a, 1000};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, ack_worker, &arg);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(resumed_calls, 1);
}

static void test_metrics_counter_and_histogram_render(void **state)
{
    (void)state;
    metrics_add("periscope_retention_runs_total", NULL, 1);
    metrics_add("test_things_total", "kind=\"a\"", 2);
    metrics_add("test_things_total", "kind=\"a\"", 3);
    metrics_add("test_things_total", "kind=\"b\"", 1);
    metrics_set("test_depth", NULL, 7);
    const double bounds[] = {0.0005, 0.05, 0.1, 1, 2.5};
    metrics_observe("test_latency_seconds", NULL, 0.05, bounds, 5);
    metrics_observe("test_latency_seconds", NULL, 0.1, bounds, 5);
    metrics_observe("test_latency_seconds", NULL, 0.2, bounds, 5);
    metrics_observe("test_latency_seconds", NULL, 5, bounds, 5);
    char *text = metrics_render();
    assert_non_null(text);
    /* HELP from the one table (base/metrics_families.c); none for a name
     * without a row. */
    assert_non_null(strstr(text, "# HELP periscope_retention_runs_total Retention passes run.\n"));
    assert_null(strstr(text, "# HELP test_things_total"));
    assert_non_null(strstr(text, "# TYPE test_things_total counter\n"));
    assert_non_null(strstr(text, "test_things_total{kind=\"a\"} 5\n"));
    assert_non_null(strstr(text, "test_things_total{kind=\"b\"} 1\n"));
    assert_non_null(strstr(text, "test_depth 7\n"));
    /* Bucket bounds in their shortest exact form, the sum exact. */
    assert_non_null(strstr(text, "test_latency_seconds_bucket{le=\"0.0005\"} 0\n"));
    assert_non_null(strstr(text, "test_latency_seconds_bucket{le=\"0.05\"} 1\n"));
    assert_non_null(strstr(text, "test_latency_seconds_bucket{le=\"0.1\"} 2\n"));
    assert_non_null(strstr(text, "test_latency_seconds_bucket{le=\"1\"} 3\n"));
    assert_non_null(strstr(text, "test_latency_seconds_bucket{le=\"2.5\"} 3\n"));
    assert_non_null(strstr(text, "test_latency_seconds_bucket{le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(text, "test_latency_seconds_sum 5.35\n"));
    assert_non_null(strstr(text, "test_latency_seconds_count 4\n"));
    assert_null(strstr(text, "000000000"));
    free(text);
}

static int collector_runs;
static void collector(void *ctx)
{
    (void)ctx;
    collector_runs++;
    metrics_set("test_collected", NULL, 42);
}

static void test_metrics_collectors_run_at_render(void **state)
{
    (void)state;
    metrics_register_collector(collector, NULL);
    char *text = metrics_render();
    assert_int_equal(collector_runs, 1);
    assert_non_null(strstr(text, "test_collected 42\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ack_resumes_once_after_last_event),
        cmocka_unit_test(test_ack_reports_worst_status),
        cmocka_unit_test(test_ack_rejects_zero_expected),
        cmocka_unit_test(test_ack_concurrent_done_resumes_exactly_once),
        cmocka_unit_test(test_metrics_counter_and_histogram_render),
        cmocka_unit_test(test_metrics_collectors_run_at_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
