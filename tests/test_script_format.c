/* The project's format(alert, destination) hook: a table comes back as
 * JSON, a string as-is, nil or no hook means the default, and failures
 * (error with its line, endless loop, wrong type) are reported, not fatal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lua/script_format.h"
#include "lua_helpers.h"

static const char ALERT[] =
    "{\"kind\":\"new\",\"title\":\"ValueError: bad\",\"issue\":{\"id\":7,\"count\":3},"
    "\"project\":{\"id\":1,\"name\":\"shop\"}}";
static const char SLACK[] = "{\"id\":0,\"type\":\"slack_webhook\",\"name\":\"ops\"}";

/* Opens source, runs its format hook on the fixed alert for Slack. */
static int run_format(const char *source, char **out, bool *is_json, struct vm_error *err)
{
    struct vm_limits limits = test_limits();
    limits.instructions_per_call = 100000;
    struct script *s;
    assert_int_equal(script_open(&limits, source, source ? strlen(source) : 0, &s, err), 0);
    cJSON *alert = cJSON_Parse(ALERT), *dest = cJSON_Parse(SLACK);
    size_t len;
    int rc = script_format(s, alert, dest, out, &len, is_json, err);
    if (rc == 1) assert_int_equal(len, strlen(*out));
    cJSON_Delete(alert);
    cJSON_Delete(dest);
    script_close(s);
    return rc;
}

static void test_format_table_result_is_json(void **state)
{
    (void)state;
    char *out;
    bool is_json;
    struct vm_error err;
    const char *src =
        "return { format = function(alert, dest)\n"
        "  return { text = dest.type .. ': ' .. alert.title .. ' x' .. alert.issue.count } end }";
    assert_int_equal(run_format(src, &out, &is_json, &err), 1);
    assert_true(is_json);
    cJSON *body = cJSON_Parse(out);
    assert_string_equal(cJSON_GetObjectItem(body, "text")->valuestring,
                        "slack_webhook: ValueError: bad x3");
    cJSON_Delete(body);
    free(out);
}

static void test_format_string_result_is_passed_as_is(void **state)
{
    (void)state;
    char *out;
    bool is_json;
    struct vm_error err;
    assert_int_equal(run_format("return { format = function(a) return 'plain ' .. a.kind end }",
                                &out, &is_json, &err),
                     1);
    assert_false(is_json);
    assert_string_equal(out, "plain new");
    free(out);
}

static void test_format_nil_or_absent_means_default(void **state)
{
    (void)state;
    char *out;
    bool is_json;
    struct vm_error err;
    assert_int_equal(
        run_format("return { format = function() return nil end }", &out, &is_json, &err), 0);
    assert_null(out);
    assert_int_equal(
        run_format("return { filter = function() return true end }", &out, &is_json, &err), 0);
    assert_int_equal(run_format(NULL, &out, &is_json, &err), 0);
}

static void test_format_failures_are_reported(void **state)
{
    (void)state;
    char *out;
    bool is_json;
    struct vm_error err;
    assert_int_equal(
        run_format("return { format = function(a)\n  return a.nope.x end }", &out, &is_json, &err),
        -1);
    assert_int_equal(err.kind, VM_ERROR_RUNTIME);
    assert_int_equal(err.line, 2);
    assert_int_equal(run_format("return { format = function(a)\n  while true do end end }", &out,
                                &is_json, &err),
                     -1);
    assert_int_equal(err.kind, VM_ERROR_TIMEOUT);
    assert_int_equal(
        run_format("return { format = function(a) return 42 end }", &out, &is_json, &err), -1);
    assert_int_equal(err.kind, VM_ERROR_TYPE);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_table_result_is_json),
        cmocka_unit_test(test_format_string_result_is_passed_as_is),
        cmocka_unit_test(test_format_nil_or_absent_means_default),
        cmocka_unit_test(test_format_failures_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
