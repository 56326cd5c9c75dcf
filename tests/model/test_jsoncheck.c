/* jsoncheck: depth pre-scan without recursion, object check, event id rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <malloc.h>
#include "model/event.h"
#include "model/jsoncheck.h"

/* Counts what cJSON allocates (usable sizes, so allocator rounding in). */
static size_t allocated;

static void *counting_malloc(size_t n)
{
    void *p = malloc(n);
    if (p) allocated += malloc_usable_size(p);
    return p;
}

static void counting_free(void *p)
{
    if (p) allocated -= malloc_usable_size(p);
    free(p);
}

/* The real bytes cJSON holds for text, against the measured bound. */
static void expect_bound_holds(const char *text)
{
    size_t bound = 0;
    assert_int_equal(jsoncheck_measure(text, strlen(text), 64, &bound), 0);
    cJSON_Hooks hooks = {counting_malloc, counting_free};
    cJSON_InitHooks(&hooks);
    allocated = 0;
    cJSON *j = cJSON_ParseWithLength(text, strlen(text));
    size_t held = allocated;
    cJSON_Delete(j);
    cJSON_InitHooks(NULL);
    assert_non_null(j);
    if (held > bound) fail_msg("cJSON holds %zu bytes, the bound says %zu", held, bound);
    /* Not so loose that it refuses what would fit. */
    if (bound > 4 * held + 64) fail_msg("bound %zu is far above the %zu held", bound, held);
}

