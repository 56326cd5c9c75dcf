/* normalize: every accepted form of an event ends in one shape. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "model/event.h"
#include "model/normalize.h"

static const int64_t RECEIVED_MS = 1700000000123LL;

/* Normalizes a JSON text into a fresh event; caller frees with free_event. */
/* The tree and what normalize_event fills of the grouped event. */
struct normalized_event {
    cJSON *json;
    struct grouped_event g;
};

static struct normalized_event *normalized(const char *json)
{
    struct normalized_event *ev = calloc(1, sizeof(*ev));
    assert_non_null(ev);
    ev->json = cJSON_Parse(json);
    assert_non_null(ev->json);
    ev->g.received_at_ms = RECEIVED_MS;
    for (int i = 0; i < 16; i++)
        ev->g.event_id[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(normalize_event(ev->json, &ev->g), 0);
    return ev;
}

static void free_event(struct normalized_event *ev)
{
    cJSON_Delete(ev->json);
    free(ev->g.environment);
    free(ev->g.release);
    free(ev);
}

static const char *str_at(cJSON *root, const char *a, const char *b)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *exception_values(struct normalized_event *ev)
{
    cJSON *ex = cJSON_GetObjectItemCaseSensitive(ev->json, "exception");
    assert_true(cJSON_IsObject(ex));
    cJSON *values = cJSON_GetObjectItemCaseSensitive(ex, "values");
    assert_true(cJSON_IsArray(values));
    return values;
}

static void test_exception_values_form_is_kept(void **state)
{
    (void)state;
    struct normalized_event *ev = normalized(
        "{\"exception\":{\"values\":[{\"type\":\"A\",\"value\":\"x\"},{\"type\":\"B\"}]}}");
    cJSON *v = exception_values(ev);
    assert_int_equal(cJSON_GetArraySize(v), 2);
    assert_string_equal(str_at(cJSON_GetArrayItem(v, 1), "type", NULL), "B");
    free_event(ev);
}

static void test_exception_bare_list_is_wrapped_in_values(void **state)
{
    (void)state;
    struct normalized_event *ev =
        normalized("{\"exception\":[{\"type\":\"GoErr\",\"value\":\"boom\"}]}");
    cJSON *v = exception_values(ev);
    assert_int_equal(cJSON_GetArraySize(v), 1);
    assert_string_equal(str_at(cJSON_GetArrayItem(v, 0), "type", NULL), "GoErr");
    free_event(ev);
}

static void test_exception_single_bare_object_becomes_one_value(void **state)
{
    (void)state;
    struct normalized_event *ev =
        normalized("{\"exception\":{\"type\":\"*errors.errorString\",\"value\":\"v\","
                   "\"stacktrace\":{\"frames\":[{\"function\":\"main\"}]}}}");
    cJSON *v = exception_values(ev);
    assert_int_equal(cJSON_GetArraySize(v), 1);
    cJSON *e = cJSON_GetArrayItem(v, 0);
    assert_string_equal(str_at(e, "type", NULL), "*errors.errorString");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(e, "stacktrace"));
    free_event(ev);
}

static void test_message_string_becomes_logentry(void **state)
{
    (void)state;
    struct normalized_event *ev = normalized("{\"message\":\"hello there\"}");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "hello there");
    assert_string_equal(str_at(ev->json, "message", NULL), "hello there");
    free_event(ev);
}

static void test_message_object_with_params_is_formatted(void **state)
{
    (void)state;
    struct normalized_event *ev = normalized(
        "{\"message\":{\"message\":\"user %s has %d items, 100%%\",\"params\":[\"bob\",3]}}");
    assert_string_equal(str_at(ev->json, "logentry", "message"), "user %s has %d items, 100%%");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "user bob has 3 items, 100%");
    assert_string_equal(str_at(ev->json, "message", NULL), "user bob has 3 items, 100%");
    cJSON *le = cJSON_GetObjectItemCaseSensitive(ev->json, "logentry");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(le, "params")), 2);
    free_event(ev);
}

