/* The notifier's pure policies: Standard Webhooks signatures, the retry
 * schedule (backoff, jitter, Retry-After, what is never retried) and the
 * per-destination throttle window, and the email text's CRLF line endings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "notify/channel_email.h"
#include "notify/retry.h"
#include "notify/sign.h"
#include "notify/throttle.h"

static void test_sign_matches_standard_webhooks_reference_vector(void **state)
{
    (void)state;
    /* The vector of the Standard Webhooks reference libraries. */
    const char *body = "{\"test\": 2432232314}";
    char sig[SIGN_HEADER_MAX];
    assert_int_equal(sign_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                  "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                  sig),
                     0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_sign_uses_a_plain_secret_as_raw_key_bytes(void **state)
{
    (void)state;
    char sig[SIGN_HEADER_MAX];
    assert_int_equal(sign_webhook("plain-secret", "id1", 1700000000, "hello", 5, sig), 0);
    assert_string_equal(sig, "v1,Mnaemqm5xy1fIA1W8NyaxVUFDXIanV2EHi2j7/FzTCs=");
}

static void test_sign_rejects_empty_and_malformed_secrets(void **state)
{
    (void)state;
    char sig[SIGN_HEADER_MAX];
    assert_int_equal(sign_webhook("", "id", 1, "x", 1, sig), -EINVAL);
    assert_int_equal(sign_webhook("whsec_not base64!", "id", 1, "x", 1, sig), -EINVAL);
    assert_int_equal(sign_webhook("whsec_", "id", 1, "x", 1, sig), -EINVAL);
}

static void test_retry_classifies_answers(void **state)
{
    (void)state;
    assert_int_equal(retry_classify(true, false, 200), RETRY_SENT);
    assert_int_equal(retry_classify(true, false, 204), RETRY_SENT);
    assert_int_equal(retry_classify(true, false, 0), RETRY_SENT); /* SMTP, logger */
    assert_int_equal(retry_classify(true, false, 500), RETRY_AGAIN);
    assert_int_equal(retry_classify(true, false, 503), RETRY_AGAIN);
    assert_int_equal(retry_classify(true, false, 429), RETRY_AGAIN);
    assert_int_equal(retry_classify(true, false, 408), RETRY_AGAIN);
    assert_int_equal(retry_classify(false, false, 0), RETRY_AGAIN); /* timeout, refused conn */
    assert_int_equal(retry_classify(true, false, 400), RETRY_PERMANENT);
    assert_int_equal(retry_classify(true, false, 404), RETRY_PERMANENT);
    assert_int_equal(retry_classify(true, false, 302), RETRY_PERMANENT);
    assert_int_equal(retry_classify(false, true, 0), RETRY_PERMANENT); /* SSRF refusal */
}

static void test_retry_backoff_doubles_within_jitter_bounds(void **state)
{
    (void)state;
    long long prev_max = 0;
    for (int n = 1; n <= RETRY_MAX_ATTEMPTS; n++) {
        long long full = 1000LL << (n - 1);
        long long lo = retry_delay_ms(n, 1000, 0, -1);
        long long hi = retry_delay_ms(n, 1000, UINT32_MAX, -1);
        assert_int_equal(lo, full / 2);
        assert_true(hi <= full && hi >= full - 1);
        assert_true(hi > prev_max);
        prev_max = hi;
    }
    /* Capped at an hour however many attempts. */
    assert_true(retry_delay_ms(40, 5000, UINT32_MAX, -1) <= RETRY_MAX_DELAY_MS);
}

static void test_retry_honours_longer_retry_after_only(void **state)
{
    (void)state;
    assert_int_equal(retry_delay_ms(1, 100, 0, 7000), 7000);
    assert_int_equal(retry_delay_ms(3, 1000, 0, 10), 2000); /* shorter: backoff wins */
    assert_int_equal(retry_delay_ms(1, 100, 0, 10LL * RETRY_MAX_DELAY_MS), RETRY_MAX_DELAY_MS);
}

static void test_retry_after_parses_seconds_and_http_dates(void **state)
{
    (void)state;
    assert_int_equal(retry_after_parse_ms("2", 0), 2000);
    assert_int_equal(retry_after_parse_ms(" 0 ", 0), 0);
    assert_int_equal(retry_after_parse_ms(NULL, 0), -1);
    assert_int_equal(retry_after_parse_ms("soon", 0), -1);
    assert_int_equal(retry_after_parse_ms("3x", 0), -1);
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    assert_int_equal(retry_after_parse_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000);
    assert_int_equal(retry_after_parse_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

static void test_throttle_allows_rate_then_holds_until_window_end(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(3, 60000);
    assert_non_null(t);
    assert_int_equal(throttle_take(t, 7, 1000), 0);
    assert_int_equal(throttle_take(t, 7, 2000), 0);
    assert_int_equal(throttle_take(t, 7, 3000), 0);
    assert_int_equal(throttle_take(t, 7, 4000), 61000);
    assert_int_equal(throttle_take(t, 7, 60999), 61000);
    /* Another destination has its own window. */
    assert_int_equal(throttle_take(t, 8, 5000), 0);
    /* The window ends: the digest goes and counts in the new window. */
    assert_int_equal(throttle_take(t, 7, 61000), 0);
    assert_int_equal(throttle_take(t, 7, 61001), 0);
    assert_int_equal(throttle_take(t, 7, 61002), 0);
    assert_int_equal(throttle_take(t, 7, 61003), 121000);
    throttle_free(t);
}

static void test_throttle_disabled_and_bounded(void **state)
{
    (void)state;
    struct throttle *off = throttle_new(0, 60000);
    for (int i = 0; i < 100; i++)
        assert_int_equal(throttle_take(off, 1, i), 0);
    throttle_free(off);

    /* Many destinations: memory stays bounded, each still gets its rate. */
    struct throttle *t = throttle_new(1, 60000);
    for (int64_t id = 0; id < THROTTLE_MAX_TRACKED + 100; id++)
        assert_int_equal(throttle_take(t, id, 1000), 0);
    assert_int_equal(throttle_take(t, THROTTLE_MAX_TRACKED + 99, 1001), 61000);
    throttle_free(t);
}

static void test_email_text_gets_crlf_line_endings(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a\nb\n", "a\r\nb\r\n"},       {"a\r\nb", "a\r\nb"}, /* already CRLF: unchanged */
        {"a\rb\n\n", "a\r\nb\r\n\r\n"}, {"no break", "no break"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = channel_email_crlf(cases[i].in);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_matches_standard_webhooks_reference_vector),
        cmocka_unit_test(test_sign_uses_a_plain_secret_as_raw_key_bytes),
        cmocka_unit_test(test_sign_rejects_empty_and_malformed_secrets),
        cmocka_unit_test(test_retry_classifies_answers),
        cmocka_unit_test(test_retry_backoff_doubles_within_jitter_bounds),
        cmocka_unit_test(test_retry_honours_longer_retry_after_only),
        cmocka_unit_test(test_retry_after_parses_seconds_and_http_dates),
        cmocka_unit_test(test_throttle_allows_rate_then_holds_until_window_end),
        cmocka_unit_test(test_throttle_disabled_and_bounded),
        cmocka_unit_test(test_email_text_gets_crlf_line_endings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
