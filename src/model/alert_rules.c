/* alert_rules — see alert_rules.h. */
#include "model/alert_rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/event_tags.h"

static const char *const LEVELS[] = {"debug", "info", "warning", "error", "fatal"};
static const char *const KINDS[] = {"new", "regression", "escalating", "frequency"};

int alert_level_index(const char *level)
{
    for (int i = 0; level && i < 5; i++)
        if (strcmp(level, LEVELS[i]) == 0) return i;
    return -1;
}

unsigned alert_kind_from_name(const char *name)
{
    for (unsigned i = 0; name && i < 4; i++)
        if (strcmp(name, KINDS[i]) == 0) return 1u << i;
    return 0;
}

/* Parsing state: the rule's path for messages. */
struct parse {
    char *err;
    size_t errlen;
    size_t index;
};

static int fail(struct parse *p, const char *field, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "rules[%zu]%s%s: %s", p->index, *field ? "." : "", field, msg);
    return -EINVAL;
}

static bool only_keys(const json_t *obj, const char *const *allowed, const char **bad)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            *bad = key;
            return false;
        }
    }
    return true;
}

/* A string of 1..max bytes. */
static const char *short_string(const json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    size_t len = s ? strlen(s) : 0;
    return len >= 1 && len <= max ? s : NULL;
}

static int parse_kinds(struct parse *p, const json_t *v, struct alert_rule *r)
{
    size_t i;
    json_t *k;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(p, "when.kinds", "a non-empty list of new, regression, escalating, frequency");
    json_array_foreach(v, i, k)
    {
        unsigned kind = alert_kind_from_name(json_string_value(k));
        if (!kind)
            return fail(p, "when.kinds",
                        "unknown kind at %zu (new, regression, escalating, frequency)", i);
        r->kinds |= kind;
    }
    return 0;
}

static int parse_environments(struct parse *p, const json_t *v, struct alert_rule *r)
{
    size_t i;
    json_t *e;
    if (!json_is_array(v) || json_array_size(v) > ALERT_RULE_LIST_MAX)
        return fail(p, "when.environments", "a list of at most %d names", ALERT_RULE_LIST_MAX);
    r->environments = calloc(json_array_size(v) + 1, sizeof(char *));
    if (!r->environments) return -ENOMEM;
    json_array_foreach(v, i, e)
    {
        const char *s = short_string(e, 200);
        if (!s) return fail(p, "when.environments", "entry %zu is not a name of 1-200 bytes", i);
        if (!(r->environments[r->nenvironments++] = strdup(s))) return -ENOMEM;
    }
    return 0;
}

static int parse_tags(struct parse *p, const json_t *v, struct alert_rule *r)
{
    const char *key;
    json_t *val;
    if (!json_is_object(v) || json_object_size(v) > ALERT_RULE_LIST_MAX)
        return fail(p, "when.tags", "an object of at most %d tag: value pairs",
                    ALERT_RULE_LIST_MAX);
    r->tags = calloc(json_object_size(v) + 1, sizeof(*r->tags));
    if (!r->tags) return -ENOMEM;
    json_object_foreach((json_t *)v, key, val)
    {
        const char *s = short_string(val, 200);
        if (strlen(key) < 1 || strlen(key) > 32 || !s)
            return fail(p, "when.tags",
                        "tag %.32s: a key of 1-32 bytes with a string value of 1-200", key);
        struct alert_rule_tag *t = &r->tags[r->ntags++];
        if (!(t->key = strdup(key)) || !(t->value = strdup(s))) return -ENOMEM;
    }
    return 0;
}

/* {"count": N, "window_minutes": M} */
static int parse_threshold(struct parse *p, const char *field, const json_t *v, int64_t *count,
                           int *window)
{
    static const char *const keys[] = {"count", "window_minutes", NULL};
    const char *bad;
    json_t *c = json_object_get(v, "count"), *w = json_object_get(v, "window_minutes");
    if (!json_is_object(v) || !only_keys(v, keys, &bad) || !json_is_integer(c) ||
        !json_is_integer(w) || json_integer_value(c) < 1 || json_integer_value(c) > 1000000000 ||
        json_integer_value(w) < 1 || json_integer_value(w) > ALERT_RULE_WINDOW_MAX)
        return fail(p, field, "{\"count\": 1..1000000000, \"window_minutes\": 1..%d}",
                    ALERT_RULE_WINDOW_MAX);
    *count = json_integer_value(c);
    *window = (int)json_integer_value(w);
    return 0;
}

