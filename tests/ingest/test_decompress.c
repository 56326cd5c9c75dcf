/* decompress: every encoding round-trips, streams split anywhere decode the
 * same, truncated and corrupt streams are errors, bombs stop at the cap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <brotli/encode.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>
#include "ingest/decompress.h"
#include "base/membudget.h"

static const char SAMPLE[] =
    "{\"event_id\":\"0123456789abcdef0123456789abcdef\",\"message\":\"hello hello hello\"}";

/* window_bits: 15 zlib, -15 raw, 31 gzip. Caller frees. */
static unsigned char *deflate_with(const void *in, size_t len, int window_bits, size_t *out_len)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len);
    unsigned char *out = malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

static unsigned char *encode(enum decomp_encoding enc, const void *in, size_t len, size_t *out_len)
{
    switch (enc) {
    case DECOMP_GZIP:
        return deflate_with(in, len, 31, out_len);
    case DECOMP_DEFLATE:
        return deflate_with(in, len, 15, out_len);
    case DECOMP_BR: {
        size_t cap = BrotliEncoderMaxCompressedSize(len) + 16;
        unsigned char *out = malloc(cap);
        *out_len = cap;
        assert_true(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, len, in, out_len, out));
        return out;
    }
    case DECOMP_ZSTD: {
        size_t cap = ZSTD_compressBound(len);
        unsigned char *out = malloc(cap);
        *out_len = ZSTD_compress(out, cap, in, len, 3);
        assert_false(ZSTD_isError(*out_len));
        return out;
    }
    default: {
        unsigned char *out = malloc(len + 1);
        memcpy(out, in, len);
        *out_len = len;
        return out;
    }
    }
}

static void test_encoding_names_parse_case_insensitively(void **state)
{
    (void)state;
    enum decomp_encoding e;
    assert_int_equal(decomp_encoding_parse(NULL, &e), 0);
    assert_int_equal(e, DECOMP_IDENTITY);
    assert_int_equal(decomp_encoding_parse("", &e), 0);
    assert_int_equal(e, DECOMP_IDENTITY);
    assert_int_equal(decomp_encoding_parse("  ", &e), 0);
    assert_int_equal(e, DECOMP_IDENTITY);
    assert_int_equal(decomp_encoding_parse("GZIP", &e), 0);
    assert_int_equal(e, DECOMP_GZIP);
    assert_int_equal(decomp_encoding_parse("x-gzip", &e), 0);
    assert_int_equal(e, DECOMP_GZIP);
    assert_int_equal(decomp_encoding_parse(" deflate ", &e), 0);
    assert_int_equal(e, DECOMP_DEFLATE);
    assert_int_equal(decomp_encoding_parse("br", &e), 0);
    assert_int_equal(e, DECOMP_BR);
    assert_int_equal(decomp_encoding_parse("zstd", &e), 0);
    assert_int_equal(e, DECOMP_ZSTD);
    assert_int_equal(decomp_encoding_parse("identity", &e), 0);
    assert_int_equal(e, DECOMP_IDENTITY);
    assert_int_equal(decomp_encoding_parse("compress", &e), -ENOTSUP);
    assert_int_equal(decomp_encoding_parse("gzip, br", &e), -ENOTSUP);
}

static const enum decomp_encoding ALL[] = {DECOMP_IDENTITY, DECOMP_GZIP, DECOMP_DEFLATE, DECOMP_BR,
                                           DECOMP_ZSTD};

static void test_every_encoding_round_trips_whole_and_byte_by_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ALL) / sizeof(ALL[0]); i++) {
        size_t clen, olen;
        unsigned char *c = encode(ALL[i], SAMPLE, strlen(SAMPLE), &clen);
        char *out;
        assert_int_equal(decomp_all(ALL[i], c, clen, 1 << 20, &out, &olen), 0);
        assert_int_equal(olen, strlen(SAMPLE));
        assert_memory_equal(out, SAMPLE, olen);
        free(out);

        struct decomp *d;
        assert_int_equal(decomp_new(ALL[i], 1 << 20, &d), 0);
        for (size_t k = 0; k < clen; k++)
            assert_int_equal(decomp_feed(d, c + k, 1), 0);
        assert_int_equal(decomp_finish(d), 0);
        const char *data = decomp_data(d, &olen);
        assert_int_equal(olen, strlen(SAMPLE));
        assert_string_equal(data, SAMPLE);
        decomp_free(d);
        free(c);
    }
}

