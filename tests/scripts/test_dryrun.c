/* The dry run reports what the pipeline would store: for the same event
 * and script its hash, title and culprit equal a pipeline worker's (so the
 * admin dry run and `rules check` can be trusted), its components hash to
 * that hash, a filtered event gets no notifications, hook failures are
 * listed, and every destination type gets a formatted message — the
 * project's format() result where it gives one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "scripts/dryrun.h"
#include "model/event.h"
#include "pipeline/pipeline.h"
#include "pipeline/worker.h"
#include "grouping/hash.h"
#include "lua/registry.h"
#include "store/projects.h"
#include "store/scripts.h"
#include "support.h"

/* A raven-go style event: a bare exception object, message params. */
static const char EVENT[] =
    "{\"event_id\":\"0123456789abcdef0123456789abcdef\",\"platform\":\"python\",\"level\":\"warn\","
    "\"environment\":\"prod\",\"tags\":{\"region\":\"eu\"},"
    "\"exception\":{\"type\":\"ValueError\",\"value\":\"bad input 42\",\"stacktrace\":{\"frames\":["
    "{\"filename\":\"app/"
    "views.py\",\"module\":\"app.views\",\"function\":\"checkout\",\"lineno\":3,"
    "\"context_line\":\"  pay()\",\"in_app\":true}]}}}";

static const char *const SCRIPTS[] = {
    NULL,
    "return { fingerprint = function(e, d) return { '{{ default }}', e.tags.region } end }",
    "return { fingerprint = function(e, d) return { e.exception.values[1].type } end }",
};

/* The hash a pipeline worker gives the event under the project's active script. */
static void worker_hash(struct pipeline_deps *srv, int64_t pid, char hash[33], char **title)
{
    struct worker_ctx *w;
    assert_int_equal(worker_ctx_new(srv, &w), 0);
    struct raw_event *raw = raw_event_new();
    raw->project_id = pid;
    raw->json = cJSON_Parse(EVENT);
    assert_int_equal(event_id_parse("0123456789abcdef0123456789abcdef", 32, raw->event_id), 0);
    struct grouped_event *ev;
    assert_int_equal(worker_process(w, raw, &ev), 0);
    raw_event_free(raw);
    memcpy(hash, ev->hash, 33);
    *title = strdup(ev->title);
    grouped_event_free(ev);
    worker_ctx_free(w);
}

static cJSON *dry(struct script *s, const cJSON *event, const char *format)
{
    struct dryrun_input in = {.project_id = 1,
                              .project_name = "shop",
                              .event = event,
                              .format_type = format,
                              .public_url = "http://127.0.0.1:8000"};
    cJSON *out = NULL;
    assert_int_equal(dryrun_run(s, &in, &out), 0);
    return out;
}

static void test_dry_run_hash_equals_the_pipeline_workers(void **state)
{
    struct test_store *ts = *state;
    struct pipeline_deps srv = {.cfg = &ts->tb.cfg, .store = ts->store};
    struct db *db = store_acquire(ts->store);
    int64_t pid = test_project(db, "shop");
    store_release(ts->store, db);
    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);
    cJSON *event = cJSON_Parse(EVENT);
    for (size_t i = 0; i < sizeof SCRIPTS / sizeof SCRIPTS[0]; i++) {
        const char *src = SCRIPTS[i];
        int64_t version = 0;
        if (src) {
            db = store_acquire(ts->store);
            assert_int_equal(scripts_create_version(db, pid, src, strlen(src), &version), 0);
            store_release(ts->store, db);
        }
        assert_int_equal(script_registry_activate(srv.scripts, pid, version, NULL, NULL), 0);
        char hash[33], *title;
        worker_hash(&srv, pid, hash, &title);

        struct script *s;
        struct vm_error err;
        assert_int_equal(
            script_open(script_registry_limits(srv.scripts), src, src ? strlen(src) : 0, &s, &err),
            0);
        cJSON *r = dry(s, event, NULL);
        assert_string_equal(json_str(json_get(r, "hash")), hash);
        assert_string_equal(json_str(json_get(r, "title")), title);
        assert_int_equal(json_size(json_get(r, "errors")), 0);

        /* The components are exactly what is hashed. */
        cJSON *comp = json_get(r, "components");
        size_t n = json_size(comp);
        const char *values[16];
        size_t lens[16];
        assert_true(n > 0 && n <= 16);
        for (size_t k = 0; k < n; k++) {
            values[k] = json_str(json_at(comp, k));
            lens[k] = strlen(values[k]);
        }
        char again[33];
        assert_int_equal(grouping_hash(values, lens, n, again), 0);
        assert_string_equal(again, hash);
        assert_int_equal(json_size(json_get(r, "notifications")), 6);
        cJSON_Delete(r);
        script_close(s);
        free(title);
    }
    cJSON_Delete(event);
    script_registry_close(srv.scripts);
}

static struct script *open_script(const char *src)
{
    struct vm_limits limits;
    vm_limits_from_config(NULL, &limits);
    limits.lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    limits.instructions_per_call = 100000;
    struct script *s;
    struct vm_error err;
    assert_int_equal(script_open(&limits, src, strlen(src), &s, &err), 0);
    return s;
}

static void test_filtered_event_has_no_hash_and_no_notifications(void **state)
{
    (void)state;
    struct script *s =
        open_script("return { filter = function(e) return e.environment ~= 'prod' end }");
    cJSON *event = cJSON_Parse(EVENT);
    cJSON *r = dry(s, event, NULL);
    assert_true(cJSON_IsTrue(json_get(r, "filtered")));
    assert_true(cJSON_IsNull(json_get(r, "hash")));
    assert_int_equal(json_size(json_get(r, "notifications")), 0);
    cJSON_Delete(r);
    cJSON_Delete(event);
    script_close(s);
}

static void test_format_hook_result_and_hook_errors_are_reported(void **state)
{
    (void)state;
    struct script *s = open_script(
        "return {\n"
        "  fingerprint = function(e) error('no fingerprint today') end,\n"
        "  format = function(alert, dest)\n"
        "    if dest.type == 'slack_webhook' then return { text = 'ALERT ' .. alert.title } end\n"
        "  end }");
    cJSON *event = cJSON_Parse(EVENT);
    cJSON *r = dry(s, event, "slack_webhook");
    cJSON *slack = json_get(json_get(r, "notifications"), "slack_webhook");
    assert_string_equal(json_str(json_get(slack, "text")), "ALERT ValueError: bad input 42");
    assert_int_equal(json_size(json_get(r, "notifications")), 1);
    cJSON *e = json_at(json_get(r, "errors"), 0);
    assert_string_equal(json_str(json_get(e, "hook")), "fingerprint");
    assert_int_equal(json_i64(json_get(e, "line")), 2);
    cJSON_Delete(r);

    r = dry(s, event, "email");
    cJSON *email = json_get(json_get(r, "notifications"), "email");
    assert_non_null(strstr(json_str(json_get(email, "subject")), "ValueError"));
    cJSON_Delete(r);

    struct dryrun_input in = {.project_id = 1, .event = event, .format_type = "pager"};
    cJSON *out = NULL;
    assert_int_equal(dryrun_run(s, &in, &out), -EINVAL);
    cJSON_Delete(event);
    script_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_dry_run_hash_equals_the_pipeline_workers),
        cmocka_unit_test(test_filtered_event_has_no_hash_and_no_notifications),
        cmocka_unit_test(test_format_hook_result_and_hook_errors_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
