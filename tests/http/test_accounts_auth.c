/* accounts: Argon2id passwords (policy, verify, rehash), secrets and their
 * digests, the authorization decision, the login throttle, the session
 * cookie and the same-origin test, email normal form. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "accounts/authz.h"
#include "accounts/browser.h"
#include "accounts/email.h"
#include "accounts/password.h"
#include "accounts/secret.h"
#include "accounts/throttle.h"
#include "http/admin.h"
#include "http/admin_policy.h"

static const struct password_params CHEAP = {1, 64 * 1024};

static void test_password_policy_counts_characters_not_bytes(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(password_check_policy("elevenchars", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "12"));
    assert_int_equal(password_check_policy("twelve chars", err, sizeof err), 0);
    /* 11 characters of two bytes each: 22 bytes, still too short */
    assert_int_equal(password_check_policy("ééééééééééé", err, sizeof err), -EINVAL);
    assert_int_equal(password_check_policy("\xff\xfe invalid utf8!", err, sizeof err), -EINVAL);
    char *long_pw = malloc(PASSWORD_MAX_BYTES + 2);
    memset(long_pw, 'a', PASSWORD_MAX_BYTES + 1);
    long_pw[PASSWORD_MAX_BYTES + 1] = '\0';
    assert_int_equal(password_check_policy(long_pw, err, sizeof err), -EINVAL);
    free(long_pw);
    assert_int_equal(password_check_policy(NULL, err, sizeof err), -EINVAL);
}

static void test_password_hash_is_argon2id_and_verifies_only_the_password(void **state)
{
    (void)state;
    char hash[PASSWORD_HASH_MAX], again[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash(&CHEAP, "correct horse battery", hash), 0);
    assert_memory_equal(hash, "$argon2id$", 10);
    assert_null(strstr(hash, "correct horse"));
    assert_true(password_verify(hash, "correct horse battery"));
    assert_false(password_verify(hash, "correct horse batterY"));
    assert_false(password_verify(hash, ""));
    assert_false(password_verify("not a hash", "correct horse battery"));
    /* salted: the same password hashes differently each time */
    assert_int_equal(password_hash(&CHEAP, "correct horse battery", again), 0);
    assert_string_not_equal(hash, again);
    assert_int_equal(password_hash(&CHEAP, "short", hash), -EINVAL);
}

static void test_password_needs_rehash_when_parameters_change(void **state)
{
    (void)state;
    char hash[PASSWORD_HASH_MAX];
    struct password_params more = {2, 64 * 1024};
    assert_int_equal(password_hash(&CHEAP, "correct horse battery", hash), 0);
    assert_false(password_needs_rehash(&CHEAP, hash));
    assert_true(password_needs_rehash(&more, hash));
    assert_true(password_needs_rehash(&CHEAP, "$2b$10$abcdefghijklmnopqrstuv"));
    password_verify_dummy(&CHEAP, "anything at all"); /* runs, answers nothing */
}

static void test_secrets_are_random_hex_and_tokens_carry_the_prefix(void **state)
{
    (void)state;
    char a[SECRET_HEX_CHARS + 1], b[SECRET_HEX_CHARS + 1], t[API_TOKEN_CHARS + 1];
    assert_int_equal(secret_random_hex(a), 0);
    assert_int_equal(secret_random_hex(b), 0);
    assert_true(secret_is_hex64(a));
    assert_string_not_equal(a, b);
    assert_int_equal(secret_api_token(t), 0);
    assert_memory_equal(t, "psc_", 4);
    assert_true(secret_is_api_token(t));
    assert_false(secret_is_api_token(a));
    t[10] = 'G';
    assert_false(secret_is_api_token(t));
    assert_false(secret_is_hex64("abc"));
}