static int parse_when(struct parse *p, const json_t *when, struct alert_rule *r)
{
    static const char *const keys[] = {
        "kinds", "level_at_least", "environments", "tags", "frequency", "users", NULL};
    const char *bad;
    if (!json_is_object(when)) return fail(p, "when", "an object");
    if (!only_keys(when, keys, &bad)) return fail(p, "when", "unknown field %.40s", bad);
    int rc = parse_kinds(p, json_object_get(when, "kinds"), r);
    json_t *v;
    r->level_min = -1;
    if (rc == 0 && (v = json_object_get(when, "level_at_least")) &&
        (r->level_min = alert_level_index(json_string_value(v))) < 0)
        rc = fail(p, "when.level_at_least", "one of debug, info, warning, error, fatal");
    if (rc == 0 && (v = json_object_get(when, "environments"))) rc = parse_environments(p, v, r);
    if (rc == 0 && (v = json_object_get(when, "tags"))) rc = parse_tags(p, v, r);
    if (rc == 0 && (v = json_object_get(when, "frequency")))
        rc = parse_threshold(p, "when.frequency", v, &r->frequency_count, &r->frequency_window);
    if (rc == 0 && (v = json_object_get(when, "users")))
        rc = parse_threshold(p, "when.users", v, &r->users_count, &r->users_window);
    if (rc != 0) return rc;
    bool thresholds = r->frequency_count || r->users_count;
    if ((r->kinds & ALERT_KIND_FREQUENCY) && !thresholds)
        return fail(p, "when", "the frequency kind needs \"frequency\" or \"users\"");
    if (!(r->kinds & ALERT_KIND_FREQUENCY) && thresholds)
        return fail(p, "when", "\"frequency\" and \"users\" apply to the frequency kind only");
    return 0;
}

static int parse_destinations(struct parse *p, const json_t *v, struct alert_rule *r)
{
    size_t i;
    json_t *d;
    if (!v) {
        r->all_destinations = true;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > ALERT_RULE_LIST_MAX)
        return fail(p, "destinations", "a list of 1 to %d destination ids (leave it out for all)",
                    ALERT_RULE_LIST_MAX);
    r->destinations = calloc(json_array_size(v), sizeof(int64_t));
    if (!r->destinations) return -ENOMEM;
    json_array_foreach(v, i, d)
    {
        if (!json_is_integer(d) || json_integer_value(d) < 1)
            return fail(p, "destinations", "entry %zu is not a destination id", i);
        r->destinations[r->ndestinations++] = json_integer_value(d);
    }
    return 0;
}

static int parse_rule(struct parse *p, const json_t *v, struct alert_rule *r,
                      const struct alert_rules *so_far)
{
    static const char *const keys[] = {"name", "when", "destinations", "throttle_minutes", NULL};
    const char *bad;
    if (!json_is_object(v)) return fail(p, "", "a rule object");
    if (!only_keys(v, keys, &bad)) return fail(p, "", "unknown field %.40s", bad);
    const char *name = short_string(json_object_get(v, "name"), ALERT_RULE_NAME_MAX);
    if (!name) return fail(p, "name", "a name of 1-%d bytes", ALERT_RULE_NAME_MAX);
    for (size_t i = 0; i < so_far->n; i++)
        if (strcmp(so_far->rule[i].name, name) == 0)
            return fail(p, "name", "\"%s\" names another rule too", name);
    if (!(r->name = strdup(name))) return -ENOMEM;
    int rc = parse_when(p, json_object_get(v, "when"), r);
    if (rc == 0) rc = parse_destinations(p, json_object_get(v, "destinations"), r);
    json_t *t = json_object_get(v, "throttle_minutes");
    if (rc == 0 && t) {
        if (!json_is_integer(t) || json_integer_value(t) < 0 ||
            json_integer_value(t) > ALERT_RULE_WINDOW_MAX)
            return fail(p, "throttle_minutes", "0..%d", ALERT_RULE_WINDOW_MAX);
        r->throttle_minutes = (int)json_integer_value(t);
    }
    return rc;
}

int alert_rules_parse(const json_t *doc, struct alert_rules **out, char *err, size_t errlen)
{
    struct parse p = {err, errlen, 0};
    json_t *list = json_object_get(doc, "rules");
    *out = NULL;
    if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_array(list) ||
        json_array_size(list) > ALERT_RULES_MAX) {
        snprintf(err, errlen, "rules: expected {\"rules\": [ ... ]} with at most %d rules",
                 ALERT_RULES_MAX);
        return -EINVAL;
    }
    struct alert_rules *rules = calloc(1, sizeof(*rules));
    if (!rules || !(rules->rule = calloc(json_array_size(list) + 1, sizeof(*rules->rule)))) {
        free(rules);
        return -ENOMEM;
    }
    int rc = 0;
    json_t *v;
    json_array_foreach(list, p.index, v)
    {
        rc = parse_rule(&p, v, &rules->rule[rules->n], rules);
        rules->n++;
        if (rc != 0) break;
    }
    if (rc != 0) {
        alert_rules_free(rules);
        return rc;
    }
    *out = rules;
    return 0;
}

