/* notify/test_send — "send a test": a sample alert, formatted as the
 * notifier would, sent at once. */
#include "notify/test_send.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/config.h"
#include "notify/alert_data.h"
#include "notify/channel.h"
#include "notify/format.h"
#include "notify/format_hook.h"
#include "notify/retry.h"
#include "lua/registry.h"
#include "lua/script.h"

static json_t *outcome(bool ok, long status, long long duration_ms, const char *error)
{
    return json_pack("{s:b, s:o, s:I, s:o}", "ok", ok, "status_code",
                     status ? json_integer(status) : json_null(), "duration_ms",
                     (json_int_t)duration_ms, "error",
                     error && *error ? json_string(error) : json_null());
}

/* The project's active script in a fresh state, for its format() hook;
 * NULL when it runs the default rules or the script cannot be built
 * (logged: the default formatter is used). Caller closes. */
static struct script *project_script(struct script_registry *scripts, int64_t project_id)
{
    if (!scripts) return NULL;
    int64_t version;
    uint64_t generation;
    char *source = NULL;
    size_t len = 0;
    struct script *s = NULL;
    struct vm_error err = {0};
    if (script_registry_get(scripts, project_id, &version, &source, &len, &generation) == 0 &&
        source && script_open(script_registry_limits(scripts), source, len, &s, &err) != 0)
        log_warn("test notification: the project's script did not build, default format used",
                 "project=%lld error=%s", (long long)project_id, err.message);
    free(source);
    return s;
}

/* The message the notifier would make: the format() hook, else the
 * default (the hook's failure counted in the script status, as the
 * notifier does). */
static int render(struct script_registry *scripts, struct notify_format *fmt, int64_t project_id,
                  const json_t *alert, const json_t *dest_public, struct notify_message *msg,
                  char *err, size_t errlen)
{
    struct script *s = project_script(scripts, project_id);
    struct vm_error hook_err;
    int rc = notify_format_alert(fmt, s, alert, dest_public, msg, &hook_err, err, errlen);
    if (hook_err.kind != VM_ERROR_NONE && scripts)
        script_registry_record_error(scripts, project_id, "format", &hook_err);
    script_close(s);
    return rc;
}

int notify_send_test(const struct config *cfg, struct script_registry *scripts, const json_t *dest,
                     const char *project_name, json_t **result)
{
    char err[512] = "";
    struct notify_format *fmt = NULL;
    struct notify_message msg = {0};
    struct channel_xfer x = {0};
    json_t *alert = NULL, *dest_public = NULL;
    long long started = clock_wall_ms();
    *result = NULL;
    int rc = notify_format_new(cfg->lua_dir, &fmt, err, sizeof err);
    if (rc < 0) {
        log_error("test notification: cannot load the formatters", "error=%s", err);
        return rc;
    }
    int64_t project_id = json_integer_value(json_object_get(dest, "project_id"));
    const char *type = json_string_value(json_object_get(dest, "type"));
    alert =
        notify_sample_alert(project_id, project_name ? project_name : "", cfg->public_url, started);
    dest_public = json_pack("{s:O, s:O, s:O}", "id", json_object_get(dest, "id"), "type",
                            json_object_get(dest, "type"), "name", json_object_get(dest, "name"));
    rc = -ENOMEM;
    if (!alert || !dest_public) goto done;
    rc = 0;
    int rendered = render(scripts, fmt, project_id, alert, dest_public, &msg, err, sizeof err);
    if (rendered != 0) {
        *result = outcome(false, 0, clock_wall_ms() - started,
                          rendered > 0 ? "format() returned false: nothing is sent to this "
                                         "destination"
                                       : err);
        goto done;
    }
    if (channel_type_parse(type) == CHANNEL_INTERNAL_LOGGER) {
        log_info("alert notification", "destination=%lld name=%s message=%s test=true",
                 (long long)json_integer_value(json_object_get(dest, "id")),
                 json_string_value(json_object_get(dest, "name")), msg.body);
        *result = outcome(true, 0, clock_wall_ms() - started, NULL);
        goto done;
    }
    struct channel_opts opts;
    channel_opts_init(&opts, cfg);
    if (channel_xfer_prepare(&x, &opts, dest, "test", started, &msg, err, sizeof err) < 0) {
        *result = outcome(false, 0, clock_wall_ms() - started, err);
        goto done;
    }
    CURLcode crc = curl_easy_perform(x.easy);
    long long finished = clock_wall_ms();
    struct channel_result r;
    channel_xfer_result(&x, crc, finished / 1000, &r);
    bool ok = retry_classify(r.transport_ok, r.permanent, x.smtp ? 0 : r.status) == RETRY_SENT;
    *result = outcome(ok, r.status, finished - started, r.error);
    log_info("test notification",
             "destination=%lld type=%s ok=%s status=%ld duration_ms=%lld error=%s",
             (long long)json_integer_value(json_object_get(dest, "id")), type,
             ok ? "true" : "false", r.status, finished - started, r.error[0] ? r.error : "-");
done:
    if (rc == 0 && !*result) rc = -ENOMEM;
    channel_xfer_cleanup(&x);
    notify_message_clear(&msg);
    json_decref(alert);
    json_decref(dest_public);
    notify_format_free(fmt);
    return rc;
}
