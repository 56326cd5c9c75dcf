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

struct config;

/* Binds and listens on cfg->host:cfg->port (SO_REUSEADDR, never
 * SO_REUSEPORT: a port another process listens on is refused). The caller
 * owns *fd until http_start takes it. Returns 0, or a negative errno with
 * one line naming the address in err ("cannot listen on 127.0.0.1:8000:
 * address already in use"). Main thread, before anything else starts. */
int http_listen(const struct config *cfg, int *fd, char *err, unsigned long errlen);

/* Starts the daemon on srv->listen_fd (internal polling thread, epoll,
 * thread pool, suspend/resume allowed), which it then owns (listen_fd
 * becomes -1). Returns 0 or negative with a message in err. */
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
