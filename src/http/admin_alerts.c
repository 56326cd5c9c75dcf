/* admin_alerts — GET /api/admin/projects/{id}/alerts: the project's alerts,
 * newest first, cursor-paginated, each with its deliveries and every
 * attempt (store/deliveries.h), times as RFC 3339. */
#include <stdlib.h>

#include "http/admin.h"
#include "base/config.h"
#include "store/deliveries.h"
#include "store/store.h"

#define ALERTS_PAGE_DEFAULT 50
#define ALERTS_PAGE_MAX 200

static void times_to_text(cJSON *obj, const char *const *names)
{
    for (; *names; names++)
        admin_time_field(obj, *names);
}

static void present(cJSON *alerts)
{
    static const char *const ALERT_T[] = {"created_at", NULL};
    static const char *const DELIVERY_T[] = {"next_attempt_at", "created_at", "updated_at", NULL};
    static const char *const ATTEMPT_T[] = {"attempted_at", NULL};
    size_t i, j, k;
    cJSON *a, *d, *x;
    json_array_each(alerts, i, a)
    {
        times_to_text(a, ALERT_T);
        json_array_each(json_get(a, "deliveries"), j, d)
        {
            times_to_text(d, DELIVERY_T);
            json_array_each(json_get(d, "attempts"), k, x) times_to_text(x, ATTEMPT_T);
        }
    }
}

static void alerts_list(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    struct admin_page page;
    if (pid < 0 || admin_page_params(req, resp, ALERTS_PAGE_DEFAULT, ALERTS_PAGE_MAX, &page) != 0)
        return;
    int limit = page.limit;
    int64_t before = page.id;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *alerts = NULL;
    int rc = admin_project_check(db, pid, resp, NULL);
    if (rc == 0) {
        rc = deliveries_list_alerts(db, pid, before, limit, &alerts);
        if (rc < 0) admin_db_error(resp, "deliveries_list_alerts", rc);
    }
    store_release(req->ctx->store, db);
    if (rc < 0) return;
    char *next = NULL;
    size_t n = json_size(alerts);
    if (n == (size_t)limit) {
        int64_t last = json_i64(json_get(json_at(alerts, n - 1), "id"));
        next = admin_cursor_encode(last, last);
    }
    present(alerts);
    admin_list(resp, alerts, next);
    free(next);
}

const struct admin_route admin_routes_alerts[] = {
    {"GET", "/api/admin/projects/{}/alerts", alerts_list},
    {NULL, NULL, NULL},
};
