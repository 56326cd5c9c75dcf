/* Tests for base/semver (release precedence) and base/hll (the users
 * affected estimate past the exact limit). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/hll.h"
#include "base/semver.h"

static int cmp(const char *a, const char *b)
{
    int c = 99;
    assert_int_equal(semver_compare(a, b, &c), 0);
    return c;
}

static void test_semver_orders_numbers_numerically(void **state)
{
    (void)state;
    assert_true(cmp("1.2.3", "1.10.0") < 0);
    assert_true(cmp("2.0.0", "1.99.99") > 0);
    assert_int_equal(cmp("1.2.3", "1.2.3"), 0);
    assert_int_equal(cmp("1.2", "1.2.0"), 0);
    assert_true(cmp("v1.0.1", "1.0.0") > 0);
    assert_int_equal(cmp("1.0.0+build.5", "1.0.0+build.9"), 0);
}

static void test_semver_prerelease_precedence_follows_the_spec(void **state)
{
    (void)state;
    /* The chain from semver.org §11. */
    const char *chain[] = {"1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                           "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0"};
    size_t n = sizeof(chain) / sizeof(chain[0]);
    for (size_t i = 0; i + 1 < n; i++) {
        assert_true(cmp(chain[i], chain[i + 1]) < 0);
        assert_true(cmp(chain[i + 1], chain[i]) > 0);
    }
}

static void test_semver_package_prefix_must_match(void **state)
{
    (void)state;
    assert_true(cmp("app@1.2.0", "app@1.10.0") < 0);
    int c;
    assert_int_equal(semver_compare("app@1.2.0", "other@1.3.0", &c), -EINVAL);
    assert_int_equal(semver_compare("app@1.2.0", "1.3.0", &c), -EINVAL);
}

static void test_semver_refuses_what_is_not_a_version(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "1",
                         "abc",
                         "1.2.3.4",
                         "01.2.3",
                         "1.2.3-",
                         "1.2.3-a..b",
                         "1.2.3+",
                         "1..2",
                         "1.2.x",
                         "99999999999999999999.0.0",
                         "deadbeefcafe",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        int c;
        assert_false(semver_valid(bad[i]));
        assert_int_equal(semver_compare(bad[i], "1.0.0", &c), -EINVAL);
    }
    assert_int_equal(semver_compare(NULL, "1.0.0", &(int){0}), -EINVAL);
}

static double estimate_of(size_t n, uint64_t seed)
{
    uint8_t *regs = calloc(HLL_REGISTERS, 1);
    assert_non_null(regs);
    char key[64];
    for (size_t i = 0; i < n; i++) {
        int len =
            snprintf(key, sizeof key, "user-%llu-%zu@example.com", (unsigned long long)seed, i);
        hll_add(regs, hll_hash(key, (size_t)len));
    }
    double e = hll_estimate(regs);
    free(regs);
    return e;
}

static void test_hll_empty_sketch_estimates_zero(void **state)
{
    (void)state;
    assert_true(estimate_of(0, 1) == 0.0);
}

static void test_hll_estimates_within_two_percent(void **state)
{
    (void)state;
    const size_t sizes[] = {1000, 10000, 12000, 40000, 100000, 1000000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            double e = estimate_of(sizes[i], seed);
            double err = fabs(e - (double)sizes[i]) / (double)sizes[i];
            if (err > 0.02)
                fail_msg("n=%zu seed=%llu estimate=%.0f", sizes[i], (unsigned long long)seed, e);
        }
    }
}

static void test_hll_repeats_do_not_count(void **state)
{
    (void)state;
    uint8_t *regs = calloc(HLL_REGISTERS, 1);
    assert_non_null(regs);
    for (int round = 0; round < 20; round++)
        for (int i = 0; i < 5000; i++) {
            char key[32];
            int len = snprintf(key, sizeof key, "id:%d", i);
            hll_add(regs, hll_hash(key, (size_t)len));
        }
    double e = hll_estimate(regs);
    assert_true(fabs(e - 5000) / 5000 < 0.02);
    free(regs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semver_orders_numbers_numerically),
        cmocka_unit_test(test_semver_prerelease_precedence_follows_the_spec),
        cmocka_unit_test(test_semver_package_prefix_must_match),
        cmocka_unit_test(test_semver_refuses_what_is_not_a_version),
        cmocka_unit_test(test_hll_empty_sketch_estimates_zero),
        cmocka_unit_test(test_hll_estimates_within_two_percent),
        cmocka_unit_test(test_hll_repeats_do_not_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
