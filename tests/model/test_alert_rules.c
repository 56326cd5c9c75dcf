/* Tests for model/alert_rules: parsing and validation (the 400 messages
 * name the field), the default set, and matching an alert on an event. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/event_tags.h"
#include "model/alert_rules.h"

static int parse(const char *text, struct alert_rules **out, char *err, size_t errlen)
{
    cJSON *doc = json_parse_text(text);
    assert_non_null(doc);
    int rc = alert_rules_parse(doc, out, err, errlen);
    cJSON_Delete(doc);
    return rc;
}

static void refused(const char *text, const char *field)
{
    struct alert_rules *rules = NULL;
    char err[256] = "";
    assert_int_equal(parse(text, &rules, err, sizeof err), -EINVAL);
    assert_null(rules);
    if (!strstr(err, field)) fail_msg("message %s does not name %s", err, field);
}

static void test_invalid_rules_are_refused_naming_the_field(void **state)
{
    (void)state;
    refused("{}", "rules");
    refused("{\"rules\": {}}", "rules");
    refused("{\"rules\": [1]}", "rules[0]");
    refused("{\"rules\": [{\"when\": {\"kinds\": [\"new\"]}}]}", "rules[0].name");
    refused("{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": []}}]}", "rules[0].when.kinds");
    refused("{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": [\"new\"], \"level_at_least\": "
            "\"loud\"}}]}",
            "rules[0].when.level_at_least");
    refused("{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": [\"frequency\"]}}]}",
            "rules[0].when");
    refused("{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": [\"frequency\"], \"frequency\": "
            "{\"count\": 0, \"window_minutes\": 5}}}]}",
            "rules[0].when.frequency");
    refused("{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": [\"new\"], \"users\": "
            "{\"count\": 3, \"window_minutes\": 5}}}]}",
            "rules[0].when");
    refused("{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": [\"new\"]}, \"destinations\": "
            "[]}]}",
            "rules[0].destinations");
    refused("{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": [\"new\"]}}, {\"name\": \"a\", "
            "\"when\": {\"kinds\": [\"new\"]}}]}",
            "rules[1].name");
    refused(
        "{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": [\"new\"]}, \"throttle_minutes\": "
        "99999}]}",
        "rules[0].throttle_minutes");
    refused("{\"rules\": [{\"name\": \"a\", \"when\": {\"kinds\": [\"new\"], \"colour\": 1}}]}",
            "colour");
}

static void test_default_rules_send_new_regression_and_escalating_everywhere(void **state)
{
    (void)state;
    struct alert_rules *rules = alert_rules_default();
    assert_non_null(rules);
    assert_true(rules->is_default);
    assert_int_equal(rules->n, 1);
    const struct alert_rule *r = &rules->rule[0];
    assert_true(r->all_destinations);
    assert_true(alert_rule_matches(r, ALERT_KIND_NEW, "debug", NULL, NULL));
    assert_true(alert_rule_matches(r, ALERT_KIND_REGRESSION, "error", "staging", NULL));
    assert_true(alert_rule_matches(r, ALERT_KIND_ESCALATING, NULL, NULL, NULL));
    assert_false(alert_rule_matches(r, ALERT_KIND_FREQUENCY, "fatal", NULL, NULL));
    alert_rules_free(rules);
}

static void test_rule_matches_level_environment_and_tags(void **state)
{
    (void)state;
    struct alert_rules *rules = NULL;
    char err[256];
    assert_int_equal(parse("{\"rules\": [{\"name\": \"prod\", \"when\": {\"kinds\": [\"new\"], "
                           "\"level_at_least\": \"error\", \"environments\": [\"production\"], "
                           "\"tags\": {\"tenant\": \"acme\"}}, \"destinations\": [4, 9]}]}",
                           &rules, err, sizeof err),
                     0);
    const struct alert_rule *r = &rules->rule[0];
    assert_int_equal(r->ndestinations, 2);
    assert_false(r->all_destinations);
    struct event_tags *tags = malloc(sizeof(*tags) + sizeof(struct event_tag));
    assert_non_null(tags);
    tags->n = 1;
    tags->tag[0].key = "tenant";
    tags->tag[0].value = "acme";
    assert_true(alert_rule_matches(r, ALERT_KIND_NEW, "error", "production", tags));
    assert_true(alert_rule_matches(r, ALERT_KIND_NEW, "fatal", "production", tags));
    assert_false(alert_rule_matches(r, ALERT_KIND_NEW, "warning", "production", tags));
    assert_false(alert_rule_matches(r, ALERT_KIND_NEW, "error", "staging", tags));
    assert_false(alert_rule_matches(r, ALERT_KIND_NEW, "error", NULL, tags));
    assert_false(alert_rule_matches(r, ALERT_KIND_NEW, "error", "production", NULL));
    assert_false(alert_rule_matches(r, ALERT_KIND_REGRESSION, "error", "production", tags));
    tags->tag[0].value = "globex";
    assert_false(alert_rule_matches(r, ALERT_KIND_NEW, "error", "production", tags));
    free(tags);
    /* The JSON the API shows parses back to the same rule. */
    cJSON *shown = alert_rules_json(rules);
    cJSON_DeleteItemFromObjectCaseSensitive(shown, "default");
    struct alert_rules *again = NULL;
    assert_int_equal(alert_rules_parse(shown, &again, err, sizeof err), 0);
    assert_int_equal(again->rule[0].level_min, r->level_min);
    assert_string_equal(again->rule[0].environments[0], "production");
    cJSON_Delete(shown);
    alert_rules_free(again);
    alert_rules_free(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_rules_are_refused_naming_the_field),
        cmocka_unit_test(test_default_rules_send_new_regression_and_escalating_everywhere),
        cmocka_unit_test(test_rule_matches_level_environment_and_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
