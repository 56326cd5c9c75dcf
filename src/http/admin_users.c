/* admin_users — people and project membership (README "Accounts and
 * tokens"; admins only, admin_policy.c):
 *   POST   /api/admin/users {"email", "password", "role", "name"?} → 201 the user
 *   GET    /api/admin/users                  → list, by id, paginated
 *   GET    /api/admin/users/{id}             → one
 *   PATCH  /api/admin/users/{id}             {"email"?, "name"?, "role"?, "password"?}
 *   DELETE /api/admin/users/{id}             → 204
 *   GET/PUT /api/admin/projects/{id}/members {"user_ids": [...]}
 * A user is {id, email, name, role, created_at}; the password hash never
 * leaves the store. The last admin can be neither demoted nor deleted. A
 * new password signs the user out everywhere. Creating or changing a
 * password hashes it: those routes run on the router's runner threads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "accounts/email.h"
#include "accounts/password.h"
#include "http/admin.h"
#include "http/auth_session.h"
#include "base/config.h"
#include "store/sessions.h"
#include "store/store.h"
#include "store/users.h"

#define USERS_PAGE_DEFAULT 50
#define USERS_PAGE_MAX 200
#define MEMBERS_MAX 1000

static cJSON *user_view(cJSON *row)
{
    admin_time_field(row, "created_at");
    return row;
}

static void user_missing(struct admin_resp *resp)
{
    admin_error(resp, 404, "user_not_found", "no such user");
}

/* The fields a create or patch may carry, checked. NULL members are absent.
 * 0, or -1 after answering 400. */
struct user_fields {
    char email[EMAIL_MAX + 1];
    bool has_email;
    const char *name, *role, *password;
};

static int read_fields(cJSON *body, struct admin_resp *resp, struct user_fields *f)
{
    char why[128];
    cJSON *v;
    memset(f, 0, sizeof *f);
    if ((v = json_get(body, "email"))) {
        if (email_normalize(json_str(v), f->email) != 0) {
            admin_error(resp, 400, "invalid_email", "email must be an address like a@example.com");
            return -1;
        }
        f->has_email = true;
    }
    if ((v = json_get(body, "name"))) {
        f->name = json_str(v);
        if (!f->name || strlen(f->name) > USER_NAME_MAX) {
            admin_error(resp, 400, "invalid_name", "name must be a string of at most %d bytes",
                        USER_NAME_MAX);
            return -1;
        }
    }
    if ((v = json_get(body, "role"))) {
        f->role = json_str(v);
        if (authz_role_parse(f->role) == LEVEL_NONE) {
            admin_error(resp, 400, "invalid_role", "role must be admin, member or viewer");
            return -1;
        }
    }
    if ((v = json_get(body, "password"))) {
        f->password = json_str(v);
        if (password_check_policy(f->password, why, sizeof why) != 0) {
            admin_error(resp, 400, "invalid_password", "%s", why);
            return -1;
        }
    }
    return 0;
}

static int hash_for(const struct admin_req *req, struct admin_resp *resp, const char *password,
                    char hash[PASSWORD_HASH_MAX])
{
    struct password_params params;
    auth_password_params(req->ctx, &params);
    if (password_hash(&params, password, hash) == 0) return 0;
    admin_error(resp, 503, "busy", "could not hash the password; retry");
    return -1;
}

static void answer_user(struct admin_resp *resp, struct db *db, int64_t id, int status)
{
    cJSON *row;
    int rc = users_get(db, id, &row);
    if (rc == -ENOENT) return user_missing(resp);
    if (rc) return admin_db_error(resp, "users_get", rc);
    admin_json(resp, status, user_view(row));
}

static void user_create(const struct admin_req *req, struct admin_resp *resp)
{
    cJSON *body = admin_body_object(req, resp);
    struct user_fields f;
    char hash[PASSWORD_HASH_MAX];
    if (!body) return;
    if (read_fields(body, resp, &f) != 0) goto out;
    if (!f.has_email || !f.role || !f.password) {
        admin_error(resp, 400, "invalid_request", "email, password and role are required");
        goto out;
    }
    if (hash_for(req, resp, f.password, hash) != 0) goto out;
    struct db *db = store_acquire(req->ctx->store);
    int64_t id;
    int rc = users_create(db, f.email, f.name, f.role, hash, &id);
    if (rc == -EEXIST)
        admin_error(resp, 409, "email_taken", "a user with this email exists");
    else if (rc)
        admin_db_error(resp, "users_create", rc);
    else
        answer_user(resp, db, id, 201);
    store_release(req->ctx->store, db);
out:
    cJSON_Delete(body);
}

static void user_list(const struct admin_req *req, struct admin_resp *resp)
{
    struct admin_page page;
    if (admin_page_params(req, resp, USERS_PAGE_DEFAULT, USERS_PAGE_MAX, &page) != 0) return;
    int limit = page.limit;
    int64_t after = page.id;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *rows, *row;
    int rc = users_list(db, after, limit + 1, &rows);
    store_release(req->ctx->store, db);
    if (rc) return admin_db_error(resp, "users_list", rc);
    char *next = NULL;
    if (json_size(rows) > (size_t)limit) {
        cJSON_DeleteItemFromArray(rows, (int)limit);
        int64_t last = json_i64(json_get(json_at(rows, limit - 1), "id"));
        next = admin_cursor_encode(last, last);
    }
    size_t i;
    json_array_each(rows, i, row) user_view(row);
    admin_list(resp, rows, next);
    free(next);
}

