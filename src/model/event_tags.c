/* event_tags — see event_tags.h. */
#include "model/event_tags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pairs gathered before the one allocation; values formatted from numbers
 * or built ("id:…") live in their own small buffers. */
struct pending {
    size_t n;
    const char *key[EVENT_TAGS_MAX];
    const char *value[EVENT_TAGS_MAX];
    char built[EVENT_TAGS_MAX][EVENT_TAG_VALUE_MAX + 1];
};

static int key_seen(const struct pending *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->key[i], key) == 0) return 1;
    return 0;
}

static void add(struct pending *p, const char *key, const char *value)
{
    if (p->n >= EVENT_TAGS_MAX || !key || !value || !*key || !*value) return;
    if (strlen(key) > EVENT_TAG_KEY_MAX || strlen(value) > EVENT_TAG_VALUE_MAX) return;
    if (key_seen(p, key)) return;
    p->key[p->n] = key;
    p->value[p->n] = value;
    p->n++;
}

/* A tag value from a JSON scalar (strings, numbers, booleans). */
static void add_json(struct pending *p, const char *key, const cJSON *v)
{
    if (p->n >= EVENT_TAGS_MAX || !v) return;
    char *buf = p->built[p->n];
    if (cJSON_IsString(v)) {
        add(p, key, v->valuestring);
        return;
    }
    if (cJSON_IsBool(v))
        snprintf(buf, EVENT_TAG_VALUE_MAX + 1, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v))
        snprintf(buf, EVENT_TAG_VALUE_MAX + 1, "%.17g", v->valuedouble);
    else
        return;
    add(p, key, buf);
}

/* Sentry's user tag: the first of id, email, username, ip_address. */
static void add_user(struct pending *p, const cJSON *user)
{
    static const char *const fields[][2] = {
        {"id", "id"}, {"email", "email"}, {"username", "username"}, {"ip_address", "ip"}};
    if (!cJSON_IsObject(user) || p->n >= EVENT_TAGS_MAX) return;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(user, fields[i][0]);
        char val[EVENT_TAG_VALUE_MAX + 1];
        if (cJSON_IsString(v) && *v->valuestring)
            snprintf(val, sizeof val, "%s", v->valuestring);
        else if (cJSON_IsNumber(v))
            snprintf(val, sizeof val, "%.17g", v->valuedouble);
        else
            continue;
        int len = snprintf(p->built[p->n], EVENT_TAG_VALUE_MAX + 1, "%s:%s", fields[i][1], val);
        if (len > 0 && len <= EVENT_TAG_VALUE_MAX) add(p, "user", p->built[p->n]);
        return;
    }
}

/* user.id and user.email as tags of their own, so that issue search
 * (user.id:…, user.email:…) finds a user whichever field the "user" tag
 * shows. */
static void add_user_fields(struct pending *p, const cJSON *user)
{
    if (!cJSON_IsObject(user)) return;
    add_json(p, "user.id", cJSON_GetObjectItemCaseSensitive(user, "id"));
    add_json(p, "user.email", cJSON_GetObjectItemCaseSensitive(user, "email"));
}

static void add_event_tags(struct pending *p, const cJSON *tags)
{
    const cJSON *t;
    if (cJSON_IsObject(tags)) {
        cJSON_ArrayForEach(t, tags) add_json(p, t->string, t);
        return;
    }
    if (!cJSON_IsArray(tags)) return;
    cJSON_ArrayForEach(t, tags)
    {
        if (cJSON_GetArraySize(t) != 2) continue;
        const cJSON *k = cJSON_GetArrayItem(t, 0);
        if (cJSON_IsString(k)) add_json(p, k->valuestring, cJSON_GetArrayItem(t, 1));
    }
}

int event_tags_extract(const cJSON *event, struct event_tags **out)
{
    struct pending pend; /* ~10 KB on the worker's stack, no allocation */
    struct pending *p = &pend;
    p->n = 0;
    static const char *const top[] = {"environment", "release", "server_name"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        add_json(p, top[i], cJSON_GetObjectItemCaseSensitive(event, top[i]));
    add_user(p, cJSON_GetObjectItemCaseSensitive(event, "user"));
    add_user_fields(p, cJSON_GetObjectItemCaseSensitive(event, "user"));
    add_event_tags(p, cJSON_GetObjectItemCaseSensitive(event, "tags"));

    *out = NULL;
    if (p->n == 0) return 0;
    size_t bytes = sizeof(struct event_tags) + p->n * sizeof(struct event_tag);
    for (size_t i = 0; i < p->n; i++)
        bytes += strlen(p->key[i]) + strlen(p->value[i]) + 2;
    struct event_tags *t = malloc(bytes);
    if (!t) return -ENOMEM;
    char *s = (char *)&t->tag[p->n];
    t->n = p->n;
    for (size_t i = 0; i < p->n; i++) {
        size_t kl = strlen(p->key[i]) + 1, vl = strlen(p->value[i]) + 1;
        t->tag[i].key = memcpy(s, p->key[i], kl);
        s += kl;
        t->tag[i].value = memcpy(s, p->value[i], vl);
        s += vl;
    }
    *out = t;
    return 0;
}
