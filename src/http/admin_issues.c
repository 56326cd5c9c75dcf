/* admin_issues — issues and their events (docs/architecture.md §7):
 *   GET   /api/admin/projects/{p}/issues            list (filters, sort, cursor)
 *   PATCH /api/admin/projects/{p}/issues?ids=1,2    bulk status (as one issue's PATCH)
 *   GET   /api/admin/projects/{p}/issues/{i}        one issue, tags, latest event
 *   PATCH /api/admin/projects/{p}/issues/{i}        {"status": …}
 *   GET   /api/admin/projects/{p}/issues/{i}/events events, newest first
 *   GET   /api/admin/projects/{p}/events/{event_id} the stored event JSON
 *
 * Handlers borrow one pooled store connection for the call. Store rows have
 * ms times; here they become RFC 3339. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/event.h"
#include "base/clock.h"
#include "scripts/event_stored.h"
#include "http/admin.h"
#include "http/admin_issues_params.h"
#include "http/admin_issue_actions.h"
#include "model/issue_search.h"
#include "base/log.h"
#include "base/config.h"
#include "http/admin_triage.h"
#include "store/events_read.h"
#include "store/issue_tags.h"
#include "store/issues.h"
#include "store/store.h"

#define EVENTS_PAGE_DEFAULT 25
#define EVENTS_PAGE_MAX 100
#define TAGS_TOP_VALUES 5

/* An issue row made into the API's issue, with its 24 h histogram (a list
 * page reads every row's in one statement before: issues_histograms). */
static int issue_view(struct db *db, cJSON *row, int64_t now_ms)
{
    int rc = 0;
    if (!json_get(row, "histogram_24h")) {
        cJSON *hist = NULL;
        rc = issues_histogram(db, json_i64(json_get(row, "id")), now_ms, &hist);
        if (rc != 0) return rc;
        json_set(row, "histogram_24h", hist);
    }
    const char *status = json_str(json_get(row, "status"));
    if (status && strcmp(status, "unresolved") != 0 && (rc = issue_triage_describe(db, row)) != 0)
        return rc;
    admin_time_field(row, "first_seen");
    admin_time_field(row, "last_seen");
    return 0;
}

static void issue_list(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    struct issue_query q;
    struct issue_search *search = malloc(sizeof *search);
    if (!search) {
        admin_db_error(resp, "issue list", -ENOMEM);
        return;
    }
    if (pid < 0 || admin_issue_query(req, resp, &q, search) != 0) {
        free(search);
        return;
    }
    struct db *db = store_acquire(req->ctx->store);
    if (admin_project_check(db, pid, resp, NULL) != 0) {
        store_release(req->ctx->store, db);
        free(search);
        return;
    }
    cJSON *rows = NULL, *row;
    bool more = false;
    int64_t now = clock_wall_ms();
    size_t i;
    int rc = issues_list(db, pid, &q, &rows, &more);
    free(search);
    char *cursor = NULL; /* from the raw row, before its times become text */
    if (rc == 0 && more) {
        cJSON *last = json_at(rows, json_size(rows) - 1);
        cursor = admin_cursor_encode(issues_sort_key(last, q.sort), json_i64(json_get(last, "id")));
    }
    if (rc == 0) rc = issues_histograms(db, rows, now);
    json_array_each(rows, i, row)
    {
        if (rc == 0) rc = issue_view(db, row, now);
    }
    store_release(req->ctx->store, db);
    if (rc != 0) {
        cJSON_Delete(rows);
        free(cursor);
        admin_db_error(resp, "issue list", rc);
        return;
    }
    admin_list(resp, rows, cursor);
    free(cursor);
}