static void test_logentry_named_params_and_formatted_win(void **state)
{
    (void)state;
    struct normalized_event *ev =
        normalized("{\"logentry\":{\"message\":\"%(who)s left\",\"params\":{\"who\":\"ann\"}},"
                   "\"message\":\"ignored\"}");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "ann left");
    assert_string_equal(str_at(ev->json, "message", NULL), "ann left");
    free_event(ev);

    ev = normalized(
        "{\"logentry\":{\"formatted\":\"given text\",\"message\":\"t %s\",\"params\":[1]}}");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "given text");
    assert_string_equal(str_at(ev->json, "logentry", "message"), "t %s");
    free_event(ev);
}

static int has_member(cJSON *root, const char *a, const char *b)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, a);
    return v && (!b || cJSON_GetObjectItemCaseSensitive(v, b));
}

/* Relay: without params (or when the params cannot fill it) the template
 * is the text, moved to `formatted`; `message` stays only when it differs. */
static void test_logentry_template_stands_when_it_cannot_be_formatted(void **state)
{
    (void)state;
    struct normalized_event *ev = normalized("{\"logentry\":{\"message\":\"hello, %s!\"}}");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "hello, %s!");
    assert_false(has_member(ev->json, "logentry", "message"));
    assert_string_equal(str_at(ev->json, "message", NULL), "hello, %s!");
    free_event(ev);

    ev = normalized("{\"logentry\":{\"message\":\"%s and %s\",\"params\":[\"a\"]}}");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "%s and %s");
    assert_false(has_member(ev->json, "logentry", "message"));
    assert_true(has_member(ev->json, "logentry", "params"));
    free_event(ev);

    ev = normalized("{\"logentry\":{\"message\":\"same\",\"formatted\":\"same\"}}");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "same");
    assert_false(has_member(ev->json, "logentry", "message"));
    free_event(ev);
}

static void test_logentry_curly_template_and_invalid_params(void **state)
{
    (void)state;
    struct normalized_event *ev =
        normalized("{\"logentry\":{\"message\":\"{0} failed on "
                   "{host}\",\"params\":{\"0\":\"x\",\"host\":\"db1\"}}}");
    /* {0} is a position, which an object of params cannot fill */
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "{0} failed on {host}");
    free_event(ev);
    ev = normalized(
        "{\"logentry\":{\"message\":\"{} failed on {1}\",\"params\":[\"job\",\"db1\"]}}");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "job failed on db1");
    assert_string_equal(str_at(ev->json, "logentry", "message"), "{} failed on {1}");
    free_event(ev);
    /* params that are neither a list nor an object are dropped, as Relay does */
    ev = normalized("{\"logentry\":{\"message\":\"%s\",\"params\":\"x\"}}");
    assert_string_equal(str_at(ev->json, "logentry", "formatted"), "%s");
    assert_false(has_member(ev->json, "logentry", "params"));
    free_event(ev);
}

static void test_legacy_message_values_as_relay_reads_them(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"{\"message\":42}", "42"},
        {"{\"message\":2.5}", "2.5"},
        {"{\"message\":true}", "true"},
        {"{\"message\":[1,\"a\",{\"b\":1,\"a\":0}]}", "[1,\"a\",{\"a\":0,\"b\":1}]"},
        {"{\"logentry\":\"plain\"}", "plain"},
        {"{\"sentry.interfaces.Message\":{\"message\":\"x %s\",\"params\":[\"y\"]}}", "x y"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct normalized_event *ev = normalized(cases[i][0]);
        assert_string_equal(str_at(ev->json, "logentry", "formatted"), cases[i][1]);
        assert_string_equal(str_at(ev->json, "message", NULL), cases[i][1]);
        assert_false(has_member(ev->json, "sentry.interfaces.Message", NULL));
        free_event(ev);
    }
    static const char *nothing[] = {
        "{\"message\":false}",
        "{\"logentry\":{\"message\":5,\"formatted\":[\"x\"]}}",
        "{\"logentry\":{},\"message\":\"not read: logentry wins\"}",
    };
    for (size_t i = 0; i < sizeof(nothing) / sizeof(nothing[0]); i++) {
        struct normalized_event *ev = normalized(nothing[i]);
        assert_false(has_member(ev->json, "logentry", NULL));
        assert_false(has_member(ev->json, "message", NULL));
        free_event(ev);
    }
}

