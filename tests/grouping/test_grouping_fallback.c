/* grouping/fallback: components, Sentry's hash_from_values, title, culprit.
 * Expected hashes are hashlib.md5("".join(values).encode()).hexdigest(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/event.h"
#include "grouping/fallback.h"

struct grouped {
    char hash[33];
    char title[256];
    char culprit[256];
};

static struct grouped group(const char *json)
{
    struct grouped_event ev = {0};
    cJSON *tree = cJSON_Parse(json);
    assert_non_null(tree);
    assert_int_equal(grouping_fallback(tree, ev.hash, &ev.title, &ev.culprit), 0);
    struct grouped g;
    memcpy(g.hash, ev.hash, sizeof(g.hash));
    snprintf(g.title, sizeof(g.title), "%s", ev.title);
    snprintf(g.culprit, sizeof(g.culprit), "%s", ev.culprit);
    free(ev.title);
    free(ev.culprit);
    cJSON_Delete(tree);
    return g;
}

static void test_exception_chain_hashes_types_and_values_in_order(void **state)
{
    (void)state;
    struct grouped g = group("{\"exception\":{\"values\":["
                             "{\"type\":\"ValueError\",\"value\":\"bad input\"},"
                             "{\"type\":\"KeyError\",\"value\":\"'x'\\nmore\"}]}}");
    assert_string_equal(g.title, "KeyError: 'x'");
    g = group("{\"exception\":{\"values\":[{\"type\":\"ValueError\",\"value\":\"bad input\"},"
              "{\"type\":\"KeyError\",\"value\":\"'x'\"}]}}");
    assert_string_equal(g.hash, "017d8c6c2685cacbbdb96164d93c05aa");
}

static void test_client_fingerprint_wins_and_expands_default(void **state)
{
    (void)state;
    struct grouped g =
        group("{\"fingerprint\":[\"db-down\",\"{{ default }}\"],"
              "\"exception\":{\"values\":[{\"type\":\"ValueError\",\"value\":\"bad\"}]}}");
    assert_string_equal(g.hash, "5f10832953130220a2a5e1a22002f2af");
    g = group("{\"fingerprint\":[\"a\",1],\"message\":\"ignored\"}");
    assert_string_equal(g.hash, "8a8bb7cd343aa2ad99b7d762030857a2");
    /* Other variables are not expanded by the fallback: they hash as text. */
    struct grouped t1 =
        group("{\"fingerprint\":[\"{{ type }}\"],\"exception\":{\"values\":[{\"type\":\"A\"}]}}");
    struct grouped t2 =
        group("{\"fingerprint\":[\"{{ type }}\"],\"exception\":{\"values\":[{\"type\":\"B\"}]}}");
    assert_string_equal(t1.hash, t2.hash);
}

static void test_message_template_groups_when_no_exception(void **state)
{
    (void)state;
    struct grouped a = group(
        "{\"logentry\":{\"message\":\"user %s logged in\",\"formatted\":\"user bob logged in\"}}");
    struct grouped b = group(
        "{\"logentry\":{\"message\":\"user %s logged in\",\"formatted\":\"user ann logged in\"}}");
    assert_string_equal(a.hash, "1b4154abeca575efe077a570bf72b402");
    assert_string_equal(a.hash, b.hash);
    assert_string_equal(a.title, "user bob logged in");
}

static void test_message_without_template_is_parameterized(void **state)
{
    (void)state;
    struct grouped a = group("{\"message\":\"order 1234 failed for bob@example.com\"}");
    struct grouped b = group("{\"message\":\"order 98 failed for ann@example.org\"}");
    struct grouped c = group("{\"message\":\"order 98 shipped\"}");
    assert_string_equal(a.hash, b.hash);
    assert_string_not_equal(a.hash, c.hash);
    assert_string_equal(a.title, "order 1234 failed for bob@example.com");
}

static void test_event_with_nothing_lands_in_the_fallback_group(void **state)
{
    (void)state;
    struct grouped g = group("{\"platform\":\"other\"}");
    assert_string_equal(g.hash, "d41d8cd98f00b204e9800998ecf8427e");
    assert_string_equal(g.title, "<unlabeled event>");
    assert_string_equal(g.culprit, "");
}

static void test_culprit_is_innermost_in_app_frame(void **state)
{
    (void)state;
    struct grouped g =
        group("{\"exception\":{\"values\":[{\"type\":\"E\",\"stacktrace\":{\"frames\":["
              "{\"module\":\"app.main\",\"function\":\"run\",\"in_app\":true},"
              "{\"filename\":\"app/views.py\",\"function\":\"index\",\"in_app\":true},"
              "{\"module\":\"django.core\",\"function\":\"get\",\"in_app\":false}]}}]}}");
    assert_string_equal(g.culprit, "app/views.py in index");
    assert_string_equal(g.title, "E");
    g = group("{\"transaction\":\"/checkout\",\"message\":\"m\"}");
    assert_string_equal(g.culprit, "/checkout");
}

static void test_synthetic_exception_takes_title_from_message(void **state)
{
    (void)state;
    struct grouped g =
        group("{\"logentry\":{\"formatted\":\"something odd\"},"
              "\"exception\":{\"values\":[{\"type\":\"Error\",\"value\":\"something odd\","
              "\"mechanism\":{\"synthetic\":true}}]}}");
    assert_string_equal(g.title, "something odd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exception_chain_hashes_types_and_values_in_order),
        cmocka_unit_test(test_client_fingerprint_wins_and_expands_default),
        cmocka_unit_test(test_message_template_groups_when_no_exception),
        cmocka_unit_test(test_message_without_template_is_parameterized),
        cmocka_unit_test(test_event_with_nothing_lands_in_the_fallback_group),
        cmocka_unit_test(test_culprit_is_innermost_in_app_frame),
        cmocka_unit_test(test_synthetic_exception_takes_title_from_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
