/* http — the libmicrohttpd daemon and the dispatch of every request to its
 * handler: ingest routes (/api/<digits>/envelope|store), the admin API
 * (/api/admin/…), /healthz, /readyz, /metrics.
 *
 * MHD's per-request pointer (*req_cls) belongs to the handler that took the
 * request; every handler's per-request struct starts with struct
 * http_req_base so that the request-completed callback can hand it back to
 * its owner. */
#ifndef PERISCOPE_HTTP_H
#define PERISCOPE_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>

#include "http/admin.h"

struct config;
struct health;
struct ingest;
struct liveness;
struct membudget;
struct MHD_Daemon;
struct script_registry;
struct store;
struct topic;
struct web_assets;

/* Everything the HTTP side uses. The application fills the borrowed part
 * (it outlives the daemon) and listen_fd before ingest_new and http_start;
 * the rest is the daemon's. */
struct http_ctx {
    const struct config *cfg;
    struct store *store;
    struct topic *events;            /* ingest publishes struct raw_event* here */
    struct script_registry *scripts; /* for the admin script routes */
    struct liveness *liveness;       /* /readyz: no stage stalled */
    struct ingest *ingest;           /* set from ingest_new's result */
    struct membudget *ingest_memory; /* INGEST_MEMORY_LIMIT (base/membudget.h) */
    const atomic_bool *stopping;     /* /readyz answers 503 once set */
    struct health *health;           /* the writer's state /readyz answers from */
    int listen_fd; /* bound and listening (http_listen); -1 once the daemon owns it */
    struct MHD_Daemon *httpd;
    bool quiesced;          /* no new connections accepted */
    struct admin_ctx admin; /* the admin handlers' view, set by http_start */
    struct web_assets *web; /* the web interface's files (http/web.h); NULL: none */
};

enum http_req_kind { HTTP_REQ_ADMIN = 1, HTTP_REQ_INGEST = 2, HTTP_REQ_OTHER = 3 };

struct http_req_base {
    enum http_req_kind kind;
};

struct config;

/* Binds and listens on cfg->host:cfg->port (SO_REUSEADDR, never
 * SO_REUSEPORT: a port another process listens on is refused). The caller
 * owns *fd until http_start takes it. Returns 0, or a negative errno with
 * one line naming the address in err ("cannot listen on 127.0.0.1:8000:
 * address already in use"). Main thread, before anything else starts. */
int http_listen(const struct config *cfg, int *fd, char *err, unsigned long errlen);

/* Starts the daemon on hc->listen_fd (internal polling thread, epoll,
 * thread pool, suspend/resume allowed), which it then owns (listen_fd
 * becomes -1). Returns 0 or negative with a message in err. */
int http_start(struct http_ctx *hc, char *err, unsigned long errlen);
/* Stops accepting new connections; requests already under way go on
 * (a suspended ingest request is answered when the pipeline acks it). */
void http_quiesce(struct http_ctx *hc);
/* Stops accepting, waits (bounded) for in-flight requests, stops the
 * daemon. Call after the pipeline has stopped, so no ack can resume a
 * connection of a daemon that is gone. */
void http_stop(struct http_ctx *hc);
/* The same, waiting at most drain_ms for requests in flight. */
void http_stop_within(struct http_ctx *hc, int drain_ms);

#endif
