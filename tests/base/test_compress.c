/* compress: zstd round trip, caps and corrupt input. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/compress.h"

static char *sample_json(size_t *len)
{
    size_t cap = 8192, n = 0;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "{\"frames\":[");
    for (int i = 0; i < 40 && n < cap - 200; i++)
        n += (size_t)snprintf(
            s + n, cap - n,
            "{\"filename\":\"app/views/f%d.py\",\"lineno\":%d,\"function\":\"h%d\"},", i % 7,
            i * 13, i);
    n += (size_t)snprintf(s + n, cap - n, "{}]}");
    *len = n;
    return s;
}

static void test_payload_round_trips_and_shrinks(void **state)
{
    (void)state;
    size_t len;
    char *json = sample_json(&len);
    void *z;
    size_t zlen;
    assert_int_equal(compress_payload(json, len, &z, &zlen), 0);
    assert_true(zlen < len / 2);
    char *back;
    size_t back_len;
    assert_int_equal(decompress_payload(z, zlen, 1 << 20, &back, &back_len), 0);
    assert_int_equal(back_len, len);
    assert_memory_equal(back, json, len);
    assert_int_equal(back[back_len], '\0');
    free(back);
    free(z);
    free(json);
    compress_thread_cleanup();
}

static void test_decompress_refuses_more_than_the_cap(void **state)
{
    (void)state;
    size_t len;
    char *json = sample_json(&len);
    void *z;
    size_t zlen;
    assert_int_equal(compress_payload(json, len, &z, &zlen), 0);
    char *back = NULL;
    size_t back_len;
    assert_int_equal(decompress_payload(z, zlen, len - 1, &back, &back_len), -E2BIG);
    assert_null(back);
    free(z);
    free(json);
    compress_thread_cleanup();
}

static void test_corrupt_or_truncated_payload_is_einval(void **state)
{
    (void)state;
    char *back = NULL;
    size_t back_len;
    assert_int_equal(decompress_payload("not zstd at all", 15, 1024, &back, &back_len), -EINVAL);
    size_t len;
    char *json = sample_json(&len);
    void *z;
    size_t zlen;
    assert_int_equal(compress_payload(json, len, &z, &zlen), 0);
    assert_int_equal(decompress_payload(z, zlen / 2, 1 << 20, &back, &back_len), -EINVAL);
    ((unsigned char *)z)[zlen - 1] ^= 0xff; /* checksum mismatch */
    assert_int_equal(decompress_payload(z, zlen, 1 << 20, &back, &back_len), -EINVAL);
    free(z);
    free(json);
    compress_thread_cleanup();
}

static void test_empty_payload_round_trips(void **state)
{
    (void)state;
    void *z;
    size_t zlen;
    assert_int_equal(compress_payload("", 0, &z, &zlen), 0);
    char *back;
    size_t back_len;
    assert_int_equal(decompress_payload(z, zlen, 16, &back, &back_len), 0);
    assert_int_equal(back_len, 0);
    free(back);
    free(z);
    compress_thread_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_round_trips_and_shrinks),
        cmocka_unit_test(test_decompress_refuses_more_than_the_cap),
        cmocka_unit_test(test_corrupt_or_truncated_payload_is_einval),
        cmocka_unit_test(test_empty_payload_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
