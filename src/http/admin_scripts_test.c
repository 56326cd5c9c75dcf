/* admin_scripts_test — POST /api/admin/projects/{id}/script/test: the dry
 * run (dryrun.h) of the given or the active script on a given or stored
 * event, with the project's scrubbing settings, plus the existing issue the
 * event would join. Stores nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scripts/dryrun.h"
#include "model/event.h"
#include "base/log.h"
#include "base/config.h"
#include "http/admin_scripts.h"
#include "model/scrub.h"
#include "lua/registry.h"
#include "store/events_write.h"
#include "store/projects.h"
#include "model/alert_rules.h"
#include "store/store.h"
#include "store/triage_read.h"

struct test_request {
    int64_t project_id;
    char *project_name; /* owned */
    cJSON *event;       /* owned */
    struct script *script;
};

static void test_request_clear(struct test_request *t)
{
    free(t->project_name);
    cJSON_Delete(t->event);
    script_close(t->script);
}

/* The project's name; answers 404 and returns -1 when there is none. */
static int load_project(const struct admin_req *req, struct admin_resp *resp,
                        struct test_request *t)
{
    cJSON *row = NULL;
    struct db *db = store_acquire(req->ctx->store);
    int rc = projects_get(db, t->project_id, &row);
    store_release(req->ctx->store, db);
    if (rc == 0) {
        const char *name = json_str(json_get(row, "name"));
        t->project_name = strdup(name ? name : "");
    }
    cJSON_Delete(row);
    if (rc == -ENOENT)
        admin_error(resp, 404, "not_found", "no such project");
    else if (rc != 0 || !t->project_name)
        admin_error(resp, 500, "internal_error", "the project could not be read");
    return rc == 0 && t->project_name ? 0 : -1;
}

/* body.event (an object), else the stored event body.event_id. */
static int load_event(const struct admin_req *req, struct admin_resp *resp, const cJSON *body,
                      struct test_request *t)
{
    cJSON *ev = json_get(body, "event");
    cJSON *id = json_get(body, "event_id");
    if (cJSON_IsObject(ev)) {
        char *text = json_print(ev, 0);
        t->event = text ? cJSON_Parse(text) : NULL;
        free(text);
        if (!t->event) admin_error(resp, 500, "internal_error", "out of memory");
        return t->event ? 0 : -1;
    }
    uint8_t event_id[16];
    if (!cJSON_IsString(id) || event_id_parse(json_str(id), json_strlen(id), event_id) != 0) {
        admin_error(resp, 400, "invalid_request",
                    "give \"event\" (an event object) or \"event_id\" (32 hex digits)");
        return -1;
    }
    struct db *db = store_acquire(req->ctx->store);
    int rc = dryrun_load_event(db, t->project_id, event_id, &t->event);
    store_release(req->ctx->store, db);
    if (rc == -ENOENT)
        admin_error(resp, 404, "not_found", "no such event in this project");
    else if (rc != 0)
        admin_error(resp, 500, "internal_error", "the stored event could not be read");
    return rc == 0 ? 0 : -1;
}