static char *nested(size_t depth)
{
    char *s = malloc(2 * depth + 1);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

static void test_json_100000_deep_is_rejected_without_crashing(void **state)
{
    (void)state;
    char *s = nested(100000);
    cJSON *j;
    const char *why;
    assert_int_equal(jsoncheck_depth(s, strlen(s), 64), -ELOOP);
    assert_int_equal(jsoncheck_parse_event(s, strlen(s), 64, &j, &why), -ELOOP);
    assert_null(j);
    free(s);
    /* unbalanced openers only, objects this time */
    size_t n = 100000;
    char *o = malloc(n * 5 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(o + 5 * i, "{\"a\":", 5);
    assert_int_equal(jsoncheck_parse_event(o, n * 5, 64, &j, &why), -ELOOP);
    free(o);
}

static void test_json_depth_limit_is_inclusive(void **state)
{
    (void)state;
    char *s = nested(64);
    assert_int_equal(jsoncheck_depth(s, strlen(s), 64), 0);
    free(s);
    s = nested(65);
    assert_int_equal(jsoncheck_depth(s, strlen(s), 64), -ELOOP);
    free(s);
}

/* A quote after an odd run of backslashes is escaped, after an even run it
 * ends the string: brackets count only outside strings either way. */
static void test_json_backslash_runs_decide_where_strings_end(void **state)
{
    (void)state;
    /* "a" holds x\\\"[[[ (three backslashes: the quote is escaped). */
    static const char odd[] = "{\"a\":\"x\\\\\\\"[[[[\",\"b\":[[1]]}";
    assert_int_equal(jsoncheck_depth(odd, sizeof(odd) - 1, 3), 0);
    assert_int_equal(jsoncheck_depth(odd, sizeof(odd) - 1, 2), -ELOOP);
    /* "a" holds two backslashes: the next quote ends it. */
    static const char even[] = "{\"a\":\"\\\\\",\"b\":[[1]]}";
    assert_int_equal(jsoncheck_depth(even, sizeof(even) - 1, 3), 0);
    assert_int_equal(jsoncheck_depth(even, sizeof(even) - 1, 2), -ELOOP);
    cJSON *j;
    const char *why;
    assert_int_equal(jsoncheck_parse_event(odd, sizeof(odd) - 1, 3, &j, &why), 0);
    assert_string_equal(cJSON_GetObjectItem(j, "a")->valuestring, "x\\\"[[[[");
    cJSON_Delete(j);
    /* An unterminated string ends the scan without reading past len. */
    static const char open[] = "{\"a\":\"[[[[\\";
    assert_int_equal(jsoncheck_depth(open, sizeof(open) - 1, 1), 0);
}

static void test_json_brackets_inside_strings_do_not_count(void **state)
{
    (void)state;
    static const char s[] = "{\"a\":\"[[[[[[[[[[\\\"[[[[[[[\",\"b\":\"\\\\\",\"c\":[1]}";
    assert_int_equal(jsoncheck_depth(s, sizeof(s) - 1, 2), 0);
    cJSON *j;
    const char *why;
    assert_int_equal(jsoncheck_parse_event(s, sizeof(s) - 1, 2, &j, &why), 0);
    cJSON_Delete(j);
}

static void test_event_must_be_a_json_object(void **state)
{
    (void)state;
    cJSON *j;
    const char *why = NULL;
    assert_int_equal(jsoncheck_parse_event("[1,2]", 5, 64, &j, &why), -EBADMSG);
    assert_non_null(why);
    assert_int_equal(jsoncheck_parse_event("\"x\"", 3, 64, &j, &why), -EBADMSG);
    assert_int_equal(jsoncheck_parse_event("{\"a\":", 5, 64, &j, &why), -EBADMSG);
    assert_int_equal(jsoncheck_parse_event("", 0, 64, &j, &why), -EBADMSG);
    assert_int_equal(jsoncheck_parse_event("{} x", 4, 64, &j, &why), -EBADMSG);
    /* no NUL needed after the text */
    assert_int_equal(jsoncheck_parse_event("{\"a\":1}garbage", 7, 64, &j, &why), 0);
    cJSON_Delete(j);
}

static void check_id(const char *json, const uint8_t *preferred, const char *want)
{
    cJSON *j;
    const char *why;
    uint8_t id[16];
    char hex[33];
    assert_int_equal(jsoncheck_parse_event(json, strlen(json), 64, &j, &why), 0);
    assert_int_equal(jsoncheck_event_id(j, preferred, id), 0);
    event_id_hex(id, hex);
    if (want) assert_string_equal(hex, want);
    assert_string_equal(cJSON_GetObjectItem(j, "event_id")->valuestring, hex);
    cJSON_Delete(j);
}

static void test_event_id_rules(void **state)
{
    (void)state;
    /* the event's own id, UUID form accepted and normalized */
    check_id("{\"event_id\":\"9EC79C33-EC99-42AB-8353-589FCB2E04DC\"}", NULL,
             "9ec79c33ec9942ab8353589fcb2e04dc");
    /* the envelope header's id wins */
    uint8_t pref[16];
    assert_int_equal(event_id_parse("0123456789abcdef0123456789abcdef", 32, pref), 0);
    check_id("{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}", pref,
             "0123456789abcdef0123456789abcdef");
    /* invalid or absent: generated (version 4) */
    check_id("{\"event_id\":\"xyz\"}", NULL, NULL);
    check_id("{\"event_id\":12}", NULL, NULL);
    check_id("{}", NULL, NULL);
}

static void test_event_id_parse_and_generate(void **state)
{
    (void)state;
    uint8_t a[16], b[16];
    assert_int_equal(event_id_parse("0123456789abcdef0123456789abcde", 31, a), -EINVAL);
    assert_int_equal(event_id_parse("0123456789abcdef0123456789abcdef0", 33, a), -EINVAL);
    assert_int_equal(event_id_parse("0123456789abcdef0123456789abcdeg", 32, a), -EINVAL);
    assert_int_equal(event_id_parse("--------------------------------------", 38, a), -EINVAL);
    event_id_generate(a);
    event_id_generate(b);
    assert_memory_not_equal(a, b, 16);
    assert_int_equal(a[6] >> 4, 4);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
    char *s = malloc(h + u * n + t + 1);
    memcpy(s, head, h);
    for (size_t i = 0; i < n; i++)
        memcpy(s + h + u * i, unit, u);
    memcpy(s + h + u * n, tail, t + 1);
    return s;
}

static void test_measured_bound_covers_what_cjson_allocates(void **state)
{
    (void)state;
    static const struct {
        const char *head, *unit, *tail;
        size_t n;
    } shapes[] = {
        /* The amplification finding's shape: one node per two bytes. */
        {"{\"extra\":{\"a\":[", "0,", "0]}}", 100000},
        {"[", "{\"k\":\"v\",\"n\":1},", "{}]", 20000},
        {"{\"s\":[", "\"a fairly long string value here\",", "\"\"]}", 20000},
        {"[", "[],{},", "[]]", 30000},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        char *text = repeat(shapes[i].head, shapes[i].unit, shapes[i].n, shapes[i].tail);
        expect_bound_holds(text);
        free(text);
    }
    expect_bound_holds("{\"message\":\"bad \\u00e9 \\\" quote\",\"level\":\"error\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_100000_deep_is_rejected_without_crashing),
        cmocka_unit_test(test_json_depth_limit_is_inclusive),
        cmocka_unit_test(test_json_backslash_runs_decide_where_strings_end),
        cmocka_unit_test(test_json_brackets_inside_strings_do_not_count),
        cmocka_unit_test(test_event_must_be_a_json_object),
        cmocka_unit_test(test_event_id_rules),
        cmocka_unit_test(test_event_id_parse_and_generate),
        cmocka_unit_test(test_measured_bound_covers_what_cjson_allocates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
