/* utf8: what is valid (RFC 3629) and how invalid text is repaired — one
 * U+FFFD per maximal invalid subpart, the Unicode practice that
 * from_utf8_lossy (and so Relay) follows — and the JSON string helper
 * the read paths use. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/utf8.h"

#define FFFD "\xEF\xBF\xBD"

static void expect_repair(const char *in, size_t len, const char *want)
{
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(utf8_repair(in, len, &out, &out_len), 1);
    assert_int_equal(out_len, strlen(want));
    assert_memory_equal(out, want, out_len);
    assert_int_equal(out[out_len], '\0');
    assert_true(utf8_valid(out, out_len));
    free(out);
}

static void test_valid_text_is_left_alone(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "",
        "plain ascii",
        "caf\xC3\xA9",
        "\xE2\x82\xAC euro",
        "\xF0\x9F\x98\x80 emoji",
        "\xEF\xBF\xBF",
        "\xF4\x8F\xBF\xBF", /* U+FFFF, U+10FFFF */
        "\xED\x9F\xBF",
        "\xEE\x80\x80", /* either side of the surrogates */
    };
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        char *out = (char *)1;
        size_t n = 7;
        assert_true(utf8_valid(valid[i], strlen(valid[i])));
        assert_int_equal(utf8_repair(valid[i], strlen(valid[i]), &out, &n), 0);
        assert_null(out);
        assert_int_equal(n, 0);
    }
}

static void test_each_maximal_invalid_subpart_becomes_one_replacement(void **state)
{
    (void)state;
    /* The example of Unicode 15 §3.9, table 3-8. */
    const char in[] = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
    expect_repair(in, sizeof in - 1, "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
    /* The finding's message, and a sequence cut off at the end. */
    expect_repair("bad \xff\xfe", 6, "bad " FFFD FFFD);
    expect_repair("\xE2\x82", 2, FFFD);
    expect_repair("x\xF0\x9F\x98", 4, "x" FFFD);
    /* Past and across the eight-byte ASCII steps. */
    const char across[] = "0123456\xC3\xA9"
                          "89abcdefghijklmno\xff"
                          "pq";
    expect_repair(across, sizeof across - 1,
                  "0123456\xC3\xA9"
                  "89abcdefghijklmno" FFFD "pq");
}

static void test_overlongs_surrogates_and_beyond_u10ffff_are_invalid(void **state)
{
    (void)state;
    expect_repair("\xC0\xAF", 2, FFFD FFFD);          /* overlong "/" */
    expect_repair("\xE0\x80\xAF", 3, FFFD FFFD FFFD); /* overlong, 3 bytes */
    expect_repair("\xF0\x80\x80\xAF", 4, FFFD FFFD FFFD FFFD);
    expect_repair("\xED\xA0\x80", 3, FFFD FFFD FFFD);          /* U+D800 */
    expect_repair("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD); /* U+110000 */
    expect_repair("\xF5\xBF", 2, FFFD FFFD);
    assert_false(utf8_valid("\xC1\xBF", 2));
}

static void test_repair_is_linear_and_bounded_to_three_times_the_input(void **state)
{
    (void)state;
    size_t n = 1 << 20;
    char *in = malloc(n);
    memset(in, 0xff, n);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(utf8_repair(in, n, &out, &len), 1);
    assert_int_equal(len, 3 * n);
    free(out);
    free(in);
}

static void test_json_string_repairs_invalid_text(void **state)
{
    (void)state;
    cJSON *j = utf8_json_string("bad \xff\xfe");
    assert_non_null(j);
    assert_string_equal(json_str(j), "bad " FFFD FFFD);
    cJSON_Delete(j);
    j = utf8_json_string("fine");
    assert_string_equal(json_str(j), "fine");
    cJSON_Delete(j);
    j = utf8_json_string(NULL);
    assert_true(cJSON_IsNull(j));
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_text_is_left_alone),
        cmocka_unit_test(test_each_maximal_invalid_subpart_becomes_one_replacement),
        cmocka_unit_test(test_overlongs_surrogates_and_beyond_u10ffff_are_invalid),
        cmocka_unit_test(test_repair_is_linear_and_bounded_to_three_times_the_input),
        cmocka_unit_test(test_json_string_repairs_invalid_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