static void test_long_messages_are_capped_at_8192_characters(void **state)
{
    (void)state;
    size_t n = 9000;
    char *json = malloc(n + 64);
    assert_non_null(json);
    strcpy(json, "{\"logentry\":{\"formatted\":\"");
    size_t at = strlen(json);
    memset(json + at, 'x', n);
    strcpy(json + at + n, "\",\"message\":\"t\"}}");
    struct normalized_event *ev = normalized(json);
    const char *f = str_at(ev->json, "logentry", "formatted");
    assert_int_equal(strlen(f), 8192);
    assert_string_equal(f + 8189, "...");
    assert_string_equal(str_at(ev->json, "message", NULL), f);
    assert_string_equal(str_at(ev->json, "logentry", "message"), "t");
    free_event(ev);
    free(json);
}

static void test_event_without_message_gets_no_logentry(void **state)
{
    (void)state;
    struct normalized_event *ev = normalized("{\"exception\":[{\"type\":\"E\"}]}");
    assert_null(cJSON_GetObjectItemCaseSensitive(ev->json, "logentry"));
    assert_null(cJSON_GetObjectItemCaseSensitive(ev->json, "message"));
    free_event(ev);
}

static void test_level_defaults_lowercases_and_maps_warn(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"{}", "error"},
        {"{\"level\":\"WARNING\"}", "warning"},
        {"{\"level\":\"warn\"}", "warning"},
        {"{\"level\":\"Info\"}", "info"},
        {"{\"level\":\"fatal\"}", "fatal"},
        {"{\"level\":\"debug\"}", "debug"},
        {"{\"level\":\"nonsense\"}", "error"},
        {"{\"level\":7}", "error"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct normalized_event *ev = normalized(cases[i][0]);
        assert_string_equal(ev->g.level, cases[i][1]);
        assert_string_equal(str_at(ev->json, "level", NULL), cases[i][1]);
        free_event(ev);
    }
}

static void test_platform_defaults_to_other(void **state)
{
    (void)state;
    struct normalized_event *ev = normalized("{}");
    assert_string_equal(str_at(ev->json, "platform", NULL), "other");
    free_event(ev);
    ev = normalized("{\"platform\":\"python\"}");
    assert_string_equal(str_at(ev->json, "platform", NULL), "python");
    free_event(ev);
}

