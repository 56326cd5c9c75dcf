/* envelope: the grammar of docs/architecture.md §2, zero-copy items, every malformed case
 * an error with a reason, never a crash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ingest/envelope.h"
#include "model/event.h"

#define S(lit) lit, sizeof(lit) - 1

static int parse(const char *buf, size_t len, struct envelope *env)
{
    const char *why = NULL;
    int rc = envelope_parse(buf, len, env, &why);
    if (rc) assert_non_null(why);
    return rc;
}

static void test_envelope_empty_header_is_valid(void **state)
{
    (void)state;
    struct envelope env;
    assert_int_equal(parse(S("{}"), &env), 0);
    assert_int_equal(env.nitems, 0);
    assert_false(env.has_event_id);
    envelope_free(&env);
    assert_int_equal(parse(S("{}\n"), &env), 0);
    envelope_free(&env);
}

static void test_envelope_item_with_length_reads_exact_bytes(void **state)
{
    (void)state;
    static const char buf[] = "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n"
                              "{\"type\":\"attachment\",\"length\":10}\n"
                              "a\nb\nc\nd\ne\n\n"
                              "{\"type\":\"event\",\"length\":2}\n{}";
    struct envelope env;
    assert_int_equal(parse(buf, sizeof(buf) - 1, &env), 0);
    assert_int_equal(env.nitems, 2);
    assert_int_equal(env.items[0].type, ENVELOPE_ITEM_ATTACHMENT);
    assert_int_equal(env.items[0].payload_len, 10);
    assert_memory_equal(env.items[0].payload, "a\nb\nc\nd\ne\n", 10);
    assert_int_equal(env.items[1].type, ENVELOPE_ITEM_EVENT);
    assert_int_equal(env.items[1].payload_len, 2);
    /* zero-copy: payloads point into the buffer */
    assert_true(env.items[1].payload >= buf && env.items[1].payload < buf + sizeof(buf));
    char hex[33];
    assert_true(env.has_event_id);
    event_id_hex(env.event_id, hex);
    assert_string_equal(hex, "9ec79c33ec9942ab8353589fcb2e04dc");
    envelope_free(&env);
}

static void test_envelope_item_without_length_runs_to_newline(void **state)
{
    (void)state;
    static const char buf[] = "{}\n{\"type\":\"event\"}\n{\"message\":\"hi\"}\n"
                              "{\"type\":\"session\"}\n{\"sid\":\"x\"}";
    struct envelope env;
    assert_int_equal(parse(buf, sizeof(buf) - 1, &env), 0);
    assert_int_equal(env.nitems, 2);
    assert_int_equal(env.items[0].payload_len, strlen("{\"message\":\"hi\"}"));
    assert_memory_equal(env.items[0].payload, "{\"message\":\"hi\"}", env.items[0].payload_len);
    /* last line without a newline is valid */
    assert_int_equal(env.items[1].payload_len, strlen("{\"sid\":\"x\"}"));
    assert_int_equal(env.counts[ENVELOPE_ITEM_SESSION], 1);
    envelope_free(&env);
}

static void test_envelope_length_past_end_is_an_error(void **state)
{
    (void)state;
    struct envelope env;
    assert_int_equal(parse(S("{}\n{\"type\":\"event\",\"length\":100}\n{}"), &env), -EBADMSG);
    assert_int_equal(parse(S("{}\n{\"type\":\"event\",\"length\":3}\n{}"), &env), -EBADMSG);
    assert_int_equal(parse(S("{}\n{\"type\":\"event\",\"length\":99999999999999999999}\n{}"), &env),
                     -EBADMSG);
    assert_int_equal(parse(S("{}\n{\"type\":\"event\",\"length\":-1}\n{}"), &env), -EBADMSG);
    assert_int_equal(parse(S("{}\n{\"type\":\"event\",\"length\":\"2\"}\n{}"), &env), -EBADMSG);
}

static void test_envelope_malformed_headers_are_errors(void **state)
{
    (void)state;
    struct envelope env;
    assert_int_equal(parse(S(""), &env), -EBADMSG);
    assert_int_equal(parse(S("\n"), &env), -EBADMSG);
    assert_int_equal(parse(S("[]\n"), &env), -EBADMSG);
    assert_int_equal(parse(S("{\"event_id\":\"nothex\"}\n"), &env), -EBADMSG);
    assert_int_equal(parse(S("{\"event_id\":5}\n"), &env), -EBADMSG);
    assert_int_equal(parse(S("{}\nnot json\n{}"), &env), -EBADMSG);
    assert_int_equal(parse(S("{}\n{\"length\":2}\n{}"), &env), -EBADMSG);
    assert_int_equal(parse(S("{}\n{\"type\":7}\n{}"), &env), -EBADMSG);
}

