/* writer — the writer thread: batches, transactions, retries, acks (see
 * writer.h). The statements of a batch live in writer_batch.c. */
#include "pipeline/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/ack.h"
#include "model/alert.h"
#include "model/event.h"
#include "base/liveness.h"
#include "base/log.h"
#include "base/metrics.h"
#include "pipeline/pipeline.h"
#include "store/events_write.h"
#include "store/store.h"
#include "base/topic.h"
#include "pipeline/writer_batch.h"

enum {
    RETRY_BACKOFF_MS = 50,
    /* Longest wait for in-flight events before a part-full commit. */
    WRITER_LINGER_MS = 1,
};

struct writer {
    struct pipeline_deps deps;
    struct db *db;
    struct topic *in;
    struct writer_batch *batch;
    struct ingest_event **evs;
    size_t batch_max;
    writer_upstream_fn upstream;
    void *upstream_ctx;
    pthread_t thread;
    bool running;
    struct liveness_beat beat;
    _Atomic uint64_t batches, stored, duplicates, failed, alerts;
};

static const double BATCH_SIZE_BOUNDS[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000};
static const double COMMIT_SECONDS_BOUNDS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1,    2.5};

static double seconds_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* One attempt: BEGIN, the statements, COMMIT. Rolls back on failure. */
static int attempt(struct writer *w, struct ingest_event **evs, size_t n,
                   struct writer_batch_result *res)
{
    int rc = events_write_begin(w->db);
    if (rc == 0) rc = writer_batch_write(w->batch, w->db, evs, n, store_now_ms(), res);
    if (rc == 0) rc = events_write_commit(w->db);
    if (rc != 0) {
        log_warn("batch not committed", "events=%zu error=%s", n, events_write_errmsg(w->db));
        events_write_rollback(w->db);
        writer_batch_discard(w->batch);
    }
    return rc;
}

static void publish_alerts(struct writer *w, struct writer_batch_result *res)
{
    for (size_t i = 0; i < res->nalerts; i++) {
        if (!w->deps.alerts || topic_publish(w->deps.alerts, res->alerts[i]) != 0)
            free(res->alerts[i]); /* the outbox row is the truth */
    }
    w->alerts += res->nalerts;
    writer_batch_take_alerts(w->batch);
}

/* Acks and frees evs[0..n) with status. */
static void finish(struct ingest_event **evs, size_t n, int status)
{
    for (size_t i = 0; i < n; i++) {
        ack_event_done(evs[i]->ack, status);
        event_free(evs[i]);
    }
}

static void count(struct writer *w, const struct writer_batch_result *res, size_t n,
                  const struct timespec *t0)
{
    w->batches++;
    w->stored += res->stored;
    w->duplicates += res->duplicates;
    metrics_observe("periscope_writer_batch_size", NULL, (double)n, BATCH_SIZE_BOUNDS,
                    sizeof(BATCH_SIZE_BOUNDS) / sizeof(BATCH_SIZE_BOUNDS[0]));
    metrics_observe("periscope_writer_commit_seconds", NULL, seconds_since(t0),
                    COMMIT_SECONDS_BOUNDS,
                    sizeof(COMMIT_SECONDS_BOUNDS) / sizeof(COMMIT_SECONDS_BOUNDS[0]));
    metrics_add("periscope_pipeline_events_total", "outcome=\"stored\"", (double)res->stored);
    if (res->duplicates)
        metrics_add("periscope_pipeline_events_total", "outcome=\"duplicate\"",
                    (double)res->duplicates);
}

/* "Where is my event?": one debug line per event of a committed batch. */
static void log_outcomes(const struct writer *w, struct ingest_event **evs, size_t n)
{
    if (!log_enabled(LOG_DEBUG)) return;
    for (size_t i = 0; i < n; i++) {
        char id[33];
        int64_t issue;
        enum writer_event_outcome o = writer_batch_event_outcome(w->batch, i, &issue);
        event_id_hex(evs[i]->event_id, id);
        if (o == WRITER_EVENT_DUPLICATE)
            log_debug("event duplicate, not stored again", "project=%lld event_id=%s issue=%lld",
                      (long long)evs[i]->project_id, id, (long long)issue);
        else
            log_debug("event stored",
                      "project=%lld event_id=%s issue=%lld issue_state=%s grouping=%s",
                      (long long)evs[i]->project_id, id, (long long)issue,
                      writer_event_outcome_name(o), event_grouping_name(evs[i]->grouping));
    }
}

