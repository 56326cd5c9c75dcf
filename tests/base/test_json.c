/* base/json: exactly one value is parsed, typed reads answer NULL or the
 * default for what is missing or mistyped, integers are integral numbers
 * within ±2^53. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/json.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_parse_takes_one_value_and_whitespace_only(void **state)
{
    (void)state;
    cJSON *v = json_parse(S(" {\"a\":1} \r\n"));
    assert_non_null(v);
    cJSON_Delete(v);
    assert_null(json_parse(S("{\"a\":1} x")));
    assert_null(json_parse(S("{\"a\":1}{}")));
    assert_null(json_parse(S("{\"a\":")));
    assert_null(json_parse("", 0));
    /* Only len bytes are read: what follows in the buffer does not count. */
    assert_non_null(v = json_parse("[1]garbage", 3));
    cJSON_Delete(v);
}

static void test_typed_reads(void **state)
{
    (void)state;
    cJSON *v = json_parse(S("{\"s\":\"x\",\"n\":5,\"f\":1.5,\"big\":1e300,\"neg\":-7,"
                            "\"ms\":1764662400123,\"null\":null}"));
    assert_non_null(v);
    assert_string_equal(json_str(json_get(v, "s")), "x");
    assert_null(json_str(json_get(v, "n")));
    assert_null(json_get(v, "missing"));
    assert_null(json_get(json_get(v, "s"), "s")); /* not an object */
    assert_null(json_get(NULL, "s"));
    assert_true(json_is_int(json_get(v, "n")));
    assert_int_equal(json_int(json_get(v, "n"), -1), 5);
    assert_int_equal(json_int(json_get(v, "neg"), 0), -7);
    assert_int_equal(json_int(json_get(v, "ms"), 0), 1764662400123LL);
    assert_false(json_is_int(json_get(v, "f")));
    assert_int_equal(json_int(json_get(v, "f"), -1), -1);
    assert_false(json_is_int(json_get(v, "big")));
    assert_int_equal(json_int(json_get(v, "null"), -2), -2);
    assert_int_equal(json_int(json_get(v, "s"), -3), -3);
    cJSON_Delete(v);
}

static void assert_prints(const cJSON *v, int flags, const char *want)
{
    char *got = json_print(v, flags);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* The answers' bytes as they were before cJSON printed them: integers as integers (no
 * ".0", no exponent up to 2^53), other numbers with 17 digits, control
 * bytes as \u00XX, UTF-8 as is; ", " / ": " and indentation on request. */
static void test_print_matches_the_answers_bytes(void **state)
{
    (void)state;
    cJSON *v =
        json_build("{s:I, s:I, s:i, s:f, s:f, s:s, s:b, s:n, s:[], s:{}}", "id",
                   (int64_t)9007199254740991LL, "ms", (int64_t)1764633600123LL, "neg", -3, "half",
                   0.5, "tenth", 0.1, "text", "a\"\\\n\x01é/", "on", 1, "none", "list", "obj");
    assert_non_null(v);
    assert_prints(v, 0,
                  "{\"id\":9007199254740991,\"ms\":1764633600123,\"neg\":-3,\"half\":0.5,"
                  "\"tenth\":0.10000000000000001,\"text\":\"a\\\"\\\\\\n\\u0001é/\","
                  "\"on\":true,\"none\":null,\"list\":[],\"obj\":{}}");
    cJSON_Delete(v);
    v = json_build("{s:i, s:[i, i], s:{s:s}}", "b", 1, "a", 2, 3, "c", "d", "e");
    assert_prints(v, JSON_PRINT_SORT, "{\"a\":[2,3],\"b\":1,\"c\":{\"d\":\"e\"}}");
    assert_prints(v, JSON_PRINT_SPACED, "{\"b\": 1, \"a\": [2, 3], \"c\": {\"d\": \"e\"}}");
    assert_prints(
        v, JSON_PRINT_INDENT(2) | JSON_PRINT_SORT,
        "{\n  \"a\": [\n    2,\n    3\n  ],\n  \"b\": 1,\n  \"c\": {\n    \"d\": \"e\"\n  }\n}");
    cJSON_Delete(v);
}

/* json_build: NULL where none is allowed fails (and frees the taken
 * values), "?" gives null, "*" leaves the member out, "O" copies. */
static void test_build_formats(void **state)
{
    (void)state;
    assert_null(json_build("{s:s}", "a", (const char *)NULL));
    assert_null(json_build("{s:o, s:s}", "a", cJSON_CreateArray(), "b", (const char *)NULL));
    cJSON *kept = json_build("[i]", 7);
    cJSON *v = json_build("{s:s?, s:o?, s:o*, s:O, s:s%}", "a", (const char *)NULL, "b",
                          (cJSON *)NULL, "c", (cJSON *)NULL, "d", kept, "e", "xyz", (size_t)2);
    assert_prints(v, 0, "{\"a\":null,\"b\":null,\"d\":[7],\"e\":\"xy\"}");
    assert_prints(kept, 0, "[7]");
    cJSON_Delete(kept);
    cJSON_Delete(v);
}