struct alert_rules *alert_rules_default(void)
{
    struct alert_rules *rules = calloc(1, sizeof(*rules));
    if (!rules || !(rules->rule = calloc(1, sizeof(*rules->rule))) ||
        !(rules->rule[0].name = strdup("default"))) {
        alert_rules_free(rules);
        return NULL;
    }
    rules->n = 1;
    rules->is_default = true;
    rules->rule[0].kinds = ALERT_KIND_NEW | ALERT_KIND_REGRESSION | ALERT_KIND_ESCALATING;
    rules->rule[0].level_min = -1;
    rules->rule[0].all_destinations = true;
    return rules;
}

void alert_rules_free(struct alert_rules *rules)
{
    if (!rules) return;
    for (size_t i = 0; rules->rule && i < rules->n; i++) {
        struct alert_rule *r = &rules->rule[i];
        free(r->name);
        for (size_t j = 0; j < r->nenvironments; j++)
            free(r->environments[j]);
        free(r->environments);
        for (size_t j = 0; j < r->ntags; j++) {
            free(r->tags[j].key);
            free(r->tags[j].value);
        }
        free(r->tags);
        free(r->destinations);
    }
    free(rules->rule);
    free(rules);
}

static json_t *threshold_json(int64_t count, int window)
{
    return json_pack("{s:I, s:i}", "count", (json_int_t)count, "window_minutes", window);
}

static json_t *when_json(const struct alert_rule *r)
{
    json_t *when = json_object(), *kinds = json_array();
    for (unsigned i = 0; i < 4; i++)
        if (r->kinds & (1u << i)) json_array_append_new(kinds, json_string(KINDS[i]));
    json_object_set_new(when, "kinds", kinds);
    if (r->level_min >= 0)
        json_object_set_new(when, "level_at_least", json_string(LEVELS[r->level_min]));
    if (r->nenvironments) {
        json_t *envs = json_array();
        for (size_t i = 0; i < r->nenvironments; i++)
            json_array_append_new(envs, json_string(r->environments[i]));
        json_object_set_new(when, "environments", envs);
    }
    if (r->ntags) {
        json_t *tags = json_object();
        for (size_t i = 0; i < r->ntags; i++)
            json_object_set_new(tags, r->tags[i].key, json_string(r->tags[i].value));
        json_object_set_new(when, "tags", tags);
    }
    if (r->frequency_count)
        json_object_set_new(when, "frequency",
                            threshold_json(r->frequency_count, r->frequency_window));
    if (r->users_count)
        json_object_set_new(when, "users", threshold_json(r->users_count, r->users_window));
    return when;
}

json_t *alert_rules_json(const struct alert_rules *rules)
{
    json_t *list = json_array();
    for (size_t i = 0; i < rules->n; i++) {
        const struct alert_rule *r = &rules->rule[i];
        json_t *rule = json_pack("{s:s, s:o, s:i}", "name", r->name, "when", when_json(r),
                                 "throttle_minutes", r->throttle_minutes);
        if (!r->all_destinations) {
            json_t *d = json_array();
            for (size_t j = 0; j < r->ndestinations; j++)
                json_array_append_new(d, json_integer(r->destinations[j]));
            json_object_set_new(rule, "destinations", d);
        }
        json_array_append_new(list, rule);
    }
    return json_pack("{s:o, s:b}", "rules", list, "default", rules->is_default);
}

static const char *tag_value(const struct event_tags *tags, const char *key)
{
    for (size_t i = 0; tags && i < tags->n; i++)
        if (strcmp(tags->tag[i].key, key) == 0) return tags->tag[i].value;
    return NULL;
}

bool alert_rule_matches(const struct alert_rule *r, unsigned kind, const char *level,
                        const char *environment, const struct event_tags *tags)
{
    if (!(r->kinds & kind)) return false;
    if (r->level_min >= 0 && alert_level_index(level ? level : "error") < r->level_min)
        return false;
    if (r->nenvironments) {
        bool found = false;
        for (size_t i = 0; environment && i < r->nenvironments && !found; i++)
            found = strcmp(r->environments[i], environment) == 0;
        if (!found) return false;
    }
    for (size_t i = 0; i < r->ntags; i++) {
        const char *v = tag_value(tags, r->tags[i].key);
        if (!v || strcmp(v, r->tags[i].value) != 0) return false;
    }
    return true;
}