static void test_raw_deflate_is_told_apart_from_zlib(void **state)
{
    (void)state;
    size_t clen, olen;
    unsigned char *c = deflate_with(SAMPLE, strlen(SAMPLE), -15, &clen);
    char *out;
    assert_int_equal(decomp_all(DECOMP_DEFLATE, c, clen, 1 << 20, &out, &olen), 0);
    assert_memory_equal(out, SAMPLE, strlen(SAMPLE));
    free(out);
    free(c);
}

static void test_concatenated_gzip_members_decode_in_order(void **state)
{
    (void)state;
    size_t a_len, b_len, olen;
    unsigned char *a = deflate_with("abc", 3, 31, &a_len);
    unsigned char *b = deflate_with("def", 3, 31, &b_len);
    unsigned char *both = malloc(a_len + b_len);
    memcpy(both, a, a_len);
    memcpy(both + a_len, b, b_len);
    char *out;
    assert_int_equal(decomp_all(DECOMP_GZIP, both, a_len + b_len, 100, &out, &olen), 0);
    assert_string_equal(out, "abcdef");
    free(out);
    free(a);
    free(b);
    free(both);
}

static void test_truncated_streams_are_bad_messages(void **state)
{
    (void)state;
    for (size_t i = 1; i < sizeof(ALL) / sizeof(ALL[0]); i++) {
        size_t clen, olen;
        unsigned char *c = encode(ALL[i], SAMPLE, strlen(SAMPLE), &clen);
        char *out = NULL;
        for (size_t cut = 0; cut < clen; cut += 3)
            assert_int_equal(decomp_all(ALL[i], c, cut, 1 << 20, &out, &olen), -EBADMSG);
        free(c);
    }
}

static void test_corrupt_streams_are_bad_messages(void **state)
{
    (void)state;
    static const char garbage[] = "this is not compressed at all, not even a little bit";
    for (size_t i = 1; i < sizeof(ALL) / sizeof(ALL[0]); i++) {
        char *out = NULL;
        size_t olen;
        assert_int_equal(decomp_all(ALL[i], garbage, sizeof(garbage), 1 << 20, &out, &olen),
                         -EBADMSG);
    }
    /* a valid stream with a flipped byte in the middle */
    size_t clen, olen;
    unsigned char *c = encode(DECOMP_GZIP, SAMPLE, strlen(SAMPLE), &clen);
    c[clen / 2] ^= 0xff;
    char *out = NULL;
    assert_int_equal(decomp_all(DECOMP_GZIP, c, clen, 1 << 20, &out, &olen), -EBADMSG);
    free(c);
}

static void test_trailing_garbage_after_zlib_stream_is_bad(void **state)
{
    (void)state;
    size_t clen, olen;
    unsigned char *c = deflate_with(SAMPLE, strlen(SAMPLE), 15, &clen);
    c = realloc(c, clen + 3);
    memcpy(c + clen, "xyz", 3);
    char *out = NULL;
    assert_int_equal(decomp_all(DECOMP_DEFLATE, c, clen + 3, 1 << 20, &out, &olen), -EBADMSG);
    free(c);
}

static void test_output_past_cap_is_too_big_in_every_encoding(void **state)
{
    (void)state;
    char big[4096];
    memset(big, 'a', sizeof(big));
    for (size_t i = 0; i < sizeof(ALL) / sizeof(ALL[0]); i++) {
        size_t clen, olen;
        unsigned char *c = encode(ALL[i], big, sizeof(big), &clen);
        char *out = NULL;
        assert_int_equal(decomp_all(ALL[i], c, clen, sizeof(big) - 1, &out, &olen), -E2BIG);
        assert_int_equal(decomp_all(ALL[i], c, clen, sizeof(big), &out, &olen), 0);
        assert_int_equal(olen, sizeof(big));
        free(out);
        free(c);
    }
}

