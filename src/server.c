/* server — start and stop order of the subsystems (see server.h). */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "http/ingest.h"
#include "log.h"
#include "lua/registry.h"
#include "metrics_catalog.h"
#include "notify/notifier.h"
#include "pipeline.h"
#include "retention.h"
#include "script_listener.h"
#include "topic.h"

/* The alerts topic only wakes the notifier early (the outbox rows are the
 * truth), so its size bounds memory, not correctness. */
#define ALERTS_TOPIC_CAPACITY 10000

static int start_failed(char *err, size_t errlen, const char *what, int rc)
{
    snprintf(err, errlen, "cannot start %s: %s", what, strerror(rc < 0 ? -rc : rc));
    return rc < 0 ? rc : -rc;
}

int server_start(struct server *srv, char *err, size_t errlen)
{
    const struct config *cfg = srv->cfg;
    struct retention_options ro;
    int rc;

    metrics_catalog_register();
    metrics_catalog_register_store(srv->store);
    membudget_init(&srv->ingest_memory, cfg->ingest_memory_bytes);
    retention_options_load(cfg, &ro);

    srv->events = topic_new("events", (size_t)cfg->queue_capacity);
    srv->alerts = topic_new("alerts", ALERTS_TOPIC_CAPACITY);
    if (!srv->events || !srv->alerts) {
        rc = start_failed(err, errlen, "the topics", -ENOMEM);
        goto fail;
    }
    if ((rc = script_registry_open(srv, &srv->scripts)) != 0) {
        rc = start_failed(err, errlen, "the script registry", rc);
        goto fail;
    }
    /* Before the listener, which clears ingest's key cache. */
    if ((rc = ingest_new(srv, &srv->ingest)) != 0) {
        rc = start_failed(err, errlen, "ingest", rc);
        goto fail;
    }
    if ((rc = script_listener_start(srv, &srv->script_listener)) != 0) {
        rc = start_failed(err, errlen, "the script listener", rc);
        goto fail;
    }
    if ((rc = pipeline_start(srv, &srv->pipeline)) != 0) {
        rc = start_failed(err, errlen, "the pipeline", rc);
        goto fail;
    }
    if ((rc = notifier_start(srv, &srv->notifier)) != 0) {
        rc = start_failed(err, errlen, "the notifier", rc);
        goto fail;
    }
    if ((rc = retention_start(srv->store, &ro, &srv->retention)) != 0) {
        rc = start_failed(err, errlen, "retention", rc);
        goto fail;
    }
    if ((rc = http_start(srv, err, errlen)) != 0) goto fail;
    return 0;

fail:
    server_stop(srv);
    return rc;
}

void server_stop(struct server *srv)
{
    atomic_store(&srv->stopping, true);
    http_quiesce(srv);
    /* No connection arrives any more: drain, commit, answer the waiting
     * requests; a new request on a kept-alive connection gets 503. */
    if (srv->pipeline) pipeline_stop(srv->pipeline);
    srv->pipeline = NULL;
    http_stop(srv);
    if (srv->alerts) topic_close(srv->alerts);
    if (srv->notifier) notifier_stop(srv->notifier);
    srv->notifier = NULL;
    if (srv->retention) retention_stop(srv->retention);
    srv->retention = NULL;
    if (srv->script_listener) script_listener_stop(srv->script_listener);
    srv->script_listener = NULL;
    if (srv->ingest) ingest_free(srv->ingest);
    srv->ingest = NULL;
    if (srv->scripts) script_registry_close(srv->scripts);
    srv->scripts = NULL;
    /* Drain what is left on the alerts topic: plain messages, freed here. */
    if (srv->alerts) {
        void *msg;
        while (topic_take(srv->alerts, &msg, 1, 0) == 1)
            free(msg);
        topic_free(srv->alerts);
    }
    srv->alerts = NULL;
    if (srv->events) topic_free(srv->events);
    srv->events = NULL;
    log_info("subsystems stopped", NULL);
}
