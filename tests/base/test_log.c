/* log: the exact lines written for hostile values (a value never forges a
 * field nor starts a line), the conversions, long lines, the rate limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"

static char out[4 * LOG_LINE_MAX];
static int saved_stderr = -1;
static FILE *capture;

static void capture_begin(void)
{
    fflush(stderr);
    capture = tmpfile();
    assert_non_null(capture);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
}

/* Everything written since capture_begin, NUL-terminated in out. */
static const char *capture_end(void)
{
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    rewind(capture);
    size_t n = fread(out, 1, sizeof out - 1, capture);
    out[n] = '\0';
    fclose(capture);
    return out;
}

/* The line without its timestamp: JSON from the level on, text from the
 * level on. */
static const char *after_time(const char *line)
{
    const char *p = strstr(line, "\"level\"");
    if (p) return p;
    p = strchr(line, ' ');
    assert_non_null(p);
    return p + 1;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static void test_json_value_cannot_forge_fields_or_lines(void **state)
{
    (void)state;
    log_init(LOG_FORMAT_JSON, false);
    capture_begin();
    log_write(LOG_INFO, "script log", "message=%s project=%d",
              "x\" msg=FORGED level=fatal\n{\"time\":0}", 7);
    const char *line = capture_end();
    assert_string_equal(after_time(line),
                        "\"level\":\"info\",\"msg\":\"script log\","
                        "\"message\":\"x\\\" msg=FORGED level=fatal\\n{\\\"time\\\":0}\","
                        "\"project\":\"7\"}\n");
    assert_int_equal(count_char(line, '\n'), 1);
}

static void test_text_value_is_quoted_and_cannot_start_a_line(void **state)
{
    (void)state;
    log_init(LOG_FORMAT_TEXT, false);
    capture_begin();
    log_write(LOG_WARN, "script log", "message=%s project=%d",
              "x msg=FORGED\n2024-01-01T00:00:00.000Z error forged", 7);
    const char *line = capture_end();
    assert_string_equal(after_time(line), "warn script log message=\"x msg=FORGED\\n"
                                          "2024-01-01T00:00:00.000Z error forged\" project=7\n");
    assert_int_equal(count_char(line, '\n'), 1);
}

static void test_control_bytes_and_invalid_utf8_are_escaped(void **state)
{
    (void)state;
    const char *v = "a\x01\x7f\t\r\xff\xc3\xa9\xed\xa0\x80z"; /* \xed\xa0\x80: a surrogate */
    log_init(LOG_FORMAT_JSON, false);
    capture_begin();
    log_write(LOG_ERROR, "m", "v=%s", v);
    assert_string_equal(after_time(capture_end()),
                        "\"level\":\"error\",\"msg\":\"m\",\"v\":"
                        "\"a\\u0001\\u007f\\t\\r\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffdz\"}\n");
    log_init(LOG_FORMAT_TEXT, false);
    capture_begin();
    log_write(LOG_ERROR, "m", "v=%s", v);
    assert_string_equal(after_time(capture_end()),
                        "error m v=\"a\\x01\\x7f\\t\\r\\xff\xc3\xa9\\xed\\xa0\\x80z\"\n");
}

static void test_text_values_bare_when_unambiguous(void **state)
{
    (void)state;
    log_init(LOG_FORMAT_TEXT, false);
    capture_begin();
    log_write(LOG_INFO, "event refused", "project=%lld reason=%s detail=%s empty=%s eq=%s", 42LL,
              "rate_limited", "two words", "", "a=b");
    assert_string_equal(
        after_time(capture_end()),
        "info event refused project=42 reason=rate_limited detail=\"two words\" empty=\"\" "
        "eq=\"a=b\"\n");
}

static void test_conversions_and_values_of_several_parts(void **state)
{
    (void)state;
    const char *volatile nothing = NULL; /* volatile: the compiler would refuse a literal NULL */
    log_init(LOG_FORMAT_JSON, false);
    capture_begin();
    log_write(LOG_INFO, "c",
              "f=%.1f pad=[%-4s|%3d] pct=%d%% z=%zu c=%c x=%#x star=%.*s nul=%s u=%llu neg=%ld",
              2.25, "ab", 5, 50, (size_t)12345678901ULL, 'Q', 255U, 3, "abcdef", nothing,
              18446744073709551615ULL, -7L);
    assert_string_equal(after_time(capture_end()),
                        "\"level\":\"info\",\"msg\":\"c\",\"f\":\"2.2\",\"pad\":\"[ab  |  5]\","
                        "\"pct\":\"50%\",\"z\":\"12345678901\",\"c\":\"Q\",\"x\":\"0xff\","
                        "\"star\":\"abc\",\"nul\":\"(null)\",\"u\":\"18446744073709551615\","
                        "\"neg\":\"-7\"}\n");
}

static void test_free_text_without_key_is_detail(void **state)
{
    (void)state;
    log_init(LOG_FORMAT_JSON, false);
    capture_begin();
    log_write(LOG_INFO, "m", "just %s text", "some");
    assert_string_equal(after_time(capture_end()),
                        "\"level\":\"info\",\"msg\":\"m\",\"detail\":\"just some text\"}\n");
    capture_begin();
    log_write(LOG_INFO, "no fields", NULL);
    assert_string_equal(after_time(capture_end()), "\"level\":\"info\",\"msg\":\"no fields\"}\n");
}

static void test_long_values_are_cut_and_the_line_stays_json(void **state)
{
    (void)state;
    static char big[3001];
    memset(big, '"', sizeof big - 1); /* each byte escapes to two: 6000 bytes */
    big[sizeof big - 1] = '\0';
    log_init(LOG_FORMAT_JSON, false);
    capture_begin();
    log_write(LOG_INFO, "long", "a=%s b=%s c=%s tail=%d", big, big, big, 1);
    const char *line = capture_end();
    size_t len = strlen(line);
    assert_true(len <= LOG_LINE_MAX);
    assert_int_equal(count_char(line, '\n'), 1);
    /* a whole, b cut after whole escapes with "…", c and tail left out. */
    assert_non_null(strstr(line, "\\\"\",\"b\":\"\\\""));
    assert_string_equal(line + len - 8, "\\\"\xe2\x80\xa6\"}\n");
    assert_null(strstr(line, "\"c\""));
    assert_null(strstr(line, "\"tail\""));
}

static void test_debug_lines_only_with_debug(void **state)
{
    (void)state;
    log_init(LOG_FORMAT_JSON, false);
    assert_false(log_enabled(LOG_DEBUG));
    assert_true(log_enabled(LOG_INFO));
    capture_begin();
    log_write(LOG_DEBUG, "hidden", "a=%d", 1);
    assert_string_equal(capture_end(), "");
    log_init(LOG_FORMAT_JSON, true);
    capture_begin();
    log_write(LOG_DEBUG, "shown", "a=%d", 1);
    assert_string_equal(after_time(capture_end()),
                        "\"level\":\"debug\",\"msg\":\"shown\",\"a\":\"1\"}\n");
}

static void test_rate_limit_counts_what_it_suppressed(void **state)
{
    (void)state;
    uint64_t suppressed = 99;
    for (int i = 0; i < LOG_RATE_PER_SECOND; i++) {
        assert_true(log_rate_admit_at("test_a", 5000 + i, &suppressed));
        assert_int_equal(suppressed, 0);
    }
    assert_false(log_rate_admit_at("test_a", 5500, &suppressed));
    assert_false(log_rate_admit_at("test_a", 5999, &suppressed));
    /* Another key has its own budget. */
    assert_true(log_rate_admit_at("test_b", 5999, &suppressed));
    assert_int_equal(suppressed, 0);
    /* The next second: admitted, with the count of the two refused. */
    assert_true(log_rate_admit_at("test_a", 6000, &suppressed));
    assert_int_equal(suppressed, 2);
    assert_true(log_rate_admit_at("test_a", 6001, &suppressed));
    assert_int_equal(suppressed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_value_cannot_forge_fields_or_lines),
        cmocka_unit_test(test_text_value_is_quoted_and_cannot_start_a_line),
        cmocka_unit_test(test_control_bytes_and_invalid_utf8_are_escaped),
        cmocka_unit_test(test_text_values_bare_when_unambiguous),
        cmocka_unit_test(test_conversions_and_values_of_several_parts),
        cmocka_unit_test(test_free_text_without_key_is_detail),
        cmocka_unit_test(test_long_values_are_cut_and_the_line_stays_json),
        cmocka_unit_test(test_debug_lines_only_with_debug),
        cmocka_unit_test(test_rate_limit_counts_what_it_suppressed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
