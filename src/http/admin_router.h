/* admin_router — the libmicrohttpd side of /api/admin/: bearer auth
 * (constant time), the capped request body, pattern matching against the
 * route tables, and sending the handler's struct admin_resp.
 *
 * Internal to src/http/ (server.c dispatches here). The MHD threads only
 * read the body, match the route and send the answer; everything else
 * (credentials, policy, handler, audit) runs on the pools below.
 * Owns its per-request state (*req_cls, starting with struct
 * http_req_base of kind HTTP_REQ_ADMIN) until admin_router_done. */
#ifndef PERISCOPE_HTTP_ADMIN_ROUTER_H
#define PERISCOPE_HTTP_ADMIN_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <microhttpd.h>

struct admin_ctx;

/* No admin or auth route runs on an HTTP thread (http/workpool.h): the
 * connection is suspended, the route runs on one of ADMIN_THREADS threads
 * and the answer is sent when it resumes, so an admin list or a slow
 * database never holds up ingest or the probes. With ADMIN_QUEUED_MAX
 * waiting, 503 + Retry-After at once. */
#define ADMIN_THREADS 2
#define ADMIN_QUEUED_MAX 64

/* Routes that run operator Lua, compile operator rules or hash passwords
 * (PUT …/script, …/script/rollback, …/script/test, PUT …/grouping-rules,
 * login, setup, users; the list is in admin_router.c) have a pool of their
 * own: ADMIN_SCRIPT_RUNNERS threads, ADMIN_SCRIPT_RUNS_QUEUED_MAX waiting. */
#define ADMIN_SCRIPT_RUNNERS 2
#define ADMIN_SCRIPT_RUNS_QUEUED_MAX 32

/* Starts both pools (http_start) / answers what is queued 503 and joins
 * them (http_stop, before the daemon stops: runs in flight end within
 * their Lua and database deadlines). 0 or -EAGAIN. */
int admin_router_start(void);
void admin_router_stop(void);

/* Request bodies above this answer 413 (or the script size cap, if larger). */
#define ADMIN_BODY_MAX_BYTES (1024 * 1024)

/* True for /api/admin and everything below it. */
bool admin_router_matches(const char *url);

/* The MHD access-handler step for an admin URL. */
enum MHD_Result admin_router_handle(const struct admin_ctx *ctx, struct MHD_Connection *conn,
                                    const char *url, const char *method, const char *upload_data,
                                    size_t *upload_data_size, void **req_cls);

/* Frees the per-request state admin_router_handle created. */
void admin_router_done(void *req_cls);

#endif
