/* The scrub(event) hook after the built-in rules (lua/script_scrub.h), the
 * table → JSON rules it is bound by (lua/event_json.h), and the project's
 * settings reaching the workers through the registry — the last on SQLite
 * and on Postgres. */
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
#include "model/normalize.h"
#include "model/scrub.h"
#include "pipeline/pipeline.h"
#include "lua/registry.h"
#include "lua/runtime.h"
#include "lua/script_scrub.h"
#include "store/project_scrub.h"
#include "store/scripts.h"
#include "lua_helpers.h"

static const uint8_t EVENT_ID[16] = {0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* An event in the worker's hands: its tree and its grouped event. */
struct scrub_event {
    cJSON *json;
    struct grouped_event g;
};

/* A normalized event from JSON text; free with scrub_event_free. */
static struct scrub_event *event_of(const char *json)
{
    struct scrub_event *ev = calloc(1, sizeof(*ev));
    assert_non_null(ev);
    ev->g.project_id = 1;
    ev->g.received_at_ms = 1700000000000LL;
    memcpy(ev->g.event_id, EVENT_ID, 16);
    ev->json = cJSON_Parse(json);
    assert_non_null(ev->json);
    assert_int_equal(normalize_event(ev->json, &ev->g), 0);
    return ev;
}

static void scrub_event_free(struct scrub_event *ev)
{
    cJSON_Delete(ev->json);
    free(ev->g.environment);
    free(ev->g.release);
    free(ev);
}

static struct script *open_script(const char *source)
{
    struct vm_limits limits = test_limits();
    struct script *s = NULL;
    struct vm_error err = {0};
    if (script_open(&limits, source, strlen(source), &s, &err) != 0)
        fail_msg("script did not open: %s", err.message);
    return s;
}

static const char *str_at(const cJSON *root, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Runs source's hook on json; returns the event (caller frees) and res. */
static struct scrub_event *run(const char *source, const char *json, int want_rc,
                               struct script_scrub_result *res)
{
    struct script *s = open_script(source);
    struct scrub_event *ev = event_of(json);
    assert_int_equal(script_scrub_event(s, NULL, &ev->json, &ev->g, res), want_rc);
    script_close(s);
    return ev;
}

static void test_without_a_hook_only_the_built_in_rules_run(void **state)
{
    (void)state;
    struct script_scrub_result res;
    struct scrub_event *ev = run("return {}", "{\"extra\":{\"a\":1}}", 0, &res);
    assert_false(res.hook_ran);
    assert_int_equal(res.scrubbed, 0);
    scrub_event_free(ev);
    ev = run("return {}", "{\"extra\":{\"token\":\"t\"}}", 1, &res);
    assert_int_equal(res.scrubbed, 1);
    assert_string_equal(str_at(cJSON_GetObjectItem(ev->json, "extra"), "token", NULL),
                        SCRUB_FILTERED);
    scrub_event_free(ev);
}

static void test_a_hook_that_edits_in_place_is_applied_after_the_rules(void **state)
{
    (void)state;
    const char *src = "return { scrub = function(event)\n"
                      "  event.user.email = nil\n"
                      "  event.tags.scrubbed = event.extra.password\n"
                      "  event.level = 'warning'\n"
                      "  event.event_id = 'not mine'\n"
                      "end }";
    struct script_scrub_result res;
    struct scrub_event *ev = run(src,
                                 "{\"user\":{\"id\":\"7\",\"email\":\"a@b.c\"},\"tags\":{},"
                                 "\"extra\":{\"password\":\"p\"},\"level\":\"error\"}",
                                 1, &res);
    assert_true(res.hook_ran);
    assert_false(res.hook_failed);
    assert_int_equal(res.scrubbed, 1);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(ev->json, "user"), "email"));
    assert_string_equal(str_at(ev->json, "user", "id"), "7");
    /* The hook saw the built-in result, not the password. */
    assert_string_equal(str_at(ev->json, "tags", "scrubbed"), SCRUB_FILTERED);
    /* Re-normalized: the level counts, the event id stays the envelope's. */
    assert_string_equal(ev->g.level, "warning");
    char hex[33];
    event_id_hex(EVENT_ID, hex);
    assert_string_equal(str_at(ev->json, "event_id", NULL), hex);
    scrub_event_free(ev);
}

static void test_a_returned_table_replaces_the_event(void **state)
{
    (void)state;
    const char *src = "return { scrub = function(event)\n"
                      "  return { message = 'replaced', exception = event.exception }\n"
                      "end }";
    struct script_scrub_result res;
    struct scrub_event *ev = run(src, "{\"message\":\"m\",\"extra\":{\"a\":1}}", 1, &res);
    assert_null(cJSON_GetObjectItem(ev->json, "extra"));
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "replaced");
    scrub_event_free(ev);
}

