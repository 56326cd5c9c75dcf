/* dest_config: secrets stay with the address they were given for. A patch
 * that changes webhook_url drops webhook_headers and the signing secret,
 * one that changes the SMTP host drops the password — unless the same
 * request sends them again; masked values sent back never bring them back.
 * Without an address change they are kept as before. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "notify/dest_config.h"

static json_t *build(const char *type, const char *body, const json_t *existing)
{
    json_t *b = json_loads(body, 0, NULL), *out = NULL;
    assert_non_null(b);
    struct error_detail e;
    int rc = dest_config_build(type, b, existing, true, &out, &e);
    if (rc) fail_msg("%s: %s", e.code, e.message);
    json_decref(b);
    return out;
}

static json_t *webhook(void)
{
    return build("generic_webhook",
                 "{\"webhook_url\": \"https://a.example/hook\", \"secret\": \"s3cret\","
                 " \"webhook_headers\": {\"Authorization\": \"Bearer tok\", \"X-Team\": \"t\"}}",
                 NULL);
}

static void test_new_webhook_url_drops_headers_and_secret(void **state)
{
    (void)state;
    json_t *cfg = webhook();
    json_t *moved = build("generic_webhook",
                          "{\"webhook_url\": \"https://b.example/hook\","
                          " \"webhook_headers\": {\"Authorization\": \"" DEST_MASK "\"},"
                          " \"secret\": \"" DEST_MASK "\"}",
                          cfg);
    assert_string_equal(json_string_value(json_object_get(moved, "webhook_url")),
                        "https://b.example/hook");
    assert_null(json_object_get(moved, "secret"));
    assert_int_equal(json_object_size(json_object_get(moved, "webhook_headers")), 0);
    json_decref(moved);
    /* Only the URL: the same. */
    moved = build("generic_webhook", "{\"webhook_url\": \"https://a.example/other\"}", cfg);
    assert_null(json_object_get(moved, "secret"));
    assert_null(json_object_get(moved, "webhook_headers"));
    json_decref(moved);
    json_decref(cfg);
}

static void test_secrets_sent_again_with_the_new_url_are_kept(void **state)
{
    (void)state;
    json_t *cfg = webhook();
    json_t *moved = build("generic_webhook",
                          "{\"webhook_url\": \"https://b.example/hook\", \"secret\": \"new\","
                          " \"webhook_headers\": {\"Authorization\": \"Bearer other\"}}",
                          cfg);
    assert_string_equal(json_string_value(json_object_get(moved, "secret")), "new");
    json_t *h = json_object_get(moved, "webhook_headers");
    assert_int_equal(json_object_size(h), 1);
    assert_string_equal(json_string_value(json_object_get(h, "Authorization")), "Bearer other");
    json_decref(moved);
    json_decref(cfg);
}

static void test_same_url_or_its_masked_form_keeps_the_secrets(void **state)
{
    (void)state;
    json_t *cfg = webhook();
    static const char *const bodies[] = {
        "{\"name\": \"renamed\"}",
        "{\"webhook_url\": \"https://a.example/hook\"}",
        "{\"webhook_url\": \"https://a.example/ho" DEST_MASK "\","
        " \"webhook_headers\": {\"Authorization\": \"" DEST_MASK "\"}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        json_t *same = build("generic_webhook", bodies[i], cfg);
        assert_string_equal(json_string_value(json_object_get(same, "secret")), "s3cret");
        json_t *h = json_object_get(same, "webhook_headers");
        assert_string_equal(json_string_value(json_object_get(h, "Authorization")), "Bearer tok");
        json_decref(same);
    }
    json_decref(cfg);
}

static void test_new_smtp_host_drops_the_password_a_new_port_does_not(void **state)
{
    (void)state;
    json_t *cfg = build("email",
                        "{\"smtp_url\": \"smtp://mail.example:587\", \"username\": \"u\","
                        " \"password\": \"pw\", \"from\": \"a@example.com\","
                        " \"to\": \"b@example.com\"}",
                        NULL);
    json_t *port = build("email", "{\"smtp_url\": \"smtp://MAIL.example:2525\"}", cfg);
    assert_string_equal(json_string_value(json_object_get(port, "password")), "pw");
    json_decref(port);
    json_t *moved = build(
        "email", "{\"smtp_url\": \"smtps://evil.example\", \"password\": \"" DEST_MASK "\"}", cfg);
    assert_null(json_object_get(moved, "password"));
    assert_string_equal(json_string_value(json_object_get(moved, "username")), "u");
    json_decref(moved);
    moved = build("email", "{\"smtp_url\": \"smtps://other.example\", \"password\": \"pw2\"}", cfg);
    assert_string_equal(json_string_value(json_object_get(moved, "password")), "pw2");
    json_decref(moved);
    json_decref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_webhook_url_drops_headers_and_secret),
        cmocka_unit_test(test_secrets_sent_again_with_the_new_url_are_kept),
        cmocka_unit_test(test_same_url_or_its_masked_form_keeps_the_secrets),
        cmocka_unit_test(test_new_smtp_host_drops_the_password_a_new_port_does_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
