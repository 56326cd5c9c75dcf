/* admin_router — auth, body and route dispatch for /api/admin/ (contract in
 * admin_router.h; the route contract is admin.h). */
#include "http/admin_router.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <errno.h>

#include "base/clock.h"
#include "http/admin.h"
#include "http/admin_audit.h"
#include "http/admin_policy.h"
#include "http/auth_request.h"
#include "http/http.h"
#include "http/reply.h"
#include "http/workpool.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/config.h"

/* Every module's route table, NULL-terminated; add one line per module. */
extern const struct admin_route admin_routes_projects[];
extern const struct admin_route admin_routes_issues[];
extern const struct admin_route admin_routes_alerts[];
extern const struct admin_route admin_routes_destinations[];
extern const struct admin_route admin_routes_scripts[];
extern const struct admin_route admin_routes_grouping_rules[];
extern const struct admin_route admin_routes_triage[];
extern const struct admin_route admin_routes_overview[];
extern const struct admin_route admin_routes_users[];
extern const struct admin_route admin_routes_tokens[];
extern const struct admin_route admin_routes_activity[];
extern const struct admin_route admin_routes_auth[];
extern const struct admin_route admin_routes_issue_actions[];

static const struct admin_route *const admin_tables[] = {
    admin_routes_projects,      admin_routes_issues,
    admin_routes_alerts,        admin_routes_destinations,
    admin_routes_scripts,       admin_routes_grouping_rules,
    admin_routes_triage,        admin_routes_overview,
    admin_routes_users,         admin_routes_tokens,
    admin_routes_activity,      admin_routes_auth,
    admin_routes_issue_actions, NULL,
};

/* Routes that run operator Lua or compile operator rules (validation, the
 * dry run) or hash passwords: on the script pool, apart from the other
 * admin work (every route runs off the HTTP threads, http/workpool.h). */
static const struct {
    const char *method, *pattern;
} OFFLOADED[] = {
    {"PUT", "/api/admin/projects/{}/script"},
    {"POST", "/api/admin/projects/{}/script/rollback"},
    {"POST", "/api/admin/projects/{}/script/test"},
    {"PUT", "/api/admin/projects/{}/grouping-rules"},
    /* password hashing (Argon2id: tens of MiB and ~100 ms each), at most
     * ADMIN_SCRIPT_RUNNERS at a time */
    {"POST", "/api/auth/login"},
    {"POST", "/api/auth/setup"},
    {"POST", "/api/admin/users"},
    {"PATCH", "/api/admin/users/{}"},
};

#define ADMIN_PREFIX "/api/admin"
#define AUTH_PREFIX "/api/auth"
#define ADMIN_MAX_SEGMENTS 16
#define ADMIN_PATH_MAX 1024

struct admin_conn {
    struct http_req_base base;
    struct principal who; /* the caller (auth_request.h), resolved on the pool */
    int auth_rc;          /* auth_resolve's answer: -EACCES for bad credentials */
    bool authorized;      /* credentials offered, or an auth route: the body is kept */
    bool too_large;
    size_t cap;
    char *body; /* owned, NUL-terminated when non-NULL */
    size_t len, alloc;
    int64_t started_ns; /* clock_mono_ns */
    const char *route;  /* the matched pattern, for logs (paths may hold keys) */
    /* what the pool thread needs, kept with the request */
    char path[ADMIN_PATH_MAX];
    struct admin_req req;
    struct admin_resp resp;
    const struct admin_route *handler;
    const struct admin_policy *policy;
    const char *pool_name; /* for the 503 when its queue is full */
    struct http_work work; /* first member is not required: see conn_of */
};

/* The admin pool (every route) and the script pool (OFFLOADED), started
 * and stopped by admin_router_start/stop on the main thread. */
static struct http_pool *admin_pool, *script_pool;

static struct admin_conn *conn_of(struct http_work *w)
{
    return (struct admin_conn *)((char *)w - offsetof(struct admin_conn, work));
}