static void test_secret_digest_is_sha256_hex(void **state)
{
    (void)state;
    char d[SECRET_DIGEST_HEX + 1];
    secret_digest_hex("abc", 3, d);
    assert_string_equal(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(secret_equal("same", "same"));
    assert_false(secret_equal("same", "Same"));
    assert_false(secret_equal("same", "same-but-longer"));
    assert_false(secret_equal(NULL, "x"));
}

static struct principal person(enum principal_kind kind, enum level role, const int64_t *p,
                               size_t n)
{
    struct principal pr = {.kind = kind};
    assert_int_equal(authz_set_person(&pr, role, p, n), 0);
    return pr;
}

static void test_authz_roles_against_each_access(void **state)
{
    (void)state;
    int64_t mine[] = {7, 3};
    struct principal none = {0};
    struct principal viewer = person(PRINCIPAL_SESSION, LEVEL_READ, mine, 2);
    struct principal member = person(PRINCIPAL_SESSION, LEVEL_WRITE, mine, 2);
    struct principal admin = person(PRINCIPAL_SESSION, LEVEL_ADMIN, NULL, 0);

    assert_int_equal(authz_check(&none, ACCESS_PUBLIC, 0), AUTHZ_OK);
    assert_int_equal(authz_check(&none, ACCESS_ANY, 0), AUTHZ_UNAUTHENTICATED);
    assert_int_equal(authz_check(&none, ACCESS_READ, 3), AUTHZ_UNAUTHENTICATED);

    assert_int_equal(authz_check(&viewer, ACCESS_READ, 3), AUTHZ_OK);
    assert_int_equal(authz_check(&viewer, ACCESS_WRITE, 3), AUTHZ_FORBIDDEN);
    assert_int_equal(authz_check(&viewer, ACCESS_READ, 4), AUTHZ_NOT_FOUND);
    assert_int_equal(authz_check(&viewer, ACCESS_WRITE, 4), AUTHZ_NOT_FOUND); /* no leak */
    assert_int_equal(authz_check(&viewer, ACCESS_ADMIN, 0), AUTHZ_FORBIDDEN);
    assert_int_equal(authz_check(&viewer, ACCESS_ACCOUNT, 0), AUTHZ_OK);

    assert_int_equal(authz_check(&member, ACCESS_WRITE, 7), AUTHZ_OK);
    assert_int_equal(authz_check(&member, ACCESS_PROJECT_ADMIN, 7), AUTHZ_FORBIDDEN);
    assert_int_equal(authz_check(&member, ACCESS_ADMIN, 0), AUTHZ_FORBIDDEN);

    assert_int_equal(authz_check(&admin, ACCESS_PROJECT_ADMIN, 12345), AUTHZ_OK);
    assert_int_equal(authz_check(&admin, ACCESS_ADMIN, 0), AUTHZ_OK);
    authz_clear(&viewer);
    authz_clear(&member);
    authz_clear(&admin);
}

static void test_authz_token_is_bounded_by_scope_projects_and_creator(void **state)
{
    (void)state;
    int64_t mine[] = {3, 7}, asked[] = {7, 9};
    /* a member's write token limited to 7 and 9: 9 is not the member's */
    struct principal t = person(PRINCIPAL_TOKEN, LEVEL_WRITE, mine, 2);
    assert_int_equal(authz_narrow_to_token(&t, LEVEL_ADMIN, asked, 2), 0);
    assert_int_equal(t.level, LEVEL_WRITE); /* never above the creator */
    assert_true(authz_sees(&t, 7));
    assert_false(authz_sees(&t, 9));
    assert_false(authz_sees(&t, 3));
    assert_int_equal(authz_check(&t, ACCESS_WRITE, 7), AUTHZ_OK);
    assert_int_equal(authz_check(&t, ACCESS_ACCOUNT, 0), AUTHZ_FORBIDDEN);
    authz_clear(&t);
    /* an admin's read token: every project, reading only */
    struct principal r = person(PRINCIPAL_TOKEN, LEVEL_ADMIN, NULL, 0);
    assert_int_equal(authz_narrow_to_token(&r, LEVEL_READ, NULL, 0), 0);
    assert_int_equal(authz_check(&r, ACCESS_READ, 99), AUTHZ_OK);
    assert_int_equal(authz_check(&r, ACCESS_WRITE, 99), AUTHZ_FORBIDDEN);
    assert_int_equal(authz_check(&r, ACCESS_ADMIN, 0), AUTHZ_FORBIDDEN);
    authz_clear(&r);
    /* an admin-scope token limited to one project is no global admin */
    struct principal s = person(PRINCIPAL_TOKEN, LEVEL_ADMIN, NULL, 0);
    int64_t one[] = {5};
    assert_int_equal(authz_narrow_to_token(&s, LEVEL_ADMIN, one, 1), 0);
    assert_int_equal(authz_check(&s, ACCESS_PROJECT_ADMIN, 5), AUTHZ_OK);
    assert_int_equal(authz_check(&s, ACCESS_ADMIN, 0), AUTHZ_FORBIDDEN);
    /* an empty list sees nothing */
    assert_int_equal(authz_narrow_to_token(&s, LEVEL_ADMIN, one, 0), 0);
    assert_int_equal(authz_check(&s, ACCESS_READ, 5), AUTHZ_NOT_FOUND);
    authz_clear(&s);
}

static void test_authz_names_parse_both_ways(void **state)
{
    (void)state;
    for (int l = LEVEL_READ; l <= LEVEL_ADMIN; l++) {
        assert_int_equal(authz_role_parse(authz_role_name((enum level)l)), l);
        assert_int_equal(authz_scope_parse(authz_scope_name((enum level)l)), l);
    }
    assert_int_equal(authz_role_parse("owner"), LEVEL_NONE);
    assert_int_equal(authz_role_parse("read"), LEVEL_NONE);
    assert_int_equal(authz_scope_parse(NULL), LEVEL_NONE);
}

extern const struct admin_route admin_routes_projects[], admin_routes_issues[],
    admin_routes_alerts[], admin_routes_destinations[], admin_routes_scripts[],
    admin_routes_grouping_rules[], admin_routes_users[], admin_routes_tokens[],
    admin_routes_activity[], admin_routes_auth[], admin_routes_issue_actions[],
    admin_routes_triage[], admin_routes_overview[];

/* Every route of the admin and auth APIs has exactly one policy row (none
 * is open by omission), and every row that records names a target kind. */
static void test_policy_rows_are_unique_and_complete(void **state)
{
    (void)state;
    const struct admin_route *const tables[] = {
        admin_routes_projects,     admin_routes_issues,        admin_routes_alerts,
        admin_routes_destinations, admin_routes_scripts,       admin_routes_grouping_rules,
        admin_routes_users,        admin_routes_tokens,        admin_routes_activity,
        admin_routes_auth,         admin_routes_issue_actions, admin_routes_triage,
        admin_routes_overview,
    };
    size_t routes = 0, n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const struct admin_route *r = tables[t]; r->method; r++, routes++)
            if (!admin_policy_find(r->method, r->pattern))
                fail_msg("no policy for %s %s", r->method, r->pattern);
    for (const struct admin_policy *p = admin_policies; p->method; p++, n++) {
        for (const struct admin_policy *q = p + 1; q->method; q++)
            assert_false(strcmp(p->method, q->method) == 0 && strcmp(p->pattern, q->pattern) == 0);
        if (p->action) assert_non_null(p->target_type);
        if (strncmp(p->pattern, "/api/admin/projects/{}", 22) == 0)
            assert_true(p->access == ACCESS_READ || p->access == ACCESS_WRITE ||
                        p->access == ACCESS_PROJECT_ADMIN);
        assert_ptr_equal(admin_policy_find(p->method, p->pattern), p);
    }
    assert_int_equal(n, routes);
    assert_null(admin_policy_find("GET", "/api/admin/nothing"));
}

