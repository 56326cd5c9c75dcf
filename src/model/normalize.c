/* normalize — one shape for every event (see normalize.h). */
#include "model/normalize.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "model/event.h"
#include "model/normalize_message.h"
#include "model/normalize_trim.h"

/* Replaces (or adds) key with item; takes ownership of item. */
static int set_item(cJSON *obj, const char *key, cJSON *item)
{
    if (!item) return -ENOMEM;
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item) ? 0 : -ENOMEM;
    return cJSON_AddItemToObject(obj, key, item) ? 0 : -ENOMEM;
}

static int set_string(cJSON *obj, const char *key, const char *s)
{
    return set_item(obj, key, cJSON_CreateString(s));
}

static int normalize_exception(cJSON *root)
{
    cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "exception");
    if (!ex) return 0;
    if (cJSON_IsArray(ex)) {
        /* sentry-go 0.x: a bare list of exceptions. */
        cJSON *wrap = cJSON_CreateObject();
        if (!wrap) return -ENOMEM;
        cJSON_DetachItemViaPointer(root, ex);
        cJSON_AddItemToObject(wrap, "values", ex);
        return cJSON_AddItemToObject(root, "exception", wrap) ? 0 : -ENOMEM;
    }
    if (!cJSON_IsObject(ex)) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "exception");
        return 0;
    }
    cJSON *values = cJSON_GetObjectItemCaseSensitive(ex, "values");
    if (cJSON_IsArray(values)) return 0;
    if (values) {
        cJSON_DeleteItemFromObjectCaseSensitive(ex, "values");
        return set_item(ex, "values", cJSON_CreateArray());
    }
    if (cJSON_GetObjectItemCaseSensitive(ex, "type") ||
        cJSON_GetObjectItemCaseSensitive(ex, "value") ||
        cJSON_GetObjectItemCaseSensitive(ex, "stacktrace")) {
        /* raven-go: one bare exception object. */
        cJSON *list = cJSON_CreateArray();
        cJSON *wrap = cJSON_CreateObject();
        if (!list || !wrap) {
            cJSON_Delete(list);
            cJSON_Delete(wrap);
            return -ENOMEM;
        }
        cJSON_DetachItemViaPointer(root, ex);
        cJSON_AddItemToArray(list, ex);
        cJSON_AddItemToObject(wrap, "values", list);
        return cJSON_AddItemToObject(root, "exception", wrap) ? 0 : -ENOMEM;
    }
    return set_item(ex, "values", cJSON_CreateArray());
}

static const char *level_from_text(const char *s)
{
    static const struct {
        const char *name, *level;
    } levels[] = {
        {"fatal", "fatal"},  {"critical", "fatal"}, {"error", "error"}, {"warning", "warning"},
        {"warn", "warning"}, {"info", "info"},      {"log", "info"},    {"debug", "debug"},
    };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcasecmp(s, levels[i].name) == 0) return levels[i].level;
    return "error";
}

static int normalize_level(cJSON *json, struct grouped_event *ev)
{
    cJSON *lv = cJSON_GetObjectItemCaseSensitive(json, "level");
    ev->level = cJSON_IsString(lv) ? level_from_text(lv->valuestring) : "error";
    if (cJSON_IsString(lv) && strcmp(lv->valuestring, ev->level) == 0) return 0;
    return set_string(json, "level", ev->level);
}

static int normalize_platform(cJSON *root)
{
    cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "platform");
    if (cJSON_IsString(p) && p->valuestring[0]) return 0;
    return set_string(root, "platform", "other");
}

