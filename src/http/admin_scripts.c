/* admin_scripts — the script endpoints but the dry run (admin_scripts.h). */
#include "http/admin_scripts.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "scripts/dryrun.h"
#include "base/log.h"
#include "scripts/script_ops.h"
#include "base/config.h"
#include "store/store.h"

cJSON *admin_script_sample(const struct admin_ctx *ctx, int64_t project_id)
{
    cJSON *sample = NULL;
    struct db *db = store_acquire(ctx->store);
    int rc = dryrun_load_event(db, project_id, NULL, &sample);
    store_release(ctx->store, db);
    if (rc != 0 && rc != -ENOENT)
        log_warn("newest event unreadable, scripts validated on the built-in sample",
                 "project=%lld error=%s", (long long)project_id, strerror(-rc));
    return rc == 0 ? sample : NULL;
}

void admin_script_invalid(struct admin_resp *resp, const char *message, int line)
{
    cJSON *msg = message ? cJSON_CreateString(message) : NULL;
    admin_json(resp, 422,
               json_build("{s:{s:s, s:o, s:i}}", "error", "code", "script_invalid", "message",
                          msg ? msg : cJSON_CreateString("the script was refused"), "line", line));
}

/* Answers a failed script_ops call. */
static void ops_failed(struct admin_resp *resp, int rc, const struct script_rejection *why)
{
    if (rc == -EINVAL)
        admin_script_invalid(resp, why->message, why->line);
    else if (rc == -ENOENT)
        admin_error(resp, 404, "not_found", "no such project or script version");
    else {
        log_error("script operation failed", "error=%s", strerror(-rc));
        admin_error(resp, 500, "internal_error",
                    "the script could not be changed; see the server log");
    }
}

static void script_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid < 0) return;
    cJSON *out = NULL;
    int rc = script_ops_status(req->ctx->store, req->ctx->scripts, pid, &out);
    if (rc != 0) {
        ops_failed(resp, rc, &(struct script_rejection){0});
        return;
    }
    admin_time_field(out, "created_at");
    cJSON *stats = json_get(out, "stats");
    admin_time_field(stats, "activated_at");
    admin_time_field(json_get(stats, "last_error"), "at");
    admin_json(resp, 200, out);
}

/* The Lua source of a PUT: the raw body, or {"source": "…"} when JSON. */
static int put_source(const struct admin_req *req, struct admin_resp *resp, cJSON **holder,
                      const char **source, size_t *len)
{
    const char *ct = req->content_type;
    if (ct && strncasecmp(ct, "application/json", 16) == 0) {
        if (!(*holder = admin_body_object(req, resp))) return -1;
        cJSON *s = json_get(*holder, "source");
        if (!cJSON_IsString(s)) {
            admin_error(resp, 400, "invalid_request", "\"source\" must be a string of Lua");
            return -1;
        }
        *source = json_str(s);
        *len = json_strlen(s);
    } else {
        *source = req->body ? req->body : "";
        *len = req->body_len;
    }
    if (*len == 0) {
        admin_error(resp, 400, "invalid_request", "the script is empty");
        return -1;
    }
    return 0;
}

static void script_put(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    cJSON *holder = NULL;
    const char *source;
    size_t len;
    if (pid < 0 || put_source(req, resp, &holder, &source, &len) != 0) return;
    cJSON *sample = admin_script_sample(req->ctx, pid);
    struct script_rejection why = {0};
    int64_t version = 0;
    int rc = script_ops_put(req->ctx->store, req->ctx->scripts, pid, source, len, sample, &version,
                            &why);
    if (rc == 0)
        admin_json(resp, 200,
                   json_build("{s:I, s:I, s:b}", "project_id", (int64_t)pid, "version",
                              (int64_t)version, "active", 1));
    else
        ops_failed(resp, rc, &why);
    script_ops_rejection_clear(&why);
    cJSON_Delete(sample);
    cJSON_Delete(holder);
}

static void script_versions(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    cJSON *out = NULL;
    if (pid < 0) return;
    int rc = script_ops_versions(req->ctx->store, pid, &out);
    if (rc != 0) {
        ops_failed(resp, rc, &(struct script_rejection){0});
        return;
    }
    size_t i;
    cJSON *row;
    json_array_each(json_get(out, "data"), i, row) admin_time_field(row, "created_at");
    admin_json(resp, 200, out);
}

/* Activates version (0: the default rules) and answers with it. */
static void activate(const struct admin_req *req, struct admin_resp *resp, int64_t pid,
                     int64_t version)
{
    cJSON *sample = version > 0 ? admin_script_sample(req->ctx, pid) : NULL;
    struct script_rejection why = {0};
    int rc = script_ops_activate(req->ctx->store, req->ctx->scripts, pid, version, sample, &why);
    if (rc == 0)
        admin_json(resp, 200,
                   json_build("{s:I, s:o}", "project_id", (int64_t)pid, "version",
                              version ? json_new_int(version) : cJSON_CreateNull()));
    else
        ops_failed(resp, rc, &why);
    script_ops_rejection_clear(&why);
    cJSON_Delete(sample);
}

static void script_rollback(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    cJSON *body = pid < 0 ? NULL : admin_body_object(req, resp);
    if (!body) return;
    cJSON *v = json_get(body, "version");
    if (!json_is_int(v) || json_i64(v) < 1)
        admin_error(resp, 400, "invalid_request",
                    "\"version\" must be a stored version number (1, 2, …)");
    else
        activate(req, resp, pid, json_i64(v));
    cJSON_Delete(body);
}

static void script_delete(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid >= 0) activate(req, resp, pid, 0);
}

const struct admin_route admin_routes_scripts[] = {
    {"GET", "/api/admin/projects/{}/script", script_get},
    {"PUT", "/api/admin/projects/{}/script", script_put},
    {"DELETE", "/api/admin/projects/{}/script", script_delete},
    {"GET", "/api/admin/projects/{}/script/versions", script_versions},
    {"POST", "/api/admin/projects/{}/script/rollback", script_rollback},
    {"POST", "/api/admin/projects/{}/script/test", admin_script_test},
    {NULL, NULL, NULL},
};
