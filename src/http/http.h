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

struct server;

enum http_req_kind { HTTP_REQ_ADMIN = 1, HTTP_REQ_INGEST = 2, HTTP_REQ_OTHER = 3 };

struct http_req_base {
    enum http_req_kind kind;
};

/* Starts the daemon on cfg->host:cfg->port (internal polling thread, epoll,
 * thread pool, suspend/resume allowed). Returns 0 or negative with a
 * message in err. */
int http_start(struct server *srv, char *err, unsigned long errlen);
/* Stops accepting new connections; requests already under way go on
 * (a suspended ingest request is answered when the pipeline acks it). */
void http_quiesce(struct server *srv);
/* Stops accepting, waits (bounded) for in-flight requests, stops the
 * daemon. Call after the pipeline has stopped, so no ack can resume a
 * connection of a daemon that is gone. */
void http_stop(struct server *srv);
/* The same, waiting at most drain_ms for requests in flight. */
void http_stop_within(struct server *srv, int drain_ms);

#endif
