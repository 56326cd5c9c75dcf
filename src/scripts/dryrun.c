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

static json_t *text(const char *s)
{
    json_t *v = s ? json_string(s) : NULL; /* NULL also when not UTF-8 */
    return v ? v : json_null();
}

/* A wrong return type has no line of its own: the hook's is reported. */
static void add_error(struct script *s, json_t *errors, const char *hook, const struct vm_error *e)
{
    int line = e->line == 0 && e->kind == VM_ERROR_TYPE ? script_hook_line(s, hook) : e->line;
    json_array_append_new(errors, json_pack("{s:s, s:s, s:o, s:i}", "hook", hook, "kind",
                                            vm_error_kind_name(e->kind), "message",
                                            text(e->message), "line", line));
}

/* The event the way ingest hands it to a worker. */
static struct ingest_event *event_from(const struct dryrun_input *in)
{
    struct ingest_event *ev = event_new();
    if (!ev) return NULL;
    ev->project_id = in->project_id;
    ev->received_at_ms = clock_wall_ms();
    ev->json = cJSON_Duplicate(in->event, 1);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(in->event, "event_id");
    if (!cJSON_IsString(id) ||
        event_id_parse(id->valuestring, strlen(id->valuestring), ev->event_id) != 0)
        event_id_generate(ev->event_id);
    if (!ev->json) {
        event_free(ev);
        return NULL;
    }
    return ev;
}

/* The scrubbed event as stored, into result.event; scrub errors into errors. */
static int scrub(struct script *s, const struct dryrun_input *in, struct ingest_event *ev,
                 json_t *result, json_t *errors)
{
    struct script_scrub_result res;
    int rc = script_scrub_event(s, in->scrub, ev, &res);
    if (rc < 0) return rc;
    if (res.hook_failed) add_error(s, errors, "scrub", &res.error);
    char *text = cJSON_PrintUnformatted(ev->json);
    json_t *event = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    json_object_set_new(result, "scrubbed", json_integer(res.scrubbed));
    json_object_set_new(result, "event", event ? event : json_null());
    return 0;
}

/* normalize → scrub → script (filter, grouping, hash) → C fallback, as the
 * worker. */
static int group(struct script *s, const struct dryrun_input *in, struct ingest_event *ev,
                 json_t *result, json_t *errors)
{
    int rc = normalize_event(ev);
    if (rc == 0) rc = scrub(s, in, ev, result, errors);
    if (rc != 0) return rc;
    struct script_result res;
    rc = script_run(s, ev->json, true, &res);
    for (size_t i = 0; i < res.nerrors; i++)
        add_error(s, errors, res.errors[i].hook, &res.errors[i].error);
    json_t *components = json_array();
    if (rc == 0) {
        ev->filtered = res.filtered;
        memcpy(ev->hash, res.hash, sizeof ev->hash);
        ev->title = res.title;
        ev->culprit = res.culprit;
        res.title = res.culprit = NULL;
        for (size_t i = 0; i < res.ncomponents; i++)
            json_array_append_new(components, text(res.components[i]));
    } else {
        rc = grouping_fallback(ev); /* components are not reported by the C grouping */
    }
    script_result_clear(&res);
    json_object_set_new(result, "filtered", json_boolean(ev->filtered));
    json_object_set_new(result, "components", ev->filtered ? json_array() : components);
    if (ev->filtered) json_decref(components);
    json_object_set_new(result, "hash", ev->filtered ? json_null() : text(ev->hash));
    json_object_set_new(result, "title", ev->filtered ? json_null() : text(ev->title));
    json_object_set_new(result, "culprit", ev->filtered ? json_null() : text(ev->culprit));
    return rc;
}

/* The alert a new issue for this event would raise; its strings are
 * borrowed from in, ev and id (which must outlive it). */
static void alert_for(const struct dryrun_input *in, const struct ingest_event *ev, char id[33],
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

static json_t *message_json(const struct script_message *m)
{
    if (m->subject || m->text || m->html)
        return json_pack("{s:o, s:o, s:o}", "subject", text(m->subject), "text", text(m->text),
                         "html", text(m->html));
    json_t *body = m->body ? json_loads(m->body, JSON_DECODE_ANY, NULL) : NULL;
    return body ? body : text(m->body);
}

/* One destination type's message, made the way the notifier makes it
 * (lua/script_format.h, in s's vm): the format() hook's, else the default. */
static json_t *render(struct script *s, const struct alert_data *alert, const char *type,
                      json_t *errors)
{
    struct alert_destination dest = {.id = 0, .type = type, .name = type};
    struct script_message m = {0};
    struct vm_error hook_err;
    char err[256] = "";
    int rc = script_format_alert(s, alert, &dest, &m, &hook_err, err, sizeof err);
    if (hook_err.kind != VM_ERROR_NONE) add_error(s, errors, "format", &hook_err);
    /* false: format() returned false, nothing is sent to this type */
    json_t *out = rc == 0 ? message_json(&m) : rc == 1 ? json_false() : json_null();
    if (rc < 0) {
        struct vm_error e = {0};
        vm_error_set(&e, VM_ERROR_RUNTIME, err[0] ? err : "out of memory");
        add_error(s, errors, "format", &e);
    }
    script_message_clear(&m);
    return out;
}

static int notifications(struct script *s, const struct dryrun_input *in,
                         const struct ingest_event *ev, json_t *result, json_t *errors)
{
    json_t *all = json_object();
    json_object_set_new(result, "notifications", all);
    if (ev->filtered) return 0;
    char id[33];
    struct alert_data alert;
    alert_for(in, ev, id, &alert);
    struct vm_error hook_err;
    json_t *alerts = dryrun_alerts(s, in->alert_rules, ev, &alert, &hook_err);
    if (alerts) {
        json_object_set_new(result, "alerts", alerts);
        if (hook_err.kind != VM_ERROR_NONE) add_error(s, errors, "alert", &hook_err);
    }
    const char *t;
    for (size_t i = 0; (t = channel_type_name(i)) != NULL; i++)
        if (!in->format_type || strcmp(in->format_type, t) == 0)
            json_object_set_new(all, t, render(s, &alert, t, errors));
    return 0;
}

static bool known_type(const char *type)
{
    return channel_type_parse(type) != CHANNEL_UNKNOWN;
}

int dryrun_run(struct script *s, const struct dryrun_input *in, json_t **out)
{
    if (!cJSON_IsObject(in->event) || (in->format_type && !known_type(in->format_type)))
        return -EINVAL;
    struct ingest_event *ev = event_from(in);
    json_t *result = json_object(), *errors = json_array();
    int rc = -ENOMEM;
    if (!ev || !result || !errors) goto fail;
    if ((rc = group(s, in, ev, result, errors)) != 0) goto fail;
    json_object_set_new(result, "issue_id", json_null());
    if ((rc = notifications(s, in, ev, result, errors)) != 0) goto fail;
    json_object_set_new(result, "errors", errors);
    event_free(ev);
    *out = result;
    return 0;
fail:
    json_decref(errors);
    json_decref(result);
    event_free(ev);
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