static void test_timestamp_forms_become_utc_rfc3339(void **state)
{
    (void)state;
    static const struct {
        const char *json, *text;
        int64_t ms;
    } cases[] = {
        {"{\"timestamp\":\"2024-03-01T12:34:56Z\"}", "2024-03-01T12:34:56.000Z", 1709296496000LL},
        {"{\"timestamp\":\"2024-03-01T12:34:56\"}", "2024-03-01T12:34:56.000Z", 1709296496000LL},
        {"{\"timestamp\":\"2024-03-01T12:34:56.789123\"}", "2024-03-01T12:34:56.789Z",
         1709296496789LL},
        {"{\"timestamp\":\"2024-03-01T14:34:56.5+02:00\"}", "2024-03-01T12:34:56.500Z",
         1709296496500LL},
        {"{\"timestamp\":\"2024-03-01T07:34:56-0500\"}", "2024-03-01T12:34:56.000Z",
         1709296496000LL},
        {"{\"timestamp\":1709296496.25}", "2024-03-01T12:34:56.250Z", 1709296496250LL},
        {"{\"timestamp\":\"1709296496.25\"}", "2024-03-01T12:34:56.250Z", 1709296496250LL},
        {"{}", "2023-11-14T22:13:20.123Z", 1700000000123LL},
        {"{\"timestamp\":\"yesterday\"}", "2023-11-14T22:13:20.123Z", 1700000000123LL},
        {"{\"timestamp\":\"2024-13-01T00:00:00Z\"}", "2023-11-14T22:13:20.123Z", 1700000000123LL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct normalized_event *ev = normalized(cases[i].json);
        assert_string_equal(str_at(ev->json, "timestamp", NULL), cases[i].text);
        assert_int_equal(ev->g.timestamp_ms, cases[i].ms);
        free_event(ev);
    }
}

static void test_event_id_environment_and_release(void **state)
{
    (void)state;
    struct normalized_event *ev =
        normalized("{\"event_id\":\"other\",\"environment\":\"prod\",\"release\":\"app@1.2\"}");
    assert_string_equal(str_at(ev->json, "event_id", NULL), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    assert_string_equal(ev->g.environment, "prod");
    assert_string_equal(ev->g.release, "app@1.2");
    free_event(ev);
    ev = normalized("{}");
    assert_null(ev->g.environment);
    assert_null(ev->g.release);
    free_event(ev);
}

static void test_non_object_event_is_rejected(void **state)
{
    (void)state;
    struct grouped_event ev = {0};
    cJSON *json = cJSON_Parse("[1,2]");
    assert_int_equal(normalize_event(json, &ev), -EINVAL);
    cJSON_Delete(json);
}

/* A string of n copies of unit. Caller frees. */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

/* Characters (UTF-8 lead bytes) in s. */
static size_t chars_of(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void assert_trimmed(const cJSON *item, size_t limit, const char *unit)
{
    assert_true(cJSON_IsString(item));
    const char *s = item->valuestring;
    if (chars_of(s) != limit) fail_msg("%zu characters, want %zu", chars_of(s), limit);
    assert_int_equal(strcmp(s + strlen(s) - 3, "..."), 0);
    assert_int_equal(strncmp(s, unit, strlen(unit)), 0);
}

static void test_long_fields_are_trimmed_to_relay_limits(void **state)
{
    (void)state;
    char *big = repeat("a.", 100000), *wide = repeat("\xc3\xa9", 9000), *path = repeat("x/", 70000);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "message", big);
    cJSON_AddStringToObject(ev, "transaction", path);
    cJSON *tags = cJSON_AddObjectToObject(ev, "tags");
    cJSON_AddStringToObject(tags, "long", path);
    cJSON_AddStringToObject(tags, "short", "eu");
    cJSON *exc = cJSON_CreateObject();
    cJSON_AddStringToObject(exc, "type", path);
    cJSON_AddStringToObject(exc, "value", wide);
    cJSON *frame = cJSON_CreateObject();
    cJSON_AddStringToObject(frame, "abs_path", path);
    cJSON_AddStringToObject(frame, "function", big);
    cJSON_AddStringToObject(frame, "lineno", "7");
    cJSON *frames = cJSON_CreateArray();
    cJSON_AddItemToArray(frames, frame);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(exc, "stacktrace"), "frames", frames);
    cJSON_AddItemToObject(ev, "exception", exc); /* the bare object form */
    char *text = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);

    struct normalized_event *n = normalized(text);
    cJSON *root = n->json;
    assert_trimmed(cJSON_GetObjectItem(root, "message"), 8192, "a.a.");
    assert_trimmed(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "logentry"), "formatted"), 8192,
                   "a.a.");
    assert_trimmed(cJSON_GetObjectItem(root, "transaction"), 200, "x/x/");
    cJSON *t = cJSON_GetObjectItem(root, "tags");
    assert_null(cJSON_GetObjectItem(t, "long")); /* dropped, as Relay drops it */
    assert_string_equal(cJSON_GetObjectItem(t, "short")->valuestring, "eu");
    cJSON *e = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "exception"), "values"), 0);
    assert_trimmed(cJSON_GetObjectItem(e, "type"), 256, "x/");
    assert_trimmed(cJSON_GetObjectItem(e, "value"), 8192, "\xc3\xa9"); /* characters, not bytes */
    cJSON *f =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "stacktrace"), "frames"), 0);
    assert_trimmed(cJSON_GetObjectItem(f, "abs_path"), 256, "x/");
    assert_trimmed(cJSON_GetObjectItem(f, "function"), 256, "a.");
    assert_string_equal(cJSON_GetObjectItem(f, "lineno")->valuestring, "7");
    free_event(n);
    cJSON_free(text);

    /* At the limit: untouched; past it, a tag in the list form goes too. */
    char *exact = repeat("b", 8192);
    char json[9200];
    snprintf(json, sizeof json,
             "{\"message\": \"%s\", \"tags\": [[\"k\", \"%.*s\"], [\"at\", \"%.*s\"]]}", exact, 201,
             exact, 200, exact);
    n = normalized(json);
    assert_string_equal(cJSON_GetObjectItem(n->json, "message")->valuestring, exact);
    cJSON *list = cJSON_GetObjectItem(n->json, "tags");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(list, 0), 0)->valuestring, "at");
    free_event(n);
    free(exact);
    free(big);
    free(wide);
    free(path);
}