static int normalize_timestamp(cJSON *json, struct grouped_event *ev)
{
    cJSON *ts = cJSON_GetObjectItemCaseSensitive(json, "timestamp");
    int64_t ms = ev->received_at_ms;
    if (cJSON_IsNumber(ts) && isfinite(ts->valuedouble) && ts->valuedouble >= 0 &&
        ts->valuedouble < 253402300800.0) {
        ms = (int64_t)llround(ts->valuedouble * 1000.0);
    } else if (cJSON_IsString(ts)) {
        char *end;
        double secs = strtod(ts->valuestring, &end);
        if (end != ts->valuestring && *end == '\0' && isfinite(secs) && secs >= 0 &&
            secs < 253402300800.0)
            ms = (int64_t)llround(secs * 1000.0);
        else if (normalize_parse_rfc3339(ts->valuestring, &ms) != 0)
            ms = ev->received_at_ms;
    }
    ev->timestamp_ms = ms;
    char buf[32];
    normalize_format_rfc3339(ms, buf, sizeof(buf));
    return set_string(json, "timestamp", buf);
}

/* A string (or number) member as an owned copy, NULL when absent or empty. */
static int dup_field(cJSON *root, const char *key, char **out)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    char buf[32];
    const char *s = NULL;
    if (cJSON_IsString(v) && v->valuestring[0]) {
        s = v->valuestring;
    } else if (cJSON_IsNumber(v)) {
        snprintf(buf, sizeof(buf), "%.17g", v->valuedouble);
        s = buf;
    }
    free(*out);
    *out = NULL;
    if (!s) return 0;
    *out = strdup(s);
    return *out ? 0 : -ENOMEM;
}

int normalize_event(cJSON *json, struct grouped_event *ev)
{
    if (!cJSON_IsObject(json)) return -EINVAL;
    char hex[33];
    event_id_hex(ev->event_id, hex);
    int rc;
    if ((rc = set_string(json, "event_id", hex)) != 0 || (rc = normalize_exception(json)) != 0 ||
        (rc = normalize_message(json)) != 0 || (rc = normalize_level(json, ev)) != 0 ||
        (rc = normalize_platform(json)) != 0 || (rc = normalize_timestamp(json, ev)) != 0 ||
        (rc = dup_field(json, "environment", &ev->environment)) != 0 ||
        (rc = dup_field(json, "release", &ev->release)) != 0)
        return rc;
    normalize_trim(json);
    return 0;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -EINVAL;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect(const char **p, const char *any)
{
    if (!**p || !strchr(any, **p)) return -EINVAL;
    (*p)++;
    return 0;
}

/* Zone suffix: "", "Z", "+hh:mm", "+hhmm", "+hh". Offset in seconds. */
static int parse_zone(const char *p, long *offset_s)
{
    *offset_s = 0;
    if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0')) return 0;
    if (*p != '+' && *p != '-') return -EINVAL;
    int sign = *p == '-' ? -1 : 1, hh, mm = 0;
    p++;
    if (digits(&p, 2, &hh) != 0) return -EINVAL;
    if (*p == ':') p++;
    if (*p && digits(&p, 2, &mm) != 0) return -EINVAL;
    if (*p || hh > 23 || mm > 59) return -EINVAL;
    *offset_s = sign * (hh * 3600L + mm * 60L);
    return 0;
}

int normalize_parse_rfc3339(const char *s, int64_t *out_ms)
{
    const char *p = s;
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, ms = 0;
    if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) || expect(&p, "-") ||
        digits(&p, 2, &d) || expect(&p, "Tt ") || digits(&p, 2, &h) || expect(&p, ":") ||
        digits(&p, 2, &mi) || expect(&p, ":") || digits(&p, 2, &sec))
        return -EINVAL;
    if (*p == '.' || *p == ',') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n < 3) ms = ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0) return -EINVAL;
        for (; n < 3; n++)
            ms *= 10;
    }
    long offset_s;
    if (parse_zone(p, &offset_s) != 0) return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *out_ms = ((int64_t)t - offset_s) * 1000 + ms;
    return 0;
}

void normalize_format_rfc3339(int64_t ms, char *out, size_t outlen)
{
    time_t t = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        t--;
    }
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}
