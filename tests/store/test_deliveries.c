/* The outbox on both backends: enqueue per enabled destination, claims as
 * leases (a claimed delivery is not claimed again until its lease ends; two
 * connections never claim the same row), attempts recorded only under our
 * lease, digest holds, the alert context and the admin listing. */
#include "base/clock.h"
#include "notify_fixtures.h"

static struct db *writer(void **state)
{
    return store_writer(((struct test_store *)*state)->store);
}

static void test_enqueue_makes_one_delivery_per_enabled_destination(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "shop");
    int64_t d1 = fx_destination(db, p, "internal_logger", "{}");
    int64_t d2 =
        fx_destination(db, p, "generic_webhook", "{\"webhook_url\":\"https://example.com/h\"}");
    assert_int_equal(destinations_update(db, p, d2, NULL, 0, NULL), 0);
    int64_t a = fx_alert(db, p, "Boom");
    assert_int_equal(deliveries_enqueue(db, a, p, clock_wall_ms()), 0); /* idempotent */
    assert_int_equal(fx_scalar(db, "SELECT COUNT(*) FROM deliveries WHERE alert_id = $1", a), 1);
    assert_int_equal(fx_scalar(db, "SELECT destination_id FROM deliveries WHERE alert_id = $1", a),
                     d1);
}

static void test_claim_is_a_lease_and_records_only_under_it(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "shop");
    fx_destination(db, p, "internal_logger", "{}");
    fx_alert(db, p, "Boom");
    struct delivery_claim c[4];
    int n = 0;
    long long now = clock_wall_ms();
    assert_int_equal(deliveries_claim(db, now, 60000, 4, c, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].attempts, 0);
    assert_false(c[0].held_for_digest);
    /* Leased: nobody claims it again until the lease ends. */
    int m = 0;
    assert_int_equal(deliveries_claim(db, now + 1000, 60000, 4, c + 1, &m), 0);
    assert_int_equal(m, 0);
    /* The lease ended (the node died): claimable again, with a new token. */
    assert_int_equal(deliveries_claim(db, now + 61000, 60000, 4, c + 1, &m), 0);
    assert_int_equal(m, 1);
    /* The first holder's result is dropped; the second's is kept. */
    struct delivery_outcome o = {.attempted_at = now,
                                 .status_code = 500,
                                 .error = "HTTP 500",
                                 .duration_ms = 12,
                                 .status = "pending",
                                 .next_attempt_at = now + 5000};
    assert_int_equal(deliveries_record(db, &c[0], 1, &o), 0);
    assert_int_equal(
        fx_scalar(db, "SELECT COUNT(*) FROM delivery_attempts WHERE delivery_id = $1", c[0].id), 0);
    o.status = "sent";
    o.status_code = 204;
    o.error = NULL;
    assert_int_equal(deliveries_record(db, &c[1], 1, &o), 0);
    assert_int_equal(
        fx_scalar(db, "SELECT COUNT(*) FROM delivery_attempts WHERE delivery_id = $1", c[0].id), 1);
    assert_int_equal(fx_scalar(db, "SELECT attempts FROM deliveries WHERE id = $1", c[0].id), 1);
    assert_int_equal(fx_scalar(db, "SELECT last_status FROM deliveries WHERE id = $1", c[0].id),
                     204);
    /* Sent is final. */
    assert_int_equal(deliveries_claim(db, now + 999999, 60000, 4, c + 2, &m), 0);
    assert_int_equal(m, 0);
}

