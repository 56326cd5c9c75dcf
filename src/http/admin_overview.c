/* admin_overview — what the web interface reads beside the core API:
 *   GET /api/admin/projects/{p}/stats                 {events_24h, unresolved_issues,
 * histogram_24h} GET /api/admin/projects/{p}/issues/{i}/stats      {histogram_14d, users,
 * first_event_id} GET /api/admin/projects/{p}/script/versions/{v}   {project_id, version, source}
 * (store/overview.h, store/scripts.h). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "http/admin.h"
#include "base/clock.h"
#include "base/config.h"
#include "http/admin.h"
#include "store/issues.h"
#include "store/overview.h"
#include "store/scripts.h"
#include "store/store.h"

static void project_stats(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    struct project_overview o;
    int rc = admin_project_check(db, pid, resp, NULL);
    if (rc == 0) {
        rc = overview_project(db, pid, clock_wall_ms(), &o);
        if (rc) admin_db_error(resp, "overview_project", rc);
    }
    store_release(req->ctx->store, db);
    if (rc) return;
    admin_json(resp, 200,
               json_build("{s:I, s:I, s:I, s:o}", "project_id", (int64_t)pid, "events_24h",
                          (int64_t)o.events_24h, "unresolved_issues", (int64_t)o.unresolved_issues,
                          "histogram_24h", o.histogram_24h));
}

static void issue_stats(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), iid;
    if (pid < 0 || (iid = admin_param_id(req, resp, 1)) < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *issue = NULL;
    struct issue_overview o;
    int rc = issues_get(db, pid, iid, &issue); /* the issue must be this project's */
    cJSON_Delete(issue);
    if (rc == 0) rc = overview_issue(db, iid, clock_wall_ms(), &o);
    store_release(req->ctx->store, db);
    if (rc == -ENOENT)
        return admin_error(resp, 404, "issue_not_found", "no such issue in this project");
    if (rc) return admin_db_error(resp, "overview_issue", rc);
    admin_json(resp, 200,
               json_build("{s:I, s:o, s:I, s:o}", "issue_id", (int64_t)iid, "histogram_14d",
                          o.histogram_14d, "users", (int64_t)o.users, "first_event_id",
                          o.first_event_id[0] ? cJSON_CreateString(o.first_event_id)
                                              : cJSON_CreateNull()));
}

static void script_version(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), version;
    if (pid < 0 || (version = admin_param_id(req, resp, 1)) < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    char *source = NULL;
    size_t len = 0;
    int rc = admin_project_check(db, pid, resp, NULL);
    if (rc == 0) {
        rc = scripts_get_version(db, pid, version, &source, &len);
        if (rc == -ENOENT)
            admin_error(resp, 404, "version_not_found", "no such script version");
        else if (rc)
            admin_db_error(resp, "scripts_get_version", rc);
    }
    store_release(req->ctx->store, db);
    if (rc) return;
    admin_json(resp, 200,
               json_build("{s:I, s:I, s:s%}", "project_id", (int64_t)pid, "version",
                          (int64_t)version, "source", source, len));
    free(source);
}

const struct admin_route admin_routes_overview[] = {
    {"GET", "/api/admin/projects/{}/stats", project_stats},
    {"GET", "/api/admin/projects/{}/issues/{}/stats", issue_stats},
    {"GET", "/api/admin/projects/{}/script/versions/{}", script_version},
    {NULL, NULL, NULL},
};
