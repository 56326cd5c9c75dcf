/* admin_tokens — API tokens for machines (README "Accounts and tokens"):
 *   POST   /api/admin/tokens {"name", "scope": "read"|"write"|"admin",
 *                             "project_ids": [..] | null, "expires_at": null | time}
 *                              → 201 the token with "token" (psc_…, shown only here)
 *   GET    /api/admin/tokens   → the caller's tokens (an admin's: all), no secrets
 *   DELETE /api/admin/tokens/{id} → 204; the token stops working at once
 * A token acts with at most its creator's rights (accounts/authz.h): a
 * scope above the creator's role, or a project the creator cannot see, is
 * refused here, and the creator's current rights bound it on every use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "base/clock.h"
#include "accounts/secret.h"
#include "http/admin.h"
#include "http/admin_issues_params.h"
#include "base/config.h"
#include "store/projects.h"
#include "store/store.h"
#include "store/tokens.h"

static cJSON *token_view(cJSON *row)
{
    admin_time_field(row, "created_at");
    admin_time_field(row, "expires_at");
    admin_time_field(row, "last_used_at");
    return row;
}

/* The creator recorded with a new token: the person behind the caller (0:
 * the root key, or a token the root key made). */
static int64_t creator_of(const struct principal *who)
{
    return who->kind == PRINCIPAL_ROOT ? 0 : who->user_id;
}

/* "expires_at": null/absent (0), an RFC 3339 text or epoch seconds, in the
 * future. 0, or -1 after answering 400. */
static int read_expiry(cJSON *body, struct admin_resp *resp, int64_t *ms)
{
    cJSON *v = json_get(body, "expires_at");
    *ms = 0;
    if (!v || cJSON_IsNull(v)) return 0;
    int rc = -EINVAL;
    if (cJSON_IsString(v)) rc = admin_parse_time(json_str(v), ms);
    if (json_is_int(v) && json_i64(v) > 0) {
        *ms = json_i64(v) * 1000;
        rc = 0;
    }
    if (rc != 0 || *ms <= clock_wall_ms()) {
        admin_error(resp, 400, "invalid_expires_at",
                    "expires_at must be null or a time in the future (RFC 3339 or epoch seconds)");
        return -1;
    }
    return 0;
}

/* "project_ids": null/absent (every project the creator sees) or a list
 * of projects the caller sees. 0; -1 after answering 400/404. *ids NULL
 * for every project. */
static int read_projects(const struct admin_req *req, cJSON *body, struct admin_resp *resp,
                         int64_t *ids, size_t *n, bool *all)
{
    cJSON *arr = json_get(body, "project_ids"), *v;
    size_t i;
    *all = !arr || cJSON_IsNull(arr);
    *n = 0;
    if (*all) return 0;
    if (!cJSON_IsArray(arr) || json_size(arr) > TOKEN_PROJECTS_MAX) {
        admin_error(resp, 400, "invalid_project_ids",
                    "project_ids must be null or a list of at most %d project ids",
                    TOKEN_PROJECTS_MAX);
        return -1;
    }
    struct db *db = store_acquire(req->ctx->store);
    int rc = 0;
    json_array_each(arr, i, v)
    {
        if (!json_is_int(v) || json_i64(v) <= 0) {
            admin_error(resp, 400, "invalid_project_ids", "project_ids must hold project ids");
            rc = -1;
            break;
        }
        ids[(*n)++] = json_i64(v);
        if (!authz_sees(req->who, ids[*n - 1])) {
            admin_error(resp, 404, "project_not_found", "no such project");
            rc = -1;
            break;
        }
        if ((rc = admin_project_check(db, ids[*n - 1], resp, NULL)) != 0) break;
    }
    store_release(req->ctx->store, db);
    return rc ? -1 : 0;
}

static void token_create(const struct admin_req *req, struct admin_resp *resp)
{
    cJSON *body = admin_body_object(req, resp);
    int64_t ids[TOKEN_PROJECTS_MAX], expires, id;
    size_t n;
    bool all;
    if (!body) return;
    const char *name = json_str(json_get(body, "name"));
    enum level scope = authz_scope_parse(json_str(json_get(body, "scope")));
    if (!name || !*name || strlen(name) > TOKEN_NAME_MAX) {
        admin_error(resp, 400, "invalid_name", "name must be 1 to %d bytes", TOKEN_NAME_MAX);
        goto out;
    }
    if (scope == LEVEL_NONE) {
        admin_error(resp, 400, "invalid_scope", "scope must be read, write or admin");
        goto out;
    }
    if (scope > req->who->level) {
        admin_error(resp, 403, "scope_above_role", "a token cannot have more rights than you");
        goto out;
    }
    if (read_expiry(body, resp, &expires) != 0 ||
        read_projects(req, body, resp, ids, &n, &all) != 0)
        goto out;
    char token[API_TOKEN_CHARS + 1], digest[SECRET_DIGEST_HEX + 1];
    if (secret_api_token(token) != 0) {
        admin_error(resp, 503, "busy", "no randomness available; retry");
        goto out;
    }
    secret_digest_hex(token, strlen(token), digest);
    struct db *db = store_acquire(req->ctx->store);
    cJSON *row = NULL;
    int rc = tokens_create(db, digest, name, creator_of(req->who), authz_scope_name(scope),
                           all ? NULL : ids, n, expires, &id);
    if (rc == 0) rc = tokens_get(db, id, &row);
    store_release(req->ctx->store, db);
    if (rc) {
        admin_db_error(resp, "tokens_create", rc);
        goto out;
    }
    json_set(row, "token", cJSON_CreateString(token));
    admin_json(resp, 201, token_view(row));
out:
    cJSON_Delete(body);
}

/* Admins over every project see and revoke every token; others their own. */
static int64_t owner_filter(const struct principal *who)
{
    bool everything = who->level == LEVEL_ADMIN && who->all_projects;
    return everything ? 0 : who->user_id;
}

static void token_list(const struct admin_req *req, struct admin_resp *resp)
{
    cJSON *rows, *row;
    size_t i;
    int64_t owner = owner_filter(req->who);
    if (owner == 0 && req->who->level != LEVEL_ADMIN)
        return admin_list(resp, cJSON_CreateArray(), NULL);
    struct db *db = store_acquire(req->ctx->store);
    int rc = tokens_list(db, owner, &rows);
    store_release(req->ctx->store, db);
    if (rc) return admin_db_error(resp, "tokens_list", rc);
    json_array_each(rows, i, row) token_view(row);
    admin_list(resp, rows, NULL);
}

static void token_delete(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t id = admin_param_id(req, resp, 0);
    if (id < 0) return;
    int64_t owner = owner_filter(req->who);
    if (owner == 0 && req->who->level != LEVEL_ADMIN)
        return admin_error(resp, 404, "token_not_found", "no such token");
    struct db *db = store_acquire(req->ctx->store);
    int rc = tokens_delete(db, id, owner);
    store_release(req->ctx->store, db);
    if (rc == -ENOENT) return admin_error(resp, 404, "token_not_found", "no such token");
    if (rc) return admin_db_error(resp, "tokens_delete", rc);
    admin_json(resp, 204, NULL);
}

const struct admin_route admin_routes_tokens[] = {
    {"POST", "/api/admin/tokens", token_create},
    {"GET", "/api/admin/tokens", token_list},
    {"DELETE", "/api/admin/tokens/{}", token_delete},
    {NULL, NULL, NULL},
};
