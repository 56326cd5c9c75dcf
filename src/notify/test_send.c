#include "notify/test_send.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "notify/alert_data.h"
#include "notify/channel.h"
#include "notify/format.h"
#include "notify/retry.h"

static json_t *outcome(bool ok, long status, long long duration_ms, const char *error)
{
    return json_pack("{s:b, s:o, s:I, s:o}", "ok", ok, "status_code",
                     status ? json_integer(status) : json_null(), "duration_ms",
                     (json_int_t)duration_ms, "error",
                     error && *error ? json_string(error) : json_null());
}

int notify_send_test(struct server *srv, const json_t *dest, const char *project_name,
                     json_t **result)
{
    char err[512] = "";
    struct notify_format *fmt = NULL;
    struct notify_message msg = {0};
    struct channel_xfer x = {0};
    json_t *alert = NULL, *dest_public = NULL;
    long long started = notify_now_ms();
    *result = NULL;
    int rc = notify_format_new(srv->cfg->lua_dir, &fmt, err, sizeof err);
    if (rc < 0) {
        log_error("test notification: cannot load the formatters", "error=%s", err);
        return rc;
    }
    int64_t project_id = json_integer_value(json_object_get(dest, "project_id"));
    const char *type = json_string_value(json_object_get(dest, "type"));
    alert = notify_sample_alert(project_id, project_name ? project_name : "", srv->cfg->public_url,
                                started);
    dest_public = json_pack("{s:O, s:O, s:O}", "id", json_object_get(dest, "id"), "type",
                            json_object_get(dest, "type"), "name", json_object_get(dest, "name"));
    rc = -ENOMEM;
    if (!alert || !dest_public)
        goto done;
    rc = 0;
    if (notify_format_render(fmt, alert, dest_public, &msg, err, sizeof err) < 0) {
        *result = outcome(false, 0, notify_now_ms() - started, err);
        goto done;
    }
    if (channel_type_parse(type) == CHANNEL_INTERNAL_LOGGER) {
        log_info("alert notification", "destination=%lld name=%s message=%s test=true",
                 (long long)json_integer_value(json_object_get(dest, "id")),
                 json_string_value(json_object_get(dest, "name")), msg.body);
        *result = outcome(true, 0, notify_now_ms() - started, NULL);
        goto done;
    }
    struct channel_opts opts;
    channel_opts_init(&opts, srv->cfg->allow_private_destinations);
    if (channel_xfer_prepare(&x, &opts, dest, "test", started, &msg, err, sizeof err) < 0) {
        *result = outcome(false, 0, notify_now_ms() - started, err);
        goto done;
    }
    CURLcode crc = curl_easy_perform(x.easy);
    long long finished = notify_now_ms();
    struct channel_result r;
    channel_xfer_result(&x, crc, finished / 1000, &r);
    bool ok = retry_classify(r.transport_ok, r.permanent, x.smtp ? 0 : r.status) == RETRY_SENT;
    *result = outcome(ok, r.status, finished - started, r.error);
    log_info("test notification", "destination=%lld type=%s ok=%s status=%ld duration_ms=%lld error=%s",
             (long long)json_integer_value(json_object_get(dest, "id")), type, ok ? "true" : "false",
             r.status, finished - started, r.error[0] ? r.error : "-");
done:
    if (rc == 0 && !*result)
        rc = -ENOMEM;
    channel_xfer_cleanup(&x);
    notify_message_clear(&msg);
    json_decref(alert);
    json_decref(dest_public);
    notify_format_free(fmt);
    return rc;
}
