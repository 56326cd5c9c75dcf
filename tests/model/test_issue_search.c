/* issue_search: the query language of ?query= parsed into terms (values
 * kept as text for binding), and every malformed term refused with a
 * message that names it. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/issue_search.h"

static struct issue_search *parse_ok(const char *q, int64_t me)
{
    struct issue_search *s = malloc(sizeof *s);
    char err[256] = "";
    assert_non_null(s);
    int rc = issue_search_parse(q, me, s, err, sizeof err);
    if (rc != 0) fail_msg("%s: %s", q ? q : "(null)", err);
    return s;
}

/* The error message for q, which must fail. */
static void parse_fails(const char *q, const char *needle)
{
    struct issue_search s;
    char err[256] = "";
    assert_int_equal(issue_search_parse(q, 7, &s, err, sizeof err), -EINVAL);
    if (!strstr(err, needle)) fail_msg("%s: message %s lacks %s", q, err, needle);
}

static void test_empty_and_null_queries_have_no_terms(void **state)
{
    (void)state;
    struct issue_search *s = parse_ok(NULL, 0);
    assert_int_equal(s->n, 0);
    free(s);
    s = parse_ok("   \t ", 0);
    assert_int_equal(s->n, 0);
    assert_false(issue_search_has_status(s));
    free(s);
}

static void test_keys_become_their_terms(void **state)
{
    (void)state;
    struct issue_search *s =
        parse_ok("is:resolved level:warning environment:production release:1.2.3 "
                 "user.email:a@b.c user.id:42 tenant:acme has:browser",
                 0);
    assert_int_equal(s->n, 8);
    assert_int_equal(s->terms[0].kind, ISSUE_SEARCH_STATUS);
    assert_string_equal(s->terms[0].value, "resolved");
    assert_true(issue_search_has_status(s));
    assert_int_equal(s->terms[1].kind, ISSUE_SEARCH_LEVEL);
    assert_string_equal(s->terms[1].value, "warning");
    const char *tags[][2] = {{"environment", "production"},
                             {"release", "1.2.3"},
                             {"user.email", "a@b.c"},
                             {"user.id", "42"},
                             {"tenant", "acme"}};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s->terms[2 + i].kind, ISSUE_SEARCH_TAG);
        assert_string_equal(s->terms[2 + i].key, tags[i][0]);
        assert_string_equal(s->terms[2 + i].value, tags[i][1]);
        assert_false(s->terms[2 + i].negated);
    }
    assert_int_equal(s->terms[7].kind, ISSUE_SEARCH_HAS);
    assert_string_equal(s->terms[7].key, "browser");
    free(s);
}

static void test_negation_and_quoted_values(void **state)
{
    (void)state;
    struct issue_search *s =
        parse_ok("!tenant:acme server:\"web 1\" path:\"a \\\"quoted\\\" \\\\ one\" !has:x", 0);
    assert_int_equal(s->n, 4);
    assert_true(s->terms[0].negated);
    assert_string_equal(s->terms[0].value, "acme");
    assert_false(s->terms[1].negated);
    assert_string_equal(s->terms[1].value, "web 1");
    assert_string_equal(s->terms[2].value, "a \"quoted\" \\ one");
    assert_int_equal(s->terms[3].kind, ISSUE_SEARCH_HAS);
    assert_true(s->terms[3].negated);
    free(s);
}

static void test_free_text_words_join_into_one_term(void **state)
{
    (void)state;
    struct issue_search *s = parse_ok("Timeout  level:error \"after 3000ms\" db", 0);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->terms[0].kind, ISSUE_SEARCH_LEVEL);
    assert_int_equal(s->terms[1].kind, ISSUE_SEARCH_TEXT);
    assert_string_equal(s->terms[1].value, "Timeout after 3000ms db");
    free(s);
    /* what only looks like a key stays text */
    s = parse_ok("http://x.y/z :colon 100%", 0);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->terms[0].kind, ISSUE_SEARCH_TAG); /* http:"//x.y/z" */
    assert_string_equal(s->terms[1].value, ":colon 100%");
    free(s);
}

static void test_assignment_terms(void **state)
{
    (void)state;
    struct issue_search *s =
        parse_ok("assigned:me assigned:none assigned:12 is:assigned is:unassigned !assigned:me", 7);
    assert_int_equal(s->n, 6);
    int64_t users[] = {7, 0, 12, 0, 0, 7};
    bool negated[] = {false, false, false, true, false, true};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(s->terms[i].kind, ISSUE_SEARCH_ASSIGNED);
        assert_int_equal(s->terms[i].user_id, users[i]);
        assert_int_equal(s->terms[i].negated, negated[i]);
    }
    assert_false(issue_search_has_status(s));
    free(s);
}

static void test_bad_terms_are_named(void **state)
{
    (void)state;
    parse_fails("is:fixed", "\"is:fixed\"");
    parse_fails("level:loud", "\"level:loud\"");
    parse_fails("ok tenant:", "\"tenant:\": the value is empty");
    parse_fails("a server:\"web 1", "\"server:\"web 1\": a quote is not closed");
    parse_fails("x:\"a\"b", "a quote is not closed");
    parse_fails("assigned:someone", "\"assigned:someone\"");
    parse_fails("has:\"a b\"", "has: takes a tag name");
    parse_fails("averyveryveryveryveryverylongkeyname1:x", "longer than 32");
    /* assigned:me without a user (the admin key) */
    struct issue_search s;
    char err[256] = "";
    assert_int_equal(issue_search_parse("assigned:me", 0, &s, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "assigned:me"));
}

static void test_hostile_input_is_bounded(void **state)
{
    (void)state;
    char big[ISSUE_SEARCH_MAX_BYTES + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    parse_fails(big, "longer than");
    parse_fails("a\x01"
                "b",
                "control character");
    parse_fails("bad \xff\xfe utf8", "UTF-8");
    /* 17 terms */
    char many[512] = "";
    for (int i = 0; i < 17; i++)
        strcat(many, "k:v ");
    parse_fails(many, "more than 16 terms");
    /* 16 keyed terms and free text: 17 as well */
    many[0] = '\0';
    for (int i = 0; i < 16; i++)
        strcat(many, "k:v ");
    strcat(many, "text");
    parse_fails(many, "more than 16 terms");
    /* SQL stays text: a value is a value */
    struct issue_search *s = parse_ok("tenant:\"x' OR 1=1; DROP TABLE issues; --\" '); --", 0);
    assert_string_equal(s->terms[0].value, "x' OR 1=1; DROP TABLE issues; --");
    assert_string_equal(s->terms[1].value, "'); --");
    free(s);
    /* the longest value fits: the buffers hold every byte of the input */
    char longest[ISSUE_SEARCH_MAX_BYTES + 1];
    memset(longest, 'q', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    s = parse_ok(longest, 0);
    assert_int_equal(strlen(s->terms[0].value), ISSUE_SEARCH_MAX_BYTES);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_null_queries_have_no_terms),
        cmocka_unit_test(test_keys_become_their_terms),
        cmocka_unit_test(test_negation_and_quoted_values),
        cmocka_unit_test(test_free_text_words_join_into_one_term),
        cmocka_unit_test(test_assignment_terms),
        cmocka_unit_test(test_bad_terms_are_named),
        cmocka_unit_test(test_hostile_input_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