/* Streams the deflate of 2 GiB of zeros chunk by chunk into the decoder
 * (never holding the 2 GiB): it must stop at the 100 MiB cap, long before
 * the end of the input — counted in bytes fed, not in seconds. */
static void test_two_gib_gzip_bomb_stops_at_cap(void **state)
{
    (void)state;
    const size_t total = (size_t)2 << 30, cap = (size_t)100 << 20, chunk = 1 << 20;
    unsigned char *zeros = calloc(1, chunk), out_buf[64 * 1024];
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
    struct decomp *d;
    assert_int_equal(decomp_new(DECOMP_GZIP, cap, &d), 0);
    int rc = 0;
    size_t fed_in = 0, compressed = 0;
    while (rc == 0 && fed_in < total) {
        z.next_in = zeros;
        z.avail_in = (uInt)chunk;
        fed_in += chunk;
        int flush = fed_in >= total ? Z_FINISH : Z_NO_FLUSH;
        do {
            z.next_out = out_buf;
            z.avail_out = sizeof(out_buf);
            deflate(&z, flush);
            size_t n = sizeof(out_buf) - z.avail_out;
            compressed += n;
            if (n && rc == 0) rc = decomp_feed(d, out_buf, n);
        } while (z.avail_out == 0 && rc == 0);
    }
    size_t got;
    decomp_data(d, &got);
    assert_int_equal(rc, -E2BIG);
    assert_true(got <= cap + 1);
    assert_true(fed_in < total / 4); /* stopped long before the end */
    print_message("bomb: %zu compressed bytes fed, stopped at %zu output bytes\n", compressed, got);
    deflateEnd(&z);
    decomp_free(d);
    free(zeros);
}

/* A hand-made frame: magic, no content size, window descriptor, one raw
 * last block holding "hello". */
static size_t zstd_frame_with_window_log(unsigned char out[16], int window_log)
{
    static const unsigned char head[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00};
    memcpy(out, head, sizeof(head));
    out[5] = (unsigned char)((window_log - 10) << 3);
    out[6] = (5 << 3) | 1; /* block size 5, raw, last */
    out[7] = 0;
    out[8] = 0;
    memcpy(out + 9, "hello", 5);
    return 14;
}

static void test_zstd_frame_asking_for_huge_window_is_refused(void **state)
{
    (void)state;
    unsigned char frame[16];
    char *out = NULL;
    size_t olen, n = zstd_frame_with_window_log(frame, 20);
    assert_int_equal(decomp_all(DECOMP_ZSTD, frame, n, 1 << 20, &out, &olen), 0);
    assert_string_equal(out, "hello");
    free(out);
    n = zstd_frame_with_window_log(frame, 30);
    assert_int_equal(decomp_all(DECOMP_ZSTD, frame, n, 1 << 20, &out, &olen), -EBADMSG);
}

static char *base64(const unsigned char *in, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    return out;
}

static void test_raven_base64_zlib_body_decodes(void **state)
{
    (void)state;
    size_t clen, olen;
    unsigned char *c = deflate_with(SAMPLE, strlen(SAMPLE), 15, &clen);
    char *b64 = base64(c, clen), *out;
    assert_int_equal(decomp_raven(b64, strlen(b64), 1 << 20, &out, &olen), 0);
    assert_string_equal(out, SAMPLE);
    free(out);

    /* URL-safe alphabet, no padding, wrapped in whitespace and newlines */
    size_t n = strlen(b64);
    while (n && b64[n - 1] == '=')
        b64[--n] = '\0';
    char *messy = malloc(2 * n + 8), *m = messy;
    *m++ = '\n';
    for (size_t i = 0; i < n; i++) {
        *m++ = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
        if (i % 10 == 9) *m++ = '\n';
    }
    *m++ = ' ';
    *m = '\0';
    assert_int_equal(decomp_raven(messy, strlen(messy), 1 << 20, &out, &olen), 0);
    assert_string_equal(out, SAMPLE);
    free(out);
    assert_int_equal(decomp_raven(b64, strlen(b64), 10, &out, &olen), -E2BIG);
    free(messy);
    free(b64);
    free(c);
}

