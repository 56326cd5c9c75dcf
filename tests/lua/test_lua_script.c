/* Project scripts: hooks change the outcome, a wrong hook never costs the
 * event, and hostile event shapes (100,000 deep, 1 MiB) are handled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "grouping/hash.h"
#include "lua_helpers.h"

static struct script *open_ok(const char *source)
{
    struct vm_limits limits = test_limits();
    struct script *s = NULL;
    struct vm_error err = {0};
    if (script_open(&limits, source, source ? strlen(source) : 0, &s, &err) != 0)
        fail_msg("script_open: %s", err.trace);
    return s;
}

static struct script_result run(struct script *s, const cJSON *ev)
{
    struct script_result res;
    assert_int_equal(script_run(s, ev, true, &res), 0);
    return res;
}

static void test_script_filter_false_drops_the_event(void **state)
{
    (void)state;
    struct script *s =
        open_ok("return { filter = function(e) return e.environment ~= 'prod' end }");
    cJSON *ev = sample_event();
    struct script_result res = run(s, ev);
    assert_true(res.filtered);
    assert_int_equal(res.nerrors, 0);
    script_result_clear(&res);
    cJSON_ReplaceItemInObject(ev, "environment", cJSON_CreateString("dev"));
    res = run(s, ev);
    assert_false(res.filtered);
    script_result_clear(&res);
    cJSON_Delete(ev);
    script_close(s);
}

static void test_script_fingerprint_replaces_default_components(void **state)
{
    (void)state;
    struct script *s = open_ok("return { fingerprint = function(e, default)\n"
                               "  return { 'db-down', '{{ default }}' } end }");
    cJSON *ev = sample_event();
    struct script_result res = run(s, ev);
    assert_int_equal(res.nerrors, 0);
    assert_int_equal(res.ncomponents, 3);
    assert_string_equal(res.components[0], "db-down");
    assert_string_equal(res.components[1], "ValueError");
    assert_string_equal(res.components[2], "bad input");
    assert_string_equal(res.title, "ValueError: bad input");
    assert_string_equal(res.culprit, "app.views");
    /* MD5("db-downValueErrorbad input") */
    assert_string_equal(res.hash, "5fd6d68fc86011922a419863542e6be5");
    script_result_clear(&res);
    cJSON_Delete(ev);
    script_close(s);
}

static void test_script_wrong_return_types_fall_back_to_default(void **state)
{
    (void)state;
    static const char *const scripts[] = {
        "return { filter = function() return 'no' end }",
        "return { fingerprint = function() return 'one string' end }",
        "return { fingerprint = function() return {} end }",
        "return { fingerprint = function() return { 'a', 42 } end }",
        "return { fingerprint = function() return { 'a', {} } end }",
    };
    struct script *plain = open_ok(NULL);
    cJSON *ev = sample_event();
    struct script_result want = run(plain, ev);
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        struct script *s = open_ok(scripts[i]);
        struct script_result res = run(s, ev);
        if (res.nerrors != 1 || res.errors[0].error.kind != VM_ERROR_TYPE)
            fail_msg("%s: %zu errors", scripts[i], res.nerrors);
        assert_false(res.filtered);
        assert_string_equal(res.hash, want.hash);
        script_result_clear(&res);
        script_close(s);
    }
    script_result_clear(&want);
    cJSON_Delete(ev);
    script_close(plain);
}

