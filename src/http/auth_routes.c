/* auth_routes — the browser's API (README "Accounts and tokens"):
 *   POST /api/auth/login  {"email", "password"} → {"user", "csrf_token"} + cookie
 *   POST /api/auth/logout                        → 204, the session ends
 *   GET  /api/auth/me                            → who is calling
 *   GET  /api/auth/setup?token=…                 → {"valid", "needed"}
 *   POST /api/auth/setup {"token", "email", "password", "name"?}
 *                                                → 201 the first admin, signed in
 * Login and setup hash passwords: they run on the router's runner threads.
 * Failed logins are slowed per account and per address (accounts/throttle.h)
 * and logged without the password. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/browser.h"
#include "accounts/email.h"
#include "accounts/password.h"
#include "accounts/secret.h"
#include "accounts/throttle.h"
#include "http/admin_audit.h"
#include "http/auth_request.h"
#include "http/auth_session.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/config.h"
#include "store/sessions.h"
#include "store/store.h"
#include "store/tokens.h"
#include "store/users.h"

#define NAME_MAX_BYTES 200

static struct throttle login_throttle;
static pthread_once_t throttle_once = PTHREAD_ONCE_INIT;

static void throttle_start(void)
{
    throttle_init(&login_throttle);
}

static const char *body_string(cJSON *body, const char *name)
{
    return json_str(json_get(body, name));
}

/* 429 with Retry-After (whole seconds, rounded up). */
static void too_many(struct admin_resp *resp, int64_t wait_ms)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", (long long)((wait_ms + 999) / 1000));
    admin_error(resp, 429, "too_many_attempts", "too many failed logins; retry in %s seconds",
                secs);
    resp->header_name = "Retry-After";
    resp->header_value = strdup(secs);
}

/* Checks the password; upgrades the hash when the parameters changed. */
static bool login_check(const struct admin_ctx *ctx, struct db *db, const char *email,
                        const char *password, int64_t *user_id)
{
    struct password_params params;
    struct user_login u;
    auth_password_params(ctx, &params);
    if (users_by_email(db, email, &u) != 0) {
        password_verify_dummy(&params, password);
        return false;
    }
    bool ok = password_verify(u.password_hash, password);
    if (ok && password_needs_rehash(&params, u.password_hash)) {
        char hash[PASSWORD_HASH_MAX];
        if (password_hash(&params, password, hash) == 0 &&
            users_update(db, u.id, NULL, NULL, NULL, hash) == 0)
            log_info("password hash upgraded", "user=%lld", (long long)u.id);
    }
    *user_id = u.id;
    return ok;
}

static void login(const struct admin_req *req, struct admin_resp *resp)
{
    pthread_once(&throttle_once, throttle_start);
    cJSON *body = admin_body_object(req, resp);
    if (!body) return;
    const char *password = body_string(body, "password");
    char email[EMAIL_MAX + 1], addr[64];
    if (!body_string(body, "email") || !password) {
        admin_error(resp, 400, "invalid_request", "email and password are required strings");
        goto out;
    }
    if (email_normalize(body_string(body, "email"), email) != 0)
        snprintf(email, sizeof email, "%.200s", "(invalid)");
    auth_client_address(req->conn, addr, sizeof addr);
    int64_t now = clock_mono_ms();
    int64_t wait = throttle_wait_ms(&login_throttle, THROTTLE_ACCOUNT, email, now);
    int64_t wait_addr = throttle_wait_ms(&login_throttle, THROTTLE_ADDRESS, addr, now);
    if (wait_addr > wait) wait = wait_addr;
    if (wait > 0) {
        log_warn("login throttled", "email=%s address=%s wait_ms=%lld", email, addr,
                 (long long)wait);
        too_many(resp, wait);
        goto out;
    }
    struct db *db = store_acquire(req->ctx->store);
    int64_t user_id = 0;
    if (!login_check(req->ctx, db, email, password, &user_id)) {
        uint32_t n = throttle_fail(&login_throttle, THROTTLE_ACCOUNT, email, now);
        uint32_t m = throttle_fail(&login_throttle, THROTTLE_ADDRESS, addr, now);
        log_warn("login failed", "email=%s address=%s account_failures=%u address_failures=%u",
                 email, addr, n, m);
        admin_error(resp, 401, "invalid_credentials", "wrong email or password");
    } else {
        struct principal who;
        throttle_clear(&login_throttle, THROTTLE_ACCOUNT, email);
        throttle_clear(&login_throttle, THROTTLE_ADDRESS, addr);
        if (auth_session_start(req, resp, db, user_id, 200, &who) == 0) {
            log_info("login", "user=%lld address=%s", (long long)user_id, addr);
            char target[24];
            snprintf(target, sizeof target, "%lld", (long long)user_id);
            cJSON *changes = json_build("{s:s}", "address", addr);
            store_release(req->ctx->store, db);
            db = NULL;
            admin_audit_record(req->ctx, &who, 0, "login", "user", target, changes);
            cJSON_Delete(changes);
        }
        authz_clear(&who);
    }
    if (db) store_release(req->ctx->store, db);
out:
    cJSON_Delete(body);
}

static void logout(const struct admin_req *req, struct admin_resp *resp)
{
    char cookie[SESSION_COOKIE_MAX];
    if (req->who->kind == PRINCIPAL_SESSION) {
        struct db *db = store_acquire(req->ctx->store);
        int rc = sessions_delete(db, req->who->session_hash);
        store_release(req->ctx->store, db);
        if (rc) return admin_db_error(resp, "sessions_delete", rc);
    }
    admin_json(resp, 204, NULL);
    browser_session_cookie(cookie, NULL, 0, browser_is_https(req->ctx->cfg->public_url));
    resp->header_name = "Set-Cookie";
    resp->header_value = strdup(cookie);
}

