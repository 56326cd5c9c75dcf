/* notify_format_alert, the one path the notifier and the dry run take from
 * an alert to a message: the project's format() body when it gives one,
 * and the default formatter's — byte for byte — when there is no hook, it
 * returns nil, or it fails in any way (error, endless loop, memory, wrong
 * type, a body the encoder rejects), with the failure handed back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "notify/format_hook.h"
#include "lua_helpers.h"

static const char ALERT[] =
    "{\"id\":12,\"kind\":\"new\",\"created_at\":\"2026-11-25T18:00:00.000Z\",\"message_id\":\"dlv_"
    "5\","
    "\"title\":\"ValueError: bad\",\"culprit\":\"app.views in divide\",\"level\":\"error\","
    "\"link\":\"https://p.example/projects/1/issues/7\","
    "\"issue\":{\"id\":7,\"project_id\":1,\"title\":\"ValueError: "
    "bad\",\"count\":3,\"level\":\"error\"},"
    "\"project\":{\"id\":1,\"name\":\"shop\"},"
    "\"event\":{\"event_id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\",\"environment\":\"prod\"}}";

struct fixture {
    struct notify_format *fmt;
    json_t *alert;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    char err[256];
    assert_int_equal(notify_format_new(PERISCOPE_SOURCE_DIR "/lua", &fx->fmt, err, sizeof err), 0);
    fx->alert = json_loads(ALERT, 0, NULL);
    assert_non_null(fx->alert);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    notify_format_free(fx->fmt);
    json_decref(fx->alert);
    free(fx);
    return 0;
}

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

static json_t *dest(const char *type)
{
    return json_pack("{s:i, s:s, s:s}", "id", 3, "type", type, "name", "ops");
}

/* The message for type through the hook path, and the default's. */
static void both(struct fixture *fx, struct script *s, const char *type, struct notify_message *got,
                 struct notify_message *def, struct vm_error *hook_err)
{
    json_t *d = dest(type);
    char err[256];
    assert_int_equal(notify_format_alert(fx->fmt, s, fx->alert, d, got, hook_err, err, sizeof err),
                     0);
    assert_int_equal(notify_format_render(fx->fmt, fx->alert, d, def, err, sizeof err), 0);
    json_decref(d);
}

static void test_a_table_from_format_is_the_slack_body(void **state)
{
    struct fixture *fx = *state;
    struct script *s = open_script(
        "return { format = function(alert, dest)\n"
        "  return { text = dest.name .. ': ' .. alert.title .. ' x' .. alert.issue.count } end }");
    struct notify_message got, def;
    struct vm_error hook_err;
    both(fx, s, "slack_webhook", &got, &def, &hook_err);
    assert_int_equal(hook_err.kind, VM_ERROR_NONE);
    json_t *body = json_loads(got.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "text")),
                        "ops: ValueError: bad x3");
    assert_null(json_object_get(body, "blocks"));
    assert_string_equal(got.content_type, "application/json");
    json_decref(body);
    notify_message_clear(&got);
    notify_message_clear(&def);
    script_close(s);
}

static void test_a_string_for_email_keeps_the_default_subject(void **state)
{
    struct fixture *fx = *state;
    struct script *s =
        open_script("return { format = function(a) return 'short: ' .. a.title end }");
    struct notify_message got, def;
    struct vm_error hook_err;
    both(fx, s, "email", &got, &def, &hook_err);
    assert_int_equal(hook_err.kind, VM_ERROR_NONE);
    assert_string_equal(got.text, "short: ValueError: bad");
    assert_string_equal(got.subject, def.subject);
    assert_non_null(strstr(got.html, "short: ValueError: bad"));
    notify_message_clear(&got);
    notify_message_clear(&def);
    script_close(s);
}

/* Every failure gives exactly the default body, and says why. */
static void test_a_failing_format_falls_back_to_the_default_body(void **state)
{
    struct fixture *fx = *state;
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
            struct notify_message got, def;
            struct vm_error hook_err;
            both(fx, s, types[t], &got, &def, &hook_err);
            assert_int_equal(hook_err.kind, cases[i].kind);
            if (cases[i].line) assert_int_equal(hook_err.line, cases[i].line);
            assert_true(hook_err.message[0] != '\0');
            if (got.body)
                assert_string_equal(got.body, def.body);
            else
                assert_string_equal(got.text, def.text);
            notify_message_clear(&got);
            notify_message_clear(&def);
        }
        script_close(s);
    }
}

static void test_no_hook_or_nil_or_no_script_is_the_default(void **state)
{
    struct fixture *fx = *state;
    const char *sources[] = {"return { format = function() return nil end }",
                             "return { filter = function() return true end }", NULL};
    for (size_t i = 0; i < 4; i++) {
        struct script *s = i < 3 ? open_script(sources[i]) : NULL;
        struct notify_message got, def;
        struct vm_error hook_err;
        both(fx, s, "teams_webhook", &got, &def, &hook_err);
        assert_int_equal(hook_err.kind, VM_ERROR_NONE);
        assert_string_equal(got.body, def.body);
        notify_message_clear(&got);
        notify_message_clear(&def);
        script_close(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_table_from_format_is_the_slack_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_string_for_email_keeps_the_default_subject, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_failing_format_falls_back_to_the_default_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_hook_or_nil_or_no_script_is_the_default, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
