/* admin_destinations — /api/admin/projects/{id}/alert_notification_destinations
 * (docs/architecture.md §7): create, list, get, patch, delete, and "send a test".
 *
 * Validation and the masked view live in notify/dest_config.h; the rows in
 * store/destinations.h. GET never shows secrets in full. Handlers borrow one
 * pooled store connection, except the test send, which gives it back before
 * the (bounded, blocking) request. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http/admin.h"
#include "base/clock.h"
#include "base/config.h"
#include "notify/alert_data.h"
#include "notify/dest_config.h"
#include "notify/test_send.h"
#include "store/destinations.h"
#include "store/store.h"

#define DESTINATIONS_PAGE_DEFAULT 50
#define DESTINATIONS_PAGE_MAX 200

static cJSON *view(cJSON *row)
{
    cJSON *v = dest_config_view(row);
    if (v) json_set(v, "created_at", admin_time(json_i64(json_get(row, "created_at"))));
    return v;
}

/* name (default: the type) and enabled (default true) from body. */
static int common_fields(const cJSON *body, const char **name, int *enabled,
                         struct admin_resp *resp)
{
    cJSON *n = json_get(body, "name"), *en = json_get(body, "enabled");
    if (n && (!cJSON_IsString(n) || json_strlen(n) == 0 || json_strlen(n) > DEST_NAME_MAX ||
              strlen(json_str(n)) != json_strlen(n))) {
        admin_error(resp, 400, "invalid_name", "name must be 1 to %d bytes of text", DEST_NAME_MAX);
        return -EINVAL;
    }
    if (en && !cJSON_IsBool(en)) {
        admin_error(resp, 400, "invalid_enabled", "enabled must be a boolean");
        return -EINVAL;
    }
    *name = n ? json_str(n) : NULL;
    *enabled = en ? cJSON_IsTrue(en) : -1;
    return 0;
}

static void dest_create(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid < 0) return;
    cJSON *body = admin_body_object(req, resp), *cfg = NULL, *row = NULL;
    if (!body) return;
    const char *type = json_str(json_get(body, "type")), *name;
    int enabled;
    struct error_detail e;
    if (common_fields(body, &name, &enabled, resp) < 0) goto done;
    if (dest_config_build(type, body, NULL, req->ctx->cfg->allow_private_destinations, &cfg, &e) <
        0) {
        admin_error(resp, 400, e.code, "%s", e.message);
        goto done;
    }
    struct db *db = store_acquire(req->ctx->store);
    int64_t id = 0;
    int rc = admin_project_check(db, pid, resp, NULL);
    if (rc == 0) {
        rc = destinations_create(db, pid, type, name ? name : type, enabled != 0, cfg,
                                 clock_wall_ms(), &id);
        if (rc == 0) rc = destinations_get(db, pid, id, &row);
        if (rc < 0)
            admin_db_error(resp, "destinations_create", rc);
        else
            admin_json(resp, 201, view(row));
    }
    store_release(req->ctx->store, db);
done:
    cJSON_Delete(row);
    cJSON_Delete(cfg);
    cJSON_Delete(body);
}

static void dest_list(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    struct admin_page page;
    if (pid < 0 ||
        admin_page_params(req, resp, DESTINATIONS_PAGE_DEFAULT, DESTINATIONS_PAGE_MAX, &page) != 0)
        return;
    int limit = page.limit;
    int64_t after = page.id;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *rows = NULL;
    if (admin_project_check(db, pid, resp, NULL) == 0) {
        int rc = destinations_list(db, pid, after, limit, &rows);
        if (rc < 0) {
            admin_db_error(resp, "destinations_list", rc);
        } else {
            cJSON *data = cJSON_CreateArray();
            size_t i;
            cJSON *row;
            json_array_each(rows, i, row) json_push(data, view(row));
            char *next = NULL;
            if (json_size(rows) == (size_t)limit) {
                int64_t last = json_i64(json_get(json_at(rows, i - 1), "id"));
                next = admin_cursor_encode(last, last);
            }
            admin_list(resp, data, next);
            free(next);
        }
    }
    store_release(req->ctx->store, db);
    cJSON_Delete(rows);
}