static const char *kind_name(enum principal_kind k)
{
    return k == PRINCIPAL_SESSION ? "session" : k == PRINCIPAL_TOKEN ? "token" : "root";
}

static void me(const struct admin_req *req, struct admin_resp *resp)
{
    const struct principal *who = req->who;
    cJSON *user = NULL;
    if (!who->user_id) {
        user = cJSON_CreateNull();
    } else {
        struct db *db = store_acquire(req->ctx->store);
        user = auth_user_json(db, who->user_id, who);
        store_release(req->ctx->store, db);
        if (!user) return admin_error(resp, 401, "unauthorized", "the account is gone");
    }
    cJSON *out = json_build("{s:s, s:o, s:s}", "kind", kind_name(who->kind), "user", user, "level",
                            authz_role_name(who->level));
    if (who->kind == PRINCIPAL_SESSION)
        json_set(out, "csrf_token", cJSON_CreateString(who->csrf_token));
    if (who->kind == PRINCIPAL_TOKEN)
        json_set(out, "token",
                 json_build("{s:I, s:s, s:s}", "id", (int64_t)who->token_id, "name", who->label,
                            "scope", authz_scope_name(who->level)));
    admin_json(resp, 200, out);
}

/* The digest of ?token= / body.token, or false when it is not one of ours. */
static bool setup_digest(const char *token, char digest[SECRET_DIGEST_HEX + 1])
{
    if (!secret_is_hex64(token)) return false;
    secret_digest_hex(token, strlen(token), digest);
    return true;
}

static void setup_get(const struct admin_req *req, struct admin_resp *resp)
{
    char digest[SECRET_DIGEST_HEX + 1];
    int64_t users = 0;
    struct db *db = store_acquire(req->ctx->store);
    int rc = users_count(db, NULL, &users);
    bool valid = rc == 0 && users == 0 && setup_digest(admin_query(req, "token"), digest) &&
                 setup_link_check(db, digest) == 0;
    store_release(req->ctx->store, db);
    if (rc) return admin_db_error(resp, "users_count", rc);
    admin_json(resp, 200, json_build("{s:b, s:b}", "valid", valid, "needed", users == 0));
}

/* Checks the new admin's fields: 0, or -1 after answering 400. */
static int setup_fields(cJSON *body, struct admin_resp *resp, char email[EMAIL_MAX + 1])
{
    char why[128];
    const char *name = body_string(body, "name");
    if (email_normalize(body_string(body, "email"), email) != 0) {
        admin_error(resp, 400, "invalid_email", "email must be an address like name@example.com");
        return -1;
    }
    if (password_check_policy(body_string(body, "password"), why, sizeof why) != 0) {
        admin_error(resp, 400, "invalid_password", "%s", why);
        return -1;
    }
    if (json_get(body, "name") && (!name || strlen(name) > NAME_MAX_BYTES)) {
        admin_error(resp, 400, "invalid_name", "name must be a string of at most %d bytes",
                    NAME_MAX_BYTES);
        return -1;
    }
    return 0;
}

static void setup_post(const struct admin_req *req, struct admin_resp *resp)
{
    cJSON *body = admin_body_object(req, resp);
    if (!body) return;
    char email[EMAIL_MAX + 1], digest[SECRET_DIGEST_HEX + 1], hash[PASSWORD_HASH_MAX];
    struct password_params params;
    struct principal who = {0};
    int64_t users = 0, id = 0;
    struct db *db = NULL;
    int rc;
    if (setup_fields(body, resp, email) != 0) goto out;
    auth_password_params(req->ctx, &params);
    if (password_hash(&params, body_string(body, "password"), hash) != 0) {
        admin_error(resp, 503, "busy", "could not hash the password; retry");
        goto out;
    }
    db = store_acquire(req->ctx->store);
    if ((rc = users_count(db, NULL, &users)) != 0) {
        admin_db_error(resp, "users_count", rc);
        goto out;
    }
    if (users > 0 || !setup_digest(body_string(body, "token"), digest) ||
        setup_link_consume(db, digest) != 0) {
        admin_error(resp, 403, "invalid_setup_token",
                    "the setup link is unknown, used or expired (restart the server for a new "
                    "one, or use `periscope user create`)");
        goto out;
    }
    const char *name = body_string(body, "name");
    if ((rc = users_create(db, email, name ? name : "", "admin", hash, &id)) != 0) {
        admin_db_error(resp, "users_create", rc);
        goto out;
    }
    if (auth_session_start(req, resp, db, id, 201, &who) == 0) {
        char target[24];
        snprintf(target, sizeof target, "%lld", (long long)id);
        cJSON *changes =
            json_build("{s:s, s:s, s:s}", "email", email, "role", "admin", "via", "setup link");
        store_release(req->ctx->store, db);
        db = NULL;
        admin_audit_record(req->ctx, &who, 0, "user.create", "user", target, changes);
        cJSON_Delete(changes);
        log_info("first admin created", "user=%lld", (long long)id);
    }
out:
    if (db) store_release(req->ctx->store, db);
    authz_clear(&who);
    cJSON_Delete(body);
}

const struct admin_route admin_routes_auth[] = {
    {"POST", "/api/auth/login", login},
    {"POST", "/api/auth/logout", logout},
    {"GET", "/api/auth/me", me},
    {"GET", "/api/auth/setup", setup_get},
    {"POST", "/api/auth/setup", setup_post},
    {NULL, NULL, NULL},
};
