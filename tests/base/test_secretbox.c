/* secretbox: sealed text round-trips, cannot be read without the key or
 * with another one, cannot be changed unnoticed, and plaintext is told
 * apart from sealed text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/secretbox.h"

static const char KEY_HEX[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char SECRET[] = "{\"webhook_headers\":{\"Authorization\":\"Bearer tok-123\"}}";

static void key(unsigned char k[SECRETBOX_KEY_BYTES], const char *hex)
{
    assert_int_equal(secretbox_key_parse(hex, k), 0);
}

static void test_key_is_64_hex_digits(void **state)
{
    (void)state;
    unsigned char k[SECRETBOX_KEY_BYTES];
    key(k, KEY_HEX);
    assert_int_equal(k[0], 0x00);
    assert_int_equal(k[31], 0x1f);
    assert_int_equal(secretbox_key_parse(
                         "  0001020304050607080910111213141516171819202122232425262728293031\n", k),
                     0);
    assert_int_equal(secretbox_key_parse("abc", k), -EINVAL);
    assert_int_equal(
        secretbox_key_parse("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", k),
        -EINVAL);
    assert_int_equal(secretbox_key_parse(
                         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", k),
                     -EINVAL);
}

static void test_sealed_text_round_trips_and_hides_the_secret(void **state)
{
    (void)state;
    unsigned char k[SECRETBOX_KEY_BYTES];
    key(k, KEY_HEX);
    char *a = NULL, *b = NULL, *plain = NULL;
    size_t len = 0;
    assert_int_equal(secretbox_seal(k, SECRET, strlen(SECRET), &a), 0);
    assert_int_equal(secretbox_seal(k, SECRET, strlen(SECRET), &b), 0);
    assert_true(secretbox_is_sealed(a));
    assert_null(strstr(a, "tok-123"));
    assert_string_not_equal(a, b); /* a fresh nonce each time */
    assert_int_equal(secretbox_open(k, a, &plain, &len), 0);
    assert_int_equal(len, strlen(SECRET));
    assert_string_equal(plain, SECRET);
    free(plain);
    assert_int_equal(secretbox_seal(k, "", 0, &plain), 0); /* empty works too */
    char *empty = NULL;
    assert_int_equal(secretbox_open(k, plain, &empty, &len), 0);
    assert_int_equal(len, 0);
    free(empty);
    free(plain);
    free(a);
    free(b);
}

static void test_without_the_key_or_with_another_or_tampered_it_does_not_open(void **state)
{
    (void)state;
    unsigned char k[SECRETBOX_KEY_BYTES], other[SECRETBOX_KEY_BYTES];
    key(k, KEY_HEX);
    key(other, "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    char *sealed = NULL, *plain = (char *)1;
    size_t len;
    assert_int_equal(secretbox_seal(k, SECRET, strlen(SECRET), &sealed), 0);
    assert_int_equal(secretbox_open(NULL, sealed, &plain, &len), -ENOKEY);
    assert_int_equal(secretbox_open(other, sealed, &plain, &len), -EBADMSG);
    size_t n = strlen(sealed);
    sealed[n - 6] = sealed[n - 6] == 'A' ? 'B' : 'A'; /* a flipped bit in the tag */
    assert_int_equal(secretbox_open(k, sealed, &plain, &len), -EBADMSG);
    sealed[20] = sealed[20] == 'A' ? 'B' : 'A';
    assert_int_equal(secretbox_open(k, sealed, &plain, &len), -EBADMSG);
    assert_int_equal(secretbox_open(k, SECRETBOX_PREFIX "AAAA", &plain, &len), -EBADMSG);
    assert_int_equal(secretbox_open(k, SECRETBOX_PREFIX "not base64!", &plain, &len), -EBADMSG);
    assert_ptr_equal(plain, (char *)1); /* never set on failure */
    free(sealed);
}

static void test_plaintext_is_not_sealed(void **state)
{
    (void)state;
    unsigned char k[SECRETBOX_KEY_BYTES];
    key(k, KEY_HEX);
    char *plain;
    size_t len;
    assert_false(secretbox_is_sealed(SECRET));
    assert_false(secretbox_is_sealed(NULL));
    assert_int_equal(secretbox_open(k, SECRET, &plain, &len), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_is_64_hex_digits),
        cmocka_unit_test(test_sealed_text_round_trips_and_hides_the_secret),
        cmocka_unit_test(test_without_the_key_or_with_another_or_tampered_it_does_not_open),
        cmocka_unit_test(test_plaintext_is_not_sealed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
