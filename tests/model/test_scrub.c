/* scrub: every key class, the headers, nested places, card numbers (with
 * Luhn), URL credentials, key=value, safe fields, extra fields, the IP
 * setting, and hostile input in bounded work. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "model/scrub.h"

/* Scrubs json with rules (NULL: default); returns the printed result
 * (caller frees) and the count in *changed. */
static char *scrubbed(const struct scrub_rules *rules, const char *json, int *changed)
{
    cJSON *ev = cJSON_Parse(json);
    assert_non_null(ev);
    int n = scrub_event(rules, ev);
    assert_true(n >= 0);
    if (changed) *changed = n;
    char *out = cJSON_PrintUnformatted(ev);
    assert_non_null(out);
    cJSON_Delete(ev);
    return out;
}

static void expect(const struct scrub_rules *rules, const char *in, const char *want)
{
    int n;
    char *got = scrubbed(rules, in, &n);
    if (strcmp(got, want) != 0) fail_msg("scrub(%s)\n  got  %s\n  want %s", in, got, want);
    assert_int_equal(n > 0, strcmp(in, want) != 0);
    /* Scrubbing what was scrubbed changes nothing. */
    int again;
    char *twice = scrubbed(rules, got, &again);
    assert_string_equal(twice, got);
    assert_int_equal(again, 0);
    free(twice);
    free(got);
}

static struct scrub_rules *rules_from(const char *patch_json)
{
    struct scrub_settings st;
    scrub_settings_default(&st);
    cJSON *patch = json_parse_text(patch_json);
    assert_non_null(patch);
    char err[256];
    assert_int_equal(scrub_settings_patch(&st, patch, err, sizeof err), 0);
    cJSON_Delete(patch);
    struct scrub_rules *r = NULL;
    assert_int_equal(scrub_rules_new(&st, &r), 0);
    return r;
}

static void test_each_default_word_filters_its_value(void **state)
{
    (void)state;
    for (const char *const *w = SCRUB_DEFAULT_WORDS; *w; w++) {
        char in[256], want[256];
        snprintf(in, sizeof in, "{\"extra\":{\"%s\":\"v\",\"my_%s_2\":\"v\",\"ok\":\"v\"}}", *w,
                 *w);
        snprintf(want, sizeof want,
                 "{\"extra\":{\"%s\":\"[Filtered]\",\"my_%s_2\":\"[Filtered]\",\"ok\":\"v\"}}", *w,
                 *w);
        expect(NULL, in, want);
    }
    /* Case does not matter, '-' is '_'. */
    expect(NULL, "{\"extra\":{\"PassWord\":\"v\",\"API-KEY\":\"v\",\"Private-Key\":\"v\"}}",
           "{\"extra\":{\"PassWord\":\"[Filtered]\",\"API-KEY\":\"[Filtered]\","
           "\"Private-Key\":\"[Filtered]\"}}");
}

static void test_the_four_headers_and_cookies(void **state)
{
    (void)state;
    expect(NULL,
           "{\"request\":{\"headers\":{\"Authorization\":\"Bearer abc\",\"Cookie\":\"sid=1\","
           "\"Set-Cookie\":\"sid=2\",\"X-Api-Key\":\"k\",\"Accept\":\"*/*\"},"
           "\"cookies\":{\"sid\":\"1\",\"theme\":\"dark\"}}}",
           "{\"request\":{\"headers\":{\"Authorization\":\"[Filtered]\",\"Cookie\":\"[Filtered]\","
           "\"Set-Cookie\":\"[Filtered]\",\"X-Api-Key\":\"[Filtered]\",\"Accept\":\"*/*\"},"
           "\"cookies\":\"[Filtered]\"}}");
    /* Headers as a list of pairs, as some SDKs send them. */
    expect(NULL,
           "{\"request\":{\"headers\":[[\"authorization\",\"Basic eDp5\"],[\"cookie\",\"a=b\"],"
           "[\"Host\",\"x\"]]}}",
           "{\"request\":{\"headers\":[[\"authorization\",\"[Filtered]\"],"
           "[\"cookie\",\"[Filtered]\"],[\"Host\",\"x\"]]}}");
    /* "cookie" is a whole name, not a word: a cookie_policy is kept. */
    expect(NULL, "{\"extra\":{\"cookie_policy\":\"strict\"}}",
           "{\"extra\":{\"cookie_policy\":\"strict\"}}");
}