/* body.source compiled in a fresh state, else the project's active script. */
static int load_script(const struct admin_req *req, struct admin_resp *resp, const cJSON *body,
                       struct test_request *t)
{
    const struct vm_limits *limits = script_registry_limits(req->ctx->scripts);
    cJSON *given = json_get(body, "source");
    char *active = NULL;
    size_t len = 0;
    const char *source = NULL;
    if (cJSON_IsString(given)) {
        source = json_str(given);
        len = json_strlen(given);
    } else if (given && !cJSON_IsNull(given)) {
        admin_error(resp, 400, "invalid_request", "\"source\" must be a string of Lua");
        return -1;
    } else {
        int64_t version;
        uint64_t generation;
        if (script_registry_get(req->ctx->scripts, t->project_id, &version, &active, &len,
                                &generation) != 0) {
            admin_error(resp, 500, "internal_error", "out of memory");
            return -1;
        }
        source = active;
    }
    /* the project's stored grouping rules run with either */
    char *fingerprint_rules = NULL, *stacktrace_rules = NULL;
    if (script_registry_get_rules(req->ctx->scripts, t->project_id, &fingerprint_rules,
                                  &stacktrace_rules) != 0) {
        free(active);
        admin_error(resp, 500, "internal_error", "out of memory");
        return -1;
    }
    struct script_rules rules = {fingerprint_rules, stacktrace_rules};
    struct vm_error err = {0};
    int rc = script_open_rules(limits, source, len, &rules, &t->script, &err);
    free(active);
    free(fingerprint_rules);
    free(stacktrace_rules);
    if (rc == -EINVAL)
        admin_script_invalid(resp, err.message, err.line);
    else if (rc != 0)
        admin_error(resp, 500, "internal_error", "the Lua state could not be built: %s",
                    err.message);
    return rc == 0 ? 0 : -1;
}

/* "issue_id": the issue that already holds this hash, if any. */
static void add_issue_id(const struct admin_ctx *ctx, int64_t project_id, cJSON *result)
{
    const char *hash = json_str(json_get(result, "hash"));
    if (!hash) return;
    int64_t id = 0;
    enum issue_status status;
    struct db *db = store_acquire(ctx->store);
    int rc = events_write_issue_find(db, project_id, hash, &id, &status);
    store_release(ctx->store, db);
    if (rc == 0) json_set(result, "issue_id", json_new_int(id));
}

/* The project's alert rules for the dry run: NULL for the default set (or
 * when they cannot be read: the dry run then shows the default). */
static struct alert_rules *project_alert_rules(struct store *store, int64_t project_id)
{
    char *text = NULL, err[200];
    struct db *db = store_acquire(store);
    int rc = alert_rules_load(db, project_id, &text);
    store_release(store, db);
    if (rc != 0) return NULL;
    cJSON *doc = json_parse_text(text);
    free(text);
    struct alert_rules *rules = NULL;
    if (doc) alert_rules_parse(doc, &rules, err, sizeof err);
    cJSON_Delete(doc);
    return rules;
}

void admin_script_test(const struct admin_req *req, struct admin_resp *resp)
{
    struct test_request t = {.project_id = admin_param_id(req, resp, 0)};
    cJSON *body = t.project_id < 0 ? NULL : admin_body_object(req, resp);
    if (!body || load_project(req, resp, &t) != 0 || load_event(req, resp, body, &t) != 0 ||
        load_script(req, resp, body, &t) != 0)
        goto done;
    cJSON *format = json_get(body, "format");
    uint64_t generation;
    struct scrub_rules *rules = script_registry_scrub(req->ctx->scripts, t.project_id, &generation);
    struct dryrun_input in = {
        .project_id = t.project_id,
        .project_name = t.project_name,
        .event = t.event,
        .format_type = json_str(format),
        .public_url = req->ctx->cfg->public_url,
        .scrub = rules,
        .alert_rules = project_alert_rules(req->ctx->store, t.project_id),
    };
    cJSON *result = NULL;
    int rc = rules ? dryrun_run(t.script, &in, &result) : -ENOMEM;
    scrub_rules_unref(rules);
    alert_rules_free((struct alert_rules *)in.alert_rules);
    if (rc == 0) {
        add_issue_id(req->ctx, t.project_id, result);
        admin_json(resp, 200, result);
    } else if (rc == -EINVAL) {
        admin_error(resp, 400, "invalid_request", "unknown \"format\" destination type");
    } else {
        log_error("dry run failed", "project=%lld error=%s", (long long)t.project_id,
                  strerror(-rc));
        admin_error(resp, 500, "internal_error", "the dry run failed; see the server log");
    }
done:
    cJSON_Delete(body);
    test_request_clear(&t);
}
