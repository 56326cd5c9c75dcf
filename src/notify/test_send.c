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
#include "lua/script_format.h"
#include "notify/retry.h"
#include "lua/registry.h"
#include "lua/script.h"

static cJSON *outcome(bool ok, long status, long long duration_ms, const char *error)
{
    return json_build("{s:b, s:o, s:I, s:o}", "ok", ok, "status_code",
                      status ? json_new_int(status) : cJSON_CreateNull(), "duration_ms",
                      (int64_t)duration_ms, "error",
                      error && *error ? cJSON_CreateString(error) : cJSON_CreateNull());
}

/* The project's active script in a fresh vm, where its format() hook and
 * the default formatters run; a vm without hooks when it runs the default
 * rules or its script does not build (logged: the default formatter is
 * used). NULL when not even that builds. Caller closes. */
static struct script *project_script(const struct config *cfg, struct script_registry *scripts,
                                     int64_t project_id)
{
    int64_t version;
    uint64_t generation;
    char *source = NULL;
    size_t len = 0;
    struct script *s = NULL;
    struct vm_error err = {0};
    struct vm_limits own;
    const struct vm_limits *limits = scripts ? script_registry_limits(scripts) : &own;
    if (!scripts) vm_limits_from_config(cfg, &own);
    if (scripts &&
        script_registry_get(scripts, project_id, &version, &source, &len, &generation) == 0 &&
        source && script_open(limits, source, len, &s, &err) != 0)
        log_warn("test notification: the project's script did not build, default format used",
                 "project=%lld error=%s", (long long)project_id, err.message);
    free(source);
    if (!s && script_open(limits, NULL, 0, &s, &err) != 0)
        log_error("test notification: cannot build a Lua state", "error=%s", err.message);
    return s;
}

/* The message the notifier would make: the format() hook, else the
 * default (the hook's failure counted in the script status, as the
 * notifier does). */
static int render(const struct config *cfg, struct script_registry *scripts, int64_t project_id,
                  const struct alert_data *alert, const struct alert_destination *dest,
                  struct script_message *msg, char *err, size_t errlen)
{
    struct script *s = project_script(cfg, scripts, project_id);
    struct vm_error hook_err;
    int rc = script_format_alert(s, alert, dest, msg, &hook_err, err, errlen);
    if (hook_err.kind != VM_ERROR_NONE && scripts)
        script_registry_record_error(scripts, project_id, "format", &hook_err);
    script_close(s);
    return rc;
}

int notify_send_test(const struct config *cfg, struct script_registry *scripts, const cJSON *dest,
                     const char *project_name, cJSON **result)
{
    char err[512] = "";
    struct script_message msg = {0};
    struct channel_xfer x = {0};
    long long started = clock_wall_ms();
    *result = NULL;
    int64_t project_id = json_i64(json_get(dest, "project_id"));
    const char *type = json_str(json_get(dest, "type"));
    struct alert_data alert;
    notify_sample_alert(project_id, project_name ? project_name : "", cfg->public_url, started,
                        &alert);
    struct alert_destination dest_public = {
        .id = json_i64(json_get(dest, "id")),
        .type = type,
        .name = json_str(json_get(dest, "name")),
    };
    int rc = 0;
    int rendered = render(cfg, scripts, project_id, &alert, &dest_public, &msg, err, sizeof err);
    if (rendered != 0) {
        *result = outcome(false, 0, clock_wall_ms() - started,
                          rendered > 0 ? "format() returned false: nothing is sent to this "
                                         "destination"
                                       : err);
        goto done;
    }
    if (channel_type_parse(type) == CHANNEL_INTERNAL_LOGGER) {
        log_info("alert notification", "destination=%lld name=%s message=%s test=true",
                 (long long)json_i64(json_get(dest, "id")), json_str(json_get(dest, "name")),
                 msg.body);
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
             (long long)json_i64(json_get(dest, "id")), type, ok ? "true" : "false", r.status,
             finished - started, r.error[0] ? r.error : "-");
done:
    if (rc == 0 && !*result) rc = -ENOMEM;
    channel_xfer_cleanup(&x);
    script_message_clear(&msg);
    return rc;
}