static bool has_prefix(const char *url, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(url, prefix, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

bool admin_router_matches(const char *url)
{
    return has_prefix(url, ADMIN_PREFIX) || has_prefix(url, AUTH_PREFIX);
}

static size_t body_cap(const struct admin_ctx *ctx)
{
    size_t script = ctx->cfg->script_max_bytes * 2 + 4096; /* JSON-escaped script source */
    return script > ADMIN_BODY_MAX_BYTES ? script : ADMIN_BODY_MAX_BYTES;
}

static struct admin_conn *conn_new(const struct admin_ctx *ctx, struct MHD_Connection *conn,
                                   const char *url)
{
    struct admin_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base.kind = HTTP_REQ_ADMIN;
    c->authorized = auth_offered(ctx, conn) || has_prefix(url, AUTH_PREFIX);
    c->cap = body_cap(ctx);
    c->started_ns = clock_mono_ns();
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > c->cap) c->too_large = true;
    return c;
}

/* Keeps the body up to the cap; past it (or unauthorized) bytes are read and dropped. */
static void conn_append(struct admin_conn *c, const char *data, size_t n)
{
    if (!c->authorized || c->too_large) return;
    if (c->len + n > c->cap) {
        c->too_large = true;
        free(c->body);
        c->body = NULL;
        c->len = c->alloc = 0;
        return;
    }
    if (c->len + n + 1 > c->alloc) {
        size_t want = c->alloc ? c->alloc : 4096;
        while (want < c->len + n + 1)
            want *= 2;
        char *p = realloc(c->body, want);
        if (!p) {
            c->too_large = true; /* answered as 413: we cannot hold it */
            return;
        }
        c->body = p;
        c->alloc = want;
    }
    memcpy(c->body + c->len, data, n);
    c->len += n;
    c->body[c->len] = '\0';
}

/* Splits a copy of path into segments; false when there are too many. */
static bool split_path(char *path, char **seg, int *nseg)
{
    *nseg = 0;
    for (char *p = path; *p;) {
        while (*p == '/')
            *p++ = '\0';
        if (!*p) break;
        if (*nseg == ADMIN_MAX_SEGMENTS) return false;
        seg[(*nseg)++] = p;
        while (*p && *p != '/')
            p++;
    }
    return true;
}

/* Matches pattern against the segments, collecting {} values into req. */
static bool pattern_match(const char *pattern, char **seg, int nseg, struct admin_req *req)
{
    int i = 0;
    req->nparams = 0;
    for (const char *p = pattern; *p;) {
        while (*p == '/')
            p++;
        if (!*p) break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (i == nseg) return false;
        if (n == 2 && p[0] == '{' && p[1] == '}') {
            if (req->nparams == ADMIN_MAX_PARAMS) return false;
            req->params[req->nparams++] = seg[i];
        } else if (strlen(seg[i]) != n || memcmp(seg[i], p, n) != 0) {
            return false;
        }
        i++;
        p += n;
    }
    return i == nseg;
}

static bool offloaded(const struct admin_route *route)
{
    for (size_t i = 0; i < sizeof OFFLOADED / sizeof OFFLOADED[0]; i++)
        if (strcmp(OFFLOADED[i].method, route->method) == 0 &&
            strcmp(OFFLOADED[i].pattern, route->pattern) == 0)
            return true;
    return false;
}

/* Finds the route; on a path match with the wrong method fills allow. */
static const struct admin_route *route_find(char **seg, int nseg, struct admin_req *req,
                                            char *allow, size_t allowlen)
{
    allow[0] = '\0';
    for (size_t t = 0; admin_tables[t]; t++) {
        for (const struct admin_route *r = admin_tables[t]; r->method; r++) {
            if (!pattern_match(r->pattern, seg, nseg, req)) continue;
            if (strcmp(r->method, req->method) == 0) return r;
            if (!strstr(allow, r->method)) {
                size_t used = strlen(allow);
                snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", r->method);
            }
        }
    }
    return NULL;
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct admin_resp *resp)
{
    if (resp->header_value) {
        struct reply_header h = {resp->header_name, resp->header_value};
        enum MHD_Result rc = reply_json(conn, (unsigned)resp->status, resp->json, &h);
        resp->json = NULL;
        free(resp->header_value);
        resp->header_value = NULL;
        return rc;
    }
    if (resp->text) {
        char *text = resp->text;
        resp->text = NULL;
        cJSON_Delete(resp->json);
        return reply_text(conn, (unsigned)resp->status, text, resp->content_type);
    }
    if (!resp->json && resp->status != MHD_HTTP_NO_CONTENT) {
        resp->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "the handler produced no answer", NULL);
    }
    return reply_json(conn, (unsigned)resp->status, resp->json, NULL);
}