static void test_script_open_rejects_bad_scripts_with_line(void **state)
{
    (void)state;
    struct vm_limits limits = test_limits();
    struct script *s = NULL;
    struct vm_error err;
    const char *syntax = "return {\n filter = function(e)\n  return e.x ==\n end }";
    assert_int_not_equal(script_open(&limits, syntax, strlen(syntax), &s, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_SYNTAX);
    assert_int_equal(err.line, 4);

    const char *raises = "local x = 1\nerror('nope')\n";
    assert_int_not_equal(script_open(&limits, raises, strlen(raises), &s, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_RUNTIME);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.message, "script:2: nope");

    const char *not_table = "return 42";
    assert_int_not_equal(script_open(&limits, not_table, strlen(not_table), &s, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_TYPE);

    const char *not_fn = "return { filter = true }";
    assert_int_not_equal(script_open(&limits, not_fn, strlen(not_fn), &s, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_TYPE);
    assert_non_null(strstr(err.message, "filter"));

    const char *loops = "while true do end";
    assert_int_not_equal(script_open(&limits, loops, strlen(loops), &s, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_TIMEOUT);
    assert_int_equal(err.line, 1);
}

/* {"a": {"a": … depth levels …}} built without the parser's nesting cap. */
static cJSON *deep_object(int depth)
{
    cJSON *inner = cJSON_CreateObject();
    for (int i = 0; i < depth; i++) {
        cJSON *outer = cJSON_CreateObject();
        cJSON_AddItemToObject(outer, "a", inner);
        inner = outer;
    }
    return inner;
}

static void test_script_survives_a_100000_deep_event(void **state)
{
    (void)state;
    struct script *s = open_ok("return { filter = function(e)\n"
                               "  local n, t = 0, e.extra\n"
                               "  while type(t) == 'table' do n = n + 1; t = t.a end\n"
                               "  return n < 100 end }");
    cJSON *ev = sample_event();
    cJSON_AddItemToObject(ev, "extra", deep_object(100000));
    cJSON *arr = cJSON_AddArrayToObject(ev, "contexts");
    cJSON *deep_arr = cJSON_CreateArray();
    for (int i = 0; i < 100000; i++) {
        cJSON *outer = cJSON_CreateArray();
        cJSON_AddItemToArray(outer, deep_arr);
        deep_arr = outer;
    }
    cJSON_AddItemToArray(arr, deep_arr);
    struct script_result res = run(s, ev);
    assert_int_equal(res.nerrors, 0);
    assert_false(res.filtered); /* cut at the depth limit */
    script_result_clear(&res);
    cJSON_Delete(ev);
    script_close(s);
}

static void test_script_handles_a_1mib_event(void **state)
{
    (void)state;
    struct script *s =
        open_ok("return { fingerprint = function(e, d)\n"
                "  return { tostring(#e.extra.blob), tostring(#e.extra.list) } end }");
    cJSON *ev = sample_event();
    cJSON *extra = cJSON_AddObjectToObject(ev, "extra");
    char *blob = malloc(1 << 20);
    memset(blob, 'x', (1 << 20) - 1);
    blob[(1 << 20) - 1] = '\0';
    cJSON_AddStringToObject(extra, "blob", blob);
    free(blob);
    cJSON *list = cJSON_AddArrayToObject(extra, "list");
    for (int i = 0; i < 50000; i++)
        cJSON_AddItemToArray(list, cJSON_CreateNumber(i));
    struct script_result res = run(s, ev);
    assert_int_equal(res.nerrors, 0);
    assert_string_equal(res.components[0], "1048575");
    assert_string_equal(res.components[1], "50000");
    script_result_clear(&res);
    cJSON_Delete(ev);
    script_close(s);
}

static void test_script_event_null_and_numbers_read_like_cjson(void **state)
{
    (void)state;
    struct script *s = open_ok(
        "return { fingerprint = function(e)\n"
        "  return { tostring(e.extra.n), tostring(e.extra.f),\n"
        "           tostring(e.extra.z == periscope.json.null), tostring(#e.extra.l) } end }");
    cJSON *ev = sample_event();
    cJSON *extra = cJSON_Parse("{\"n\": 12, \"f\": 1.5, \"z\": null, \"l\": [1, null, 3]}");
    cJSON_AddItemToObject(ev, "extra", extra);
    struct script_result res = run(s, ev);
    assert_int_equal(res.nerrors, 0);
    assert_string_equal(res.components[0], "12");
    assert_string_equal(res.components[1], "1.5");
    assert_string_equal(res.components[2], "true");
    assert_string_equal(res.components[3], "3");
    script_result_clear(&res);
    cJSON_Delete(ev);
    script_close(s);
}

/* A script's `rules` (Sentry-syntax fingerprint and stack trace rules) run
 * inside the real default grouping: a matching fingerprint rule replaces
 * the default components, other events keep them, and rules that do not
 * parse or that did not come from periscope.sentry_rules refuse the script. */
static void test_script_sentry_rules_apply_in_the_default_grouping(void **state)
{
    (void)state;
    struct vm_limits limits = test_limits();
    limits.lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    const char *src = "return { rules = periscope.sentry_rules([[\n"
                      "error.type:DatabaseUnavailable -> system-down\n"
                      "stack.module:app.* +app\n"
                      "]]) }";
    struct script *s = NULL, *plain = NULL;
    struct vm_error err = {0};
    if (script_open(&limits, src, strlen(src), &s, &err) != 0)
        fail_msg("script_open: %s", err.trace);
    assert_int_equal(script_open(&limits, NULL, 0, &plain, &err), 0);

    cJSON *down = cJSON_Parse("{\"platform\":\"python\",\"exception\":{\"values\":[{\"type\":"
                              "\"DatabaseUnavailable\",\"value\":\"db1 down\"}]}}");
    struct script_result res = run(s, down);
    const char *parts[] = {"system-down"};
    size_t lens[] = {strlen("system-down")};
    char want[33];
    assert_int_equal(grouping_hash(parts, lens, 1, want), 0);
    assert_string_equal(res.hash, want);
    script_result_clear(&res);

    cJSON *other = cJSON_Parse("{\"platform\":\"python\",\"exception\":{\"values\":[{\"type\":"
                               "\"KeyError\",\"value\":\"x\"}]}}");
    res = run(s, other);
    struct script_result base = run(plain, other);
    assert_string_equal(res.hash, base.hash);
    script_result_clear(&res);
    script_result_clear(&base);

    /* the stack trace rule makes app.* frames in-app: only they count */
    cJSON *framed =
        cJSON_Parse("{\"platform\":\"python\",\"exception\":{\"values\":[{\"type\":\"KeyError\","
                    "\"value\":\"x\","
                    "\"stacktrace\":{\"frames\":[{\"module\":\"lib.x\",\"function\":\"f\"},"
                    "{\"module\":\"app.views\",\"function\":\"g\"}]}}]}}");
    res = run(s, framed);
    base = run(plain, framed);
    assert_string_not_equal(res.hash, base.hash);
    const char *app_parts[] = {"KeyError", "app.views", "g"};
    size_t app_lens[] = {8, 9, 1};
    assert_int_equal(grouping_hash(app_parts, app_lens, 3, want), 0);
    assert_string_equal(res.hash, want);
    script_result_clear(&res);
    script_result_clear(&base);

    const char *bad = "return { rules = periscope.sentry_rules('error.type:X -> ') }";
    struct script *b = NULL;
    assert_int_not_equal(script_open(&limits, bad, strlen(bad), &b, &err), 0);
    assert_non_null(strstr(err.message, "line 1"));
    const char *forged = "return { rules = {} }";
    assert_int_not_equal(script_open(&limits, forged, strlen(forged), &b, &err), 0);
    assert_non_null(strstr(err.message, "periscope.sentry_rules"));

    cJSON_Delete(down);
    cJSON_Delete(other);
    cJSON_Delete(framed);
    script_close(s);
    script_close(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_filter_false_drops_the_event),
        cmocka_unit_test(test_script_fingerprint_replaces_default_components),
        cmocka_unit_test(test_script_wrong_return_types_fall_back_to_default),
        cmocka_unit_test(test_script_open_rejects_bad_scripts_with_line),
        cmocka_unit_test(test_script_survives_a_100000_deep_event),
        cmocka_unit_test(test_script_handles_a_1mib_event),
        cmocka_unit_test(test_script_event_null_and_numbers_read_like_cjson),
        cmocka_unit_test(test_script_sentry_rules_apply_in_the_default_grouping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