/* Commits evs as one batch, acks and frees them. */
static int commit_whole(struct writer *w, struct ingest_event **evs, size_t n, bool retry)
{
    struct writer_batch_result res;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = attempt(w, evs, n, &res);
    if (rc != 0 && retry) {
        /* Postgres may have reconnected meanwhile; SQLite may have been busy. */
        struct timespec pause = {0, RETRY_BACKOFF_MS * 1000000L};
        nanosleep(&pause, NULL);
        events_write_reconnected(w->db);
        rc = attempt(w, evs, n, &res);
    }
    if (rc != 0) return rc;
    count(w, &res, n, &t0);
    log_outcomes(w, evs, n);
    finish(evs, n, 0);
    publish_alerts(w, &res);
    return 0;
}

int writer_commit_batch(struct writer *w, struct ingest_event **evs, size_t n)
{
    if (n == 0) return 0;
    int rc = commit_whole(w, evs, n, true);
    if (rc == 0) return 0;
    /* Still failing. Unless the database is unreachable, one event may be
     * poisoning the batch (its project was deleted meanwhile): commit each
     * alone so that only the bad ones fail. */
    bool unreachable = rc == -ECONNREFUSED || rc == -ECONNRESET;
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (n == 1 || unreachable || commit_whole(w, &evs[i], 1, false) != 0) {
            log_error("event not stored", "project=%lld", (long long)evs[i]->project_id);
            w->failed++;
            metrics_add("periscope_pipeline_events_total", "outcome=\"failed\"", 1);
            finish(&evs[i], 1, -EIO);
            worst = -EIO;
        }
    }
    return worst;
}

/* Tops up a batch of n events with those still upstream: one more take
 * at a time while the upstream answers > 0. No take starts once
 * WRITER_LINGER_MS has passed; the last may wait that long again (the
 * topic's timeout counts whole milliseconds). */
static size_t linger(struct writer *w, size_t n)
{
    if (!w->upstream) return n;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (n < w->batch_max && w->upstream(w->upstream_ctx) > 0 &&
           seconds_since(&t0) * 1000 < WRITER_LINGER_MS) {
        int more = topic_take(w->in, (void **)w->evs + n, w->batch_max - n, WRITER_LINGER_MS);
        if (more <= 0) break;
        n += (size_t)more;
    }
    return n;
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    pthread_setname_np(pthread_self(), "pipeline-write");
    for (;;) {
        liveness_idle(&w->beat);
        int n = topic_take(w->in, (void **)w->evs, w->batch_max, -1);
        if (n == -ESHUTDOWN) break;
        liveness_busy(&w->beat);
        if (n > 0) writer_commit_batch(w, w->evs, linger(w, (size_t)n));
    }
    return NULL;
}

int writer_new(const struct pipeline_deps *deps, struct writer **out)
{
    struct writer *w = calloc(1, sizeof(*w));
    if (!w) return -ENOMEM;
    w->deps = *deps;
    w->db = store_writer(deps->store);
    w->batch_max = deps->cfg->batch_max > 0 ? (size_t)deps->cfg->batch_max : 1000;
    w->batch = writer_batch_new(w->batch_max);
    w->evs = calloc(w->batch_max, sizeof(*w->evs));
    if (!w->db || !w->batch || !w->evs) {
        writer_free(w);
        return -ENOMEM;
    }
    *out = w;
    return 0;
}

void writer_free(struct writer *w)
{
    if (!w) return;
    writer_batch_free(w->batch);
    free(w->evs);
    free(w);
}

int writer_start(const struct pipeline_deps *deps, struct topic *in, writer_upstream_fn upstream,
                 void *upstream_ctx, struct writer **out)
{
    struct writer *w;
    int rc = writer_new(deps, &w);
    if (rc != 0) return rc;
    w->in = in;
    w->upstream = upstream;
    w->upstream_ctx = upstream_ctx;
    liveness_register(deps->liveness, &w->beat, "writer");
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        liveness_unregister(deps->liveness, &w->beat);
        writer_free(w);
        return -EAGAIN;
    }
    w->running = true;
    *out = w;
    return 0;
}

int writer_stop_by(struct writer *w, int64_t deadline_ms)
{
    if (!w) return 0;
    if (w->running) {
        struct timespec until = {(time_t)(deadline_ms / 1000),
                                 (long)(deadline_ms % 1000) * 1000000L};
        if (deadline_ms ? pthread_timedjoin_np(w->thread, NULL, &until) != 0
                        : pthread_join(w->thread, NULL) != 0)
            return -ETIMEDOUT;
        liveness_unregister(w->deps.liveness, &w->beat);
    }
    writer_free(w);
    return 0;
}

void writer_stop(struct writer *w)
{
    writer_stop_by(w, 0);
}

void writer_get_stats(struct writer *w, struct writer_stats *out)
{
    out->batches = w->batches;
    out->stored = w->stored;
    out->duplicates = w->duplicates;
    out->failed = w->failed;
    out->alerts = w->alerts;
}
