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
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "notify/dest_config.h"

static cJSON *build(const char *type, const char *body, const cJSON *existing)
{
    cJSON *b = json_parse_text(body), *out = NULL;
    assert_non_null(b);
    struct error_detail e;
    int rc = dest_config_build(type, b, existing, true, &out, &e);
    if (rc) fail_msg("%s: %s", e.code, e.message);
    cJSON_Delete(b);
    return out;
}

static cJSON *webhook(void)
{
    return build("generic_webhook",
                 "{\"webhook_url\": \"https://a.example/hook\", \"secret\": \"s3cret\","
                 " \"webhook_headers\": {\"Authorization\": \"Bearer tok\", \"X-Team\": \"t\"}}",
                 NULL);
}

static void test_new_webhook_url_drops_headers_and_secret(void **state)
{
    (void)state;
    cJSON *cfg = webhook();
    cJSON *moved = build("generic_webhook",
                         "{\"webhook_url\": \"https://b.example/hook\","
                         " \"webhook_headers\": {\"Authorization\": \"" DEST_MASK "\"},"
                         " \"secret\": \"" DEST_MASK "\"}",
                         cfg);
    assert_string_equal(json_str(json_get(moved, "webhook_url")), "https://b.example/hook");
    assert_null(json_get(moved, "secret"));
    assert_int_equal(json_size(json_get(moved, "webhook_headers")), 0);
    cJSON_Delete(moved);
    /* Only the URL: the same. */
    moved = build("generic_webhook", "{\"webhook_url\": \"https://a.example/other\"}", cfg);
    assert_null(json_get(moved, "secret"));
    assert_null(json_get(moved, "webhook_headers"));
    cJSON_Delete(moved);
    cJSON_Delete(cfg);
}

static void test_secrets_sent_again_with_the_new_url_are_kept(void **state)
{
    (void)state;
    cJSON *cfg = webhook();
    cJSON *moved = build("generic_webhook",
                         "{\"webhook_url\": \"https://b.example/hook\", \"secret\": \"new\","
                         " \"webhook_headers\": {\"Authorization\": \"Bearer other\"}}",
                         cfg);
    assert_string_equal(json_str(json_get(moved, "secret")), "new");
    cJSON *h = json_get(moved, "webhook_headers");
    assert_int_equal(json_size(h), 1);
    assert_string_equal(json_str(json_get(h, "Authorization")), "Bearer other");
    cJSON_Delete(moved);
    cJSON_Delete(cfg);
}

static void test_same_url_or_its_masked_form_keeps_the_secrets(void **state)
{
    (void)state;
    cJSON *cfg = webhook();
    static const char *const bodies[] = {
        "{\"name\": \"renamed\"}",
        "{\"webhook_url\": \"https://a.example/hook\"}",
        "{\"webhook_url\": \"https://a.example/ho" DEST_MASK "\","
        " \"webhook_headers\": {\"Authorization\": \"" DEST_MASK "\"}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        cJSON *same = build("generic_webhook", bodies[i], cfg);
        assert_string_equal(json_str(json_get(same, "secret")), "s3cret");
        cJSON *h = json_get(same, "webhook_headers");
        assert_string_equal(json_str(json_get(h, "Authorization")), "Bearer tok");
        cJSON_Delete(same);
    }
    cJSON_Delete(cfg);
}

static void test_new_smtp_host_drops_the_password_a_new_port_does_not(void **state)
{
    (void)state;
    cJSON *cfg = build("email",
                       "{\"smtp_url\": \"smtp://mail.example:587\", \"username\": \"u\","
                       " \"password\": \"pw\", \"from\": \"a@example.com\","
                       " \"to\": \"b@example.com\"}",
                       NULL);
    cJSON *port = build("email", "{\"smtp_url\": \"smtp://MAIL.example:2525\"}", cfg);
    assert_string_equal(json_str(json_get(port, "password")), "pw");
    cJSON_Delete(port);
    cJSON *moved = build(
        "email", "{\"smtp_url\": \"smtps://evil.example\", \"password\": \"" DEST_MASK "\"}", cfg);
    assert_null(json_get(moved, "password"));
    assert_string_equal(json_str(json_get(moved, "username")), "u");
    cJSON_Delete(moved);
    moved = build("email", "{\"smtp_url\": \"smtps://other.example\", \"password\": \"pw2\"}", cfg);
    assert_string_equal(json_str(json_get(moved, "password")), "pw2");
    cJSON_Delete(moved);
    cJSON_Delete(cfg);
}

/* The mask keeps two bytes of the path's second segment, moved back to a
 * character boundary: "…" (E2 80 A6) is not cut into invalid UTF-8. */
static void test_mask_cuts_between_characters(void **state)
{
    (void)state;
    char *m = dest_mask_url("https://hooks.slack.com/services/\xe2\x80\xa6");
    assert_string_equal(m, "https://hooks.slack.com/services/" DEST_MASK);
    free(m);
    m = dest_mask_url("https://hooks.slack.com/services/T0123/B456");
    assert_string_equal(m, "https://hooks.slack.com/services/T0" DEST_MASK);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_webhook_url_drops_headers_and_secret),
        cmocka_unit_test(test_secrets_sent_again_with_the_new_url_are_kept),
        cmocka_unit_test(test_same_url_or_its_masked_form_keeps_the_secrets),
        cmocka_unit_test(test_new_smtp_host_drops_the_password_a_new_port_does_not),
        cmocka_unit_test(test_mask_cuts_between_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
