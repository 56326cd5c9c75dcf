/* script_format_alert, the one path the notifier and the dry run take from
 * an alert to a message, in the script's own vm: the project's format()
 * body when it gives one, and the default formatter's — the same JSON —
 * when there is no hook, it returns nil, or it fails in any way (error,
 * endless loop, memory, wrong type, a body the encoder rejects), with the
 * failure handed back; and the registry's format() check built on it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/json.h"

#include "lua/script_format.h"
#include "notify/format_hook.h"
#include "lua_helpers.h"

static const struct alert_data ALERT = {
    .id = 12,
    .kind = "new",
    .created_at_ms = 1795629600000LL, /* 2026-11-25T18:00:00.000Z */
    .message_id = "dlv_5",
    .public_url = "https://p.example/",
    .issue = {.id = 7,
              .project_id = 1,
              .title = "ValueError: bad",
              .culprit = "app.views in divide",
              .level = "error",
              .count = 3},
    .project = {.id = 1, .name = "shop"},
    .event = {.event_id = "fc6d8c0c43fc4630ad850ee518f1b9d0", .environment = "prod"},
};

static struct script *open_script(const char *source)
{
    struct vm_limits limits = test_limits();
    limits.instructions_per_call = 100000;
    limits.memory_bytes = 4u << 20;
    struct script *s = NULL;
    struct vm_error err;
    assert_int_equal(script_open(&limits, source, source ? strlen(source) : 0, &s, &err), 0);
    return s;
}

/* The same JSON (each vm orders an object's keys its own way). */
static void assert_same_json(const char *a, const char *b)
{
    cJSON *ja = json_parse_text(a), *jb = json_parse_text(b);
    assert_non_null(ja);
    assert_non_null(jb);
    if (!cJSON_Compare(ja, jb, 1)) fail_msg("%s != %s", a, b);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
}

/* The message for type through the hook path, and the default's (made
 * in a vm without hooks). */
static void both(struct script *s, const char *type, struct script_message *got,
                 struct script_message *def, struct vm_error *hook_err)
{
    struct alert_destination d = {.id = 3, .type = type, .name = "ops"};
    char err[256];
    struct vm_error none;
    assert_int_equal(script_format_alert(s, &ALERT, &d, got, hook_err, err, sizeof err), 0);
    struct script *plain = open_script(NULL);
    assert_int_equal(script_format_alert(plain, &ALERT, &d, def, &none, err, sizeof err), 0);
    assert_int_equal(none.kind, VM_ERROR_NONE);
    script_close(plain);
}

static void test_a_table_from_format_is_the_slack_body(void **state)
{
    (void)state;
    struct script *s = open_script(
        "return { format = function(alert, dest)\n"
        "  return { text = dest.name .. ': ' .. alert.title .. ' x' .. alert.issue.count } end }");
    struct script_message got, def;
    struct vm_error hook_err;
    both(s, "slack_webhook", &got, &def, &hook_err);
    assert_int_equal(hook_err.kind, VM_ERROR_NONE);
    cJSON *body = json_parse_text(got.body);
    assert_non_null(body);
    assert_string_equal(json_str(json_get(body, "text")), "ops: ValueError: bad x3");
    assert_null(json_get(body, "blocks"));
    assert_string_equal(got.content_type, "application/json");
    cJSON_Delete(body);
    script_message_clear(&got);
    script_message_clear(&def);
    script_close(s);
}

static void test_a_string_for_email_keeps_the_default_subject(void **state)
{
    (void)state;
    struct script *s =
        open_script("return { format = function(a) return 'short: ' .. a.title end }");
    struct script_message got, def;
    struct vm_error hook_err;
    both(s, "email", &got, &def, &hook_err);
    assert_int_equal(hook_err.kind, VM_ERROR_NONE);
    assert_string_equal(got.text, "short: ValueError: bad");
    assert_string_equal(got.subject, def.subject);
    assert_non_null(strstr(got.html, "short: ValueError: bad"));
    script_message_clear(&got);
    script_message_clear(&def);
    script_close(s);
}

/* Every failure gives exactly the default body, and says why. */
static void test_a_failing_format_falls_back_to_the_default_body(void **state)
{
    (void)state;
    static const struct {
        const char *source;
        enum vm_error_kind kind;
        int line;
    } cases[] = {
        {"return { format = function(a)\n  return a.nope.x end }", VM_ERROR_RUNTIME, 2},
        {"return { format = function(a)\n  error('boom') end }", VM_ERROR_RUNTIME, 2},
        {"return { format = function(a) while true do end end }", VM_ERROR_TIMEOUT, 0},
        {"return { format = function(a) local t = {} for i = 1, 100 do t[i] = ('x'):rep(1 << 20) "
         ".. i end end }",
         VM_ERROR_MEMORY, 0},
        {"return { format = function(a) return 42 end }", VM_ERROR_TYPE, 0},
        {"return { format = function(a) return { text = function() end } end }", VM_ERROR_RUNTIME,
         0},
    };
    const char *types[] = {"generic_webhook", "slack_webhook", "email"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct script *s = open_script(cases[i].source);
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            struct script_message got, def;
            struct vm_error hook_err;
            both(s, types[t], &got, &def, &hook_err);
            assert_int_equal(hook_err.kind, cases[i].kind);
            if (cases[i].line) assert_int_equal(hook_err.line, cases[i].line);
            assert_true(hook_err.message[0] != '\0');
            if (got.body)
                assert_same_json(got.body, def.body);
            else
                assert_string_equal(got.text, def.text);
            script_message_clear(&got);
            script_message_clear(&def);
        }
        script_close(s);
    }
}