static void test_retry_is_due_only_at_next_attempt(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "shop");
    fx_destination(db, p, "internal_logger", "{}");
    fx_alert(db, p, "Boom");
    struct delivery_claim c;
    int n = 0;
    long long now = clock_wall_ms();
    assert_int_equal(deliveries_claim(db, now, 60000, 1, &c, &n), 0);
    struct delivery_outcome o = {.attempted_at = now,
                                 .status_code = 503,
                                 .error = "HTTP 503",
                                 .status = "pending",
                                 .next_attempt_at = now + 5000};
    assert_int_equal(deliveries_record(db, &c, 1, &o), 0);
    assert_int_equal(deliveries_claim(db, now + 4999, 60000, 1, &c, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(deliveries_claim(db, now + 5000, 60000, 1, &c, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c.attempts, 1);
}

static void test_held_delivery_comes_back_marked_for_digest(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "shop");
    fx_destination(db, p, "internal_logger", "{}");
    fx_alert(db, p, "Boom");
    struct delivery_claim c;
    int n = 0;
    long long now = clock_wall_ms();
    assert_int_equal(deliveries_claim(db, now, 60000, 1, &c, &n), 0);
    assert_int_equal(deliveries_release(db, &c, now + 30000, true), 0);
    assert_int_equal(deliveries_claim(db, now + 29999, 60000, 1, &c, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(deliveries_claim(db, now + 30000, 60000, 1, &c, &n), 0);
    assert_int_equal(n, 1);
    assert_true(c.held_for_digest);
    assert_int_equal(c.attempts, 0); /* holding is not an attempt */
}

static void test_two_connections_never_claim_the_same_delivery(void **state)
{
    struct test_store *ts = *state;
    struct db *db = writer(state);
    int64_t p = test_project(db, "shop");
    fx_destination(db, p, "internal_logger", "{}");
    for (int i = 0; i < 10; i++)
        fx_alert(db, p, "Boom");
    struct db *other = store_acquire(ts->store);
    struct delivery_claim a[10], b[10];
    int na = 0, nb = 0;
    long long now = clock_wall_ms();
    /* On Postgres, hold the first claim's row locks open in a transaction:
     * the second skips them rather than waiting. */
    assert_int_equal(db_begin(db), 0);
    assert_int_equal(deliveries_claim(db, now, 60000, 6, a, &na), 0);
    if (db_kind(db) == DB_POSTGRES)
        assert_int_equal(deliveries_claim(other, now, 60000, 10, b, &nb), 0);
    assert_int_equal(db_commit(db), 0);
    if (db_kind(db) == DB_SQLITE)
        assert_int_equal(deliveries_claim(other, now, 60000, 10, b, &nb), 0);
    store_release(ts->store, other);
    assert_int_equal(na, 6);
    assert_int_equal(nb, 4);
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++)
            assert_true(a[i].id != b[j].id);
}

static void test_alert_data_has_issue_project_and_event(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "shop");
    int64_t a = fx_alert(db, p, "ZeroDivisionError: division by zero");
    struct alert_data d;
    assert_int_equal(deliveries_alert_data(db, a, &d), 0);
    assert_int_equal(d.id, a);
    assert_string_equal(d.kind, "new");
    assert_string_equal(d.issue.title, "ZeroDivisionError: division by zero");
    assert_int_equal(d.issue.count, 1);
    assert_int_equal(d.issue.project_id, p);
    assert_string_equal(d.project.name, "shop");
    assert_string_equal(d.event.environment, "production");
    assert_int_equal(strlen(d.event.event_id), 32);
    assert_null(d.message_id);
    alert_data_clear(&d);
    assert_int_equal(deliveries_alert_data(db, a + 1000, &d), -ENOENT);
}

static void test_list_alerts_nests_deliveries_and_attempts(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "shop");
    fx_destination(db, p, "internal_logger", "{}");
    int64_t a1 = fx_alert(db, p, "First");
    int64_t a2 = fx_alert(db, p, "Second");
    struct delivery_claim c[2];
    int n = 0;
    long long now = clock_wall_ms();
    assert_int_equal(deliveries_claim(db, now, 60000, 2, c, &n), 0);
    struct delivery_outcome o = {.attempted_at = now,
                                 .status_code = 200,
                                 .duration_ms = 7,
                                 .status = "sent",
                                 .next_attempt_at = now};
    assert_int_equal(deliveries_record(db, c, 2, &o), 0);
    cJSON *list = NULL;
    assert_int_equal(deliveries_list_alerts(db, p, 0, 1, &list), 0);
    assert_int_equal(json_size(list), 1);
    cJSON *first = json_at(list, 0);
    assert_int_equal(json_i64(json_get(first, "id")), a2); /* newest first */
    cJSON *d = json_at(json_get(first, "deliveries"), 0);
    assert_string_equal(json_str(json_get(d, "status")), "sent");
    assert_string_equal(json_str(json_get(d, "destination_type")), "internal_logger");
    cJSON *x = json_at(json_get(d, "attempts"), 0);
    assert_int_equal(json_i64(json_get(x, "status_code")), 200);
    assert_int_equal(json_i64(json_get(x, "duration_ms")), 7);
    cJSON_Delete(list);
    assert_int_equal(deliveries_list_alerts(db, p, a2, 10, &list), 0);
    assert_int_equal(json_size(list), 1);
    assert_int_equal(json_i64(json_get(json_at(list, 0), "id")), a1);
    cJSON_Delete(list);
}

static void test_destinations_crud_is_scoped_to_the_project(void **state)
{
    struct db *db = writer(state);
    int64_t p = test_project(db, "shop"), q = test_project(db, "other");
    int64_t d = fx_destination(db, p, "slack_webhook",
                               "{\"webhook_url\":\"https://hooks.slack.com/services/T0/B0/x\"}");
    cJSON *row = NULL;
    assert_int_equal(destinations_get(db, q, d, &row), -ENOENT);
    assert_int_equal(destinations_get(db, p, d, &row), 0);
    assert_string_equal(json_str(json_get(json_get(row, "config"), "webhook_url")),
                        "https://hooks.slack.com/services/T0/B0/x");
    assert_true(cJSON_IsTrue(json_get(row, "enabled")));
    cJSON_Delete(row);
    cJSON *cfg = json_build("{s:s}", "webhook_url", "https://hooks.slack.com/services/T1/B1/y");
    assert_int_equal(destinations_update(db, p, d, "renamed", -1, cfg), 0);
    assert_int_equal(destinations_update(db, q, d, "x", -1, NULL), -ENOENT);
    cJSON_Delete(cfg);
    cJSON *list = NULL;
    assert_int_equal(destinations_list(db, p, 0, 10, &list), 0);
    assert_int_equal(json_size(list), 1);
    assert_string_equal(json_str(json_get(json_at(list, 0), "name")), "renamed");
    cJSON_Delete(list);
    assert_int_equal(destinations_delete(db, q, d), -ENOENT);
    assert_int_equal(destinations_delete(db, p, d), 0);
    assert_int_equal(destinations_get(db, 0, d, &row), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_enqueue_makes_one_delivery_per_enabled_destination),
        TEST_BOTH(test_claim_is_a_lease_and_records_only_under_it),
        TEST_BOTH(test_retry_is_due_only_at_next_attempt),
        TEST_BOTH(test_held_delivery_comes_back_marked_for_digest),
        TEST_BOTH(test_two_connections_never_claim_the_same_delivery),
        TEST_BOTH(test_alert_data_has_issue_project_and_event),
        TEST_BOTH(test_list_alerts_nests_deliveries_and_attempts),
        TEST_BOTH(test_destinations_crud_is_scoped_to_the_project),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
