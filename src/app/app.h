/* app — the application context: what the process owns, seen only by app/.
 *
 * main() builds it in order (config, log, store, topics, scripts, pipeline,
 * notifier, HTTP) and tears it down in reverse. Every subsystem is given
 * what it uses (pipeline_deps, notifier_deps, http_ctx, …), never this.
 * The pointers are set by server_start and cleared by server_stop (main
 * thread); `stopping` is the one field other threads read (through
 * http.stopping). */
#ifndef PERISCOPE_SERVER_H
#define PERISCOPE_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include "base/config.h"
#include "base/health.h"
#include "base/membudget.h"
#include "http/http.h"

struct store;
struct topic;
struct pipeline;
struct notifier;
struct script_registry;
struct ingest;
struct retention;
struct script_listener;
struct liveness;

struct server {
    struct config *cfg;
    struct store *store;
    struct topic *events; /* struct raw_event*: ingest → workers (its byte budget: ingest_new) */
    struct topic *alerts; /* struct alert_msg*: writer → notifier */
    struct pipeline *pipeline;
    struct notifier *notifier;
    struct script_registry *scripts;         /* per-project active scripts and generations */
    struct script_listener *script_listener; /* Postgres: other nodes' script changes */
    struct ingest *ingest;                   /* key cache, quotas */
    struct retention *retention;             /* background deletion of old events */
    struct liveness *liveness;               /* stall watchdog of workers, writer, notifier */
    struct health health;                    /* the writer's state for /readyz (base/health.h) */
    /* http.listen_fd is bound and listening (http_listen) before server_start */
    struct http_ctx http;
    struct membudget ingest_memory; /* INGEST_MEMORY_LIMIT: decoded bodies and parsed events
                                     * (ingest takes, raw_event_free and the worker give back) */
    atomic_bool stopping;
};

/* Starts every subsystem behind an open store (srv->cfg, srv->store and
 * srv->http.listen_fd set): topics, scripts, ingest, the script listener,
 * pipeline, notifier, retention, then HTTP last so nothing is accepted
 * before it can be processed. On failure everything started is stopped
 * again. Returns 0 or negative with a message in err. */
int server_start(struct server *srv, char *err, size_t errlen);

/* Stops in reverse: HTTP stops accepting, the pipeline drains and commits
 * (answering every waiting request), the HTTP daemon stops once those
 * answers are out, then the notifier, retention and the scripts. The store
 * stays open (the caller closes it).
 *
 * Bounded by SHUTDOWN_TIMEOUT: the drain has all but a grace (a third, at
 * most 5 s); then what is still queued is answered 503 and every Lua call
 * interrupted; at the timeout, a thread still stuck (in C, where nothing
 * interrupts it) is left behind, every request still waiting is answered
 * 503, and -ETIMEDOUT is returned: the caller must then exit at once
 * without closing the store (the stuck thread may still be using it).
 * Returns 0 after a complete stop. */
int server_stop(struct server *srv);

#endif
