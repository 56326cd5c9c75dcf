/* server — start and stop order of the subsystems (see server.h). */
#include "app/app.h"
#include "base/clock.h"
#include "app/counters_reconcile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/ack.h"
#include "base/config.h"
#include "http/http.h"
#include "http/ingest.h"
#include "base/liveness.h"
#include "base/log.h"
#include "lua/deadline.h"
#include "lua/registry.h"
#include "app/metrics_catalog.h"
#include "notify/format_hook.h"
#include "notify/notifier.h"
#include "pipeline/pipeline.h"
#include "app/retention.h"
#include "scripts/script_listener.h"
#include "base/topic.h"
#include "store/store.h"

/* The alerts topic only wakes the notifier early (the outbox rows are the
 * truth), so its size bounds memory, not correctness. */
#define ALERTS_TOPIC_CAPACITY 10000

static void forget_keys(void *ingest)
{
    ingest_forget_keys(ingest);
}

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

    metrics_catalog_register_store(srv->store);
    membudget_init(&srv->ingest_memory, cfg->ingest_memory_bytes);
    retention_options_load(cfg, &ro);

    if ((rc = liveness_start(cfg->stall_timeout_s, &srv->liveness)) != 0) {
        rc = start_failed(err, errlen, "the stall watchdog", rc);
        goto fail;
    }
    srv->events = topic_new("events", (size_t)cfg->queue_capacity);
    srv->alerts = topic_new("alerts", ALERTS_TOPIC_CAPACITY);
    if (!srv->events || !srv->alerts) {
        rc = start_failed(err, errlen, "the topics", -ENOMEM);
        goto fail;
    }
    if ((rc = script_registry_open(srv->store, cfg, &srv->scripts)) != 0) {
        rc = start_failed(err, errlen, "the script registry", rc);
        goto fail;
    }
    script_registry_set_format_check(srv->scripts, notify_format_check_script);
    struct http_ctx *hc = &srv->http;
    hc->cfg = cfg;
    hc->store = srv->store;
    hc->events = srv->events;
    hc->scripts = srv->scripts;
    hc->liveness = srv->liveness;
    hc->ingest_memory = &srv->ingest_memory;
    hc->stopping = &srv->stopping;
    hc->health = &srv->health;
    /* Before the listener, which clears ingest's key cache. */
    if ((rc = ingest_new(hc, &srv->ingest)) != 0) {
        rc = start_failed(err, errlen, "ingest", rc);
        goto fail;
    }
    hc->ingest = srv->ingest;
    rc = script_listener_start(cfg, srv->scripts, forget_keys, srv->ingest, &srv->script_listener);
    if (rc != 0) {
        rc = start_failed(err, errlen, "the script listener", rc);
        goto fail;
    }
    int64_t recounted;
    if ((rc = counters_reconcile(store_writer(srv->store), cfg->node_id, &recounted)) != 0) {
        rc = start_failed(err, errlen, "the counters' reconciliation", rc);
        goto fail;
    }
    struct pipeline_deps pd = {
        .cfg = cfg,
        .store = srv->store,
        .events = srv->events,
        .alerts = srv->alerts,
        .scripts = srv->scripts,
        .liveness = srv->liveness,
        .health = &srv->health,
    };
    if ((rc = pipeline_start(&pd, &srv->pipeline)) != 0) {
        rc = start_failed(err, errlen, "the pipeline", rc);
        goto fail;
    }
    struct notifier_deps nd = {
        .cfg = cfg,
        .store = srv->store,
        .scripts = srv->scripts,
        .alerts = srv->alerts,
        .liveness = srv->liveness,
    };
    if ((rc = notifier_start(&nd, &srv->notifier)) != 0) {
        rc = start_failed(err, errlen, "the notifier", rc);
        goto fail;
    }
    if ((rc = retention_start(srv->store, &ro, &srv->retention)) != 0) {
        rc = start_failed(err, errlen, "retention", rc);
        goto fail;
    }
    if ((rc = http_start(hc, err, errlen)) != 0) goto fail;
    return 0;

fail:
    server_stop(srv);
    return rc;
}

/* The grace of a bounded stop: the drain may take the timeout but this. */
#define STOP_GRACE_MAX_MS 5000
#define STOP_ANSWER_MS 1000 /* for the 503s of abandoned requests to go out */

/* Past SHUTDOWN_TIMEOUT with a thread still stuck: every request still
 * waiting for its events is answered 503, and nothing the stuck thread may
 * touch is freed (the caller exits). */
static int stop_abandoned(struct server *srv)
{
    deadline_expire_all(); /* script runs on the admin runners end at once */
    int answered = ack_abandon_all(-ESHUTDOWN);
    log_error("shutdown timed out: waiting requests answered 503, stuck threads left behind",
              "answered=%d shutdown_timeout_s=%d", answered, srv->cfg->shutdown_timeout_s);
    http_stop_within(&srv->http, STOP_ANSWER_MS);
    return -ETIMEDOUT;
}

int server_stop(struct server *srv)
{
    struct config d; /* a config built by hand may leave it 0 */
    config_defaults(&d);
    int64_t timeout_ms = (int64_t)(srv->cfg->shutdown_timeout_s > 0 ? srv->cfg->shutdown_timeout_s
                                                                    : d.shutdown_timeout_s) *
                         1000;
    int64_t deadline = clock_wall_ms() + timeout_ms;
    int64_t grace = timeout_ms / 3 < STOP_GRACE_MAX_MS ? timeout_ms / 3 : STOP_GRACE_MAX_MS;
    atomic_store(&srv->stopping, true);
    http_quiesce(&srv->http);
    /* No connection arrives any more: drain, commit, answer the waiting
     * requests; a new request on a kept-alive connection gets 503. */
    if (srv->pipeline && pipeline_stop_by(srv->pipeline, deadline - grace, deadline) != 0)
        return stop_abandoned(srv);
    srv->pipeline = NULL;
    int64_t left = deadline - clock_wall_ms();
    http_stop_within(&srv->http, left > STOP_ANSWER_MS ? (int)left : STOP_ANSWER_MS);
    if (srv->alerts) topic_close(srv->alerts);
    if (srv->notifier && notifier_stop_by(srv->notifier, deadline) != 0) return stop_abandoned(srv);
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
    liveness_stop(srv->liveness);
    srv->liveness = NULL;
    log_info("subsystems stopped", NULL);
    return 0;
}
