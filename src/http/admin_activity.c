/* admin_activity — reading the activity record (README "Accounts and
 * tokens"), newest first, paginated:
 *   GET /api/admin/activity                            (admins: everything)
 *   GET /api/admin/projects/{id}/activity              (the project's)
 *   GET /api/admin/projects/{id}/issues/{issue}/activity (one issue's)
 * A row is {id, at, actor: {type, id, name}, project_id, action,
 * target: {type, id}, changes}. */
#include <stdlib.h>

#include "http/admin.h"
#include "base/config.h"
#include "store/activity.h"
#include "store/store.h"

#define ACTIVITY_PAGE_DEFAULT 50
#define ACTIVITY_PAGE_MAX 200

static void answer(const struct admin_req *req, struct admin_resp *resp, struct activity_query *q)
{
    struct admin_page page;
    if (admin_page_params(req, resp, ACTIVITY_PAGE_DEFAULT, ACTIVITY_PAGE_MAX, &page) != 0) return;
    int limit = page.limit;
    if (page.has_cursor) q->before_id = page.id;
    q->limit = limit + 1;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *rows = NULL, *row;
    int rc = q->project_id ? admin_project_check(db, q->project_id, resp, NULL) : 0;
    if (rc == 0 && (rc = activity_list(db, q, &rows)) != 0) admin_db_error(resp, "activity", rc);
    store_release(req->ctx->store, db);
    if (rc) return;
    char *next = NULL;
    if (json_size(rows) > (size_t)limit) {
        cJSON_DeleteItemFromArray(rows, (int)limit);
        int64_t last = json_i64(json_get(json_at(rows, limit - 1), "id"));
        next = admin_cursor_encode(last, last);
    }
    size_t i;
    json_array_each(rows, i, row) admin_time_field(row, "at");
    admin_list(resp, rows, next);
    free(next);
}

static void activity_all(const struct admin_req *req, struct admin_resp *resp)
{
    struct activity_query q = {0};
    answer(req, resp, &q);
}

static void activity_project(const struct admin_req *req, struct admin_resp *resp)
{
    struct activity_query q = {.project_id = admin_param_id(req, resp, 0)};
    if (q.project_id > 0) answer(req, resp, &q);
}

static void activity_issue(const struct admin_req *req, struct admin_resp *resp)
{
    struct activity_query q = {.project_id = admin_param_id(req, resp, 0)};
    if (q.project_id < 0 || admin_param_id(req, resp, 1) < 0) return;
    q.target_type = "issue";
    q.target_id = req->params[1];
    answer(req, resp, &q);
}

const struct admin_route admin_routes_activity[] = {
    {"GET", "/api/admin/activity", activity_all},
    {"GET", "/api/admin/projects/{}/activity", activity_project},
    {"GET", "/api/admin/projects/{}/issues/{}/activity", activity_issue},
    {NULL, NULL, NULL},
};