static void test_every_place_of_the_event(void **state)
{
    (void)state;
    expect(
        NULL,
        "{\"contexts\":{\"db\":{\"credentials\":{\"user\":\"u\",\"pw\":\"p\"}}},"
        "\"exception\":{\"values\":[{\"stacktrace\":{\"frames\":[{\"vars\":{\"password\":\"'x'\","
        "\"n\":1}}]}}]},"
        "\"breadcrumbs\":{\"values\":[{\"data\":{\"session\":[1,2],\"url\":\"/a\"}}]},"
        "\"tags\":[[\"session_id\",\"42\"],[\"region\",\"eu\"]],"
        "\"extra\":{\"deep\":{\"deeper\":{\"api_key\":12345}}}}",
        "{\"contexts\":{\"db\":{\"credentials\":\"[Filtered]\"}},"
        "\"exception\":{\"values\":[{\"stacktrace\":{\"frames\":[{\"vars\":{\"password\":"
        "\"[Filtered]\",\"n\":1}}]}}]},"
        "\"breadcrumbs\":{\"values\":[{\"data\":{\"session\":\"[Filtered]\",\"url\":\"/a\"}}]},"
        "\"tags\":[[\"session_id\",\"[Filtered]\"],[\"region\",\"eu\"]],"
        "\"extra\":{\"deep\":{\"deeper\":{\"api_key\":\"[Filtered]\"}}}}");
}

static void test_nothing_to_hide_is_kept(void **state)
{
    (void)state;
    const char *steering = "{\"fingerprint\":[\"auth-error\",\"login\"],"
                           "\"sdk\":{\"integrations\":[\"auth\",\"x\"]}}";
    expect(NULL, steering, steering);
    const char *in = "{\"extra\":{\"token\":null,\"secret\":false,\"auth\":\"\",\"session\":[],"
                     "\"password\":{},\"passwd\":\"[Filtered]\"}}";
    expect(NULL, in, in);
}

static void test_card_numbers_pass_luhn_and_a_prefix(void **state)
{
    (void)state;
    expect(NULL, "{\"message\":\"card 4111111111111111 declined\"}",
           "{\"message\":\"card [Filtered] declined\"}");
    expect(NULL, "{\"message\":\"4111 1111 1111 1111\"}", "{\"message\":\"[Filtered]\"}");
    expect(NULL, "{\"message\":\"amex 3782-822463-10005, mc 5555555555554444.\"}",
           "{\"message\":\"amex [Filtered], mc [Filtered].\"}");
    expect(NULL, "{\"m\":[\"2223003122003222\",\"6011111111111117\",\"3530111333300000\"]}",
           "{\"m\":[\"[Filtered]\",\"[Filtered]\",\"[Filtered]\"]}");
    /* Luhn fails, no known prefix, inside a word, too long, a timestamp,
     * digits of a decimal number, a network's other length. */
    const char *kept = "{\"m\":[\"4111111111111112\",\"1234567812345670\",\"id4111111111111111\","
                       "\"41111111111111111111111\",\"1700000000123\",\"4111111111111111x\","
                       "\"0.4111111111111111\",\"4111111111111111.25\",\"v=0.4111111111111111\","
                       "\"4111111111111111113\",\"62406639743781820\"]}";
    expect(NULL, kept, kept);
    /* The card inside a longer run of groups is still found. */
    expect(NULL, "{\"m\":\"ref 12 4111 1111 1111 1111\"}", "{\"m\":\"ref 12 [Filtered]\"}");
    /* As a JSON number. */
    expect(NULL, "{\"extra\":{\"n\":4111111111111111,\"m\":4111111111111112}}",
           "{\"extra\":{\"n\":\"[Filtered]\",\"m\":4111111111111112}}");
}

