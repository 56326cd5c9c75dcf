/* grouping transitions in the store, on SQLite and Postgres: what is
 * recorded before a grouping change (the previous script version and its
 * source, the rules, the config), for how long (the project's setting; 0:
 * none), and the start-up check that turns a new default grouping config
 * into a transition — plus which configs this build can run. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "grouping/config.h"
#include "store/grouping_rules.h"
#include "store/grouping_transitions.h"
#include "store/scripts.h"
#include "support.h"

static const int64_t DAY = 86400000;

static struct db *db_of(void **state)
{
    return store_writer(((struct test_store *)*state)->store);
}

static void set_config(struct db *db, int64_t project, const char *config)
{
    struct db_stmt *st = db_prepare(db, "UPDATE projects SET grouping_config = $2 WHERE id = $1");
    assert_non_null(st);
    db_bind_int64(st, 1, project);
    if (config)
        db_bind_text(st, 2, config, (size_t)-1);
    else
        db_bind_null(st, 2);
    assert_int_equal(db_step(st), DB_DONE);
}

static void test_a_change_records_the_previous_grouping_for_the_period(void **state)
{
    struct db *db = db_of(state);
    int64_t p = test_project(db, "t");
    struct grouping_transition t;
    assert_int_equal(grouping_transition_get(db, p, 1000, &t), -ENOENT);

    /* default rules → version 1 */
    assert_int_equal(grouping_transition_begin(db, p, 1000), 0);
    assert_int_equal(grouping_transition_get(db, p, 1000, &t), 0);
    assert_int_equal(t.prev_version, 0);
    assert_null(t.prev_source);
    assert_null(t.prev_fingerprint_rules);
    assert_string_equal(t.prev_config, GROUPING_CONFIG_ID);
    assert_int_equal(t.expires_at_ms, 1000 + 7 * DAY);
    grouping_transition_clear(&t);
    assert_int_equal(grouping_transition_get(db, p, 1000 + 7 * DAY, &t), -ENOENT); /* over */

    int64_t v = 0;
    const char *src = "return {}";
    assert_int_equal(scripts_create_version(db, p, src, strlen(src), &v), 0);
    assert_int_equal(scripts_set_active(db, p, v), 0);
    assert_int_equal(grouping_rules_set(db, p, "error.type:X -> x", ""), 0);
    assert_int_equal(grouping_transition_days_set(db, p, 2), 0);
    /* version 1 + rules → something else: replaces the running transition */
    assert_int_equal(grouping_transition_begin(db, p, 5000), 0);
    assert_int_equal(grouping_transition_get(db, p, 5000, &t), 0);
    assert_int_equal(t.prev_version, v);
    assert_string_equal(t.prev_source, src);
    assert_int_equal(t.prev_len, strlen(src));
    assert_string_equal(t.prev_fingerprint_rules, "error.type:X -> x");
    assert_null(t.prev_stacktrace_rules);
    assert_int_equal(t.expires_at_ms, 5000 + 2 * DAY);
    grouping_transition_clear(&t);
}

static void test_a_period_of_zero_records_nothing(void **state)
{
    struct db *db = db_of(state);
    int64_t p = test_project(db, "t");
    int days = -1;
    assert_int_equal(grouping_transition_days_get(db, p, &days), 0);
    assert_int_equal(days, 7);
    assert_int_equal(grouping_transition_days_set(db, p, 0), 0);
    assert_int_equal(grouping_transition_begin(db, p, 1000), 0);
    struct grouping_transition t;
    assert_int_equal(grouping_transition_get(db, p, 1000, &t), -ENOENT);
    assert_int_equal(grouping_transition_days_set(db, p, GROUPING_TRANSITION_DAYS_MAX + 1),
                     -EINVAL);
    assert_int_equal(grouping_transition_days_set(db, p, -1), -EINVAL);
    assert_int_equal(grouping_transition_days_set(db, 999999, 3), -ENOENT);
}

static void test_a_new_default_config_begins_transitions_at_start(void **state)
{
    struct db *db = db_of(state);
    int64_t old = test_project(db, "made-with-an-older-config");
    int64_t unmarked = test_project(db, "unmarked");
    int64_t current = test_project(db, "current");
    set_config(db, old, "legacy:2023-01-11");
    set_config(db, unmarked, NULL);
    set_config(db, current, GROUPING_CONFIG_ID);
    int started = -1;
    assert_int_equal(grouping_transition_config_check(db, GROUPING_CONFIG_ID, 1000, &started), 0);
    assert_int_equal(started, 1);
    struct grouping_transition t;
    assert_int_equal(grouping_transition_get(db, old, 1000, &t), 0);
    assert_string_equal(t.prev_config, "legacy:2023-01-11");
    assert_int_equal(t.prev_version, 0);
    grouping_transition_clear(&t);
    assert_int_equal(grouping_transition_get(db, unmarked, 1000, &t), -ENOENT);
    assert_int_equal(grouping_transition_get(db, current, 1000, &t), -ENOENT);
    /* every project is marked now: a second start begins nothing */
    assert_int_equal(grouping_transition_config_check(db, GROUPING_CONFIG_ID, 2000, &started), 0);
    assert_int_equal(started, 0);
    assert_int_equal(test_scalar(db, "SELECT COUNT(*) FROM projects WHERE grouping_config IS NULL"
                                     " OR grouping_config <> 'newstyle:2026-01-20'"),
                     0);
}

static void test_the_build_runs_its_own_config_only(void **state)
{
    (void)state;
    assert_string_equal(grouping_config_module(GROUPING_CONFIG_ID), "periscope.grouping");
    assert_null(grouping_config_module("legacy:2023-01-11"));
    assert_null(grouping_config_module(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_a_change_records_the_previous_grouping_for_the_period),
        TEST_BOTH(test_a_period_of_zero_records_nothing),
        TEST_BOTH(test_a_new_default_config_begins_transitions_at_start),
        cmocka_unit_test(test_the_build_runs_its_own_config_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
