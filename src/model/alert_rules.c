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

static bool only_keys(const cJSON *obj, const char *const *allowed, const char **bad)
{
    const char *key;
    cJSON *v;
    json_object_each((cJSON *)obj, key, v)
    {
        (void)v;
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
static const char *short_string(const cJSON *v, size_t max)
{
    const char *s = json_str(v);
    size_t len = s ? strlen(s) : 0;
    return len >= 1 && len <= max ? s : NULL;
}

static int parse_kinds(struct parse *p, const cJSON *v, struct alert_rule *r)
{
    size_t i;
    cJSON *k;
    if (!cJSON_IsArray(v) || json_size(v) == 0)
        return fail(p, "when.kinds", "a non-empty list of new, regression, escalating, frequency");
    json_array_each(v, i, k)
    {
        unsigned kind = alert_kind_from_name(json_str(k));
        if (!kind)
            return fail(p, "when.kinds",
                        "unknown kind at %zu (new, regression, escalating, frequency)", i);
        r->kinds |= kind;
    }
    return 0;
}

static int parse_environments(struct parse *p, const cJSON *v, struct alert_rule *r)
{
    size_t i;
    cJSON *e;
    if (!cJSON_IsArray(v) || json_size(v) > ALERT_RULE_LIST_MAX)
        return fail(p, "when.environments", "a list of at most %d names", ALERT_RULE_LIST_MAX);
    r->environments = calloc(json_size(v) + 1, sizeof(char *));
    if (!r->environments) return -ENOMEM;
    json_array_each(v, i, e)
    {
        const char *s = short_string(e, 200);
        if (!s) return fail(p, "when.environments", "entry %zu is not a name of 1-200 bytes", i);
        if (!(r->environments[r->nenvironments++] = strdup(s))) return -ENOMEM;
    }
    return 0;
}

static int parse_tags(struct parse *p, const cJSON *v, struct alert_rule *r)
{
    const char *key;
    cJSON *val;
    if (!cJSON_IsObject(v) || json_size(v) > ALERT_RULE_LIST_MAX)
        return fail(p, "when.tags", "an object of at most %d tag: value pairs",
                    ALERT_RULE_LIST_MAX);
    r->tags = calloc(json_size(v) + 1, sizeof(*r->tags));
    if (!r->tags) return -ENOMEM;
    json_object_each((cJSON *)v, key, val)
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
static int parse_threshold(struct parse *p, const char *field, const cJSON *v, int64_t *count,
                           int *window)
{
    static const char *const keys[] = {"count", "window_minutes", NULL};
    const char *bad;
    cJSON *c = json_get(v, "count"), *w = json_get(v, "window_minutes");
    if (!cJSON_IsObject(v) || !only_keys(v, keys, &bad) || !json_is_int(c) || !json_is_int(w) ||
        json_i64(c) < 1 || json_i64(c) > 1000000000 || json_i64(w) < 1 ||
        json_i64(w) > ALERT_RULE_WINDOW_MAX)
        return fail(p, field, "{\"count\": 1..1000000000, \"window_minutes\": 1..%d}",
                    ALERT_RULE_WINDOW_MAX);
    *count = json_i64(c);
    *window = (int)json_i64(w);
    return 0;
}

static int parse_when(struct parse *p, const cJSON *when, struct alert_rule *r)
{
    static const char *const keys[] = {
        "kinds", "level_at_least", "environments", "tags", "frequency", "users", NULL};
    const char *bad;
    if (!cJSON_IsObject(when)) return fail(p, "when", "an object");
    if (!only_keys(when, keys, &bad)) return fail(p, "when", "unknown field %.40s", bad);
    int rc = parse_kinds(p, json_get(when, "kinds"), r);
    cJSON *v;
    r->level_min = -1;
    if (rc == 0 && (v = json_get(when, "level_at_least")) &&
        (r->level_min = alert_level_index(json_str(v))) < 0)
        rc = fail(p, "when.level_at_least", "one of debug, info, warning, error, fatal");
    if (rc == 0 && (v = json_get(when, "environments"))) rc = parse_environments(p, v, r);
    if (rc == 0 && (v = json_get(when, "tags"))) rc = parse_tags(p, v, r);
    if (rc == 0 && (v = json_get(when, "frequency")))
        rc = parse_threshold(p, "when.frequency", v, &r->frequency_count, &r->frequency_window);
    if (rc == 0 && (v = json_get(when, "users")))
        rc = parse_threshold(p, "when.users", v, &r->users_count, &r->users_window);
    if (rc != 0) return rc;
    bool thresholds = r->frequency_count || r->users_count;
    if ((r->kinds & ALERT_KIND_FREQUENCY) && !thresholds)
        return fail(p, "when", "the frequency kind needs \"frequency\" or \"users\"");
    if (!(r->kinds & ALERT_KIND_FREQUENCY) && thresholds)
        return fail(p, "when", "\"frequency\" and \"users\" apply to the frequency kind only");
    return 0;
}

static int parse_destinations(struct parse *p, const cJSON *v, struct alert_rule *r)
{
    size_t i;
    cJSON *d;
    if (!v) {
        r->all_destinations = true;
        return 0;
    }
    if (!cJSON_IsArray(v) || json_size(v) < 1 || json_size(v) > ALERT_RULE_LIST_MAX)
        return fail(p, "destinations", "a list of 1 to %d destination ids (leave it out for all)",
                    ALERT_RULE_LIST_MAX);
    r->destinations = calloc(json_size(v), sizeof(int64_t));
    if (!r->destinations) return -ENOMEM;
    json_array_each(v, i, d)
    {
        if (!json_is_int(d) || json_i64(d) < 1)
            return fail(p, "destinations", "entry %zu is not a destination id", i);
        r->destinations[r->ndestinations++] = json_i64(d);
    }
    return 0;
}

static int parse_rule(struct parse *p, const cJSON *v, struct alert_rule *r,
                      const struct alert_rules *so_far)
{
    static const char *const keys[] = {"name", "when", "destinations", "throttle_minutes", NULL};
    const char *bad;
    if (!cJSON_IsObject(v)) return fail(p, "", "a rule object");
    if (!only_keys(v, keys, &bad)) return fail(p, "", "unknown field %.40s", bad);
    const char *name = short_string(json_get(v, "name"), ALERT_RULE_NAME_MAX);
    if (!name) return fail(p, "name", "a name of 1-%d bytes", ALERT_RULE_NAME_MAX);
    for (size_t i = 0; i < so_far->n; i++)
        if (strcmp(so_far->rule[i].name, name) == 0)
            return fail(p, "name", "\"%s\" names another rule too", name);
    if (!(r->name = strdup(name))) return -ENOMEM;
    int rc = parse_when(p, json_get(v, "when"), r);
    if (rc == 0) rc = parse_destinations(p, json_get(v, "destinations"), r);
    cJSON *t = json_get(v, "throttle_minutes");
    if (rc == 0 && t) {
        if (!json_is_int(t) || json_i64(t) < 0 || json_i64(t) > ALERT_RULE_WINDOW_MAX)
            return fail(p, "throttle_minutes", "0..%d", ALERT_RULE_WINDOW_MAX);
        r->throttle_minutes = (int)json_i64(t);
    }
    return rc;
}

int alert_rules_parse(const cJSON *doc, struct alert_rules **out, char *err, size_t errlen)
{
    struct parse p = {err, errlen, 0};
    cJSON *list = json_get(doc, "rules");
    *out = NULL;
    if (!cJSON_IsObject(doc) || json_size(doc) != 1 || !cJSON_IsArray(list) ||
        json_size(list) > ALERT_RULES_MAX) {
        snprintf(err, errlen, "rules: expected {\"rules\": [ ... ]} with at most %d rules",
                 ALERT_RULES_MAX);
        return -EINVAL;
    }
    struct alert_rules *rules = calloc(1, sizeof(*rules));
    if (!rules || !(rules->rule = calloc(json_size(list) + 1, sizeof(*rules->rule)))) {
        free(rules);
        return -ENOMEM;
    }
    int rc = 0;
    cJSON *v;
    json_array_each(list, p.index, v)
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

static cJSON *threshold_json(int64_t count, int window)
{
    return json_build("{s:I, s:i}", "count", (int64_t)count, "window_minutes", window);
}

static cJSON *when_json(const struct alert_rule *r)
{
    cJSON *when = cJSON_CreateObject(), *kinds = cJSON_CreateArray();
    for (unsigned i = 0; i < 4; i++)
        if (r->kinds & (1u << i)) json_push(kinds, cJSON_CreateString(KINDS[i]));
    json_set(when, "kinds", kinds);
    if (r->level_min >= 0)
        json_set(when, "level_at_least", cJSON_CreateString(LEVELS[r->level_min]));
    if (r->nenvironments) {
        cJSON *envs = cJSON_CreateArray();
        for (size_t i = 0; i < r->nenvironments; i++)
            json_push(envs, cJSON_CreateString(r->environments[i]));
        json_set(when, "environments", envs);
    }
    if (r->ntags) {
        cJSON *tags = cJSON_CreateObject();
        for (size_t i = 0; i < r->ntags; i++)
            json_set(tags, r->tags[i].key, cJSON_CreateString(r->tags[i].value));
        json_set(when, "tags", tags);
    }
    if (r->frequency_count)
        json_set(when, "frequency", threshold_json(r->frequency_count, r->frequency_window));
    if (r->users_count) json_set(when, "users", threshold_json(r->users_count, r->users_window));
    return when;
}

cJSON *alert_rules_json(const struct alert_rules *rules)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < rules->n; i++) {
        const struct alert_rule *r = &rules->rule[i];
        cJSON *rule = json_build("{s:s, s:o, s:i}", "name", r->name, "when", when_json(r),
                                 "throttle_minutes", r->throttle_minutes);
        if (!r->all_destinations) {
            cJSON *d = cJSON_CreateArray();
            for (size_t j = 0; j < r->ndestinations; j++)
                json_push(d, json_new_int(r->destinations[j]));
            json_set(rule, "destinations", d);
        }
        json_push(list, rule);
    }
    return json_build("{s:o, s:b}", "rules", list, "default", rules->is_default);
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