/* Adds "tags" and "latest_event" (with its stored JSON under "data"). */
static int issue_detail(struct db *db, int64_t pid, int64_t iid, cJSON *issue)
{
    cJSON *tags = NULL, *latest = NULL;
    uint8_t eid[16];
    int rc = issue_tags_summary(db, iid, TAGS_TOP_VALUES, &tags);
    if (rc != 0) return rc;
    size_t i, j;
    cJSON *tag, *value;
    json_array_each(tags, i, tag)
    {
        json_array_each(json_get(tag, "top_values"), j, value) admin_time_field(value, "last_seen");
    }
    json_set(issue, "tags", tags);
    rc = events_latest(db, pid, iid, &latest, eid);
    if (rc == -ENOENT) {
        json_set(issue, "latest_event", cJSON_CreateNull());
        return 0;
    }
    if (rc != 0) return rc;
    char *text = NULL;
    size_t len = 0;
    cJSON *data = event_stored_json(db, pid, eid, &text, &len) == 0 ? json_parse(text, len) : NULL;
    if (!data)
        log_warn("latest event left out: it cannot be rendered", "issue=%lld", (long long)iid);
    json_set(latest, "data", data ? data : cJSON_CreateNull());
    free(text);
    admin_time_field(latest, "timestamp");
    admin_time_field(latest, "received_at");
    json_set(issue, "latest_event", latest);
    return 0;
}

/* The answer of a handler that looked up one issue: 200 with it (takes
 * ownership), 404, or the database error. */
static void answer_issue(struct admin_resp *resp, int rc, cJSON *issue, const char *op)
{
    if (rc == 0) {
        admin_json(resp, 200, issue);
        return;
    }
    cJSON_Delete(issue);
    if (rc == -ENOENT)
        admin_error(resp, 404, "issue_not_found", "no such issue in this project");
    else
        admin_db_error(resp, op, rc);
}

static void issue_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), iid;
    if (pid < 0 || (iid = admin_param_id(req, resp, 1)) < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *issue = NULL;
    int rc = issues_get(db, pid, iid, &issue);
    if (rc == 0) rc = issue_view(db, issue, clock_wall_ms());
    if (rc == 0) rc = issue_detail(db, pid, iid, issue);
    if (rc == 0) rc = admin_issue_triage_detail(db, iid, issue);
    store_release(req->ctx->store, db);
    answer_issue(resp, rc, issue, "issue get");
}

/* {"status": "resolved" | "ignored" | "unresolved"} → the status, or NULL
 * after answering 400. *body_out must be cJSON_Delete'd by the caller. */
static const char *body_status(const struct admin_req *req, struct admin_resp *resp,
                               cJSON **body_out)
{
    cJSON *body = admin_body_object(req, resp);
    *body_out = body;
    if (!body) return NULL;
    const char *s = json_str(json_get(body, "status"));
    if (!issues_status_valid(s)) {
        admin_error(resp, 400, "invalid_status", "status must be unresolved, resolved or ignored");
        return NULL;
    }
    return s;
}

static void issue_patch(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), iid;
    if (pid < 0 || (iid = admin_param_id(req, resp, 1)) < 0) return;
    cJSON *peek = admin_body_object(req, resp);
    if (!peek) return;
    /* {"assignee_id"} alone assigns; with "status" both change. */
    bool has_status = json_get(peek, "status") != NULL;
    bool has_assignee = json_get(peek, "assignee_id") != NULL;
    cJSON *body = NULL;
    const char *status = NULL;
    if (has_status || !has_assignee) {
        status = body_status(req, resp, &body);
        if (!status) {
            cJSON_Delete(body);
            cJSON_Delete(peek);
            return;
        }
    }
    struct issue_snooze_spec snooze;
    struct issue_resolution_spec resolution;
    if (status && admin_triage_status_body(body, status, &snooze, &resolution, resp) != 0) {
        cJSON_Delete(body);
        cJSON_Delete(peek);
        return;
    }
    struct db *db = store_acquire(req->ctx->store);
    cJSON *issue = NULL;
    int rc = 0;
    if (has_assignee && admin_issue_patch_assignee(req, resp, db, pid, iid, peek) < 0) rc = 1;
    if (rc == 0 && status) rc = issue_triage_set(db, pid, iid, status, &snooze, &resolution);
    if (rc == 0) rc = issues_get(db, pid, iid, &issue);
    if (rc == 0) rc = issue_view(db, issue, clock_wall_ms());
    store_release(req->ctx->store, db);
    cJSON_Delete(body);
    cJSON_Delete(peek);
    if (rc != 1) answer_issue(resp, rc, issue, "issue status");
}