/* Loads the destination of params {project, dest}; answers 404 when not. */
static cJSON *load(const struct admin_req *req, struct admin_resp *resp, struct db *db,
                   cJSON **project)
{
    int64_t pid = admin_param_id(req, resp, 0);
    int64_t id = pid < 0 ? -1 : admin_param_id(req, resp, 1);
    cJSON *row = NULL;
    if (id < 0 || admin_project_check(db, pid, resp, project) < 0) return NULL;
    int rc = destinations_get(db, pid, id, &row);
    if (rc == -ENOENT)
        admin_error(resp, 404, "destination_not_found", "no such destination in this project");
    else if (rc < 0)
        admin_db_error(resp, "destinations_get", rc);
    return rc == 0 ? row : NULL;
}

static void dest_get(const struct admin_req *req, struct admin_resp *resp)
{
    struct db *db = store_acquire(req->ctx->store);
    cJSON *row = load(req, resp, db, NULL);
    store_release(req->ctx->store, db);
    if (row) admin_json(resp, 200, view(row));
    cJSON_Delete(row);
}

static void dest_patch(const struct admin_req *req, struct admin_resp *resp)
{
    cJSON *body = admin_body_object(req, resp), *cfg = NULL, *row = NULL, *fresh = NULL;
    if (!body) return;
    struct db *db = store_acquire(req->ctx->store);
    row = load(req, resp, db, NULL);
    const char *type = json_str(json_get(row, "type")), *name;
    cJSON *new_type = json_get(body, "type");
    int enabled;
    struct error_detail e;
    if (!row || common_fields(body, &name, &enabled, resp) < 0) goto done;
    if (new_type && !cJSON_Compare(new_type, json_get(row, "type"), 1)) {
        admin_error(resp, 400, "type_immutable",
                    "a destination's type cannot change; create another");
        goto done;
    }
    if (dest_config_build(type, body, json_get(row, "config"),
                          req->ctx->cfg->allow_private_destinations, &cfg, &e) < 0) {
        admin_error(resp, 400, e.code, "%s", e.message);
        goto done;
    }
    int64_t pid = json_i64(json_get(row, "project_id"));
    int64_t id = json_i64(json_get(row, "id"));
    int rc = destinations_update(db, pid, id, name, enabled, cfg);
    if (rc == 0) rc = destinations_get(db, pid, id, &fresh);
    if (rc < 0)
        admin_db_error(resp, "destinations_update", rc);
    else
        admin_json(resp, 200, view(fresh));
done:
    store_release(req->ctx->store, db);
    cJSON_Delete(fresh);
    cJSON_Delete(row);
    cJSON_Delete(cfg);
    cJSON_Delete(body);
}

static void dest_delete(const struct admin_req *req, struct admin_resp *resp)
{
    struct db *db = store_acquire(req->ctx->store);
    cJSON *row = load(req, resp, db, NULL);
    if (row) {
        int rc = destinations_delete(db, json_i64(json_get(row, "project_id")),
                                     json_i64(json_get(row, "id")));
        if (rc < 0)
            admin_db_error(resp, "destinations_delete", rc);
        else
            admin_json(resp, 204, NULL);
    }
    store_release(req->ctx->store, db);
    cJSON_Delete(row);
}

static void dest_test(const struct admin_req *req, struct admin_resp *resp)
{
    cJSON *project = NULL, *result = NULL;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *row = load(req, resp, db, &project);
    store_release(req->ctx->store, db); /* not held across the request */
    if (!row) goto done;
    int rc = notify_send_test(req->ctx->cfg, req->ctx->scripts, row,
                              json_str(json_get(project, "name")), &result);
    if (rc < 0)
        admin_error(resp, 500, "test_failed",
                    "the test could not be attempted; see the server log");
    else
        admin_json(resp, 200, json_dup(result));
done:
    cJSON_Delete(result);
    cJSON_Delete(row);
    cJSON_Delete(project);
}

const struct admin_route admin_routes_destinations[] = {
    {"POST", "/api/admin/projects/{}/alert_notification_destinations", dest_create},
    {"GET", "/api/admin/projects/{}/alert_notification_destinations", dest_list},
    {"GET", "/api/admin/projects/{}/alert_notification_destinations/{}", dest_get},
    {"PATCH", "/api/admin/projects/{}/alert_notification_destinations/{}", dest_patch},
    {"DELETE", "/api/admin/projects/{}/alert_notification_destinations/{}", dest_delete},
    {"POST", "/api/admin/projects/{}/alert_notification_destinations/{}/test", dest_test},
    {NULL, NULL, NULL},
};
