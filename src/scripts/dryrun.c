/* dryrun — the pipeline's steps on one event, reported instead of stored. */
#include "scripts/dryrun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "notify/channel.h"
#include "base/clock.h"
#include "scripts/dryrun_alerts.h"
#include "model/event.h"
#include "scripts/event_stored.h"
#include "model/normalize.h"
#include "grouping/fallback.h"
#include "lua/script_scrub.h"
#include "lua/script_format.h"
#include "notify/alert_data.h"
#include "notify/format_hook.h"
#include "store/scripts_sample.h"

static cJSON *text(const char *s)
{
    cJSON *v = json_new_str(s); /* repaired when not UTF-8 */
    return v ? v : cJSON_CreateNull();
}

/* A wrong return type has no line of its own: the hook's is reported. */
static void add_error(struct script *s, cJSON *errors, const char *hook, const struct vm_error *e)
{
    int line = e->line == 0 && e->kind == VM_ERROR_TYPE ? script_hook_line(s, hook) : e->line;
    json_push(errors,
              json_build("{s:s, s:s, s:o, s:i}", "hook", hook, "kind", vm_error_kind_name(e->kind),
                         "message", text(e->message), "line", line));
}

/* The event the way ingest hands it to a worker. */
static struct raw_event *event_from(const struct dryrun_input *in)
{
    struct raw_event *ev = raw_event_new();
    if (!ev) return NULL;
    ev->project_id = in->project_id;
    ev->received_at_ms = clock_wall_ms();
    ev->json = cJSON_Duplicate(in->event, 1);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(in->event, "event_id");
    if (!cJSON_IsString(id) ||
        event_id_parse(id->valuestring, strlen(id->valuestring), ev->event_id) != 0)
        event_id_generate(ev->event_id);
    if (!ev->json) {
        raw_event_free(ev);
        return NULL;
    }
    return ev;
}

/* The scrubbed event as stored, into result.event; scrub errors into errors. */
static int scrub(struct script *s, const struct dryrun_input *in, struct raw_event *raw,
                 struct grouped_event *ev, cJSON *result, cJSON *errors)
{
    struct script_scrub_result res;
    int rc = script_scrub_event(s, in->scrub, &raw->json, ev, &res);
    if (rc < 0) return rc;
    if (res.hook_failed) add_error(s, errors, "scrub", &res.error);
    char *text = cJSON_PrintUnformatted(raw->json);
    cJSON *event = text ? json_parse_text(text) : NULL;
    free(text);
    json_set(result, "scrubbed", json_new_int(res.scrubbed));
    json_set(result, "event", event ? event : cJSON_CreateNull());
    return 0;
}

/* normalize → scrub → script (filter, grouping, hash) → C fallback, as the
 * worker. */
static int group(struct script *s, const struct dryrun_input *in, struct raw_event *raw,
                 struct grouped_event *ev, cJSON *result, cJSON *errors)
{
    int rc = normalize_event(raw->json, ev);
    if (rc == 0) rc = scrub(s, in, raw, ev, result, errors);
    if (rc != 0) return rc;
    struct script_result res;
    rc = script_run(s, raw->json, true, &res);
    for (size_t i = 0; i < res.nerrors; i++)
        add_error(s, errors, res.errors[i].hook, &res.errors[i].error);
    cJSON *components = cJSON_CreateArray();
    if (rc == 0) {
        ev->filtered = res.filtered;
        memcpy(ev->hash, res.hash, sizeof ev->hash);
        ev->title = res.title;
        ev->culprit = res.culprit;
        res.title = res.culprit = NULL;
        for (size_t i = 0; i < res.ncomponents; i++)
            json_push(components, text(res.components[i]));
    } else {
        /* components are not reported by the C grouping */
        rc = grouping_fallback(raw->json, ev->hash, &ev->title, &ev->culprit);
    }
    script_result_clear(&res);
    json_set(result, "filtered", cJSON_CreateBool(ev->filtered));
    json_set(result, "components", ev->filtered ? cJSON_CreateArray() : components);
    if (ev->filtered) cJSON_Delete(components);
    json_set(result, "hash", ev->filtered ? cJSON_CreateNull() : text(ev->hash));
    json_set(result, "title", ev->filtered ? cJSON_CreateNull() : text(ev->title));
    json_set(result, "culprit", ev->filtered ? cJSON_CreateNull() : text(ev->culprit));
    return rc;
}

/* The alert a new issue for this event would raise; its strings are
 * borrowed from in, ev and id (which must outlive it). */