int admin_router_start(void)
{
    if (http_pool_start(&admin_pool, "admin-http", ADMIN_THREADS, ADMIN_QUEUED_MAX) != 0)
        return -EAGAIN;
    if (http_pool_start(&script_pool, "admin-scripts", ADMIN_SCRIPT_RUNNERS,
                        ADMIN_SCRIPT_RUNS_QUEUED_MAX) != 0) {
        http_pool_stop(admin_pool);
        admin_pool = NULL;
        return -EAGAIN;
    }
    return 0;
}

void admin_router_stop(void)
{
    http_pool_stop(admin_pool);
    http_pool_stop(script_pool);
    admin_pool = script_pool = NULL;
}

static void unauthorized(struct admin_resp *resp)
{
    admin_error(resp, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                "missing, wrong or expired credentials (bearer token or session)");
    resp->header_name = "WWW-Authenticate";
    resp->header_value = strdup("Bearer");
}

/* The route's policy applied to the caller: true when it may go on, else
 * false with the answer (401, 403, 404) in resp. Pool thread. */
static bool authorize(const struct admin_ctx *ctx, struct MHD_Connection *conn, const char *method,
                      struct admin_conn *c, const struct admin_policy *pol,
                      const struct admin_req *req, struct admin_resp *resp)
{
    if (!pol) {
        admin_error(resp, MHD_HTTP_FORBIDDEN, "forbidden", "this route has no policy");
        return false;
    }
    if (pol->access == ACCESS_PUBLIC) return true;
    if (c->auth_rc != 0 && c->auth_rc != -EACCES) {
        admin_db_error(resp, "auth_resolve", c->auth_rc);
        return false;
    }
    if (c->auth_rc != 0 || c->who.kind == PRINCIPAL_NONE) {
        unauthorized(resp);
        return false;
    }
    int64_t project = 0;
    if (pol->access == ACCESS_READ || pol->access == ACCESS_WRITE ||
        pol->access == ACCESS_PROJECT_ADMIN) {
        char *end;
        project = req->nparams > 0 ? strtoll(req->params[0], &end, 10) : 0;
        if (req->nparams == 0 || *end || project <= 0) project = -1; /* seen by nobody */
    }
    switch (authz_check(&c->who, pol->access, project)) {
    case AUTHZ_OK:
        break;
    case AUTHZ_UNAUTHENTICATED:
        unauthorized(resp);
        return false;
    case AUTHZ_NOT_FOUND:
        admin_error(resp, MHD_HTTP_NOT_FOUND, "project_not_found", "no such project");
        return false;
    default:
        admin_error(resp, MHD_HTTP_FORBIDDEN, "forbidden",
                    "your role or token does not allow this");
        return false;
    }
    if (!auth_csrf_ok(ctx, conn, &c->who, method)) {
        admin_error(resp, MHD_HTTP_FORBIDDEN, "csrf_failed",
                    "a request with the session cookie needs the X-CSRF-Token header and "
                    "an Origin (or Referer) of this server");
        return false;
    }
    return true;
}

/* The pool's side of a request: who is calling (a database look-up for
 * tokens and sessions), the policy, the handler, the audit row. */
static void admin_work(struct http_work *w, enum http_work_how how)
{
    struct admin_conn *c = conn_of(w);
    if (how != HTTP_WORK_RUN) {
        if (how == HTTP_WORK_BUSY)
            admin_error(&c->resp, 503, "busy", "too many %s requests waiting; retry later",
                        c->pool_name);
        else
            admin_error(&c->resp, 503, "shutting_down", "server shutting down, retry later");
        if (!c->resp.header_value) {
            c->resp.header_name = "Retry-After";
            c->resp.header_value = strdup("1");
        }
        return;
    }
    const struct admin_ctx *ctx = c->req.ctx;
    c->auth_rc = auth_resolve(ctx, c->req.conn, &c->who);
    c->req.who = &c->who;
    if (!authorize(ctx, c->req.conn, c->req.method, c, c->policy, &c->req, &c->resp)) return;
    c->handler->fn(&c->req, &c->resp);
    admin_audit(&c->req, c->policy, &c->resp);
}

