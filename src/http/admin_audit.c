/* admin_audit — the activity record of API changes (contract in admin_audit.h). */
#include "http/admin_audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/config.h"
#include "store/activity.h"
#include "store/store.h"

#define AUDIT_BULK_MAX 100  /* ids of one bulk change (the issues route's own cap) */
#define AUDIT_VALUE_MAX 512 /* a recorded value longer than this is "(changed)" */

static const char *actor_type(const struct principal *p)
{
    switch (p->kind) {
    case PRINCIPAL_SESSION:
        return "user";
    case PRINCIPAL_TOKEN:
        return "token";
    default:
        return "root";
    }
}

void admin_audit_record(const struct admin_ctx *ctx, const struct principal *who,
                        int64_t project_id, const char *action, const char *target_type,
                        const char *target_id, const cJSON *changes)
{
    struct activity_entry e = {
        .actor_type = actor_type(who),
        .actor_id = who->kind == PRINCIPAL_TOKEN     ? who->token_id
                    : who->kind == PRINCIPAL_SESSION ? who->user_id
                                                     : 0,
        .actor_name = who->label,
        .project_id = project_id,
        .action = action,
        .target_type = target_type,
        .target_id = target_id,
        .changes = changes,
    };
    struct db *db = store_acquire(ctx->store);
    int rc = activity_add(db, &e);
    store_release(ctx->store, db);
    if (rc) log_error("activity not recorded", "action=%s error=%d", action, rc);
}

static bool listed(const char *fields, const char *name)
{
    size_t n = strlen(name);
    for (const char *f = fields; f && *f;) {
        size_t len = strcspn(f, ",");
        if (len == n && strncmp(f, name, n) == 0) return true;
        f += len + (f[len] == ',');
    }
    return false;
}

/* {field: value} for the policy's fields, {other: "(changed)"} for the rest. */
static cJSON *changes_of(const struct admin_req *req, const struct admin_policy *pol)
{
    cJSON *out = cJSON_CreateObject();
    cJSON *body = req->body && req->body_len ? json_parse(req->body, req->body_len) : NULL;
    const char *key;
    cJSON *v;
    if (cJSON_IsObject(body)) {
        json_object_each(body, key, v)
        {
            char *text = listed(pol->fields, key) ? json_print(v, JSON_PRINT_SPACED) : NULL;
            bool keep = text && strlen(text) <= AUDIT_VALUE_MAX;
            json_set(out, key, keep ? json_dup(v) : cJSON_CreateString("(changed)"));
            free(text);
        }
    }
    cJSON_Delete(body);
    return out;
}

/* The target id as text from "param:N" or "resp:FIELD"; "" when none. */
static void target_of(const struct admin_req *req, const struct admin_resp *resp, const char *from,
                      char *out, size_t outlen)
{
    out[0] = '\0';
    if (!from) return;
    if (strncmp(from, "param:", 6) == 0) {
        int i = atoi(from + 6);
        if (i < req->nparams) snprintf(out, outlen, "%s", req->params[i]);
    } else if (strncmp(from, "resp:", 5) == 0) {
        cJSON *v = json_get(resp->json, from + 5);
        if (json_is_int(v))
            snprintf(out, outlen, "%" PRId64, json_i64(v));
        else if (cJSON_IsString(v))
            snprintf(out, outlen, "%s", json_str(v));
    }
}

void admin_audit(const struct admin_req *req, const struct admin_policy *pol,
                 const struct admin_resp *resp)
{
    if (!pol || !pol->action || resp->status < 200 || resp->status >= 300 || !req->who) return;
    int64_t project = 0;
    if (strncmp(pol->pattern, "/api/admin/projects/{}", 22) == 0 && req->nparams > 0)
        project = strtoll(req->params[0], NULL, 10);
    else if (strcmp(pol->target_type, "project") == 0)
        project = json_i64(json_get(resp->json, "id"));
    cJSON *changes = changes_of(req, pol);
    char target[128];
    if (pol->target_from && strcmp(pol->target_from, "query:ids") == 0) {
        const char *ids = admin_query(req, "ids");
        for (int n = 0; ids && *ids && n < AUDIT_BULK_MAX; n++) {
            size_t len = strcspn(ids, ",");
            snprintf(target, sizeof target, "%.*s", (int)(len < 32 ? len : 32), ids);
            admin_audit_record(req->ctx, req->who, project, pol->action, pol->target_type, target,
                               changes);
            ids += len + (ids[len] == ',');
        }
    } else {
        target_of(req, resp, pol->target_from, target, sizeof target);
        admin_audit_record(req->ctx, req->who, project, pol->action, pol->target_type, target,
                           changes);
    }
    cJSON_Delete(changes);
}