/* The old formatting rescanned for ')' at every "%(" and walked the params
 * list from its head at every "%s": quadratic in the template. */
static void test_params_formatting_is_linear(void **state)
{
    (void)state;
    char *opens = repeat("%(", 100000), *specs = repeat("%s", 100000);
    cJSON *a = cJSON_CreateObject(), *le = cJSON_AddObjectToObject(a, "logentry");
    cJSON_AddStringToObject(le, "message", opens);
    cJSON *named = cJSON_AddObjectToObject(le, "params");
    cJSON_AddStringToObject(named, "x", "y");
    cJSON *b = cJSON_CreateObject(), *le2 = cJSON_AddObjectToObject(b, "logentry");
    cJSON_AddStringToObject(le2, "message", specs);
    cJSON *list = cJSON_AddArrayToObject(le2, "params");
    for (int i = 0; i < 100000; i++)
        cJSON_AddItemToArray(list, cJSON_CreateNumber(i));
    char *texts[] = {cJSON_PrintUnformatted(a), cJSON_PrintUnformatted(b)};
    cJSON_Delete(a);
    cJSON_Delete(b);
    for (int i = 0; i < 2; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct normalized_event *n = normalized(texts[i]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (s > 5) fail_msg("template %d took %.1f s", i, s); /* quadratic: minutes */
        const char *formatted = str_at(n->json, "logentry", "formatted");
        assert_non_null(formatted);
        assert_true(strlen(formatted) <= 8192);
        free_event(n);
        cJSON_free(texts[i]);
    }
    free(opens);
    free(specs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exception_values_form_is_kept),
        cmocka_unit_test(test_exception_bare_list_is_wrapped_in_values),
        cmocka_unit_test(test_exception_single_bare_object_becomes_one_value),
        cmocka_unit_test(test_message_string_becomes_logentry),
        cmocka_unit_test(test_message_object_with_params_is_formatted),
        cmocka_unit_test(test_logentry_named_params_and_formatted_win),
        cmocka_unit_test(test_logentry_template_stands_when_it_cannot_be_formatted),
        cmocka_unit_test(test_logentry_curly_template_and_invalid_params),
        cmocka_unit_test(test_legacy_message_values_as_relay_reads_them),
        cmocka_unit_test(test_long_messages_are_capped_at_8192_characters),
        cmocka_unit_test(test_event_without_message_gets_no_logentry),
        cmocka_unit_test(test_level_defaults_lowercases_and_maps_warn),
        cmocka_unit_test(test_platform_defaults_to_other),
        cmocka_unit_test(test_timestamp_forms_become_utc_rfc3339),
        cmocka_unit_test(test_event_id_environment_and_release),
        cmocka_unit_test(test_non_object_event_is_rejected),
        cmocka_unit_test(test_long_fields_are_trimmed_to_relay_limits),
        cmocka_unit_test(test_params_formatting_is_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
