/* lua/registry_validate — the "validate" of build, validate, swap: a
 * script compiles in a fresh sandboxed state, every hook runs once on a
 * sample event, and format() runs on a sample alert for every destination
 * type through the notifier's own path (the registry's format check, which
 * the application sets to notify_format_check_script). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "lua/script_alert.h"
#include "lua/registry_internal.h"
#include "lua/script.h"
#include "lua/script_scrub.h"

/* A Python-style error event, for validating scripts when the caller has
 * no event of its own. */
static const char SAMPLE_EVENT[] =
    "{\"event_id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\",\"platform\":\"python\","
    "\"level\":\"error\",\"logger\":\"app\",\"environment\":\"production\","
    "\"release\":\"app@1.0.0\",\"transaction\":\"/checkout\",\"server_name\":\"web-1\","
    "\"tags\":{\"region\":\"eu-west-1\"},\"user\":{\"id\":\"42\"},"
    "\"exception\":{\"values\":[{\"type\":\"ConnectionError\",\"value\":\"connection refused\","
    "\"module\":\"requests.exceptions\",\"mechanism\":{\"type\":\"generic\",\"handled\":false},"
    "\"stacktrace\":{\"frames\":["
    "{\"filename\":\"app/views.py\",\"module\":\"app.views\",\"function\":\"checkout\","
    "\"lineno\":42,\"context_line\":\"    pay(order)\",\"in_app\":true},"
    "{\"filename\":\"app/payments.py\",\"module\":\"app.payments\",\"function\":\"pay\","
    "\"lineno\":7,\"context_line\":\"    return client.post(url)\",\"in_app\":true}]}}]}}";

/* "hook: message" (or the message alone) into *error_message, malloc'd;
 * error_message may be NULL. */
static void set_message(char **error_message, const char *hook, const struct vm_error *err)
{
    if (!error_message) return;
    size_t need = strlen(err->message) + (hook ? strlen(hook) + 2 : 0) + 1;
    *error_message = malloc(need);
    if (*error_message)
        snprintf(*error_message, need, "%s%s%s", hook ? hook : "", hook ? ": " : "", err->message);
}

/* scrub, then filter, grouping and fingerprint on what scrub left of the
 * sample event: 0, or 1 with err and *hook (static; NULL when the default
 * grouping itself failed). */
static int check_event_hooks(struct script *s, const cJSON *sample_event, const char **hook,
                             struct vm_error *err)
{
    cJSON *own_sample = sample_event ? NULL : cJSON_Parse(SAMPLE_EVENT);
    const cJSON *sample = sample_event ? sample_event : own_sample;
    cJSON *scrubbed = NULL;
    if (script_scrub(s, sample, &scrubbed, err) < 0) {
        *hook = "scrub";
        cJSON_Delete(own_sample);
        return 1;
    }
    struct script_result res;
    int run = script_run_all_hooks(s, scrubbed ? scrubbed : sample, &res);
    cJSON_Delete(scrubbed);
    int failed = 1;
    if (res.nerrors > 0) {
        *hook = res.errors[0].hook;
        *err = res.errors[0].error;
    } else if (run != 0) {
        *hook = NULL;
        vm_error_set(err, VM_ERROR_RUNTIME, "the default grouping could not run");
    } else {
        failed = 0;
    }
    script_result_clear(&res);
    cJSON_Delete(own_sample);
    return failed;
}

/* format() through the registry's format check (script_registry_set_format_check):
 * 0, or 1 with err. Without a check (a registry no notifier uses), format()
 * is not run. */
static int check_format_hook(struct script_registry *reg, struct script *s, struct vm_error *err)
{
    if (!script_has_hook(s, SCRIPT_HOOK_FORMAT) || !reg->format_check) return 0;
    return reg->format_check(s, reg->public_url ? reg->public_url : "", err);
}

/* alert() on a sample alert (the alert table format() gets, with its issue
 * and event): 0, or 1 with err when it fails or returns something else
 * than true, false or a list of destination ids. */
static int check_alert_hook(struct script *s, struct vm_error *err)
{
    static const struct alert_data SAMPLE = {
        .kind = "new",
        .message_id = "sample",
        .public_url = "",
        .issue = {.title = "ValueError: sample",
                  .culprit = "app.views in sample",
                  .level = "error",
                  .status = "unresolved",
                  .count = 1},
        .project = {.name = "sample"},
        .event = {.event_id = "00000000000000000000000000000000",
                  .environment = "production",
                  .release = "sample@1.0.0",
                  .level = "error"},
    };
    struct script_alert_result res;
    return script_has_hook(s, SCRIPT_HOOK_ALERT) && script_alert(s, &SAMPLE, &res, err) != 0;
}

int script_registry_validate(struct script_registry *reg, const char *source, size_t len,
                             const cJSON *sample_event, char **error_message, int *error_line)
{
    struct script *s = NULL;
    struct vm_error err = {0};
    const char *hook = NULL;
    if (error_message) *error_message = NULL;
    if (error_line) *error_line = 0;
    int failed = script_open(&reg->limits, source, len, &s, &err) != 0;
    if (!failed) failed = check_event_hooks(s, sample_event, &hook, &err);
    if (!failed && (failed = check_format_hook(reg, s, &err))) hook = "format";
    if (!failed && (failed = check_alert_hook(s, &err))) hook = "alert";
    script_close(s);
    if (!failed) return 0;
    set_message(error_message, hook, &err);
    if (error_line) *error_line = err.line;
    return -EINVAL;
}

int registry_check_compiles(struct script_registry *reg, const char *source, size_t len,
                            char **error_message, int *error_line)
{
    struct script *s = NULL;
    struct vm_error err = {0};
    *error_message = NULL;
    *error_line = 0;
    if (script_open(&reg->limits, source, len, &s, &err) != 0) {
        set_message(error_message, NULL, &err);
        *error_line = err.line;
        return -EINVAL;
    }
    script_close(s);
    return 0;
}
