/* auth: key parsing from every source SDKs use, and rejection of anything
 * that is not a key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "ingest/auth.h"

#define KEY "0123456789abcdef0123456789abcdef"

static void expect_header_key(const char *header, const char *want)
{
    char key[AUTH_KEY_MAX + 1];
    if (!want) {
        assert_int_equal(auth_key_from_header(header, key), -ENOENT);
        return;
    }
    assert_int_equal(auth_key_from_header(header, key), 0);
    assert_string_equal(key, want);
}

static void test_x_sentry_auth_forms_from_real_sdks(void **state)
{
    (void)state;
    expect_header_key(
        "Sentry sentry_key=" KEY ", sentry_version=7, sentry_client=sentry.python/1.9.10", KEY);
    expect_header_key(
        "Sentry sentry_version=5,sentry_client=raven-go/1.0,sentry_timestamp=1,sentry_key=" KEY
        ",sentry_secret=s",
        KEY);
    expect_header_key("sentry sentry_key=" KEY, KEY);
    expect_header_key("sentry_key=" KEY, KEY);
    expect_header_key("Sentry sentry_key=\"" KEY "\", sentry_version=4", KEY);
    expect_header_key("Sentry  sentry_version=7 ,  sentry_key = " KEY "  ", KEY);
}

static void test_header_without_key_is_not_found(void **state)
{
    (void)state;
    expect_header_key(NULL, NULL);
    expect_header_key("", NULL);
    expect_header_key("Sentry", NULL);
    expect_header_key("Sentry sentry_version=7", NULL);
    expect_header_key("Sentry sentry_key=, sentry_version=7", NULL);
    expect_header_key("Sentry sentry_keyx=" KEY, NULL);
    expect_header_key("Sentry x_sentry_key=" KEY, NULL);
    expect_header_key("Sentry sentry_key=\"\"", NULL);
    expect_header_key(",,,,===,,, =", NULL);
    /* longer than any key: refused, not truncated */
    expect_header_key("Sentry sentry_key=" KEY KEY "0", NULL);
}

static void test_authorization_header_needs_sentry_scheme(void **state)
{
    (void)state;
    char key[AUTH_KEY_MAX + 1];
    assert_int_equal(auth_key_from_authorization("Sentry sentry_key=" KEY, key), 0);
    assert_string_equal(key, KEY);
    assert_int_equal(auth_key_from_authorization("Bearer sentry_key=" KEY, key), -ENOENT);
    assert_int_equal(auth_key_from_authorization("sentry_key=" KEY, key), -ENOENT);
    assert_int_equal(auth_key_from_authorization(NULL, key), -ENOENT);
}

static void test_dsn_user_part_is_the_key(void **state)
{
    (void)state;
    char key[AUTH_KEY_MAX + 1];
    assert_int_equal(auth_key_from_dsn("https://" KEY "@o1.ingest.example.com/42", key), 0);
    assert_string_equal(key, KEY);
    assert_int_equal(auth_key_from_dsn("http://" KEY ":secret@127.0.0.1:8000/42", key), 0);
    assert_string_equal(key, KEY);
    assert_int_equal(auth_key_from_dsn("http://127.0.0.1:8000/42", key), -ENOENT);
    assert_int_equal(auth_key_from_dsn("not a url", key), -ENOENT);
    assert_int_equal(auth_key_from_dsn("", key), -ENOENT);
    assert_int_equal(auth_key_from_dsn(NULL, key), -ENOENT);
}

static void test_query_key_copy_checks_length(void **state)
{
    (void)state;
    char key[AUTH_KEY_MAX + 1];
    assert_int_equal(auth_key_copy(KEY, key), 0);
    assert_string_equal(key, KEY);
    assert_int_equal(auth_key_copy("", key), -ENOENT);
    assert_int_equal(auth_key_copy(NULL, key), -ENOENT);
    assert_int_equal(auth_key_copy(KEY KEY "x", key), -ENOENT);
}

static void test_only_32_hex_digits_are_well_formed_keys(void **state)
{
    (void)state;
    assert_true(auth_key_well_formed(KEY));
    assert_true(auth_key_well_formed("0123456789ABCDEF0123456789ABCDEF"));
    assert_false(auth_key_well_formed("0123456789abcdef0123456789abcde"));
    assert_false(auth_key_well_formed(KEY "0"));
    assert_false(auth_key_well_formed("0123456789abcdef0123456789abcdeg"));
    assert_false(auth_key_well_formed("' OR 1=1 --"));
    assert_false(auth_key_well_formed(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x_sentry_auth_forms_from_real_sdks),
        cmocka_unit_test(test_header_without_key_is_not_found),
        cmocka_unit_test(test_authorization_header_needs_sentry_scheme),
        cmocka_unit_test(test_dsn_user_part_is_the_key),
        cmocka_unit_test(test_query_key_copy_checks_length),
        cmocka_unit_test(test_only_32_hex_digits_are_well_formed_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
