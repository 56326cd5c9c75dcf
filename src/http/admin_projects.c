/* admin_projects — /api/admin/projects and their DSN keys (docs/architecture.md §7).
 *
 * Handlers borrow one pooled store connection for the length of the call.
 * Rows come from src/store/projects.h with times in ms; here they get
 * RFC 3339 times and their DSN. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "http/admin.h"
#include "http/dsn.h"
#include "http/ingest.h"
#include "model/scrub.h"
#include "scripts/script_ops.h"
#include "base/config.h"
#include "store/project_scrub.h"
#include "store/projects.h"
#include "store/grouping_transitions.h"
#include "store/store.h"

#define PROJECTS_PAGE_DEFAULT 50
#define PROJECTS_PAGE_MAX 200
#define RATE_LIMIT_MAX 1000000000

static void project_missing(struct admin_resp *resp)
{
    admin_error(resp, 404, "project_not_found", "no such project");
}

static void add_dsn(const struct config *cfg, cJSON *obj, const char *key, int64_t project_id)
{
    char *dsn = key ? dsn_build(cfg, key, project_id) : NULL;
    json_set(obj, "dsn", dsn ? cJSON_CreateString(dsn) : cJSON_CreateNull());
    free(dsn);
}

/* A store row made into the API's project object, in place. */
static cJSON *project_view(const struct config *cfg, cJSON *row)
{
    admin_time_field(row, "created_at");
    add_dsn(cfg, row, json_str(json_get(row, "public_key")), json_i64(json_get(row, "id")));
    return row;
}

static cJSON *key_view(const struct config *cfg, cJSON *row, int64_t project_id)
{
    admin_time_field(row, "created_at");
    admin_time_field(row, "revoked_at");
    add_dsn(cfg, row, json_str(json_get(row, "public_key")), project_id);
    return row;
}

/* "name": a string of 1–200 bytes of UTF-8 (the store's limit), not only
 * blanks, without NUL. Answers 400 when not. */
static const char *valid_name(cJSON *body, struct admin_resp *resp)
{
    cJSON *v = json_get(body, "name");
    if (!cJSON_IsString(v)) {
        admin_error(resp, 400, "invalid_name", "name is required and must be a string");
        return NULL;
    }
    const char *s = json_str(v);
    size_t len = json_strlen(v);
    if (len == 0 || len > PROJECT_NAME_MAX || strlen(s) != len || strspn(s, " \t\r\n") == len) {
        admin_error(resp, 400, "invalid_name", "name must be 1 to %d bytes of UTF-8, not blank",
                    PROJECT_NAME_MAX);
        return NULL;
    }
    return s;
}

/* Answers with the project as stored now (200, or 201 after a create). */
static void answer_project(const struct admin_req *req, struct admin_resp *resp, struct db *db,
                           int64_t id, int status)
{
    cJSON *row;
    if (admin_project_check(db, id, resp, &row) == 0)
        admin_json(resp, status, project_view(req->ctx->cfg, row));
}

static void project_create(const struct admin_req *req, struct admin_resp *resp)
{
    cJSON *body = admin_body_object(req, resp);
    if (!body) return;
    const char *name = valid_name(body, resp);
    if (name) {
        struct db *db = store_acquire(req->ctx->store);
        int64_t id;
        char key[PUBLIC_KEY_HEX + 1];
        int rc = projects_create(db, name, &id, key);
        if (rc)
            admin_db_error(resp, "projects_create", rc);
        else
            answer_project(req, resp, db, id, 201);
        store_release(req->ctx->store, db);
    }
    cJSON_Delete(body);
}

/* The projects of a caller limited to some (members, viewers, scoped
 * tokens): theirs with id > after_id, ascending, at most limit. */
static int member_projects(struct db *db, const struct principal *who, int64_t after_id, int limit,
                           cJSON **out)
{
    cJSON *rows = cJSON_CreateArray(), *row;
    int rc = rows ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < who->nprojects && json_size(rows) < (size_t)limit; i++) {
        if (who->projects[i] <= after_id) continue;
        rc = projects_get(db, who->projects[i], &row);
        if (rc == 0) json_push(rows, row);
        if (rc == -ENOENT) rc = 0;
    }
    if (rc)
        cJSON_Delete(rows);
    else
        *out = rows;
    return rc;
}

static void project_list(const struct admin_req *req, struct admin_resp *resp)
{
    struct admin_page page;
    if (admin_page_params(req, resp, PROJECTS_PAGE_DEFAULT, PROJECTS_PAGE_MAX, &page) != 0) return;
    int limit = page.limit;
    int64_t after = page.id;

    struct db *db = store_acquire(req->ctx->store);
    cJSON *rows;
    int rc = req->who->all_projects ? projects_list(db, after, limit + 1, &rows)
                                    : member_projects(db, req->who, after, limit + 1, &rows);
    store_release(req->ctx->store, db);
    if (rc) return admin_db_error(resp, "projects_list", rc);

    char *next = NULL;
    if (json_size(rows) > (size_t)limit) {
        cJSON_DeleteItemFromArray(rows, (int)limit);
        int64_t last = json_i64(json_get(json_at(rows, limit - 1), "id"));
        next = admin_cursor_encode(last, last);
    }
    size_t i;
    cJSON *row;
    json_array_each(rows, i, row) project_view(req->ctx->cfg, row);
    admin_list(resp, rows, next);
    free(next);
}

static void project_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    answer_project(req, resp, db, id, 200);
    store_release(req->ctx->store, db);
}

/* The project's scrubbing settings with body.scrubbing applied into *s.
 * 0; else answers (404, 400) and returns -1. */