static enum MHD_Result dispatch(const struct admin_ctx *ctx, struct MHD_Connection *conn,
                                const char *url, const char *method, struct admin_conn *c,
                                int *status)
{
    if (!c->authorized) {
        static const struct reply_header www = {"WWW-Authenticate", "Bearer"};
        *status = MHD_HTTP_UNAUTHORIZED;
        return reply_error(conn, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                           "missing, wrong or expired credentials (bearer token or session)", &www);
    }
    if (c->too_large) {
        *status = MHD_HTTP_CONTENT_TOO_LARGE;
        char msg[96];
        snprintf(msg, sizeof msg, "request body larger than %zu bytes", c->cap);
        return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", msg, NULL);
    }

    char *seg[ADMIN_MAX_SEGMENTS], allow[64] = "";
    int nseg;
    size_t n = strlen(url);
    struct admin_req req = {.ctx = ctx, .conn = conn, .method = method, .path = url};
    const struct admin_route *route = NULL;
    if (n < sizeof c->path) {
        memcpy(c->path, url, n + 1);
        if (split_path(c->path, seg, &nseg))
            route = route_find(seg, nseg, &req, allow, sizeof allow);
    }
    if (!route) {
        struct reply_header h = {"Allow", allow};
        *status = allow[0] ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND;
        return allow[0] ? reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                      "method not allowed on this route", &h)
                        : reply_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such route", NULL);
    }
    req.body = c->body;
    req.body_len = c->len;
    req.content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    req.who = &c->who;

    c->route = route->pattern;
    c->req = req;
    c->handler = route;
    c->policy = admin_policy_find(route->method, route->pattern);
    bool scripts = offloaded(route);
    c->pool_name = scripts ? "script or password" : "admin";
    c->work.conn = conn;
    c->work.fn = admin_work;
    http_pool_submit(scripts ? script_pool : admin_pool, &c->work);
    return MHD_YES; /* resumed with the answer in c->resp */
}

static void account(const char *method, const char *route, int status, int64_t started_ns)
{
    char labels[160];
    double ms = clock_seconds_since(started_ns) * 1e3;
    /* The matched pattern, never the path: bounded label values, no ids. */
    snprintf(labels, sizeof labels, "route=\"%s\",status=\"%d\"", route, status);
    metrics_add("periscope_http_requests_total", labels, 1);
    if (status >= 500)
        log_error("admin request failed", "method=%s route=%s status=%d ms=%.1f", method, route,
                  status, ms);
    else
        log_debug("admin request", "method=%s route=%s status=%d ms=%.1f", method, route, status,
                  ms);
}

enum MHD_Result admin_router_handle(const struct admin_ctx *ctx, struct MHD_Connection *conn,
                                    const char *url, const char *method, const char *upload_data,
                                    size_t *upload_data_size, void **req_cls)
{
    struct admin_conn *c = *req_cls;
    if (!c) {
        c = conn_new(ctx, conn, url);
        if (!c) return MHD_NO;
        *req_cls = c;
        return MHD_YES;
    }
    if (*upload_data_size) {
        conn_append(c, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    switch (atomic_load(&c->work.state)) {
    case HTTP_WORK_QUEUED:
        return MHD_YES; /* a pool thread resumes it */
    case HTTP_WORK_DONE: {
        atomic_store(&c->work.state, HTTP_WORK_IDLE);
        enum MHD_Result rc = send_resp(conn, &c->resp);
        account(method, c->route ? c->route : "-", c->resp.status, c->started_ns);
        return rc;
    }
    default:
        break;
    }
    int status = 0;
    enum MHD_Result rc = dispatch(ctx, conn, url, method, c, &status);
    if (atomic_load(&c->work.state) == HTTP_WORK_IDLE)
        account(method, c->route ? c->route : "-", status, c->started_ns);
    return rc;
}

void admin_router_done(void *req_cls)
{
    struct admin_conn *c = req_cls;
    if (!c) return;
    authz_clear(&c->who);
    free(c->resp.header_value);
    free(c->body);
    free(c);
}
