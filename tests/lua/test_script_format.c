/* The project's format(alert, destination) hook, in its own vm: a table
 * comes back as the JSON body, a string as the text, false suppresses, nil
 * or no hook means the default, and failures (error with its line, endless
 * loop, wrong type) are reported, not fatal; the alert reaches the hook as
 * the table format.lua documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lua/script_format.h"
#include "lua_helpers.h"

static const struct alert_data ALERT = {
    .kind = "new",
    .public_url = "https://p.example",
    .issue = {.id = 7, .project_id = 1, .title = "ValueError: bad", .count = 3},
    .project = {.id = 1, .name = "shop"},
};
static const struct alert_destination SLACK = {.id = 0, .type = "slack_webhook", .name = "ops"};

/* Opens source, formats the fixed alert for Slack: the result code, the
 * message in *out, the hook's failure in *err. */
static int run_format(const char *source, struct script_message *out, struct vm_error *err)
{
    struct vm_limits limits = test_limits();
    limits.instructions_per_call = 100000;
    struct script *s;
    assert_int_equal(script_open(&limits, source, source ? strlen(source) : 0, &s, err), 0);
    char why[256];
    int rc = script_format_alert(s, &ALERT, &SLACK, out, err, why, sizeof why);
    script_close(s);
    return rc;
}

static void test_format_table_result_is_the_json_body(void **state)
{
    (void)state;
    struct script_message m;
    struct vm_error err;
    const char *src = "return { format = function(alert, dest)\n"
                      "  return { text = dest.type .. ': ' .. alert.title .. ' x' .. "
                      "alert.issue.count .. ' ' .. alert.link } end }";
    assert_int_equal(run_format(src, &m, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_NONE);
    assert_string_equal(m.content_type, "application/json");
    cJSON *body = cJSON_Parse(m.body);
    assert_string_equal(cJSON_GetObjectItem(body, "text")->valuestring,
                        "slack_webhook: ValueError: bad x3 https://p.example/projects/1/issues/7");
    cJSON_Delete(body);
    script_message_clear(&m);
}

static void test_format_string_result_is_the_text(void **state)
{
    (void)state;
    struct script_message m;
    struct vm_error err;
    assert_int_equal(
        run_format("return { format = function(a) return 'plain ' .. a.kind end }", &m, &err), 0);
    cJSON *body = cJSON_Parse(m.body);
    assert_string_equal(cJSON_GetObjectItem(body, "text")->valuestring, "plain new");
    cJSON_Delete(body);
    script_message_clear(&m);
}

static void test_format_false_suppresses(void **state)
{
    (void)state;
    struct script_message m;
    struct vm_error err;
    assert_int_equal(run_format("return { format = function() return false end }", &m, &err), 1);
    assert_null(m.body);
    assert_int_equal(err.kind, VM_ERROR_NONE);
}

static void test_format_nil_or_absent_means_default(void **state)
{
    (void)state;
    struct script_message m;
    struct vm_error err;
    const char *sources[] = {"return { format = function() return nil end }",
                             "return { filter = function() return true end }", NULL};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(run_format(sources[i], &m, &err), 0);
        assert_int_equal(err.kind, VM_ERROR_NONE);
        assert_non_null(strstr(m.body, "\"blocks\""));
        script_message_clear(&m);
    }
}

static void test_format_failures_are_reported(void **state)
{
    (void)state;
    struct script_message m;
    struct vm_error err;
    assert_int_equal(run_format("return { format = function(a)\n  return a.nope.x end }", &m, &err),
                     0);
    assert_int_equal(err.kind, VM_ERROR_RUNTIME);
    assert_int_equal(err.line, 2);
    script_message_clear(&m);
    assert_int_equal(
        run_format("return { format = function(a)\n  while true do end end }", &m, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_TIMEOUT);
    script_message_clear(&m);
    assert_int_equal(run_format("return { format = function(a) return 42 end }", &m, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_TYPE);
    assert_non_null(strstr(m.body, "\"blocks\"")); /* the default went out */
    script_message_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_table_result_is_the_json_body),
        cmocka_unit_test(test_format_string_result_is_the_text),
        cmocka_unit_test(test_format_false_suppresses),
        cmocka_unit_test(test_format_nil_or_absent_means_default),
        cmocka_unit_test(test_format_failures_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