static void test_raven_rejects_invalid_base64_and_non_deflate(void **state)
{
    (void)state;
    char *out = NULL;
    size_t olen;
    assert_int_equal(decomp_raven("not base64 at all!", 18, 1 << 20, &out, &olen), -EBADMSG);
    assert_int_equal(decomp_raven("", 0, 1 << 20, &out, &olen), -EBADMSG);
    assert_int_equal(decomp_raven("QUJD=x", 6, 1 << 20, &out, &olen), -EBADMSG);
    char *b64 = base64((const unsigned char *)"plain words", 11);
    assert_int_equal(decomp_raven(b64, strlen(b64), 1 << 20, &out, &olen), -EBADMSG);
    free(b64);
}

/* A budgeted decoder takes its room from the budget before allocating it
 * (old and new buffer while it grows) and gives it back when freed; past
 * the budget it stops with -EAGAIN, and a body that could never fit the
 * whole budget is -E2BIG. */
static void test_budgeted_decoder_takes_room_before_allocating(void **state)
{
    (void)state;
    const size_t limit = 1 << 20, body = 400 << 10;
    char *zeros = calloc(1, body);
    size_t gz_len;
    unsigned char *gz = encode(DECOMP_GZIP, zeros, body, &gz_len);
    struct membudget b;
    membudget_init(&b, limit);

    struct decomp *d;
    assert_int_equal(decomp_new(DECOMP_GZIP, 8 << 20, &d), 0);
    decomp_set_budget(d, &b);
    assert_int_equal(decomp_feed(d, gz, gz_len), 0);
    assert_int_equal(decomp_finish(d), 0);
    size_t got;
    decomp_data(d, &got);
    assert_int_equal(got, body);
    assert_int_equal(membudget_used(&b), decomp_held(d));
    assert_true(decomp_held(d) >= body);

    /* A second one while the first holds its room: refused, nothing kept. */
    struct decomp *d2;
    assert_int_equal(decomp_new(DECOMP_GZIP, 8 << 20, &d2), 0);
    decomp_set_budget(d2, &b);
    size_t before = membudget_used(&b);
    assert_int_equal(decomp_feed(d2, gz, gz_len), -EAGAIN);
    decomp_free(d2);
    assert_int_equal(membudget_used(&b), before);
    decomp_free(d);
    assert_int_equal(membudget_used(&b), 0);

    /* Alone larger than the whole budget: too big, never "retry". */
    char *more = calloc(1, 2 * limit);
    size_t big_len;
    unsigned char *big = encode(DECOMP_GZIP, more, 2 * limit, &big_len);
    assert_int_equal(decomp_new(DECOMP_GZIP, 8 << 20, &d), 0);
    decomp_set_budget(d, &b);
    assert_int_equal(decomp_feed(d, big, big_len), -E2BIG);
    assert_true(membudget_used(&b) <= limit);
    decomp_free(d);
    assert_int_equal(membudget_used(&b), 0);
    free(big);
    free(more);
    free(gz);
    free(zeros);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding_names_parse_case_insensitively),
        cmocka_unit_test(test_every_encoding_round_trips_whole_and_byte_by_byte),
        cmocka_unit_test(test_raw_deflate_is_told_apart_from_zlib),
        cmocka_unit_test(test_concatenated_gzip_members_decode_in_order),
        cmocka_unit_test(test_truncated_streams_are_bad_messages),
        cmocka_unit_test(test_corrupt_streams_are_bad_messages),
        cmocka_unit_test(test_trailing_garbage_after_zlib_stream_is_bad),
        cmocka_unit_test(test_output_past_cap_is_too_big_in_every_encoding),
        cmocka_unit_test(test_two_gib_gzip_bomb_stops_at_cap),
        cmocka_unit_test(test_zstd_frame_asking_for_huge_window_is_refused),
        cmocka_unit_test(test_raven_base64_zlib_body_decodes),
        cmocka_unit_test(test_raven_rejects_invalid_base64_and_non_deflate),
        cmocka_unit_test(test_budgeted_decoder_takes_room_before_allocating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