static void test_lists_stay_lists(void **state)
{
    (void)state;
    const char *src = "return { scrub = function(event)\n"
                      "  local crumbs = event.breadcrumbs.values\n"
                      "  for i = #crumbs, 1, -1 do crumbs[i] = nil end\n"
                      "  event.extra.new_list = { 'a', 'b' }\n"
                      "  event.extra.new_empty = {}\n"
                      "end }";
    struct script_scrub_result res;
    struct scrub_event *ev = run(src,
                                 "{\"breadcrumbs\":{\"values\":[{\"message\":\"x\"}]},"
                                 "\"extra\":{\"kept_empty\":[],\"obj\":{}}}",
                                 1, &res);
    cJSON *extra = cJSON_GetObjectItem(ev->json, "extra");
    assert_true(
        cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(ev->json, "breadcrumbs"), "values")));
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(extra, "kept_empty")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(extra, "obj")));
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(extra, "new_list")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(extra, "new_empty")));
    scrub_event_free(ev);
}

/* A failing hook: the built-in result stands and the error says why. */
static void expect_failure(const char *src, enum vm_error_kind kind, const char *message_part)
{
    struct script_scrub_result res;
    struct scrub_event *ev = run(src, "{\"extra\":{\"secret\":\"s\",\"a\":1}}", 1, &res);
    assert_true(res.hook_ran);
    if (!res.hook_failed) fail_msg("the hook did not fail: %s", src);
    if (res.error.kind != kind || !strstr(res.error.message, message_part))
        fail_msg("want %s containing \"%s\", got %s: %s", vm_error_kind_name(kind), message_part,
                 vm_error_kind_name(res.error.kind), res.error.message);
    cJSON *extra = cJSON_GetObjectItem(ev->json, "extra");
    assert_string_equal(str_at(extra, "secret", NULL), SCRUB_FILTERED);
    assert_int_equal(cJSON_GetObjectItem(extra, "a")->valueint, 1);
    scrub_event_free(ev);
}

static void test_a_failing_hook_falls_back_to_the_built_in_result(void **state)
{
    (void)state;
    expect_failure("return { scrub = function(e) error('boom') end }", VM_ERROR_RUNTIME, "boom");
    expect_failure("return { scrub = function(e) while true do end end }", VM_ERROR_TIMEOUT, "");
    expect_failure("return { scrub = function(e) local t, s = {}, ('x'):rep(1 << 20)\n"
                   "  for i = 1, 100 do t[i] = s .. i end end }",
                   VM_ERROR_MEMORY, "");
    expect_failure("return { scrub = function(e) return 'x' end }", VM_ERROR_TYPE, "not a string");
    expect_failure("return { scrub = function(e) e.extra.f = function() end end }", VM_ERROR_TYPE,
                   "extra.f: a function cannot be stored");
    expect_failure("return { scrub = function(e) e.extra.mixed = { 1, 2, x = 3 } end }",
                   VM_ERROR_TYPE, "extra.mixed: object keys must be strings");
    expect_failure("return { scrub = function(e) e.extra.bad = 'a\\255b' end }", VM_ERROR_TYPE,
                   "UTF-8");
    expect_failure("return { scrub = function(e) e.extra.nul = 'a\\0b' end }", VM_ERROR_TYPE,
                   "NUL");
    expect_failure("return { scrub = function(e) e.extra.n = 0/0 end }", VM_ERROR_TYPE, "finite");
    expect_failure("return { scrub = function(e) return { 1, 2 } end }", VM_ERROR_TYPE,
                   "not a list");
}

static void test_cycles_and_shared_tables_are_bounded(void **state)
{
    (void)state;
    expect_failure("return { scrub = function(e) e.extra.me = e end }", VM_ERROR_TYPE,
                   "nested deeper");
    /* 2^40 leaves by sharing one table: refused by size, not built. */
    expect_failure("return { scrub = function(e)\n"
                   "  local t = { ('x'):rep(100) }\n"
                   "  for i = 1, 40 do t = { t, t } end\n"
                   "  e.extra.big = t\n"
                   "end }",
                   VM_ERROR_TYPE, "exceed");
}

/* The project's settings: stored, published by the registry, used by a
 * worker's runtime from its next event on. */
