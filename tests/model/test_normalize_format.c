/* normalize_format: log templates filled from their params as Relay does
 * (dynfmt's Python and simple-curly formats). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/normalize_format.h"

/* The text tmpl formats to with params (JSON), or NULL when it is not
 * formatted. Caller frees. */
static char *fmt(const char *tmpl, const char *params_json)
{
    cJSON *params = cJSON_Parse(params_json);
    assert_non_null(params);
    char *out = NULL;
    int rc = normalize_format(tmpl, params, &out);
    cJSON_Delete(params);
    assert_true(rc == 0 || rc == 1);
    if (rc == 0) assert_null(out);
    return out;
}

static void expect(const char *tmpl, const char *params_json, const char *want)
{
    char *got = fmt(tmpl, params_json);
    if (!want) {
        if (got) fail_msg("%s with %s: want unformatted, got \"%s\"", tmpl, params_json, got);
        return;
    }
    if (!got) fail_msg("%s with %s: want \"%s\", got unformatted", tmpl, params_json, want);
    if (strcmp(got, want) != 0)
        fail_msg("%s with %s: want \"%s\", got \"%s\"", tmpl, params_json, want, got);
    free(got);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void test_python_positional_and_named(void **state)
{
    (void)state;
    expect("hello, %s!", "[\"world\"]", "hello, world!");
    expect("hello, %(name)s!", "{\"name\": \"world\"}", "hello, world!");
    expect("user %s has %d items", "[\"bob\", 3]", "user bob has 3 items");
    expect("%(b)s then %(a)s", "{\"a\": 1, \"b\": 2}", "2 then 1");
    expect("%(ключ)s", "{\"ключ\": \"v\"}", "v");
    /* the last of repeated keys, as Relay's ordered map keeps it */
    expect("%(k)s", "{\"k\": 1, \"k\": 2}", "2");
}

static void test_python_percent_literal(void **state)
{
    (void)state;
    expect("100%% of %s", "[\"x\"]", "100% of x");
    expect("only %%", "[]", "only %");
    expect("%(k)%", "{}", "%"); /* a literal never looks its key up */
}

static void test_python_missing_or_misplaced_params_leave_the_template(void **state)
{
    (void)state;
    expect("%s and %s", "[\"a\"]", NULL);
    expect("%s", "[]", NULL);
    expect("%s", "[null]", NULL); /* Relay: a null param is a missing one */
    expect("%(name)s", "[\"a\"]", NULL);
    expect("%s", "{\"a\": 1}", NULL);
    expect("%(a)s", "{\"a\": null}", NULL);
    expect("%(a)s %s", "{\"a\": 1}", NULL);
}

static void test_python_non_string_params(void **state)
{
    (void)state;
    expect("%s|%d|%s", "[3, -42, 9007199254740992]", "3|-42|9007199254740992");
    expect("%s|%s|%s|%s", "[2.5, 0.1, 1e-7, -1.25]", "2.5|0.1|0.0000001|-1.25");
    expect("%s", "[1e20]", "100000000000000000000");
    expect("%s %s", "[true, false]", "true false");
    expect("%s", "[[1, \"a\", null, {\"z\": 1, \"b\": [true]}]]",
           "[1,\"a\",null,{\"b\":[true],\"z\":1}]");
    expect("%s", "[{\"b\": 1, \"a\": \"q\\\"uote\\n\\u0001\"}]",
           "{\"a\":\"q\\\"uote\\n\\u0001\",\"b\":1}");
    expect("%#s", "[[1, {\"a\": []}]]", "[\n  1,\n  {\n    \"a\": []\n  }\n]");
    /* %r is JSON: strings quoted, floats as serde_json prints them */
    expect("%r %r %r", "[\"x\", 2.5, 1e20]", "\"x\" 2.5 1e20");
    expect("%r %r %r", "[0.001234, 1.5e-7, 123456.5]", "0.001234 1.5e-7 123456.5");
    expect("%c", "[65]", "65");
}

static void test_python_integer_and_exponent_conversions(void **state)
{
    (void)state;
    expect("%x %X %o", "[255, 255, 8]", "ff FF 10");
    expect("%#x %#X %#o", "[255, 255, 8]", "0xff 0xFF 0o10");
    expect("%x", "[-1]", "ffffffffffffffff");
    expect("%e %E", "[1234.5, 0.00015]", "1.2345e3 1.5E-4");
    expect("%x", "[\"ff\"]", NULL);
    expect("%x", "[2.5]", NULL);
    expect("%e", "[3]", NULL);
    expect("%o", "[[1]]", NULL);
    expect("%e", "[true]", NULL);
}

static void test_python_flags_width_precision_are_read_not_applied(void **state)
{
    (void)state;
    expect("%5d|%-3s|%.2f|%05.1f|%+d|% d", "[7, \"ab\", 3.14159, 2.5, 4, 5]",
           "7|ab|3.14159|2.5|4|5");
    expect("%ld %hd %Lf", "[1, 2, 3.5]", "1 2 3.5");
    expect("%*d", "[9]", "9");  /* '*' takes no param in dynfmt */
    expect("%**d", "[9]", "9"); /* regex backtracking: no width, precision '*' */
    /* dynfmt's precision follows any one character ('.' unescaped) */
    expect("%a5d", "[1]", "1");
    expect("50% discount", "[\"x\"]", "50xiscount");
}

static void test_python_text_that_is_no_placeholder_stays(void **state)
{
    (void)state;
    expect("100%", "[\"x\"]", NULL);
    expect("%(x)", "{\"x\": 1}", NULL);
    expect("%()s %s", "[\"a\"]", "%()s a");
    expect("a %z b %s", "[\"x\"]", "a %z b x");
    /* a template with '%' is never read as curly */
    expect("{0} is 100%", "[\"a\"]", NULL);
}

static void test_curly_positional_indexed_named(void **state)
{
    (void)state;
    expect("hello, {}!", "[\"world\"]", "hello, world!");
    expect("hello, {0}!", "[\"world\"]", "hello, world!");
    expect("{0} {0} {1} {}", "[\"a\", \"b\"]", "a a b a");
    expect("{name} is {age}", "{\"name\": \"ann\", \"age\": 31}", "ann is 31");
    expect("{{0}}", "[\"a\"]", "{a}");
    expect("{0}", "[[1, 2]]", "[1,2]");
}

static void test_curly_missing_or_misplaced_params_leave_the_template(void **state)
{
    (void)state;
    expect("{2}", "[\"a\"]", NULL);
    expect("{x}", "[\"a\"]", NULL);
    expect("{}", "{\"a\": 1}", NULL);
    expect("{0}", "[null]", NULL);
    /* too large for an index: a key, which a list cannot have */
    expect("{99999999999999999999999}", "[\"a\"]", NULL);
    expect("{ 0} {a-b}", "[\"a\"]", NULL);
}

/* The examples README.md ("Titles, culprits and log messages") shows. */
static void test_readme_examples(void **state)
{
    (void)state;
    expect("invoice %s failed", "[\"INV-77\"]", "invoice INV-77 failed");
    expect("user %(user)s owes %(amount)d", "{\"user\": \"ann\", \"amount\": 12}",
           "user ann owes 12");
    expect("100%% done, %5.1f s", "[2.25]", "100% done, 2.25 s");
    expect("{} failed after {1} tries", "[\"sync\", 3]", "sync failed after 3 tries");
    expect("{host} is down", "{\"host\": \"db1\"}", "db1 is down");
    expect("no account for %s", "[null]", NULL);
}

static void test_templates_without_placeholders_or_params(void **state)
{
    (void)state;
    expect("plain text", "[\"a\"]", NULL);
    char *out = (char *)1;
    cJSON *s = cJSON_CreateString("x");
    assert_int_equal(normalize_format("%s", s, &out), 0);
    assert_null(out);
    assert_int_equal(normalize_format("%s", NULL, &out), 0);
    cJSON_Delete(s);
}

static void test_output_is_capped_at_the_message_limit(void **state)
{
    (void)state;
    size_t n = 10000;
    char *big = malloc(n * 2 + 16);
    assert_non_null(big);
    strcpy(big, "[\"");
    for (size_t i = 0; i < n; i++)
        memcpy(big + 2 + i * 2, "\xc3\xa9", 2); /* é */
    strcpy(big + 2 + n * 2, "\"]");
    char *out = fmt("<%s>", big);
    assert_non_null(out);
    assert_int_equal(utf8_chars(out), TRIM_MESSAGE_CHARS);
    assert_memory_equal(out, "<\xc3\xa9", 3);
    assert_string_equal(out + strlen(out) - 3, "...");
    free(out);
    free(big);

    /* exactly at the limit: kept whole */
    char *tmpl = malloc(TRIM_MESSAGE_CHARS + 1);
    memset(tmpl, 'a', TRIM_MESSAGE_CHARS - 2);
    strcpy(tmpl + TRIM_MESSAGE_CHARS - 2, "%s");
    out = fmt(tmpl, "[\"b\"]");
    assert_int_equal(strlen(out), TRIM_MESSAGE_CHARS - 1);
    free(out);
    out = fmt(tmpl, "[\"bc\"]");
    assert_int_equal(strlen(out), TRIM_MESSAGE_CHARS);
    assert_int_equal(out[TRIM_MESSAGE_CHARS - 1], 'c');
    free(out);
    out = fmt(tmpl, "[\"bcd\"]");
    assert_int_equal(strlen(out), TRIM_MESSAGE_CHARS);
    assert_string_equal(out + TRIM_MESSAGE_CHARS - 3, "...");
    free(out);
    free(tmpl);
}

static void test_lenient_text(void **state)
{
    (void)state;
    int err = 1;
    cJSON *v = cJSON_Parse("[1, 2.5, \"x\", {\"b\": 1, \"a\": 2}]");
    char *s = normalize_lenient_text(v, &err);
    assert_int_equal(err, 0);
    assert_string_equal(s, "[1,2.5,\"x\",{\"a\":2,\"b\":1}]");
    free(s);
    cJSON_Delete(v);
    v = cJSON_CreateFalse();
    assert_null(normalize_lenient_text(v, &err));
    assert_int_equal(err, 0);
    cJSON_Delete(v);
    v = cJSON_CreateNumber(42);
    s = normalize_lenient_text(v, &err);
    assert_string_equal(s, "42");
    free(s);
    cJSON_Delete(v);
}

/* Hostile templates: a bounded number of matcher steps, then the template
 * stands; huge param lists are indexed once, not walked per placeholder. */
static void test_hostile_templates_are_bounded(void **state)
{
    (void)state;
    size_t n = 200000;
    char *tmpl = malloc(n + 3);
    assert_non_null(tmpl);
    tmpl[0] = '%';
    memset(tmpl + 1, '0', n);
    strcpy(tmpl + 1 + n, "\n");
    expect(tmpl, "[1]", NULL);

    /* 100,000 placeholders against 100,000 params */
    size_t k = 100000;
    char *many = malloc(k * 4 + 1);
    char *params = malloc(k * 2 + 3);
    assert_non_null(many);
    assert_non_null(params);
    for (size_t i = 0; i < k; i++)
        memcpy(many + i * 4, "{0}|", 4);
    many[k * 4] = '\0';
    params[0] = '[';
    for (size_t i = 0; i < k; i++)
        memcpy(params + 1 + i * 2, "1,", 2);
    params[k * 2] = ']';
    params[k * 2 + 1] = '\0';
    char *out = fmt(many, params);
    assert_non_null(out);
    assert_int_equal(utf8_chars(out), TRIM_MESSAGE_CHARS);
    free(out);
    free(many);
    free(params);
    free(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_positional_and_named),
        cmocka_unit_test(test_python_percent_literal),
        cmocka_unit_test(test_python_missing_or_misplaced_params_leave_the_template),
        cmocka_unit_test(test_python_non_string_params),
        cmocka_unit_test(test_python_integer_and_exponent_conversions),
        cmocka_unit_test(test_python_flags_width_precision_are_read_not_applied),
        cmocka_unit_test(test_python_text_that_is_no_placeholder_stays),
        cmocka_unit_test(test_curly_positional_indexed_named),
        cmocka_unit_test(test_curly_missing_or_misplaced_params_leave_the_template),
        cmocka_unit_test(test_readme_examples),
        cmocka_unit_test(test_templates_without_placeholders_or_params),
        cmocka_unit_test(test_output_is_capped_at_the_message_limit),
        cmocka_unit_test(test_lenient_text),
        cmocka_unit_test(test_hostile_templates_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