static void user_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    answer_user(resp, db, id, 200);
    store_release(req->ctx->store, db);
}

/* True (after answering 409) when user id is the last admin and would stop
 * being one. */
static bool last_admin(struct db *db, int64_t id, struct admin_resp *resp)
{
    struct user_login u;
    int64_t admins = 0;
    if (users_by_id(db, id, &u) != 0 || strcmp(u.role, "admin") != 0) return false;
    if (users_count(db, "admin", &admins) != 0 || admins > 1) return false;
    admin_error(resp, 409, "last_admin", "this is the last admin; make another admin first");
    return true;
}

static void user_patch(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    cJSON *body = admin_body_object(req, resp);
    struct user_fields f;
    char hash[PASSWORD_HASH_MAX];
    if (!body) return;
    if (read_fields(body, resp, &f) != 0) goto out;
    if (f.password && hash_for(req, resp, f.password, hash) != 0) goto out;
    struct db *db = store_acquire(req->ctx->store);
    if (f.role && strcmp(f.role, "admin") != 0 && last_admin(db, id, resp)) {
        store_release(req->ctx->store, db);
        goto out;
    }
    int rc = users_update(db, id, f.has_email ? f.email : NULL, f.name, f.role,
                          f.password ? hash : NULL);
    if (rc == 0 && f.password) rc = sessions_delete_user(db, id);
    if (rc == -ENOENT)
        user_missing(resp);
    else if (rc == -EEXIST)
        admin_error(resp, 409, "email_taken", "a user with this email exists");
    else if (rc)
        admin_db_error(resp, "users_update", rc);
    else
        answer_user(resp, db, id, 200);
    store_release(req->ctx->store, db);
out:
    cJSON_Delete(body);
}

static void user_delete(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    int rc = last_admin(db, id, resp) ? 1 : users_delete(db, id);
    store_release(req->ctx->store, db);
    if (rc == 1) return;
    if (rc == -ENOENT) return user_missing(resp);
    if (rc) return admin_db_error(resp, "users_delete", rc);
    admin_json(resp, 204, NULL);
}

static void answer_members(struct admin_resp *resp, struct db *db, int64_t project_id)
{
    cJSON *rows, *row, *ids = cJSON_CreateArray();
    size_t i;
    int rc = members_list(db, project_id, &rows);
    if (rc) {
        cJSON_Delete(ids);
        return admin_db_error(resp, "members_list", rc);
    }
    json_array_each(rows, i, row)
    {
        user_view(row);
        json_push(ids, json_dup(json_get(row, "id")));
    }
    admin_json(resp, 200, json_build("{s:o, s:o}", "user_ids", ids, "users", rows));
}

static void members_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    if (admin_project_check(db, pid, resp, NULL) == 0) answer_members(resp, db, pid);
    store_release(req->ctx->store, db);
}

/* body.user_ids as ids (caller frees *ids). 0, or -1 after answering 400. */
static int read_user_ids(cJSON *body, struct admin_resp *resp, int64_t **ids, size_t *n)
{
    cJSON *arr = json_get(body, "user_ids"), *v;
    size_t i;
    if (!cJSON_IsArray(arr) || json_size(arr) > MEMBERS_MAX) {
        admin_error(resp, 400, "invalid_user_ids", "user_ids must be a list of at most %d ids",
                    MEMBERS_MAX);
        return -1;
    }
    *n = json_size(arr);
    *ids = calloc(*n ? *n : 1, sizeof **ids);
    if (!*ids) {
        admin_error(resp, 503, "busy", "out of memory");
        return -1;
    }
    json_array_each(arr, i, v)
    {
        if (!json_is_int(v) || json_i64(v) <= 0) {
            free(*ids);
            admin_error(resp, 400, "invalid_user_ids", "user_ids must hold positive integers");
            return -1;
        }
        (*ids)[i] = json_i64(v);
    }
    return 0;
}

static void members_put(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0), *ids = NULL;
    size_t n = 0;
    if (pid < 0) return;
    cJSON *body = admin_body_object(req, resp);
    if (!body) return;
    if (read_user_ids(body, resp, &ids, &n) == 0) {
        struct db *db = store_acquire(req->ctx->store);
        int rc = admin_project_check(db, pid, resp, NULL);
        if (rc == 0 && (rc = members_set(db, pid, ids, n)) == -ENOENT)
            admin_error(resp, 400, "unknown_user", "user_ids names a user that does not exist");
        else if (rc == 0)
            answer_members(resp, db, pid);
        else if (resp->status == 0)
            admin_db_error(resp, "members_set", rc);
        store_release(req->ctx->store, db);
        free(ids);
    }
    cJSON_Delete(body);
}

const struct admin_route admin_routes_users[] = {
    {"POST", "/api/admin/users", user_create},
    {"GET", "/api/admin/users", user_list},
    {"GET", "/api/admin/users/{}", user_get},
    {"PATCH", "/api/admin/users/{}", user_patch},
    {"DELETE", "/api/admin/users/{}", user_delete},
    {"GET", "/api/admin/projects/{}/members", members_get},
    {"PUT", "/api/admin/projects/{}/members", members_put},
    {NULL, NULL, NULL},
};