static void test_url_credentials_and_dsns(void **state)
{
    (void)state;
    expect(NULL,
           "{\"extra\":{\"dsn\":\"https://3f1c0e09a@o1.ingest.sentry.io/42\","
           "\"db\":\"postgres://app:hunter2@db.internal:5432/x\","
           "\"plain\":\"https://example.com/a@b\",\"mail\":\"ops@example.com\"}}",
           "{\"extra\":{\"dsn\":\"https://[Filtered]@o1.ingest.sentry.io/42\","
           "\"db\":\"postgres://[Filtered]@db.internal:5432/x\","
           "\"plain\":\"https://example.com/a@b\",\"mail\":\"ops@example.com\"}}");
    expect(NULL, "{\"message\":\"connect to redis://:pw@cache:6379/0 failed\"}",
           "{\"message\":\"connect to redis://[Filtered]@cache:6379/0 failed\"}");
}

static void test_key_value_pairs_in_strings(void **state)
{
    (void)state;
    expect(NULL, "{\"request\":{\"query_string\":\"page=2&access_token=abc.def&q=x\"}}",
           "{\"request\":{\"query_string\":\"page=2&access_token=[Filtered]&q=x\"}}");
    expect(NULL, "{\"message\":\"login failed user=bob password=hunter2 ip=1\"}",
           "{\"message\":\"login failed user=bob password=[Filtered] ip=1\"}");
    const char *kept = "{\"message\":\"x = y, a==b, token= , =token\"}";
    expect(NULL, kept, kept);
}

/* Whatever the string's length and where the match sits (the quick check
 * reads 16-byte blocks and a masked last block). */
static void test_matches_are_found_at_every_offset(void **state)
{
    (void)state;
    static const struct {
        const char *tail, *want;
    } cases[] = {
        {"token=abc", "token=[Filtered]"},
        {"4111111111111111", "[Filtered]"},
        {"h://u:p@x", "h://[Filtered]@x"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t pad = 0; pad <= 40; pad++)
            for (size_t after = 0; after <= 20; after += 20) {
                char in[160], want[160];
                snprintf(in, sizeof in, "{\"m\":\"%.*s%s%s%.*s\"}", (int)pad,
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", pad ? " " : "", cases[c].tail,
                         (int)after, " yyyyyyyyyyyyyyyyyyy");
                snprintf(want, sizeof want, "{\"m\":\"%.*s%s%s%.*s\"}", (int)pad,
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", pad ? " " : "", cases[c].want,
                         (int)after, " yyyyyyyyyyyyyyyyyyy");
                expect(NULL, in, want);
            }
}

static void test_safe_fields_keep_their_value(void **state)
{
    (void)state;
    struct scrub_rules *r = rules_from("{\"safe_fields\": [\"author\", \"session_count\"]}");
    expect(r,
           "{\"extra\":{\"author\":\"ann\",\"authority\":\"x\",\"session_count\":{\"token\":1}}}",
           "{\"extra\":{\"author\":\"ann\",\"authority\":\"[Filtered]\","
           "\"session_count\":{\"token\":1}}}");
    expect(r, "{\"m\":\"author=ann auth=x\"}", "{\"m\":\"author=ann auth=[Filtered]\"}");
    assert_int_equal(scrub_key_class(r, "Author", 6), 2);
    assert_int_equal(scrub_key_class(r, "co_author", 9), 1);
    scrub_rules_unref(r);
}

static void test_extra_sensitive_fields(void **state)
{
    (void)state;
    struct scrub_rules *r = rules_from("{\"sensitive_fields\": [\"ssn\", \"card-holder\"]}");
    expect(r,
           "{\"user\":{\"ssn\":\"078-05-1120\",\"Card_Holder\":\"A B\",\"name\":\"A\"},"
           "\"message\":\"ssn=078-05-1120\"}",
           "{\"user\":{\"ssn\":\"[Filtered]\",\"Card_Holder\":\"[Filtered]\",\"name\":\"A\"},"
           "\"message\":\"ssn=[Filtered]\"}");
    scrub_rules_unref(r);
    /* The default rules do not know them. */
    const char *kept = "{\"user\":{\"ssn\":\"078-05-1120\"}}";
    expect(NULL, kept, kept);
}

static void test_ip_addresses_kept_or_dropped(void **state)
{
    (void)state;
    const char *in = "{\"user\":{\"id\":\"7\",\"ip_address\":\"10.1.2.3\"},"
                     "\"request\":{\"env\":{\"REMOTE_ADDR\":\"10.1.2.3\",\"SERVER_NAME\":\"w\"}}}";
    expect(NULL, in, in);
    struct scrub_rules *r = rules_from("{\"scrub_ip_addresses\": true}");
    expect(r, in, "{\"user\":{\"id\":\"7\"},\"request\":{\"env\":{\"SERVER_NAME\":\"w\"}}}");
    scrub_rules_unref(r);
    /* Off: only the IP setting applies. */
    r = rules_from("{\"enabled\": false, \"scrub_ip_addresses\": true}");
    expect(r, "{\"user\":{\"ip_address\":\"::1\"},\"extra\":{\"password\":\"p\"}}",
           "{\"user\":{},\"extra\":{\"password\":\"p\"}}");
    scrub_rules_unref(r);
}

static void test_an_event_with_nothing_to_scrub_is_untouched(void **state)
{
    (void)state;
    const char *in =
        "{\"event_id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\",\"platform\":\"python\","
        "\"timestamp\":\"2026-12-02T02:17:43.000Z\",\"exception\":{\"values\":[{\"type\":\"E\","
        "\"value\":\"order 42 failed\",\"stacktrace\":{\"frames\":[{\"filename\":\"a.py\","
        "\"context_line\":\"    x = f(y)\",\"lineno\":7}]}}]},\"request\":{\"url\":"
        "\"https://shop.example.com/api?page=2\"},\"contexts\":{\"trace\":{\"trace_id\":"
        "\"4bf92f3577b34da6a3ce929d0e0e4736\"}},\"extra\":{\"sys.argv\":[\"gunicorn\",\"app\"]}}";
    expect(NULL, in, in);
}

static void test_settings_are_validated(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"enabled\": 1}",
        "{\"scrub_ip_addresses\": \"yes\"}",
        "{\"sensitive_fields\": \"ssn\"}",
        "{\"sensitive_fields\": [\"\"]}",
        "{\"safe_fields\": [\"a.b\"]}",
        "{\"safe_fields\": [\"x y\"]}",
        "{\"sensitive_fields\": "
        "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}",
        "{\"sensitive_fields\": [1]}",
        "{\"sensitivefields\": []}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct scrub_settings st;
        scrub_settings_default(&st);
        cJSON *patch = json_parse_text(bad[i]);
        assert_non_null(patch);
        char err[256] = "";
        assert_int_equal(scrub_settings_patch(&st, patch, err, sizeof err), -EINVAL);
        assert_true(err[0] != '\0');
        cJSON_Delete(patch);
    }
    /* 33 names is one too many. */
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; i <= SCRUB_FIELDS_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        json_push(list, cJSON_CreateString(name));
    }
    cJSON *patch = json_build("{s:o}", "safe_fields", list);
    struct scrub_settings st;
    scrub_settings_default(&st);
    char err[256];
    assert_int_equal(scrub_settings_patch(&st, patch, err, sizeof err), -EINVAL);
    cJSON_Delete(patch);
}

