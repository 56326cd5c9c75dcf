/* admin_issue_actions — see admin_issue_actions.h. */
#include "http/admin_issue_actions.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "accounts/authz.h"
#include "base/config.h"
#include "http/admin.h"
#include "scripts/event_stored.h"
#include "store/issue_activity.h"
#include "store/issue_hashes.h"
#include "store/issue_merge.h"
#include "store/issues.h"
#include "store/store.h"

int64_t admin_request_user(const struct admin_req *req)
{
    return req->who ? req->who->user_id : 0;
}

/* The merged issue, as GET answers it (without the detail's events). */
static void answer_issue(struct admin_resp *resp, struct db *db, int64_t pid, int64_t iid,
                         int status)
{
    cJSON *issue = NULL;
    int rc = issues_get(db, pid, iid, &issue);
    if (rc == 0) rc = admin_issue_triage_detail(db, iid, issue);
    if (rc != 0) {
        cJSON_Delete(issue);
        admin_db_error(resp, "issue read", rc);
        return;
    }
    admin_time_field(issue, "first_seen");
    admin_time_field(issue, "last_seen");
    admin_json(resp, status, issue);
}

/* {"ids": [..]} → ids; -1 after answering 400. */
static int body_ids(const cJSON *body, struct admin_resp *resp, int64_t *ids, size_t *n)
{
    const cJSON *arr = json_get(body, "ids");
    size_t i;
    const cJSON *v;
    if (!cJSON_IsArray(arr) || json_size(arr) < 2 || json_size(arr) > ISSUE_MERGE_MAX) {
        admin_error(resp, 400, "invalid_ids",
                    "ids must be a list of 2 to 100 issue ids, the target first");
        return -1;
    }
    json_array_each(arr, i, v)
    {
        if (!json_is_int(v) || json_i64(v) <= 0) {
            admin_error(resp, 400, "invalid_ids", "ids[%zu] is not an issue id", i);
            return -1;
        }
        ids[i] = json_i64(v);
        for (size_t j = 0; j < i; j++)
            if (ids[j] == ids[i]) {
                admin_error(resp, 400, "invalid_ids", "issue %lld is listed twice",
                            (long long)ids[i]);
                return -1;
            }
    }
    *n = json_size(arr);
    return 0;
}

static void issues_merge(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), ids[ISSUE_MERGE_MAX], missing = 0;
    size_t n = 0;
    if (pid < 0) return;
    cJSON *body = admin_body_object(req, resp);
    if (!body) return;
    int rc = body_ids(body, resp, ids, &n);
    cJSON_Delete(body);
    if (rc != 0) return;
    struct db *db = store_acquire(req->ctx->store);
    if (admin_project_check(db, pid, resp, NULL) != 0) {
        store_release(req->ctx->store, db);
        return;
    }
    rc = issue_merge(db, pid, ids, n, admin_request_user(req), clock_wall_ms(), &missing);
    if (rc == 0)
        answer_issue(resp, db, pid, ids[0], 200);
    else if (rc == -ENOENT)
        admin_error(resp, 404, "issue_not_found", "issue %lld is not an issue of this project",
                    (long long)missing);
    else
        admin_db_error(resp, "issue merge", rc);
    store_release(req->ctx->store, db);
}

static bool hash_valid(const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > 64) return false;
    for (const char *c = h; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return false;
    return true;
}

static void issue_unmerge_hash(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), iid, new_id = 0;
    if (pid < 0 || (iid = admin_param_id(req, resp, 1)) < 0) return;
    const char *hash = req->params[2];
    if (!hash_valid(hash)) {
        admin_error(resp, 404, "hash_not_found", "no such hash on this issue");
        return;
    }
    struct db *db = store_acquire(req->ctx->store);
    int rc = issue_unmerge(db, pid, iid, hash, admin_request_user(req), clock_wall_ms(),
                           event_stored_tags, NULL, &new_id);
    if (rc == 0)
        answer_issue(resp, db, pid, new_id, 201);
    else if (rc == -ENOENT)
        admin_error(resp, 404, "hash_not_found", "no such hash on this issue");
    else if (rc == -EMLINK)
        admin_error(resp, 409, "only_hash", "this is the issue's only hash: nothing to split");
    else
        admin_db_error(resp, "issue unmerge", rc);
    store_release(req->ctx->store, db);
}

static void activity_times(cJSON *rows)
{
    size_t i;
    cJSON *row;
    json_array_each(rows, i, row) admin_time_field(row, "created_at");
}

static void issue_comment(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), iid;
    if (pid < 0 || (iid = admin_param_id(req, resp, 1)) < 0) return;
    cJSON *body = admin_body_object(req, resp);
    if (!body) return;
    const char *text = json_str(json_get(body, "text"));
    size_t len = text ? strlen(text) : 0;
    if (len == 0 || len > ISSUE_COMMENT_MAX) {
        admin_error(resp, 400, "invalid_text", "text must be a string of 1 to 10000 bytes");
        cJSON_Delete(body);
        return;
    }
    struct db *db = store_acquire(req->ctx->store);
    cJSON *row = NULL;
    int rc =
        issue_activity_comment(db, pid, iid, admin_request_user(req), text, clock_wall_ms(), &row);
    store_release(req->ctx->store, db);
    cJSON_Delete(body);
    if (rc == 0) {
        admin_time_field(row, "created_at");
        admin_json(resp, 201, row);
    } else if (rc == -ENOENT) {
        admin_error(resp, 404, "issue_not_found", "no such issue in this project");
    } else {
        admin_db_error(resp, "issue comment", rc);
    }
}

int admin_issue_patch_assignee(const struct admin_req *req, struct admin_resp *resp, struct db *db,
                               int64_t pid, int64_t iid, const cJSON *body)
{
    const cJSON *v = json_get(body, "assignee_id");
    if (!v) return 1;
    if (!cJSON_IsNull(v) && (!json_is_int(v) || json_i64(v) <= 0)) {
        admin_error(resp, 400, "invalid_assignee", "assignee_id must be a user id or null");
        return -1;
    }
    int64_t user = cJSON_IsNull(v) ? 0 : json_i64(v);
    int rc = issue_assign(db, pid, iid, user, admin_request_user(req), clock_wall_ms());
    if (rc == 0) return 0;
    if (rc == -ENOENT)
        admin_error(resp, 404, "issue_not_found", "no such issue in this project");
    else
        admin_db_error(resp, "issue assign", rc);
    return -1;
}

int admin_issue_triage_detail(struct db *db, int64_t iid, cJSON *issue)
{
    cJSON *hashes = NULL, *activity = NULL;
    int rc = issue_hashes_list(db, iid, &hashes);
    if (rc == 0) rc = issue_activity_list(db, iid, &activity);
    bool upper = false;
    if (rc == 0) rc = issue_activity_users_upper_bound(db, iid, &upper);
    if (rc != 0) {
        cJSON_Delete(hashes);
        return rc;
    }
    activity_times(activity);
    json_set(issue, "hashes", hashes);
    json_set(issue, "activity", activity);
    json_set(issue, "user_count_upper_bound", cJSON_CreateBool(upper));
    return 0;
}

const struct admin_route admin_routes_issue_actions[] = {
    {"POST", "/api/admin/projects/{}/issues/merge", issues_merge},
    {"DELETE", "/api/admin/projects/{}/issues/{}/hashes/{}", issue_unmerge_hash},
    {"POST", "/api/admin/projects/{}/issues/{}/comments", issue_comment},
    {NULL, NULL, NULL},
};
