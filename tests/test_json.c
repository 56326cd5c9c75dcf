/* base/json: exactly one value is parsed, typed reads answer NULL or the
 * default for what is missing or mistyped, integers are integral numbers
 * within ±2^53. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_takes_one_value_and_whitespace_only),
        cmocka_unit_test(test_typed_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