static void test_settings_json_and_lists_round_trip(void **state)
{
    (void)state;
    struct scrub_settings st, back;
    scrub_settings_default(&st);
    cJSON *patch = json_parse_text("{\"scrub_ip_addresses\": true, \"sensitive_fields\": [\"ssn\", "
                                   "\"iban\"], \"safe_fields\": [\"author\"]}");
    char err[256];
    assert_int_equal(scrub_settings_patch(&st, patch, err, sizeof err), 0);
    cJSON_Delete(patch);
    cJSON *j = scrub_settings_to_json(&st);
    char *text = json_print(j, 0);
    assert_string_equal(text, "{\"enabled\":true,\"scrub_ip_addresses\":true,\"sensitive_fields\":"
                              "[\"ssn\",\"iban\"],\"safe_fields\":[\"author\"]}");
    free(text);
    scrub_settings_default(&back);
    assert_int_equal(scrub_settings_patch(&back, j, err, sizeof err), 0);
    assert_true(scrub_settings_equal(&st, &back));
    cJSON_Delete(j);

    char joined[SCRUB_LIST_TEXT_MAX];
    scrub_list_join(st.sensitive, st.n_sensitive, joined);
    assert_string_equal(joined, "ssn,iban");
    assert_int_equal(scrub_list_split(joined, back.sensitive, &back.n_sensitive), 0);
    assert_int_equal(back.n_sensitive, 2);
    assert_string_equal(back.sensitive[1], "iban");
    assert_int_equal(scrub_list_split("", back.safe, &back.n_safe), 0);
    assert_int_equal(back.n_safe, 0);
    assert_int_equal(scrub_list_split("a,,b", back.safe, &back.n_safe), -EINVAL);
    assert_int_equal(scrub_list_split("a;b", back.safe, &back.n_safe), -EINVAL);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A string of n bytes repeating unit. */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = unit[i % u];
    s[n] = '\0';
    return s;
}