/* The same body as one issue's PATCH status (ignore_until, resolved_in
 * included), for each id of ?ids= in one transaction. */
static void issue_bulk_patch(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), ids[ISSUES_BULK_MAX], updated = 0;
    size_t n = 0;
    if (pid < 0 || admin_issue_ids(req, resp, ids, &n) != 0) return;
    cJSON *body = NULL;
    const char *status = body_status(req, resp, &body);
    struct issue_snooze_spec snooze;
    struct issue_resolution_spec resolution;
    if (!status || admin_triage_status_body(body, status, &snooze, &resolution, resp) != 0) {
        cJSON_Delete(body);
        return;
    }
    struct db *db = store_acquire(req->ctx->store);
    /* rc 1: admin_project_check has answered already. A plain status
     * change ends any snooze or release resolution. */
    int rc = admin_project_check(db, pid, resp, NULL) != 0
                 ? 1
                 : issue_triage_set_bulk(db, pid, ids, n, status, &snooze, &resolution, &updated);
    store_release(req->ctx->store, db);
    if (rc == 0)
        admin_json(resp, 200,
                   json_build("{s:s, s:I}", "status", status, "updated", (int64_t)updated));
    else if (rc < 0)
        admin_db_error(resp, "issue bulk status", rc);
    cJSON_Delete(body);
}

static void issue_events(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), iid, next = 0;
    struct admin_page page;
    if (pid < 0 || (iid = admin_param_id(req, resp, 1)) < 0 ||
        admin_page_params(req, resp, EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX, &page) != 0)
        return;
    int limit = page.limit;
    bool has_cursor = page.has_cursor;
    int64_t before = page.id;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *issue = NULL, *rows = NULL;
    int rc = issues_get(db, pid, iid, &issue);
    cJSON_Delete(issue);
    if (rc == 0) rc = events_list_for_issue(db, pid, iid, has_cursor, before, limit, &rows, &next);
    store_release(req->ctx->store, db);
    if (rc == -ENOENT) {
        admin_error(resp, 404, "issue_not_found", "no such issue in this project");
        return;
    }
    if (rc != 0) {
        admin_db_error(resp, "issue events", rc);
        return;
    }
    size_t i;
    cJSON *row;
    json_array_each(rows, i, row)
    {
        admin_time_field(row, "timestamp");
        admin_time_field(row, "received_at");
    }
    char *next_cursor = next ? admin_cursor_encode(next, next) : NULL;
    admin_list(resp, rows, next_cursor);
    free(next_cursor);
}

static void event_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    uint8_t eid[16];
    if (pid < 0) return;
    if (event_id_parse(req->params[1], strlen(req->params[1]), eid) != 0) {
        admin_error(resp, 404, "event_not_found", "no such event in this project");
        return;
    }
    struct db *db = store_acquire(req->ctx->store);
    char *text = NULL;
    size_t len = 0;
    int rc = event_stored_json(db, pid, eid, &text, &len);
    store_release(req->ctx->store, db);
    if (rc == 0) {
        /* The stored event exactly as normalized (event_stored.h). */
        resp->status = 200;
        resp->text = text;
        resp->content_type = "application/json";
        return;
    }
    if (rc == -ENOENT)
        admin_error(resp, 404, "event_not_found", "no such event in this project");
    else
        admin_db_error(resp, "event get", rc);
}

const struct admin_route admin_routes_issues[] = {
    {"GET", "/api/admin/projects/{}/issues", issue_list},
    {"PATCH", "/api/admin/projects/{}/issues", issue_bulk_patch},
    {"GET", "/api/admin/projects/{}/issues/{}", issue_get},
    {"PATCH", "/api/admin/projects/{}/issues/{}", issue_patch},
    {"GET", "/api/admin/projects/{}/issues/{}/events", issue_events},
    {"GET", "/api/admin/projects/{}/events/{}", event_get},
    {NULL, NULL, NULL},
};