static int patched_scrubbing(struct db *db, int64_t id, const cJSON *patch,
                             struct scrub_settings *s, struct admin_resp *resp)
{
    int rc = project_scrub_get(db, id, s);
    if (rc == -ENOENT) {
        project_missing(resp);
        return -1;
    }
    if (rc == -EIO) { /* a stored list that no longer parses: start over from the defaults */
        scrub_settings_default(s);
        rc = 0;
    }
    if (rc) {
        admin_db_error(resp, "project_scrub_get", rc);
        return -1;
    }
    char err[256];
    if (scrub_settings_patch(s, patch, err, sizeof err) != 0) {
        admin_error(resp, 400, "invalid_scrubbing", "%s", err);
        return -1;
    }
    return 0;
}

static void project_patch(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    cJSON *body = admin_body_object(req, resp);
    if (!body) return;

    const char *name = NULL;
    int64_t rate = -1;
    cJSON *r = json_get(body, "rate_limit_per_minute");
    cJSON *scrubbing = json_get(body, "scrubbing");
    cJSON *days = json_get(body, "grouping_transition_days");
    struct scrub_settings settings;
    if (json_get(body, "name") && !(name = valid_name(body, resp))) goto out;
    if (r) {
        if (!json_is_int(r) || json_i64(r) < 0 || json_i64(r) > RATE_LIMIT_MAX) {
            admin_error(resp, 400, "invalid_rate_limit",
                        "rate_limit_per_minute must be an integer from 0 (unlimited) to %d",
                        RATE_LIMIT_MAX);
            goto out;
        }
        rate = json_i64(r);
    }
    if (days && (!json_is_int(days) || json_i64(days) < 0 ||
                 json_i64(days) > GROUPING_TRANSITION_DAYS_MAX)) {
        admin_error(resp, 400, "invalid_grouping_transition_days",
                    "grouping_transition_days must be an integer from 0 (none) to %d",
                    GROUPING_TRANSITION_DAYS_MAX);
        goto out;
    }

    struct db *db = store_acquire(req->ctx->store);
    if (scrubbing && patched_scrubbing(db, id, scrubbing, &settings, resp) != 0) {
        store_release(req->ctx->store, db);
        goto out;
    }
    int rc = projects_update(db, id, name, (int)rate);
    if (rc == 0 && rate >= 0) ingest_forget_keys(req->ctx->ingest); /* the new quota, at once */
    if (rc == 0 && scrubbing) rc = project_scrub_set(db, id, &settings);
    if (rc == 0 && days) rc = grouping_transition_days_set(db, id, (int)json_i64(days));
    if (rc == -ENOENT)
        project_missing(resp);
    else if (rc)
        admin_db_error(resp, "projects_update", rc);
    else
        answer_project(req, resp, db, id, 200);
    store_release(req->ctx->store, db);
    /* Workers scrub with the new settings from their next event on. */
    if (rc == 0 && scrubbing) script_ops_project_changed(req->ctx->store, req->ctx->scripts, id);
out:
    cJSON_Delete(body);
}

static void project_delete(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    int rc = projects_delete(db, id);
    store_release(req->ctx->store, db);
    if (rc == 0) ingest_forget_keys(req->ctx->ingest); /* its keys stop working at once */
    if (rc == -ENOENT) return project_missing(resp);
    if (rc) return admin_db_error(resp, "projects_delete", rc);
    admin_json(resp, 204, NULL);
}

static void key_create(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    char key[PUBLIC_KEY_HEX + 1];
    cJSON *rows = NULL, *row;
    size_t i;
    int rc;
    if (admin_project_check(db, id, resp, NULL) != 0) goto out;
    if ((rc = keys_create(db, id, key)) != 0 || (rc = keys_list(db, id, &rows)) != 0) {
        admin_db_error(resp, "keys_create", rc);
        goto out;
    }
    json_array_each(rows, i, row)
    {
        if (strcmp(json_str(json_get(row, "public_key")), key) == 0) {
            admin_json(resp, 201, key_view(req->ctx->cfg, json_dup(row), id));
            goto out;
        }
    }
    admin_db_error(resp, "keys_create", -ENOENT);
out:
    cJSON_Delete(rows);
    store_release(req->ctx->store, db);
}

static void key_list(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *rows = NULL, *row;
    size_t i;
    int rc;
    if (admin_project_check(db, id, resp, NULL) != 0) goto out;
    if ((rc = keys_list(db, id, &rows)) != 0) {
        admin_db_error(resp, "keys_list", rc);
        goto out;
    }
    json_array_each(rows, i, row) key_view(req->ctx->cfg, row, id);
    admin_list(resp, rows, NULL);
out:
    store_release(req->ctx->store, db);
}

static void key_revoke(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    if (admin_project_check(db, id, resp, NULL) == 0) {
        int rc = keys_revoke(db, id, req->params[1]);
        if (rc == 0) ingest_forget_keys(req->ctx->ingest); /* at once on this node */
        if (rc == -ENOENT)
            admin_error(resp, 404, "key_not_found", "no such key in this project");
        else if (rc)
            admin_db_error(resp, "keys_revoke", rc);
        else
            admin_json(resp, 204, NULL);
    }
    store_release(req->ctx->store, db);
}

const struct admin_route admin_routes_projects[] = {
    {"POST", "/api/admin/projects", project_create},
    {"GET", "/api/admin/projects", project_list},
    {"GET", "/api/admin/projects/{}", project_get},
    {"PATCH", "/api/admin/projects/{}", project_patch},
    {"DELETE", "/api/admin/projects/{}", project_delete},
    {"POST", "/api/admin/projects/{}/keys", key_create},
    {"GET", "/api/admin/projects/{}/keys", key_list},
    {"DELETE", "/api/admin/projects/{}/keys/{}", key_revoke},
    {NULL, NULL, NULL},
};
