/* 100,000 events through one Lua state: the allocator's count of live
 * bytes (after a full collection) does not grow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "model/event.h"
#include "base/config.h"
#include "pipeline/pipeline.h"
#include "lua/runtime.h"
#include "lua_helpers.h"

#define EVENTS 100000
#define WARMUP 1000
#define SLACK_BYTES (64 * 1024)

static size_t live_bytes(struct script *s)
{
    lua_gc(vm_lua(script_vm(s)), LUA_GCCOLLECT);
    return vm_memory_used(script_vm(s));
}

/* Distinct strings per event, so nothing is merely reused from the intern
 * table. */
static cJSON *numbered_event(int i)
{
    cJSON *ev = sample_event();
    char value[64];
    snprintf(value, sizeof value, "bad input %d", i);
    cJSON *ex =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "exception"), "values"), 0);
    cJSON_ReplaceItemInObject(ex, "value", cJSON_CreateString(value));
    cJSON_AddNumberToObject(ev, "seq", i);
    return ev;
}

static void test_memory_flat_over_100000_events_with_hooks(void **state)
{
    (void)state;
    struct vm_limits limits = test_limits();
    struct script *s = NULL;
    struct vm_error err;
    const char *source = "local seen = 0\n"
                         "return {\n"
                         "  filter = function(e) seen = seen + 1; return e.seq % 10 ~= 0 end,\n"
                         "  fingerprint = function(e, default)\n"
                         "    if e.seq % 3 == 0 then error('every third fails') end\n"
                         "    return { '{{ default }}', e.tags.region, tostring(e.seq % 7) } end,\n"
                         "}\n";
    assert_int_equal(script_open(&limits, source, strlen(source), &s, &err), 0);
    size_t after_warmup = 0;
    for (int i = 0; i < EVENTS; i++) {
        if (i == WARMUP) after_warmup = live_bytes(s);
        cJSON *ev = numbered_event(i);
        struct script_result res;
        assert_int_equal(script_run(s, ev, false, &res), 0);
        script_result_clear(&res);
        cJSON_Delete(ev);
    }
    size_t at_end = live_bytes(s);
    print_message("live bytes after %d events: %zu, after %d: %zu (peak %zu)\n", WARMUP,
                  after_warmup, EVENTS, at_end, vm_memory_peak(script_vm(s)));
    assert_true(at_end <= after_warmup + SLACK_BYTES);
    script_close(s);
}

static void test_memory_flat_through_the_runtime_default_rules(void **state)
{
    (void)state;
    struct config cfg = {0};
    cfg.lua_dir = PERISCOPE_SOURCE_DIR "/tests/fixtures/lua";
    struct pipeline_deps srv = {.cfg = &cfg};
    struct runtime *rt = NULL;
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &rt), 0);
    char first_hash[33] = "";
    for (int i = 0; i < EVENTS; i++) {
        struct grouped_event ev = {.project_id = 1 + i % 5};
        cJSON *ev_json = numbered_event(i % 100);
        assert_int_equal(runtime_process(rt, ev_json, &ev), 0);
        assert_false(ev.filtered);
        assert_non_null(ev.title);
        if (i == 0)
            memcpy(first_hash, ev.hash, sizeof first_hash);
        else if (i % 100 == 0)
            assert_string_equal(ev.hash, first_hash);
        free(ev.title);
        free(ev.culprit);
        cJSON_Delete(ev_json);
    }
    runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_flat_over_100000_events_with_hooks),
        cmocka_unit_test(test_memory_flat_through_the_runtime_default_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