static void test_settings_reach_the_workers_through_the_registry(void **state)
{
    struct test_store *ts = *state;
    ts->tb.cfg.lua_dir = PERISCOPE_SOURCE_DIR "/tests/fixtures/lua";
    struct pipeline_deps srv = {.cfg = &ts->tb.cfg, .store = ts->store};
    struct db *db = store_acquire(ts->store);
    int64_t pid = test_project(db, "scrub-settings");
    store_release(ts->store, db);
    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);
    struct runtime *rt = NULL;
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &rt), 0);

    const char *json = "{\"user\":{\"ssn\":\"078-05-1120\",\"ip_address\":\"10.0.0.1\"}}";
    struct scrub_event *ev = event_of(json);
    ev->g.project_id = pid;
    assert_int_equal(runtime_scrub(rt, &ev->json, &ev->g), 0); /* the defaults: nothing to do */
    scrub_event_free(ev);

    struct scrub_settings s;
    scrub_settings_default(&s);
    s.scrub_ip_addresses = true;
    strcpy(s.sensitive[s.n_sensitive++], "ssn");
    db = store_acquire(ts->store);
    assert_int_equal(project_scrub_set(db, pid, &s), 0);
    store_release(ts->store, db);
    assert_int_equal(script_registry_reload_project(srv.scripts, pid), 1);
    assert_int_equal(script_registry_reload_project(srv.scripts, pid), 0); /* unchanged */

    ev = event_of(json);
    ev->g.project_id = pid;
    assert_int_equal(runtime_scrub(rt, &ev->json, &ev->g), 1);
    cJSON *user = cJSON_GetObjectItem(ev->json, "user");
    assert_string_equal(str_at(user, "ssn", NULL), SCRUB_FILTERED);
    assert_null(cJSON_GetObjectItem(user, "ip_address"));
    scrub_event_free(ev);

    /* A fresh registry (a restart) reads them back; a hook failure is
     * counted under "scrub". */
    runtime_free(rt);
    script_registry_close(srv.scripts);
    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);
    uint64_t gen = 0;
    struct scrub_rules *r = script_registry_scrub(srv.scripts, pid, &gen);
    assert_true(gen > 0);
    assert_int_equal(scrub_key_class(r, "ssn", 3), 1);
    scrub_rules_unref(r);

    const char *src =
        "return { scrub = function(e) if e.tags and e.tags.boom then error('no') end end }";
    char *msg = NULL;
    int line = 0;
    db = store_acquire(ts->store);
    int64_t version = 0;
    assert_int_equal(scripts_create_version(db, pid, src, strlen(src), &version), 0);
    store_release(ts->store, db);
    assert_int_equal(script_registry_activate(srv.scripts, pid, version, &msg, &line), 0);
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &rt), 0);
    ev = event_of("{\"tags\":{\"boom\":\"1\"},\"extra\":{\"token\":\"t\"}}");
    ev->g.project_id = pid;
    assert_int_equal(runtime_scrub(rt, &ev->json, &ev->g), 1);
    assert_string_equal(str_at(ev->json, "extra", "token"), SCRUB_FILTERED);
    scrub_event_free(ev);
    cJSON *stats = NULL;
    assert_int_equal(script_registry_stats(srv.scripts, pid, &stats), 0);
    cJSON *hook = json_get(json_get(stats, "hooks"), "scrub");
    assert_int_equal(json_i64(json_get(hook, "calls")), 1);
    assert_int_equal(json_i64(json_get(hook, "errors")), 1);
    assert_string_equal(json_str(json_get(json_get(stats, "last_error"), "hook")), "scrub");
    cJSON_Delete(stats);

    /* Back to the defaults. */
    scrub_settings_default(&s);
    db = store_acquire(ts->store);
    assert_int_equal(project_scrub_set(db, pid, &s), 0);
    store_release(ts->store, db);
    assert_int_equal(script_registry_reload_all(srv.scripts), 1);
    r = script_registry_scrub(srv.scripts, pid, &gen);
    assert_ptr_equal(r, scrub_rules_default());
    scrub_rules_unref(r);

    runtime_free(rt);
    script_registry_close(srv.scripts);
}

static void test_validation_runs_the_scrub_hook(void **state)
{
    struct test_store *ts = *state;
    ts->tb.cfg.lua_dir = PERISCOPE_SOURCE_DIR "/tests/fixtures/lua";
    struct pipeline_deps srv = {.cfg = &ts->tb.cfg, .store = ts->store};
    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);
    const char *bad = "return { scrub = function(e) return e.nothing.here end }";
    char *msg = NULL;
    int line = 0;
    assert_int_equal(script_registry_validate(srv.scripts, bad, strlen(bad), NULL, &msg, &line),
                     -EINVAL);
    assert_non_null(msg);
    assert_true(strncmp(msg, "scrub: ", 7) == 0);
    assert_int_equal(line, 1);
    free(msg);
    /* The other hooks see what scrub left. */
    const char *ok = "return { scrub = function(e) e.tags = { team = 'payments' } end,\n"
                     "  fingerprint = function(e) return { e.tags.team } end }";
    assert_int_equal(script_registry_validate(srv.scripts, ok, strlen(ok), NULL, &msg, &line), 0);
    script_registry_close(srv.scripts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_a_hook_only_the_built_in_rules_run),
        cmocka_unit_test(test_a_hook_that_edits_in_place_is_applied_after_the_rules),
        cmocka_unit_test(test_a_returned_table_replaces_the_event),
        cmocka_unit_test(test_lists_stay_lists),
        cmocka_unit_test(test_a_failing_hook_falls_back_to_the_built_in_result),
        cmocka_unit_test(test_cycles_and_shared_tables_are_bounded),
        TEST_BOTH(test_settings_reach_the_workers_through_the_registry),
        TEST_BOTH(test_validation_runs_the_scrub_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