static void test_throttle_slows_after_five_failures_and_caps_per_kind(void **state)
{
    (void)state;
    struct throttle *t = malloc(sizeof *t);
    throttle_init(t);
    int64_t now = 1000000;
    for (int i = 0; i < THROTTLE_FREE_FAILURES - 1; i++)
        throttle_fail(t, THROTTLE_ACCOUNT, "a@example.com", now);
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ACCOUNT, "a@example.com", now), 0);
    throttle_fail(t, THROTTLE_ACCOUNT, "a@example.com", now);
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ACCOUNT, "a@example.com", now), THROTTLE_BASE_MS);
    throttle_fail(t, THROTTLE_ACCOUNT, "a@example.com", now);
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ACCOUNT, "a@example.com", now),
                     2 * THROTTLE_BASE_MS);
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ACCOUNT, "a@example.com", now + 500),
                     2 * THROTTLE_BASE_MS - 500);
    /* other keys and kinds are not slowed */
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ACCOUNT, "b@example.com", now), 0);
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ADDRESS, "a@example.com", now), 0);
    /* however many failures: an account waits at most its cap, an address longer */
    for (int i = 0; i < 100; i++) {
        throttle_fail(t, THROTTLE_ACCOUNT, "a@example.com", now);
        throttle_fail(t, THROTTLE_ADDRESS, "10.0.0.1", now);
    }
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ACCOUNT, "a@example.com", now),
                     THROTTLE_ACCOUNT_MAX_MS);
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ADDRESS, "10.0.0.1", now),
                     THROTTLE_ADDRESS_MAX_MS);
    assert_int_equal(
        throttle_wait_ms(t, THROTTLE_ACCOUNT, "a@example.com", now + THROTTLE_ACCOUNT_MAX_MS), 0);
    /* success clears; old failures are forgotten */
    throttle_clear(t, THROTTLE_ACCOUNT, "a@example.com");
    assert_int_equal(throttle_wait_ms(t, THROTTLE_ACCOUNT, "a@example.com", now), 0);
    assert_int_equal(
        throttle_wait_ms(t, THROTTLE_ADDRESS, "10.0.0.1", now + THROTTLE_FORGET_MS + 1), 0);
    free(t);
}

