/* auth_session — sessions started by login and setup (contract in
 * auth_session.h). */
#include "http/auth_session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accounts/browser.h"
#include "accounts/password.h"
#include "accounts/secret.h"
#include "http/auth_request.h"
#include "base/config.h"
#include "http/admin.h"
#include "store/sessions.h"
#include "store/users.h"

void auth_password_params(const struct admin_ctx *ctx, struct password_params *out)
{
    out->opslimit = ctx->cfg->password_opslimit;
    out->memlimit = ctx->cfg->password_memlimit;
}

cJSON *auth_user_json(struct db *db, int64_t user_id, const struct principal *p)
{
    cJSON *row;
    if (users_get(db, user_id, &row) != 0) return NULL;
    admin_time_field(row, "created_at");
    cJSON *ids = p->all_projects ? NULL : cJSON_CreateArray();
    if (ids)
        for (size_t i = 0; i < p->nprojects; i++)
            json_push(ids, json_new_int(p->projects[i]));
    json_set(row, "project_ids", ids ? ids : cJSON_CreateNull());
    return row;
}

int auth_session_start(const struct admin_req *req, struct admin_resp *resp, struct db *db,
                       int64_t user_id, int status, struct principal *who)
{
    char id[SECRET_HEX_CHARS + 1], csrf[SECRET_HEX_CHARS + 1], digest[SECRET_DIGEST_HEX + 1];
    char cookie[SESSION_COOKIE_MAX];
    int rc;
    memset(who, 0, sizeof *who);
    who->kind = PRINCIPAL_SESSION;
    if ((rc = secret_random_hex(id)) || (rc = secret_random_hex(csrf)) ||
        (rc = auth_load_person(db, user_id, who))) {
        admin_db_error(resp, "session_start", rc);
        return rc;
    }
    secret_digest_hex(id, strlen(id), digest);
    if ((rc = sessions_create(db, digest, user_id, csrf)) != 0) {
        admin_db_error(resp, "sessions_create", rc);
        return rc;
    }
    cJSON *user = auth_user_json(db, user_id, who);
    if (!user) {
        admin_db_error(resp, "users_get", -ENOENT);
        return -ENOENT;
    }
    admin_json(resp, status, json_build("{s:o, s:s}", "user", user, "csrf_token", csrf));
    browser_session_cookie(cookie, id, req->ctx->cfg->session_max_age_s,
                           browser_is_https(req->ctx->cfg->public_url));
    resp->header_name = "Set-Cookie";
    resp->header_value = strdup(cookie);
    snprintf(who->session_hash, sizeof who->session_hash, "%s", digest);
    snprintf(who->csrf_token, sizeof who->csrf_token, "%s", csrf);
    return 0;
}
