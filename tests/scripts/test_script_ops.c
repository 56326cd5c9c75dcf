/* Script management through script_ops (what the admin endpoints call):
 * a PUT takes effect for the next event, bad scripts (syntax, a failing
 * hook, a format() that raises for some destination type, an endless
 * loop, a memory bomb) are refused with their line while
 * the old script keeps serving, rollback and reset, status with live stats,
 * and on Postgres a change on one node reaching another through
 * LISTEN/NOTIFY within a second (also after the listener lost its
 * connection). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support.h"
#include "model/event.h"
#include "scripts/script_listener.h"
#include "scripts/script_ops.h"
#include "pipeline/pipeline.h"
#include "lua/registry.h"
#include "lua/runtime.h"
#include "notify/format_hook.h"
#include "store/projects.h"
#include "store/scripts.h"
#include "lua_helpers.h"

static const char DROP_DEV[] = "return { filter = function(e) return e.environment ~= 'dev' end }";
static const char GROUP_BY_REGION[] =
    "return { fingerprint = function(e, default) return { 'region', e.tags.region } end }";

struct node {
    struct pipeline_deps srv;
    struct runtime *rt;
};

static void node_open(struct node *n, struct config *cfg, struct store *store)
{
    memset(n, 0, sizeof *n);
    n->srv.cfg = cfg;
    n->srv.store = store;
    assert_int_equal(script_registry_open(n->srv.store, n->srv.cfg, &n->srv.scripts), 0);
    script_registry_set_format_check(n->srv.scripts, notify_format_check_script);
    assert_int_equal(runtime_new(n->srv.scripts, n->srv.cfg, &n->rt), 0);
}

static void node_close(struct node *n)
{
    runtime_free(n->rt);
    script_registry_close(n->srv.scripts);
}

static int64_t new_project(struct store *store, const char *name)
{
    struct db *db = store_acquire(store);
    int64_t pid = test_project(db, name);
    store_release(store, db);
    return pid;
}

/* Runs the sample event from environment env through the node's worker
 * runtime: -1 when filtered, else the hash into hash. */
static int run_event(struct node *n, int64_t pid, const char *env, char hash[33])
{
    cJSON *json = sample_event();
    cJSON_ReplaceItemInObject(json, "environment", cJSON_CreateString(env));
    struct grouped_event ev = {.project_id = pid};
    assert_int_equal(runtime_process(n->rt, json, &ev), 0);
    if (hash) memcpy(hash, ev.hash, 33);
    free(ev.title);
    free(ev.culprit);
    cJSON_Delete(json);
    return ev.filtered ? -1 : 0;
}

static int64_t active_version(struct store *store, int64_t pid)
{
    struct db *db = store_acquire(store);
    int64_t v;
    char *src;
    assert_int_equal(scripts_get_active(db, pid, &v, &src, NULL), 0);
    free(src);
    store_release(store, db);
    return v;
}

static void test_put_takes_effect_for_the_next_event(void **state)
{
    struct test_store *ts = *state;
    struct node n;
    node_open(&n, &ts->tb.cfg, ts->store);
    int64_t pid = new_project(ts->store, "put");
    char before[33], after[33];
    assert_int_equal(run_event(&n, pid, "prod", before), 0);
    assert_int_equal(run_event(&n, pid, "dev", NULL), 0);

    struct script_rejection why;
    int64_t v;
    assert_int_equal(
        script_ops_put(n.srv.store, n.srv.scripts, pid, DROP_DEV, strlen(DROP_DEV), NULL, &v, &why),
        0);
    assert_int_equal(v, 1);
    assert_null(why.message);
    assert_int_equal(run_event(&n, pid, "dev", NULL), -1);

    assert_int_equal(script_ops_put(n.srv.store, n.srv.scripts, pid, GROUP_BY_REGION,
                                    strlen(GROUP_BY_REGION), NULL, &v, &why),
                     0);
    assert_int_equal(v, 2);
    assert_int_equal(run_event(&n, pid, "dev", after), 0);
    assert_string_not_equal(before, after);
    assert_int_equal(active_version(ts->store, pid), 2);

    assert_int_equal(script_ops_put(n.srv.store, n.srv.scripts, 999999, DROP_DEV, strlen(DROP_DEV),
                                    NULL, &v, &why),
                     -ENOENT);
    node_close(&n);
}