/* json_set replaces a member where it stands; json_push/json_set take the
 * value even when they fail. */
static void test_set_replaces_in_place(void **state)
{
    (void)state;
    cJSON *o = json_build("{s:i, s:i}", "a", 1, "b", 2);
    assert_int_equal(json_set(o, "a", cJSON_CreateString("x")), 0);
    assert_int_equal(json_set(o, "c", json_new_int(3)), 0);
    assert_int_equal(json_set(o, "d", NULL), -1);
    assert_int_equal(json_push(o, json_new_int(4)), -1); /* not an array: freed */
    assert_prints(o, 0, "{\"a\":\"x\",\"b\":2,\"c\":3}");
    assert_int_equal(json_size(o), 3);
    const char *key;
    cJSON *v;
    size_t n = 0;
    json_object_each(o, key, v)
    {
        n += v != NULL;
        v = NULL; /* the walk does not depend on v */
    }
    assert_int_equal(n, 3);
    (void)key;
    cJSON_Delete(o);
}

/* The admin body errors: where (line, column), duplicate keys, NUL. */
static void test_parse_checked_says_why(void **state)
{
    (void)state;
    char why[160];
    assert_null(json_parse_checked(S("{\"name\": \"x\",\n oops}"), why, sizeof why));
    assert_non_null(strstr(why, "line 2"));
    assert_null(json_parse_checked(S("{\"a\": {\"b\": 1, \"b\": 2}}"), why, sizeof why));
    assert_string_equal(why, "duplicate object key \"b\"");
    assert_null(json_parse_checked(S("{\"name\": \"a\\u0000b\"}"), why, sizeof why));
    assert_non_null(strstr(why, "u0000"));
    cJSON *v = json_parse_checked(S("{\"name\": \"a\\\\u0000b\"}"), why, sizeof why);
    assert_non_null(v); /* an escaped backslash, then the text u0000 */
    assert_string_equal(json_str(json_get(v, "name")), "a\\u0000b");
    cJSON_Delete(v);
    assert_null(json_parse_checked(S("[1] 2"), why, sizeof why));
}

/* Invalid UTF-8 never reaches printed JSON: the string makers repair it
 * (each invalid sequence U+FFFD), and the printer repairs a string that
 * cJSON_CreateString took as is. A cut "…" (E2 80 of E2 80 A6) was the
 * masked webhook URL that made the README's destination snippet print
 * bytes a client cannot decode. */
static void test_strings_are_repaired_utf8(void **state)
{
    (void)state;
    cJSON *v = json_new_str("services/\xe2\x80(masked)");
    assert_string_equal(json_str(v), "services/\xef\xbf\xbd(masked)");
    cJSON_Delete(v);
    v = json_new_strn(S("a\xff"
                        "b\xc3\xa9"));
    assert_string_equal(json_str(v), "a\xef\xbf\xbd"
                                     "b\xc3\xa9");
    cJSON_Delete(v);
    v = json_build("{s:s, s:s%}", "u", "x\xc0\xafy", "n", "\xf0\x9f", (size_t)2);
    assert_non_null(v);
    assert_string_equal(json_str(json_get(v, "u")), "x\xef\xbf\xbd\xef\xbf\xbdy");
    assert_string_equal(json_str(json_get(v, "n")), "\xef\xbf\xbd");
    json_set(v, "raw", cJSON_CreateString("\xe2\x80"));
    char *text = json_print(v, JSON_PRINT_SORT);
    assert_string_equal(text, "{\"n\":\"\xef\xbf\xbd\",\"raw\":\"\xef\xbf\xbd\","
                              "\"u\":\"x\xef\xbf\xbd\xef\xbf\xbdy\"}");
    free(text);
    cJSON_Delete(v);
    v = json_new_str("caf\xc3\xa9 \xe2\x80\xa6");
    assert_string_equal(json_str(v), "caf\xc3\xa9 \xe2\x80\xa6");
    cJSON_Delete(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_takes_one_value_and_whitespace_only),
        cmocka_unit_test(test_typed_reads),
        cmocka_unit_test(test_print_matches_the_answers_bytes),
        cmocka_unit_test(test_build_formats),
        cmocka_unit_test(test_set_replaces_in_place),
        cmocka_unit_test(test_parse_checked_says_why),
        cmocka_unit_test(test_strings_are_repaired_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
