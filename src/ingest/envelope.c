/* envelope — Sentry envelope parser (envelope.h). */
#include "ingest/envelope.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/json.h"
#include "model/event.h"

static const char *const type_names[ENVELOPE_ITEM_TYPE_COUNT] = {
    [ENVELOPE_ITEM_EVENT] = "event",
    [ENVELOPE_ITEM_TRANSACTION] = "transaction",
    [ENVELOPE_ITEM_SESSION] = "session",
    [ENVELOPE_ITEM_SESSIONS] = "sessions",
    [ENVELOPE_ITEM_ATTACHMENT] = "attachment",
    [ENVELOPE_ITEM_CLIENT_REPORT] = "client_report",
    [ENVELOPE_ITEM_USER_REPORT] = "user_report",
    [ENVELOPE_ITEM_FEEDBACK] = "feedback",
    [ENVELOPE_ITEM_CHECK_IN] = "check_in",
    [ENVELOPE_ITEM_OTHER] = "other",
};

const char *envelope_item_type_name(enum envelope_item_type t)
{
    return (unsigned)t < ENVELOPE_ITEM_TYPE_COUNT ? type_names[t] : "other";
}

static enum envelope_item_type type_from_name(const char *s)
{
    for (int t = 0; t < ENVELOPE_ITEM_OTHER; t++)
        if (strcmp(s, type_names[t]) == 0) return (enum envelope_item_type)t;
    return ENVELOPE_ITEM_OTHER;
}

/* The line starting at p: its length without the newline (and a trailing
 * CR), and where the next line starts. */
static const char *line_end(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *next = nl ? nl + 1 : end;
    const char *e = nl ? nl : end;
    if (e > p && e[-1] == '\r') e--;
    return e;
}

static cJSON *parse_object(const char *p, size_t len)
{
    cJSON *j = json_parse(p, len);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int parse_header(const char *p, size_t len, struct envelope *env, const char **why)
{
    env->header = parse_object(p, len);
    if (!env->header) {
        *why = "envelope header is not a JSON object";
        return -EBADMSG;
    }
    cJSON *id = json_get(env->header, "event_id");
    if (cJSON_IsString(id)) {
        if (event_id_parse(id->valuestring, strlen(id->valuestring), env->event_id) != 0) {
            *why = "envelope header event_id is not 32 hex digits";
            return -EBADMSG;
        }
        env->has_event_id = true;
    } else if (id && !cJSON_IsNull(id)) {
        *why = "envelope header event_id is not a string";
        return -EBADMSG;
    }
    env->dsn = json_str(json_get(env->header, "dsn"));
    return 0;
}

/* Reads one item header; sets its type and (when given) its length. */
static int parse_item_header(const char *p, size_t len, struct envelope_item *it, long long *length,
                             const char **why)
{
    cJSON *h = parse_object(p, len);
    if (!h) {
        *why = "item header is not a JSON object";
        return -EBADMSG;
    }
    int rc = -EBADMSG;
    const char *type = json_str(json_get(h, "type"));
    cJSON *jlen = json_get(h, "length");
    if (!type) {
        *why = "item header has no type";
        goto out;
    }
    *length = -1;
    if (jlen && !cJSON_IsNull(jlen)) {
        if (json_int(jlen, -1) < 0) {
            *why = "item length is not a non-negative integer";
            goto out;
        }
        *length = json_int(jlen, -1);
    }
    it->type = type_from_name(type);
    it->header = p;
    it->header_len = len;
    rc = 0;
out:
    cJSON_Delete(h);
    return rc;
}

static int push_item(struct envelope *env, size_t *cap, const struct envelope_item *it,
                     const char **why)
{
    if (env->nitems == *cap) {
        if (*cap >= ENVELOPE_MAX_ITEMS) {
            *why = "too many items in envelope";
            return -EBADMSG;
        }
        size_t ncap = *cap ? *cap * 2 : 4;
        if (ncap > ENVELOPE_MAX_ITEMS) ncap = ENVELOPE_MAX_ITEMS;
        struct envelope_item *n = realloc(env->items, ncap * sizeof(*n));
        if (!n) return -ENOMEM;
        env->items = n;
        *cap = ncap;
    }
    env->items[env->nitems++] = *it;
    env->counts[it->type]++;
    return 0;
}

int envelope_parse(const char *buf, size_t len, struct envelope *env, const char **why)
{
    const char *p = buf, *end = buf + len, *next;
    size_t cap = 0;
    int rc;

    memset(env, 0, sizeof(*env));
    *why = NULL;
    const char *e = line_end(p, end, &next);
    if ((rc = parse_header(p, (size_t)(e - p), env, why))) goto fail;
    for (p = next; p < end; p = next) {
        struct envelope_item it = {0};
        long long length;
        e = line_end(p, end, &next);
        if (e == p) continue; /* blank line between items */
        if ((rc = parse_item_header(p, (size_t)(e - p), &it, &length, why))) goto fail;
        p = next;
        if (length >= 0) {
            if ((unsigned long long)length > (size_t)(end - p)) {
                *why = "item length runs past the end of the envelope";
                rc = -EBADMSG;
                goto fail;
            }
            it.payload = p;
            it.payload_len = (size_t)length;
            next = p + length;
            if (next < end && *next == '\r' && next + 1 < end && next[1] == '\n') next++;
            if (next < end && *next != '\n') {
                *why = "item payload is not followed by a newline";
                rc = -EBADMSG;
                goto fail;
            }
            if (next < end) next++;
        } else {
            it.payload = p;
            it.payload_len = (size_t)(line_end(p, end, &next) - p);
        }
        if ((rc = push_item(env, &cap, &it, why))) goto fail;
    }
    return 0;
fail:
    envelope_free(env);
    if (rc == -ENOMEM) *why = "out of memory";
    return rc;
}

int envelope_header_dsn(const char *line, size_t len, char *dsn, size_t dsn_size)
{
    cJSON *h = parse_object(line, len);
    if (!h) return -EBADMSG;
    const char *v = json_str(json_get(h, "dsn"));
    int rc = -ENOENT;
    if (v && strlen(v) < dsn_size) {
        memcpy(dsn, v, strlen(v) + 1);
        rc = 0;
    }
    cJSON_Delete(h);
    return rc;
}

void envelope_free(struct envelope *env)
{
    cJSON_Delete(env->header);
    free(env->items);
    memset(env, 0, sizeof(*env));
}
