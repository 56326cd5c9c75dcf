#include "notify/alert_data.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void notify_time_rfc3339(long long ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", date, (int)(ms % 1000));
}

static json_t *time_value(const json_t *ms)
{
    if (!json_is_integer(ms)) return json_null();
    char buf[32];
    notify_time_rfc3339(json_integer_value(ms), buf);
    return json_string(buf);
}

static json_t *issue_link(const char *public_url, json_int_t project_id, json_int_t issue_id)
{
    size_t n = strlen(public_url);
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    return json_sprintf("%.*s/projects/%lld/issues/%lld", (int)n, public_url, (long long)project_id,
                        (long long)issue_id);
}

json_t *notify_alert_data(const json_t *ctx, const char *public_url, const char *message_id)
{
    const json_t *alert = json_object_get(ctx, "alert");
    const json_t *issue_in = json_object_get(ctx, "issue");
    json_t *issue = json_deep_copy(issue_in);
    json_t *link =
        issue_link(public_url, json_integer_value(json_object_get(issue_in, "project_id")),
                   json_integer_value(json_object_get(issue_in, "id")));
    if (!issue || !link) goto oom;
    json_object_set_new(issue, "first_seen", time_value(json_object_get(issue_in, "first_seen")));
    json_object_set_new(issue, "last_seen", time_value(json_object_get(issue_in, "last_seen")));
    json_object_set(issue, "link", link);

    json_t *out = json_pack(
        "{s:O, s:O, s:o, s:s, s:O, s:O, s:O, s:o, s:o, s:O, s:O}", "id",
        json_object_get(alert, "id"), "kind", json_object_get(alert, "kind"), "created_at",
        time_value(json_object_get(alert, "created_at")), "message_id", message_id, "title",
        json_object_get(issue_in, "title"), "culprit", json_object_get(issue_in, "culprit"),
        "level", json_object_get(issue_in, "level"), "link", link, "issue", issue, "project",
        json_object_get(ctx, "project"), "event", json_object_get(ctx, "event"));
    return out; /* json_pack took our references to issue and link (s:o) */
oom:
    json_decref(issue);
    json_decref(link);
    return NULL;
}

json_t *notify_sample_alert(int64_t project_id, const char *project_name, const char *public_url,
                            long long now_ms)
{
    json_t *ctx = json_pack(
        "{s:{s:i, s:s, s:I}, s:{s:i, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:s},"
        " s:{s:I, s:s}, s:{s:s, s:s, s:s, s:s}}",
        "alert", "id", 0, "kind", "test", "created_at", (json_int_t)now_ms, "issue", "id", 0,
        "project_id", (json_int_t)project_id, "title", "Test notification from Periscope",
        "culprit", "periscope.test in send_test", "level", "info", "status", "unresolved",
        "first_seen", (json_int_t)now_ms, "last_seen", (json_int_t)now_ms, "count", 1, "hash",
        "00000000000000000000000000000000", "project", "id", (json_int_t)project_id, "name",
        project_name, "event", "event_id", "00000000000000000000000000000000", "environment",
        "test", "release", "test", "level", "info");
    if (!ctx) return NULL;
    json_t *out = notify_alert_data(ctx, public_url, "test");
    json_decref(ctx);
    return out;
}