/* Each bad script is refused with a message naming what failed (and its
 * line where there is one); version 1 keeps serving. */
static void test_bad_scripts_are_refused_and_the_old_one_keeps_serving(void **state)
{
    struct test_store *ts = *state;
    ts->tb.cfg.lua_instruction_limit = 200000;
    ts->tb.cfg.lua_memory_bytes = 8u << 20;
    struct node n;
    node_open(&n, &ts->tb.cfg, ts->store);
    int64_t pid = new_project(ts->store, "bad");
    struct script_rejection why;
    int64_t v;
    assert_int_equal(
        script_ops_put(n.srv.store, n.srv.scripts, pid, DROP_DEV, strlen(DROP_DEV), NULL, &v, &why),
        0);

    static const struct {
        const char *source;
        int line;
        const char *says;
    } bad[] = {
        {"return {\n  filter = function(e)\n    return e. == 1\n  end }", 3, "syntax"},
        {"return { fingerprint = function(e)\n  return e.nothing.here end }", 2, "fingerprint"},
        {"return { filter = function(e)\n  while true do end\n end }", 2, "timeout"},
        {"return { filter = function(e)\n  local t = {}\n  for i = 1, 64 do t[i] = string.rep('x', "
         "1 << 20) .. i end\n end }",
         0, "memory"},
        {"return { filter = 42 }", 0, "must be a function"},
        {"return { format = function(alert, dest)\n  error('no format for ' .. dest.type)\n end }",
         2, "format: "},
        {"return { format = function(alert, dest)\n  if dest.type == 'email' then return 42 end\n "
         "end }",
         0, "email"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = script_ops_put(n.srv.store, n.srv.scripts, pid, bad[i].source,
                                strlen(bad[i].source), NULL, &v, &why);
        assert_int_equal(rc, -EINVAL);
        assert_non_null(why.message);
        if (!strstr(why.message, bad[i].says) && !(bad[i].line == 3 && i == 0))
            fail_msg("script %zu: message \"%s\" does not say \"%s\"", i, why.message, bad[i].says);
        assert_int_equal(why.line, bad[i].line);
        script_ops_rejection_clear(&why);
        assert_int_equal(active_version(ts->store, pid), 1);
        assert_int_equal(run_event(&n, pid, "dev", NULL), -1);
    }
    cJSON *versions;
    assert_int_equal(script_ops_versions(n.srv.store, pid, &versions), 0);
    assert_int_equal(json_size(json_get(versions, "data")), 1);
    cJSON_Delete(versions);
    node_close(&n);
}

/* The project's own sample event is what the hooks must survive. */
static void test_put_validates_against_the_given_sample(void **state)
{
    struct test_store *ts = *state;
    struct node n;
    node_open(&n, &ts->tb.cfg, ts->store);
    int64_t pid = new_project(ts->store, "sample");
    const char *src = "return { fingerprint = function(e) return { e.tags.team } end }";
    cJSON *sample = sample_event();
    struct script_rejection why;
    int64_t v;
    assert_int_equal(
        script_ops_put(n.srv.store, n.srv.scripts, pid, src, strlen(src), sample, &v, &why),
        -EINVAL);
    assert_non_null(strstr(why.message, "fingerprint"));
    script_ops_rejection_clear(&why);
    cJSON_AddStringToObject(cJSON_GetObjectItem(sample, "tags"), "team", "payments");
    if (script_ops_put(n.srv.store, n.srv.scripts, pid, src, strlen(src), sample, &v, &why) != 0)
        fail_msg("refused: %s", why.message);
    cJSON_Delete(sample);
    node_close(&n);
}

static void test_rollback_and_reset_restore_behaviour(void **state)
{
    struct test_store *ts = *state;
    struct node n;
    node_open(&n, &ts->tb.cfg, ts->store);
    int64_t pid = new_project(ts->store, "rollback");
    char dflt[33], regional[33], h[33];
    assert_int_equal(run_event(&n, pid, "prod", dflt), 0);
    struct script_rejection why;
    int64_t v;
    assert_int_equal(
        script_ops_put(n.srv.store, n.srv.scripts, pid, DROP_DEV, strlen(DROP_DEV), NULL, &v, &why),
        0);
    assert_int_equal(script_ops_put(n.srv.store, n.srv.scripts, pid, GROUP_BY_REGION,
                                    strlen(GROUP_BY_REGION), NULL, &v, &why),
                     0);
    assert_int_equal(run_event(&n, pid, "dev", regional), 0);

    assert_int_equal(script_ops_activate(n.srv.store, n.srv.scripts, pid, 1, NULL, &why), 0);
    assert_int_equal(run_event(&n, pid, "dev", NULL), -1);
    assert_int_equal(run_event(&n, pid, "prod", h), 0);
    assert_string_equal(h, dflt);

    assert_int_equal(script_ops_activate(n.srv.store, n.srv.scripts, pid, 2, NULL, &why), 0);
    assert_int_equal(run_event(&n, pid, "dev", h), 0);
    assert_string_equal(h, regional);

    assert_int_equal(script_ops_activate(n.srv.store, n.srv.scripts, pid, 0, NULL, &why), 0);
    assert_int_equal(active_version(ts->store, pid), 0);
    assert_int_equal(run_event(&n, pid, "dev", h), 0);
    assert_string_equal(h, dflt);
    assert_int_equal(script_ops_activate(n.srv.store, n.srv.scripts, pid, 7, NULL, &why), -ENOENT);
    node_close(&n);
}

static int64_t hook_stat(cJSON *status, const char *hook, const char *what)
{
    cJSON *hooks = json_get(json_get(status, "stats"), "hooks");
    return json_i64(json_get(json_get(hooks, hook), what));
}

static void test_status_shows_the_script_and_live_stats_since_activation(void **state)
{
    struct test_store *ts = *state;
    struct node n;
    node_open(&n, &ts->tb.cfg, ts->store);
    int64_t pid = new_project(ts->store, "status");
    cJSON *st;
    assert_int_equal(script_ops_status(n.srv.store, n.srv.scripts, pid, &st), 0);
    assert_true(cJSON_IsNull(json_get(st, "version")));
    assert_true(cJSON_IsNull(json_get(st, "source")));
    cJSON_Delete(st);

    const char *src = "return {\n filter = function(e)\n"
                      "  if e.environment == 'boom' then error('boom') end\n"
                      "  return e.environment ~= 'dev' end }";
    struct script_rejection why;
    int64_t v;
    assert_int_equal(
        script_ops_put(n.srv.store, n.srv.scripts, pid, src, strlen(src), NULL, &v, &why), 0);
    run_event(&n, pid, "dev", NULL);
    run_event(&n, pid, "prod", NULL);
    run_event(&n, pid, "boom", NULL);

    assert_int_equal(script_ops_status(n.srv.store, n.srv.scripts, pid, &st), 0);
    assert_int_equal(json_i64(json_get(st, "version")), 1);
    assert_string_equal(json_str(json_get(st, "source")), src);
    assert_true(json_i64(json_get(st, "created_at")) > 0);
    cJSON *stats = json_get(st, "stats");
    assert_int_equal(json_i64(json_get(stats, "events")), 3);
    assert_int_equal(json_i64(json_get(stats, "filtered")), 1);
    assert_int_equal(hook_stat(st, "filter", "calls"), 3);
    assert_int_equal(hook_stat(st, "filter", "errors"), 1);
    assert_int_equal(hook_stat(st, "filter", "timeouts"), 0);
    cJSON *last = json_get(stats, "last_error");
    assert_int_equal(json_i64(json_get(last, "line")), 3);
    cJSON_Delete(st);

    /* A new activation starts the counts again. */
    assert_int_equal(script_ops_activate(n.srv.store, n.srv.scripts, pid, 1, NULL, &why), 0);
    assert_int_equal(script_ops_status(n.srv.store, n.srv.scripts, pid, &st), 0);
    assert_int_equal(json_i64(json_get(json_get(st, "stats"), "events")), 0);
    assert_true(cJSON_IsNull(json_get(json_get(st, "stats"), "last_error")));
    cJSON_Delete(st);
    assert_int_equal(script_ops_status(n.srv.store, n.srv.scripts, 999999, &st), -ENOENT);
    node_close(&n);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls node b until its grouping for the event equals want; the time it
 * took in ms, or -1 after deadline_ms. */
static long long wait_for_hash(struct node *b, int64_t pid, const char *want, long long deadline_ms)
{
    long long t0 = mono_ms();
    while (mono_ms() - t0 < deadline_ms) {
        char h[33];
        if (run_event(b, pid, "dev", h) == 0 && strcmp(h, want) == 0) return mono_ms() - t0;
        struct timespec pause = {0, 10 * 1000000L};
        nanosleep(&pause, NULL);
    }
    return -1;
}

/* Two nodes (each its own store and registry) on one Postgres. */
static void test_a_put_on_one_node_reaches_the_other_within_a_second(void **state)
{
    struct test_store *ts = *state;
    struct store *store_b;
    char err[256];
    assert_int_equal(store_open(&ts->tb.cfg, &store_b, err, sizeof err), 0);
    struct node a, b;
    node_open(&a, &ts->tb.cfg, ts->store);
    node_open(&b, &ts->tb.cfg, store_b);
    struct script_listener *listener;
    assert_int_equal(script_listener_start(b.srv.cfg, b.srv.scripts, NULL, NULL, &listener), 0);
    assert_non_null(listener);

    int64_t pid = new_project(ts->store, "nodes");
    char dflt[33], regional[33];
    assert_int_equal(run_event(&b, pid, "dev", dflt), 0);
    struct script_rejection why;
    int64_t v;
    assert_int_equal(script_ops_put(a.srv.store, a.srv.scripts, pid, GROUP_BY_REGION,
                                    strlen(GROUP_BY_REGION), NULL, &v, &why),
                     0);
    assert_int_equal(run_event(&a, pid, "dev", regional), 0);
    /* Node b has no timer of its own: only the notification brings the change.
     * The bound is generous (a loaded machine); the time is printed. */
    long long took = wait_for_hash(&b, pid, regional, 10000);
    assert_true(took >= 0);
    print_message("node b swapped after %lld ms\n", took);

    /* The listener's connection dies: it reconnects and reloads everything,
     * so a change made meanwhile is not missed. */
    assert_int_equal(test_pg_maint_exec(&ts->tb,
                                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"),
                     0);
    assert_int_equal(script_ops_activate(a.srv.store, a.srv.scripts, pid, 0, NULL, &why), 0);
    assert_true(wait_for_hash(&b, pid, dflt, 3000) >= 0);

    script_listener_stop(listener);
    node_close(&a);
    node_close(&b);
    store_close(store_b);
}

static void test_no_listener_on_sqlite(void **state)
{
    struct test_store *ts = *state;
    struct node n;
    node_open(&n, &ts->tb.cfg, ts->store);
    struct script_listener *listener = (struct script_listener *)&n;
    assert_int_equal(script_listener_start(n.srv.cfg, n.srv.scripts, NULL, NULL, &listener), 0);
    assert_null(listener);
    node_close(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_put_takes_effect_for_the_next_event),
        TEST_BOTH(test_bad_scripts_are_refused_and_the_old_one_keeps_serving),
        cmocka_unit_test_setup_teardown(test_put_validates_against_the_given_sample,
                                        test_store_setup_sqlite, test_store_teardown),
        TEST_BOTH(test_rollback_and_reset_restore_behaviour),
        TEST_BOTH(test_status_shows_the_script_and_live_stats_since_activation),
        cmocka_unit_test_setup_teardown(test_a_put_on_one_node_reaches_the_other_within_a_second,
                                        test_store_setup_postgres, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_no_listener_on_sqlite, test_store_setup_sqlite,
                                        test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
