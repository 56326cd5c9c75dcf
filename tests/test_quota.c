/* quota: per-project events per minute, all-or-nothing per request, a
 * Retry-After that points at the window's end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "quota.h"

static void test_quota_zero_limit_is_unlimited(void **state)
{
    (void)state;
    struct quota *q = quota_new();
    int retry = -1;
    for (int i = 0; i < 10000; i++)
        assert_int_equal(quota_charge(q, 1, 0, 1, 1000, &retry), 0);
    quota_free(q);
}

static void test_quota_over_limit_answers_retry_after_to_window_end(void **state)
{
    (void)state;
    struct quota *q = quota_new();
    int retry = 0;
    const int64_t t0 = 1700000080000; /* 40 s into a minute */
    for (int i = 0; i < 5; i++)
        assert_int_equal(quota_charge(q, 7, 5, 1, t0 + i, &retry), 0);
    assert_int_equal(quota_charge(q, 7, 5, 1, t0 + 10, &retry), -EDQUOT);
    assert_int_equal(retry, 20);
    /* another project has its own budget */
    assert_int_equal(quota_charge(q, 8, 5, 1, t0, &retry), 0);
    /* the next window starts afresh */
    assert_int_equal(quota_charge(q, 7, 5, 1, t0 + 20000, &retry), 0);
    quota_free(q);
}

static void test_quota_charges_a_request_all_or_nothing(void **state)
{
    (void)state;
    struct quota *q = quota_new();
    int retry = 0;
    assert_int_equal(quota_charge(q, 1, 10, 8, 0, &retry), 0);
    assert_int_equal(quota_charge(q, 1, 10, 3, 1, &retry), -EDQUOT);
    assert_int_equal(quota_charge(q, 1, 10, 2, 2, &retry), 0);
    assert_int_equal(quota_charge(q, 1, 10, 1, 3, &retry), -EDQUOT);
    assert_int_equal(retry, 60);
    /* nothing to charge (an envelope without events) always passes */
    assert_int_equal(quota_charge(q, 1, 10, 0, 4, &retry), 0);
    quota_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quota_zero_limit_is_unlimited),
        cmocka_unit_test(test_quota_over_limit_answers_retry_after_to_window_end),
        cmocka_unit_test(test_quota_charges_a_request_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
