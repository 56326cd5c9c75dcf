/* admin_grouping_rules — a project's grouping rules in Sentry's syntax:
 * GET, PUT and DELETE /api/admin/projects/{id}/grouping-rules (README,
 * "Grouping rules"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/admin.h"
#include "base/log.h"
#include "scripts/script_ops.h"
#include "base/config.h"

#define RULES_MAX_BYTES (256 * 1024) /* each text; as lua/periscope/sentry_rules.lua */

static void failed(struct admin_resp *resp, int rc, const char *why)
{
    if (rc == -EINVAL)
        admin_json(resp, 422,
                   json_build("{s:{s:s, s:s}}", "error", "code", "rules_invalid", "message",
                              why ? why : "the rules were refused"));
    else if (rc == -ENOENT)
        admin_error(resp, 404, "not_found", "no such project");
    else {
        log_error("grouping rules operation failed", "error=%s", strerror(-rc));
        admin_error(resp, 500, "internal_error",
                    "the rules could not be changed; see the server log");
    }
}

static void answer(const struct admin_req *req, struct admin_resp *resp, int64_t pid)
{
    cJSON *out = NULL;
    int rc = script_ops_get_rules(req->ctx->store, pid, &out);
    if (rc != 0) {
        failed(resp, rc, NULL);
        return;
    }
    admin_time_field(out, "updated_at");
    admin_json(resp, 200, out);
}

static void rules_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid >= 0) answer(req, resp, pid);
}

/* A member of the PUT body: a string (at most RULES_MAX_BYTES), or absent
 * (""). Answers 400 and returns NULL otherwise. */
static const char *text_member(cJSON *body, const char *name, struct admin_resp *resp)
{
    cJSON *v = json_get(body, name);
    if (!v) return "";
    if (!cJSON_IsString(v) || json_strlen(v) > RULES_MAX_BYTES ||
        strlen(json_str(v)) != json_strlen(v)) {
        admin_error(resp, 400, "invalid_request", "\"%s\" must be a string of at most %d bytes",
                    name, RULES_MAX_BYTES);
        return NULL;
    }
    return json_str(v);
}

static void put(const struct admin_req *req, struct admin_resp *resp, int64_t pid,
                const char *fingerprint, const char *stacktrace)
{
    char *why = NULL;
    int rc = script_ops_put_rules(req->ctx->store, req->ctx->scripts, pid, fingerprint, stacktrace,
                                  &why);
    if (rc == 0)
        answer(req, resp, pid);
    else
        failed(resp, rc, why);
    free(why);
}

static void rules_put(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    cJSON *body = pid < 0 ? NULL : admin_body_object(req, resp);
    if (!body) return;
    const char *fp = text_member(body, "fingerprint_rules", resp);
    const char *st = fp ? text_member(body, "stacktrace_rules", resp) : NULL;
    if (fp && st) put(req, resp, pid, fp, st);
    cJSON_Delete(body);
}

static void rules_delete(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid >= 0) put(req, resp, pid, "", "");
}

const struct admin_route admin_routes_grouping_rules[] = {
    {"GET", "/api/admin/projects/{}/grouping-rules", rules_get},
    {"PUT", "/api/admin/projects/{}/grouping-rules", rules_put},
    {"DELETE", "/api/admin/projects/{}/grouping-rules", rules_delete},
    {NULL, NULL, NULL},
};
