/* Script versions in the store, activation (build, validate, swap),
 * rollback, workers picking up a new generation, and per-project error
 * stats — on SQLite and on Postgres. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "model/event.h"
#include "pipeline/pipeline.h"
#include "lua/registry.h"
#include "lua/runtime.h"
#include "store/projects.h"
#include "store/scripts.h"
#include "lua_helpers.h"

struct fixture {
    struct pipeline_deps srv;
    int64_t project_id;
};

static int64_t store_script(struct test_store *ts, int64_t project_id, const char *source)
{
    struct db *db = store_acquire(ts->store);
    int64_t version = 0;
    assert_int_equal(scripts_create_version(db, project_id, source, strlen(source), &version), 0);
    store_release(ts->store, db);
    return version;
}

/* Processes the sample event with the given level and environment. */
static int process(struct runtime *rt, int64_t project_id, const char *environment,
                   const char *level)
{
    cJSON *json = sample_event();
    cJSON_ReplaceItemInObject(json, "environment", cJSON_CreateString(environment));
    cJSON_ReplaceItemInObject(json, "level", cJSON_CreateString(level));
    struct grouped_event ev = {.project_id = project_id};
    assert_int_equal(runtime_process(rt, json, &ev), 0);
    free(ev.title);
    free(ev.culprit);
    cJSON_Delete(json);
    return ev.filtered;
}

static void test_registry_activate_validate_and_rollback(void **state)
{
    struct test_store *ts = *state;
    ts->tb.cfg.lua_dir = PERISCOPE_SOURCE_DIR "/tests/fixtures/lua";
    struct pipeline_deps srv = {.cfg = &ts->tb.cfg, .store = ts->store};
    struct db *db = store_acquire(ts->store);
    int64_t pid = test_project(db, "registry");
    store_release(ts->store, db);

    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);
    struct runtime *rt;
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &rt), 0);
    assert_int_equal(process(rt, pid, "dev", "error"), 0);

    /* v1 drops dev: activated, and the worker picks it up before the next event. */
    int64_t v1 =
        store_script(ts, pid, "return { filter = function(e) return e.environment ~= 'dev' end }");
    uint64_t gen = script_registry_generation(srv.scripts);
    char *msg = NULL;
    int line = -1;
    assert_int_equal(script_registry_activate(srv.scripts, pid, v1, &msg, &line), 0);
    assert_true(script_registry_generation(srv.scripts) != gen);
    assert_int_equal(process(rt, pid, "dev", "error"), 1);
    assert_int_equal(process(rt, pid, "prod", "error"), 0);

    /* v2 does not compile: rejected with its line, v1 keeps running. */
    int64_t v2 =
        store_script(ts, pid, "return {\n  filter = function(e)\n    return e. == 1\n  end }");
    assert_int_equal(script_registry_activate(srv.scripts, pid, v2, &msg, &line), -EINVAL);
    assert_non_null(msg);
    assert_int_equal(line, 3);
    free(msg);
    assert_int_equal(process(rt, pid, "dev", "error"), 1);

    /* v3 fails at run time on the sample event: rejected too. */
    int64_t v3 =
        store_script(ts, pid, "return { fingerprint = function(e)\n  return e.nothing.here end }");
    assert_int_equal(script_registry_activate(srv.scripts, pid, v3, &msg, &line), -EINVAL);
    assert_non_null(strstr(msg, "fingerprint"));
    assert_int_equal(line, 2);
    free(msg);

    db = store_acquire(ts->store);
    int64_t active;
    char *source;
    size_t len;
    assert_int_equal(scripts_get_active(db, pid, &active, &source, &len), 0);
    assert_int_equal(active, v1);
    free(source);
    cJSON *versions;
    assert_int_equal(scripts_list_versions(db, pid, &versions), 0);
    assert_int_equal(json_size(versions), 3);
    assert_true(cJSON_IsTrue(json_get(json_at(versions, 2), "active")));
    cJSON_Delete(versions);
    store_release(ts->store, db);

    /* Rollback to the default rules; a missing version is -ENOENT. */
    assert_int_equal(script_registry_activate(srv.scripts, pid, 0, &msg, &line), 0);
    assert_int_equal(process(rt, pid, "dev", "error"), 0);
    assert_int_equal(script_registry_activate(srv.scripts, pid, 99, &msg, &line), -ENOENT);
    assert_int_equal(script_registry_reload_all(srv.scripts), 0);

    runtime_free(rt);
    script_registry_close(srv.scripts);
}

static void test_registry_counts_hook_errors_per_project(void **state)
{
    struct test_store *ts = *state;
    ts->tb.cfg.lua_dir = PERISCOPE_SOURCE_DIR "/tests/fixtures/lua";
    struct pipeline_deps srv = {.cfg = &ts->tb.cfg, .store = ts->store};
    struct db *db = store_acquire(ts->store);
    int64_t pid = test_project(db, "stats");
    store_release(ts->store, db);
    int64_t v = store_script(ts, pid,
                             "return { filter = function(e)\n"
                             "  if e.level == 'warning' then error('no warnings') end\n"
                             "  return true end }");
    /* Stored and pointed at directly: the registry loads it at open. */
    db = store_acquire(ts->store);
    assert_int_equal(scripts_set_active(db, pid, v), 0);
    store_release(ts->store, db);
    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);
    struct runtime *rt;
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &rt), 0);

    assert_int_equal(process(rt, pid, "prod", "warning"), 0); /* kept: the default */
    assert_int_equal(process(rt, pid, "prod", "warning"), 0);
    assert_int_equal(process(rt, pid, "prod", "error"), 0);

    cJSON *stats;
    assert_int_equal(script_registry_stats(srv.scripts, pid, &stats), 0);
    assert_int_equal(json_i64(json_get(stats, "version")), v);
    cJSON *filter = json_get(json_get(stats, "errors"), "filter");
    assert_int_equal(json_i64(json_get(filter, "runtime")), 2);
    cJSON *last = json_get(stats, "last_error");
    assert_string_equal(json_str(json_get(last, "hook")), "filter");
    assert_int_equal(json_i64(json_get(last, "line")), 2);
    assert_string_equal(json_str(json_get(last, "message")), "script:2: no warnings");
    cJSON_Delete(stats);

    runtime_free(rt);
    script_registry_close(srv.scripts);
}

static void test_registry_validate_uses_the_callers_event(void **state)
{
    struct test_store *ts = *state;
    ts->tb.cfg.lua_dir = PERISCOPE_SOURCE_DIR "/tests/fixtures/lua";
    struct pipeline_deps srv = {.cfg = &ts->tb.cfg, .store = ts->store};
    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);
    const char *src = "return { fingerprint = function(e) return { e.tags.team } end }";
    char *msg = NULL;
    int line = 0;
    cJSON *ev = sample_event();
    /* The sample has no tags.team: the hook returns an empty list. */
    assert_int_equal(script_registry_validate(srv.scripts, src, strlen(src), ev, &msg, &line),
                     -EINVAL);
    assert_non_null(msg);
    free(msg);
    cJSON_AddStringToObject(cJSON_GetObjectItem(ev, "tags"), "team", "payments");
    assert_int_equal(script_registry_validate(srv.scripts, src, strlen(src), ev, &msg, &line), 0);
    assert_null(msg);
    cJSON_Delete(ev);
    script_registry_close(srv.scripts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_registry_activate_validate_and_rollback),
        TEST_BOTH(test_registry_counts_hook_errors_per_project),
        TEST_BOTH(test_registry_validate_uses_the_callers_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