static void test_envelope_unknown_and_known_item_types_are_accepted_and_counted(void **state)
{
    (void)state;
    static const char buf[] =
        "{\"dsn\":\"https://0123456789abcdef0123456789abcdef@example.com/42\"}\n"
        "{\"type\":\"transaction\"}\n{}\n{\"type\":\"sessions\"}\n{}\n"
        "{\"type\":\"client_report\"}\n{}\n{\"type\":\"user_report\"}\n{}\n"
        "{\"type\":\"feedback\"}\n{}\n{\"type\":\"check_in\"}\n{}\n"
        "{\"type\":\"profile_chunk\",\"length\":0}\n\n{\"type\":\"statsd\"}\nfoo:1|c\n";
    struct envelope env;
    assert_int_equal(parse(buf, sizeof(buf) - 1, &env), 0);
    assert_int_equal(env.nitems, 8);
    assert_int_equal(env.counts[ENVELOPE_ITEM_OTHER], 2);
    assert_int_equal(env.counts[ENVELOPE_ITEM_TRANSACTION], 1);
    assert_int_equal(env.counts[ENVELOPE_ITEM_CHECK_IN], 1);
    assert_int_equal(env.counts[ENVELOPE_ITEM_EVENT], 0);
    assert_string_equal(env.dsn, "https://0123456789abcdef0123456789abcdef@example.com/42");
    assert_string_equal(envelope_item_type_name(env.items[6].type), "other");
    envelope_free(&env);
}

static void test_envelope_item_header_at_end_without_payload_is_empty_item(void **state)
{
    (void)state;
    struct envelope env;
    assert_int_equal(parse(S("{}\n{\"type\":\"client_report\"}"), &env), 0);
    assert_int_equal(env.nitems, 1);
    assert_int_equal(env.items[0].payload_len, 0);
    envelope_free(&env);
    assert_int_equal(parse(S("{}\n{\"type\":\"event\",\"length\":0}"), &env), 0);
    assert_int_equal(env.nitems, 1);
    envelope_free(&env);
}

static void test_envelope_crlf_line_endings_are_tolerated(void **state)
{
    (void)state;
    struct envelope env;
    assert_int_equal(parse(S("{}\r\n{\"type\":\"event\"}\r\n{\"a\":1}\r\n"), &env), 0);
    assert_int_equal(env.nitems, 1);
    assert_memory_equal(env.items[0].payload, "{\"a\":1}", 7);
    envelope_free(&env);
}

static void test_envelope_item_count_is_bounded(void **state)
{
    (void)state;
    const char *item = "{\"type\":\"x\"}\n\n";
    size_t n = ENVELOPE_MAX_ITEMS + 1, ilen = strlen(item);
    char *buf = malloc(3 + n * ilen);
    memcpy(buf, "{}\n", 3);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + 3 + i * ilen, item, ilen);
    struct envelope env;
    /* blank payload lines are items without length: "{...}\n" then "" */
    assert_int_equal(parse(buf, 3 + n * ilen, &env), -EBADMSG);
    assert_int_equal(parse(buf, 3 + (n - 1) * ilen, &env), 0);
    assert_int_equal(env.nitems, ENVELOPE_MAX_ITEMS);
    envelope_free(&env);
    free(buf);
}

static void test_envelope_every_prefix_of_a_fixture_parses_or_fails_cleanly(void **state)
{
    (void)state;
    static const char buf[] =
        "{\"event_id\":\"08f6b731921a44f29db522aacc890a82\",\"sent_at\":\"2026-11-24T22:31:00."
        "815Z\"}\n"
        "{\"type\":\"event\",\"length\":17}\n{\"message\":\"hi\"}\n"
        "{\"type\":\"attachment\",\"length\":3,\"filename\":\"a.txt\"}\nabc\n";
    for (size_t n = 0; n <= sizeof(buf) - 1; n++) {
        struct envelope env;
        const char *why;
        char *copy = malloc(n ? n : 1); /* exact-size copy: ASan sees any over-read */
        memcpy(copy, buf, n);
        int rc = envelope_parse(copy, n, &env, &why);
        assert_true(rc == 0 || rc == -EBADMSG);
        if (rc == 0) envelope_free(&env);
        free(copy);
    }
}

static void test_envelope_header_dsn_is_read_from_the_first_line_alone(void **state)
{
    (void)state;
    char dsn[128];
    assert_int_equal(envelope_header_dsn(S("{\"dsn\":\"https://k@h/1\",\"x\":1}"), dsn, sizeof dsn),
                     0);
    assert_string_equal(dsn, "https://k@h/1");
    assert_int_equal(envelope_header_dsn(S("{}"), dsn, sizeof dsn), -ENOENT);
    assert_int_equal(envelope_header_dsn(S("{\"dsn\":42}"), dsn, sizeof dsn), -ENOENT);
    assert_int_equal(envelope_header_dsn(S("{\"dsn\":\"https://k@h/1\"}"), dsn, 8), -ENOENT);
    assert_int_equal(envelope_header_dsn(S("[1]"), dsn, sizeof dsn), -EBADMSG);
    assert_int_equal(envelope_header_dsn(S("{\"dsn\":\"cut"), dsn, sizeof dsn), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_empty_header_is_valid),
        cmocka_unit_test(test_envelope_item_with_length_reads_exact_bytes),
        cmocka_unit_test(test_envelope_item_without_length_runs_to_newline),
        cmocka_unit_test(test_envelope_length_past_end_is_an_error),
        cmocka_unit_test(test_envelope_malformed_headers_are_errors),
        cmocka_unit_test(test_envelope_unknown_and_known_item_types_are_accepted_and_counted),
        cmocka_unit_test(test_envelope_item_header_at_end_without_payload_is_empty_item),
        cmocka_unit_test(test_envelope_crlf_line_endings_are_tolerated),
        cmocka_unit_test(test_envelope_item_count_is_bounded),
        cmocka_unit_test(test_envelope_every_prefix_of_a_fixture_parses_or_fails_cleanly),
        cmocka_unit_test(test_envelope_header_dsn_is_read_from_the_first_line_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
