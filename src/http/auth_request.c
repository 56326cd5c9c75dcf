/* auth_request — credentials into a principal, and CSRF (contract in
 * auth_request.h). */
#include "http/auth_request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "accounts/browser.h"
#include "accounts/secret.h"
#include "base/log.h"
#include "base/config.h"
#include "http/admin.h"
#include "store/sessions.h"
#include "store/store.h"
#include "store/tokens.h"
#include "store/users.h"

int auth_load_person(struct db *db, int64_t user_id, struct principal *p)
{
    struct user_login u;
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = users_by_id(db, user_id, &u);
    if (rc) return rc;
    enum level role = authz_role_parse(u.role);
    if (role == LEVEL_NONE) return -ENOENT;
    if (role != LEVEL_ADMIN && (rc = members_projects(db, user_id, &ids, &n)) != 0) return rc;
    rc = authz_set_person(p, role, ids, n);
    free(ids);
    p->user_id = user_id;
    snprintf(p->label, sizeof p->label, "%s", u.email);
    return rc;
}

/* The bearer's token text, trimmed, or NULL when there is no Bearer header. */
static const char *bearer_of(struct MHD_Connection *conn, char *buf, size_t buflen)
{
    const char *h =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return h ? "" : NULL;
    const char *t = h + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n > 0 && t[n - 1] == ' ')
        n--;
    if (n >= buflen) n = buflen - 1; /* longer than any credential: stays wrong */
    memcpy(buf, t, n);
    buf[n] = '\0';
    return buf;
}

static int resolve_token(struct db *db, const char *token, struct principal *p)
{
    char digest[SECRET_DIGEST_HEX + 1];
    struct token_row t;
    secret_digest_hex(token, strlen(token), digest);
    int rc = tokens_lookup(db, digest, &t);
    if (rc == -ENOENT) return -EACCES;
    if (rc) return rc;
    if (t.expires_at && t.expires_at <= clock_wall_ms()) return -EACCES;
    p->kind = PRINCIPAL_TOKEN;
    if (t.user_id) {
        if ((rc = auth_load_person(db, t.user_id, p)) != 0) return rc == -ENOENT ? -EACCES : rc;
    } else {
        p->level = LEVEL_ADMIN; /* made with the root key */
        p->all_projects = true;
    }
    rc = authz_narrow_to_token(p, authz_scope_parse(t.scope), t.all_projects ? NULL : t.project_ids,
                               t.nprojects);
    p->token_id = t.id;
    snprintf(p->label, sizeof p->label, "%s", t.name);
    if (rc == 0) tokens_touch(db, &t);
    return rc;
}

static int resolve_session(const struct admin_ctx *ctx, struct db *db, const char *id,
                           struct principal *p)
{
    char digest[SECRET_DIGEST_HEX + 1];
    struct session_row s;
    if (!secret_is_hex64(id)) return 0;
    secret_digest_hex(id, strlen(id), digest);
    int rc = sessions_use(db, digest, ctx->cfg->session_idle_s * 1000,
                          ctx->cfg->session_max_age_s * 1000, &s);
    if (rc == -ENOENT) return 0;
    if (rc) return rc;
    p->kind = PRINCIPAL_SESSION;
    if ((rc = auth_load_person(db, s.user_id, p)) != 0) {
        authz_clear(p);
        return rc == -ENOENT ? 0 : rc;
    }
    snprintf(p->session_hash, sizeof p->session_hash, "%s", digest);
    snprintf(p->csrf_token, sizeof p->csrf_token, "%s", s.csrf_token);
    return 0;
}

bool auth_offered(const struct admin_ctx *ctx, struct MHD_Connection *conn)
{
    char buf[512];
    const char *bearer = bearer_of(conn, buf, sizeof buf);
    if (bearer)
        return (ctx->cfg->admin_key && *ctx->cfg->admin_key &&
                secret_equal(bearer, ctx->cfg->admin_key)) ||
               secret_is_api_token(bearer);
    const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    return cookie && secret_is_hex64(cookie);
}

int auth_resolve(const struct admin_ctx *ctx, struct MHD_Connection *conn, struct principal *p)
{
    char buf[512];
    memset(p, 0, sizeof *p);
    const char *bearer = bearer_of(conn, buf, sizeof buf);
    if (bearer) {
        if (ctx->cfg->admin_key && *ctx->cfg->admin_key &&
            secret_equal(bearer, ctx->cfg->admin_key)) {
            p->kind = PRINCIPAL_ROOT;
            p->level = LEVEL_ADMIN;
            p->all_projects = true;
            snprintf(p->label, sizeof p->label, "root");
            return 0;
        }
        if (!secret_is_api_token(bearer)) return -EACCES;
    }
    const char *cookie =
        bearer ? NULL : MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    if (!bearer && !cookie) return 0;
    struct db *db = store_acquire(ctx->store);
    int rc = bearer ? resolve_token(db, bearer, p) : resolve_session(ctx, db, cookie, p);
    store_release(ctx->store, db);
    if (rc) {
        if (rc != -EACCES) log_error("credentials lookup failed", "error=%s", strerror(-rc));
        authz_clear(p);
    }
    return rc;
}

static bool safe_method(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0;
}

bool auth_csrf_ok(const struct admin_ctx *ctx, struct MHD_Connection *conn,
                  const struct principal *p, const char *method)
{
    if (p->kind != PRINCIPAL_SESSION || safe_method(method)) return true;
    const char *token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *referer = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Referer");
    return token && secret_equal(token, p->csrf_token) &&
           browser_same_origin(ctx->cfg->public_url, origin, referer);
}

void auth_client_address(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "unknown");
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outlen);
}