static void alert_for(const struct dryrun_input *in, const struct grouped_event *ev, char id[33],
                      struct alert_data *out)
{
    event_id_hex(ev->event_id, id);
    long long now = clock_wall_ms();
    const char *level = ev->level ? ev->level : "error";
    *out = (struct alert_data){
        .kind = "new",
        .created_at_ms = now,
        .message_id = "dryrun",
        .public_url = in->public_url ? in->public_url : "",
        .issue = {.project_id = in->project_id,
                  .title = ev->title ? ev->title : "",
                  .culprit = ev->culprit ? ev->culprit : "",
                  .level = level,
                  .status = "unresolved",
                  .first_seen_ms = now,
                  .last_seen_ms = now,
                  .count = 1,
                  .hash = ev->hash},
        .project = {.id = in->project_id, .name = in->project_name ? in->project_name : ""},
        .event = {.event_id = id,
                  .environment = ev->environment,
                  .release = ev->release,
                  .level = level},
    };
}

static cJSON *message_json(const struct script_message *m)
{
    if (m->subject || m->text || m->html)
        return json_build("{s:o, s:o, s:o}", "subject", text(m->subject), "text", text(m->text),
                          "html", text(m->html));
    cJSON *body = m->body ? json_parse_text(m->body) : NULL;
    return body ? body : text(m->body);
}

/* One destination type's message, made the way the notifier makes it
 * (lua/script_format.h, in s's vm): the format() hook's, else the default. */
static cJSON *render(struct script *s, const struct alert_data *alert, const char *type,
                     cJSON *errors)
{
    struct alert_destination dest = {.id = 0, .type = type, .name = type};
    struct script_message m = {0};
    struct vm_error hook_err;
    char err[256] = "";
    int rc = script_format_alert(s, alert, &dest, &m, &hook_err, err, sizeof err);
    if (hook_err.kind != VM_ERROR_NONE) add_error(s, errors, "format", &hook_err);
    /* false: format() returned false, nothing is sent to this type */
    cJSON *out = rc == 0 ? message_json(&m) : rc == 1 ? cJSON_CreateFalse() : cJSON_CreateNull();
    if (rc < 0) {
        struct vm_error e = {0};
        vm_error_set(&e, VM_ERROR_RUNTIME, err[0] ? err : "out of memory");
        add_error(s, errors, "format", &e);
    }
    script_message_clear(&m);
    return out;
}

static int notifications(struct script *s, const struct dryrun_input *in, const cJSON *json,
                         const struct grouped_event *ev, cJSON *result, cJSON *errors)
{
    cJSON *all = cJSON_CreateObject();
    json_set(result, "notifications", all);
    if (ev->filtered) return 0;
    char id[33];
    struct alert_data alert;
    alert_for(in, ev, id, &alert);
    struct vm_error hook_err;
    cJSON *alerts = dryrun_alerts(s, in->alert_rules, ev, json, &alert, &hook_err);
    if (alerts) {
        json_set(result, "alerts", alerts);
        if (hook_err.kind != VM_ERROR_NONE) add_error(s, errors, "alert", &hook_err);
    }
    const char *t;
    for (size_t i = 0; (t = channel_type_name(i)) != NULL; i++)
        if (!in->format_type || strcmp(in->format_type, t) == 0)
            json_set(all, t, render(s, &alert, t, errors));
    return 0;
}

static bool known_type(const char *type)
{
    return channel_type_parse(type) != CHANNEL_UNKNOWN;
}

int dryrun_run(struct script *s, const struct dryrun_input *in, cJSON **out)
{
    if (!cJSON_IsObject(in->event) || (in->format_type && !known_type(in->format_type)))
        return -EINVAL;
    /* Both forms at once: the worker's grouped event, and the tree it
     * ends with (the alert rules' tags are read from it). */
    struct raw_event *raw = event_from(in);
    struct grouped_event *ev = grouped_event_new();
    cJSON *result = cJSON_CreateObject(), *errors = cJSON_CreateArray();
    int rc = -ENOMEM;
    if (!raw || !ev || !result || !errors) goto fail;
    grouped_event_from_raw(ev, raw);
    if ((rc = group(s, in, raw, ev, result, errors)) != 0) goto fail;
    json_set(result, "issue_id", cJSON_CreateNull());
    if ((rc = notifications(s, in, raw->json, ev, result, errors)) != 0) goto fail;
    json_set(result, "errors", errors);
    raw_event_free(raw);
    grouped_event_free(ev);
    *out = result;
    return 0;
fail:
    cJSON_Delete(errors);
    cJSON_Delete(result);
    raw_event_free(raw);
    grouped_event_free(ev);
    return rc;
}

int dryrun_load_event(struct db *db, int64_t project_id, const uint8_t *event_id, cJSON **out)
{
    uint8_t newest[16];
    if (!event_id) {
        int rc = scripts_sample_event_id(db, project_id, newest);
        if (rc != 0) return rc;
        event_id = newest;
    }
    return event_stored_load(db, project_id, event_id, out);
}