static void test_no_hook_or_nil_or_no_script_is_the_default(void **state)
{
    (void)state;
    const char *sources[] = {"return { format = function() return nil end }",
                             "return { filter = function() return true end }", NULL};
    for (size_t i = 0; i < 3; i++) {
        struct script *s = open_script(sources[i]);
        struct script_message got, def;
        struct vm_error hook_err;
        both(s, "teams_webhook", &got, &def, &hook_err);
        assert_int_equal(hook_err.kind, VM_ERROR_NONE);
        assert_same_json(got.body, def.body);
        script_message_clear(&got);
        script_message_clear(&def);
        script_close(s);
    }
}

/* The default message is the alert as format.lua documents it: times in
 * RFC 3339, the link from PUBLIC_URL, absent fields left out. */
static void test_the_default_webhook_body_is_the_alert_table(void **state)
{
    (void)state;
    struct script *s = open_script(NULL);
    struct alert_destination d = {.id = 3, .type = "generic_webhook", .name = "ops"};
    struct script_message m;
    struct vm_error hook_err;
    char err[256];
    assert_int_equal(script_format_alert(s, &ALERT, &d, &m, &hook_err, err, sizeof err), 0);
    cJSON *body = json_parse_text(m.body);
    assert_non_null(body);
    assert_string_equal(json_str(json_get(body, "id")), "dlv_5");
    assert_string_equal(json_str(json_get(body, "timestamp")), "2026-11-25T18:00:00.000Z");
    cJSON *issue = json_get(json_get(body, "data"), "issue");
    assert_string_equal(json_str(json_get(issue, "link")), "https://p.example/projects/1/issues/7");
    assert_int_equal(json_i64(json_get(issue, "count")), 3);
    cJSON *event = json_get(json_get(body, "data"), "event");
    assert_string_equal(json_str(json_get(event, "environment")), "prod");
    assert_null(json_get(event, "release"));
    cJSON_Delete(body);
    script_message_clear(&m);
    script_close(s);
}

/* A digest of several alerts, and an unknown type refused with a reason. */
static void test_digest_and_unknown_type(void **state)
{
    (void)state;
    struct script *s = open_script(NULL);
    struct alert_data alerts[3] = {ALERT, ALERT, ALERT};
    struct alert_destination d = {.id = 3, .type = "generic_webhook", .name = "ops"};
    struct script_message m;
    char err[256];
    assert_int_equal(script_format_digest(s, alerts, 3, &d, &m, err, sizeof err), 0);
    cJSON *body = json_parse_text(m.body);
    assert_string_equal(json_str(json_get(body, "event")), "alert.digest");
    assert_int_equal(json_i64(json_get(json_get(body, "data"), "count")), 3);
    cJSON_Delete(body);
    script_message_clear(&m);
    struct vm_error hook_err;
    d.type = "carrier_pigeon";
    assert_int_equal(script_format_alert(s, &ALERT, &d, &m, &hook_err, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "no formatter for destination type 'carrier_pigeon'"));
    script_close(s);
}

/* The registry's check: a format() that fails for one type is refused,
 * naming the type; one that works (or none) passes. */
static void test_format_check_names_the_failing_type(void **state)
{
    (void)state;
    struct script *s = open_script("return { format = function(a, d)\n"
                                   "  if d.type == 'email' then error('no mail') end end }");
    struct vm_error err;
    assert_int_equal(notify_format_check_script(s, "https://p.example", &err), 1);
    assert_non_null(strstr(err.message, "no mail"));
    assert_non_null(strstr(err.message, "(destination type email)"));
    script_close(s);
    s = open_script("return { format = function(a, d) return d.type .. a.title end }");
    assert_int_equal(notify_format_check_script(s, "https://p.example", &err), 0);
    script_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_table_from_format_is_the_slack_body),
        cmocka_unit_test(test_a_string_for_email_keeps_the_default_subject),
        cmocka_unit_test(test_a_failing_format_falls_back_to_the_default_body),
        cmocka_unit_test(test_no_hook_or_nil_or_no_script_is_the_default),
        cmocka_unit_test(test_the_default_webhook_body_is_the_alert_table),
        cmocka_unit_test(test_digest_and_unknown_type),
        cmocka_unit_test(test_format_check_names_the_failing_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
