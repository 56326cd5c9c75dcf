/* quota: per-project events per minute, all-or-nothing per request, a
 * Retry-After that points at the window's end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "ingest/quota.h"

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

/* Ingest asks before it reads a body: no charge, the same answer. */
static void test_quota_check_refuses_only_a_full_window_and_charges_nothing(void **state)
{
    (void)state;
    struct quota *q = quota_new();
    int retry = 0;
    assert_int_equal(quota_check(q, 3, 2, 1000, &retry), 0); /* never seen */
    assert_int_equal(quota_charge(q, 3, 2, 1, 1000, &retry), 0);
    assert_int_equal(quota_check(q, 3, 2, 1001, &retry), 0);
    assert_int_equal(quota_check(q, 3, 2, 1002, &retry), 0); /* checking charged nothing */
    assert_int_equal(quota_charge(q, 3, 2, 1, 1003, &retry), 0);
    retry = 0;
    assert_int_equal(quota_check(q, 3, 2, 1004, &retry), -EDQUOT);
    assert_int_equal(retry, 59);
    assert_int_equal(quota_check(q, 3, 0, 1005, &retry), 0);  /* unlimited */
    assert_int_equal(quota_check(q, 3, 2, 60000, &retry), 0); /* a new window */
    assert_int_equal(quota_check(q, 4, 2, 1004, &retry), 0);  /* another project */
    quota_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quota_zero_limit_is_unlimited),
        cmocka_unit_test(test_quota_over_limit_answers_retry_after_to_window_end),
        cmocka_unit_test(test_quota_charges_a_request_all_or_nothing),
        cmocka_unit_test(test_quota_check_refuses_only_a_full_window_and_charges_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