/* Inputs built to make a naive scanner quadratic: each is scrubbed in one
 * go (the margin is generous: a few ms each is the expected cost). */
static void test_hostile_strings_cost_linear_work(void **state)
{
    (void)state;
    static const char *const units[] = {
        "4 ",           "4-", "41111111111111 ", "://a:a",
        "https://x:y@", "a=", "token=",          "passwordpasswor",
        "\xff\xfe\x80", "1",  "=token=&",        "5555555555554444 ",
    };
    const size_t n = 1 << 20;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        char *s = repeat(units[i], n);
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddItemToObject(ev, "message", cJSON_CreateString(s));
        cJSON_AddItemToObject(ev, s, cJSON_CreateString("v")); /* a 1 MiB key */
        assert_true(scrub_event(NULL, ev) >= 0);
        cJSON_Delete(ev);
        free(s);
    }
    assert_true(seconds_since(&t0) < 60.0);
}

static void test_deep_nesting_is_bounded(void **state)
{
    (void)state;
    cJSON *ev = cJSON_CreateObject(), *cur = ev;
    for (int i = 0; i < SCRUB_MAX_DEPTH + 500; i++) {
        cJSON *next = cJSON_CreateObject();
        cJSON_AddItemToObject(cur, "a", next);
        cur = next;
    }
    cJSON_AddStringToObject(cur, "password", "p");
    /* The container past the bound is filtered whole. */
    assert_int_equal(scrub_event(NULL, ev), 1);
    cur = ev;
    for (int i = 0; i < SCRUB_MAX_DEPTH; i++)
        cur = cJSON_GetObjectItemCaseSensitive(cur, "a");
    assert_true(cJSON_IsString(cur));
    assert_string_equal(cur->valuestring, SCRUB_FILTERED);
    cJSON_Delete(ev);
}

static void test_rules_are_shared_by_reference(void **state)
{
    (void)state;
    struct scrub_rules *r = rules_from("{\"sensitive_fields\": [\"pin\"]}");
    struct scrub_rules *again = scrub_rules_ref(r);
    assert_ptr_equal(again, r);
    scrub_rules_unref(r);
    assert_int_equal(scrub_key_class(again, "pin", 3), 1); /* still alive */
    scrub_rules_unref(again);
    /* The default rules are never freed. */
    const struct scrub_rules *d = scrub_rules_default();
    assert_non_null(d);
    scrub_rules_unref(scrub_rules_ref(d));
    assert_int_equal(scrub_key_class(d, "token", 5), 1);
    assert_int_equal(scrub_key_class(d, "pin", 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_default_word_filters_its_value),
        cmocka_unit_test(test_the_four_headers_and_cookies),
        cmocka_unit_test(test_every_place_of_the_event),
        cmocka_unit_test(test_nothing_to_hide_is_kept),
        cmocka_unit_test(test_card_numbers_pass_luhn_and_a_prefix),
        cmocka_unit_test(test_url_credentials_and_dsns),
        cmocka_unit_test(test_key_value_pairs_in_strings),
        cmocka_unit_test(test_matches_are_found_at_every_offset),
        cmocka_unit_test(test_safe_fields_keep_their_value),
        cmocka_unit_test(test_extra_sensitive_fields),
        cmocka_unit_test(test_ip_addresses_kept_or_dropped),
        cmocka_unit_test(test_an_event_with_nothing_to_scrub_is_untouched),
        cmocka_unit_test(test_settings_are_validated),
        cmocka_unit_test(test_settings_json_and_lists_round_trip),
        cmocka_unit_test(test_hostile_strings_cost_linear_work),
        cmocka_unit_test(test_deep_nesting_is_bounded),
        cmocka_unit_test(test_rules_are_shared_by_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