static void test_throttle_memory_is_bounded(void **state)
{
    (void)state;
    struct throttle *t = malloc(sizeof *t);
    throttle_init(t);
    char key[32];
    for (int i = 0; i < THROTTLE_SLOTS * 2; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        throttle_fail(t, THROTTLE_ADDRESS, key, 1000 + i);
    }
    /* the newest keys are remembered, the stalest were reused */
    for (int f = 0; f < THROTTLE_FREE_FAILURES - 1; f++)
        throttle_fail(t, THROTTLE_ADDRESS, "10.0.31.255", 1000 + THROTTLE_SLOTS * 2);
    assert_true(throttle_wait_ms(t, THROTTLE_ADDRESS, "10.0.31.255", 1000 + THROTTLE_SLOTS * 2) >
                0);
    free(t);
}

static void test_session_cookie_attributes(void **state)
{
    (void)state;
    char c[SESSION_COOKIE_MAX];
    browser_session_cookie(c, "abc", 2592000, false);
    assert_string_equal(c, "periscope_session=abc; Path=/; Max-Age=2592000; HttpOnly; "
                           "SameSite=Lax");
    browser_session_cookie(c, "abc", 60, true);
    assert_non_null(strstr(c, "; Secure"));
    browser_session_cookie(c, NULL, 60, false);
    assert_non_null(strstr(c, "Max-Age=0"));
    assert_true(browser_is_https("HTTPS://x.example"));
    assert_false(browser_is_https("http://x.example"));
}

static void test_same_origin_accepts_only_our_origin(void **state)
{
    (void)state;
    const char *pub = "https://errors.example.com/periscope";
    assert_true(browser_same_origin(pub, "https://errors.example.com", NULL));
    assert_true(browser_same_origin(pub, "https://ERRORS.example.com:443", NULL));
    assert_false(browser_same_origin(pub, "http://errors.example.com", NULL));
    assert_false(browser_same_origin(pub, "https://errors.example.com.evil.io", NULL));
    assert_false(browser_same_origin(pub, "https://errors.example.com:8443", NULL));
    assert_false(browser_same_origin(pub, "null", NULL));
    assert_false(browser_same_origin(pub, "https://errors.example.com/x", NULL));
    /* an Origin decides even when the Referer would pass */
    assert_false(browser_same_origin(pub, "https://evil.io", "https://errors.example.com/"));
    assert_true(browser_same_origin(pub, NULL, "https://errors.example.com/issues?x=1"));
    assert_false(browser_same_origin(pub, NULL, "https://errors.example.com@evil.io/"));
    assert_false(browser_same_origin(pub, NULL, NULL));
    assert_true(browser_same_origin("http://127.0.0.1:8000", "http://127.0.0.1:8000", NULL));
    assert_false(browser_same_origin("http://127.0.0.1:8000", "http://localhost:8000", NULL));
}

static void test_email_normal_form(void **state)
{
    (void)state;
    char out[EMAIL_MAX + 1];
    assert_int_equal(email_normalize("  Ada@Example.COM ", out), 0);
    assert_string_equal(out, "ada@example.com");
    assert_int_equal(email_normalize("no-at-sign", out), -EINVAL);
    assert_int_equal(email_normalize("@example.com", out), -EINVAL);
    assert_int_equal(email_normalize("a@", out), -EINVAL);
    assert_int_equal(email_normalize("a@b@c", out), -EINVAL);
    assert_int_equal(email_normalize("a b@c.d", out), -EINVAL);
    assert_int_equal(email_normalize("a\n@c.d", out), -EINVAL);
    assert_int_equal(email_normalize(NULL, out), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_policy_counts_characters_not_bytes),
        cmocka_unit_test(test_password_hash_is_argon2id_and_verifies_only_the_password),
        cmocka_unit_test(test_password_needs_rehash_when_parameters_change),
        cmocka_unit_test(test_secrets_are_random_hex_and_tokens_carry_the_prefix),
        cmocka_unit_test(test_secret_digest_is_sha256_hex),
        cmocka_unit_test(test_authz_roles_against_each_access),
        cmocka_unit_test(test_authz_token_is_bounded_by_scope_projects_and_creator),
        cmocka_unit_test(test_authz_names_parse_both_ways),
        cmocka_unit_test(test_policy_rows_are_unique_and_complete),
        cmocka_unit_test(test_throttle_slows_after_five_failures_and_caps_per_kind),
        cmocka_unit_test(test_throttle_memory_is_bounded),
        cmocka_unit_test(test_session_cookie_attributes),
        cmocka_unit_test(test_same_origin_accepts_only_our_origin),
        cmocka_unit_test(test_email_normal_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
