/* writer — the writer thread: batches, transactions, retries, acks (see
 * writer.h). The statements of a batch live in writer_batch.c. */
#include "pipeline/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/ack.h"
#include "base/config.h"
#include "base/health.h"
#include "model/alert.h"
#include "model/event.h"
#include "base/liveness.h"
#include "base/log.h"
#include "base/metrics.h"
#include "pipeline/pipeline.h"
#include "store/events_write.h"
#include "store/store.h"
#include "base/topic.h"
#include "pipeline/spool.h"
#include "pipeline/writer_batch.h"
#include "pipeline/writer_counters.h"

enum {
    /* While the database is unavailable: the first retry after this, then
     * doubling up to RETRY_MAX_MS. */
    RETRY_BACKOFF_MS = 50,
    RETRY_MAX_MS = 2000,
    /* An idle writer asks the database this often whether it answers, so
     * /readyz knows of an outage before the next event does. */
    IDLE_PING_MS = 1000,
    /* Longest wait for in-flight events before a part-full commit. */
    WRITER_LINGER_MS = 1,
};

struct writer {
    struct pipeline_deps deps;
    struct health own_health; /* when deps.health is NULL */
    struct db *db;
    struct topic *in;
    struct writer_batch *batch;
    struct grouped_event **evs;
    size_t batch_max;
    writer_upstream_fn upstream;
    void *upstream_ctx;
    pthread_t thread;
    bool running;
    struct liveness_beat beat;
    struct spool *spool;           /* NULL: SPOOL_MAX_BYTES=0 */
    struct grouped_event **replay; /* batch_max events read back from the spool */
    int backoff_ms;                /* 0 while the database takes writes */
    int64_t next_retry_ms;         /* monotonic: the next replay attempt */
    int64_t next_ping_ms;          /* monotonic: the next idle ping */
    bool spool_full_logged;
    struct writer_counters *counters; /* the node's buffered counts */
    /* The wait between retries while the database does not take writes:
     * a timed wait that writer_stop_by cuts short (a stopping writer tries
     * once more at once instead of sleeping out its backoff). */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    bool stop_woke;      /* under wake_mu: writer_stop_by woke the wait */
    _Atomic uint64_t batches, stored, duplicates, failed, alerts, spooled;
};

static const double BATCH_SIZE_BOUNDS[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000};
static const double COMMIT_SECONDS_BOUNDS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1,    2.5};

/* One attempt: BEGIN, the statements, COMMIT. Rolls back on failure. */
static int attempt(struct writer *w, struct grouped_event **evs, size_t n,
                   struct writer_batch_result *res)
{
    int rc = events_write_begin(w->db);
    if (rc == 0) rc = writer_batch_write(w->batch, w->db, evs, n, clock_wall_ms(), res);
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
static void finish(struct grouped_event **evs, size_t n, int status)
{
    for (size_t i = 0; i < n; i++) {
        ack_event_done(evs[i]->ack, status);
        grouped_event_free(evs[i]);
    }
}

static void count(struct writer *w, const struct writer_batch_result *res, size_t n, int64_t t0_ns)
{
    w->batches++;
    w->stored += res->stored;
    w->duplicates += res->duplicates;
    metrics_observe("periscope_writer_batch_size", NULL, (double)n, BATCH_SIZE_BOUNDS,
                    sizeof(BATCH_SIZE_BOUNDS) / sizeof(BATCH_SIZE_BOUNDS[0]));
    metrics_observe("periscope_writer_commit_seconds", NULL, clock_seconds_since(t0_ns),
                    COMMIT_SECONDS_BOUNDS,
                    sizeof(COMMIT_SECONDS_BOUNDS) / sizeof(COMMIT_SECONDS_BOUNDS[0]));
    metrics_add("periscope_pipeline_events_total", "outcome=\"stored\"", (double)res->stored);
    if (res->duplicates)
        metrics_add("periscope_pipeline_events_total", "outcome=\"duplicate\"",
                    (double)res->duplicates);
}

/* "Where is my event?": one debug line per event of a committed batch. */
static void log_outcomes(const struct writer *w, struct grouped_event **evs, size_t n)
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
static int commit_whole(struct writer *w, struct grouped_event **evs, size_t n)
{
    struct writer_batch_result res;
    int64_t t0_ns = clock_mono_ns();
    int rc = attempt(w, evs, n, &res);
    if (rc != 0) return rc;
    count(w, &res, n, t0_ns);
    log_outcomes(w, evs, n);
    writer_counters_add(w->counters, w->batch, evs, n);
    finish(evs, n, 0);
    publish_alerts(w, &res);
    return 0;
}

/* The event itself cannot be stored (its project was deleted meanwhile, a
 * value the database refuses). Anything else is the database being
 * unavailable (refused, lost, timed out, busy, full, failing pages), which
 * is never the event's fault: such events are kept. */
static bool is_data_error(int rc)
{
    return rc == -ENOENT || rc == -EINVAL || rc == -EEXIST || rc == -ERANGE;
}

static struct health *health_of(struct writer *w)
{
    return w->deps.health ? w->deps.health : &w->own_health;
}

static void note_ok(struct writer *w)
{
    if (w->backoff_ms) log_info("database takes writes again", NULL);
    w->backoff_ms = 0;
    w->spool_full_logged = false;
    health_write_ok(health_of(w), clock_wall_ms());
}

/* Writes are failing: the reason for /readyz, and when to try again. */
static void note_failure(struct writer *w, int rc)
{
    char reason[HEALTH_REASON_MAX];
    snprintf(reason, sizeof reason, "database: %s", events_write_errmsg(w->db));
    if (!w->backoff_ms)
        log_error("database does not take writes; events kept", "error=%s rc=%d",
                  events_write_errmsg(w->db), rc);
    health_write_failed(health_of(w), clock_wall_ms(), reason);
    w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : RETRY_BACKOFF_MS;
    if (w->backoff_ms > RETRY_MAX_MS) w->backoff_ms = RETRY_MAX_MS;
    w->next_retry_ms = clock_mono_ms() + w->backoff_ms;
    events_write_reconnected(w->db); /* a new session: nothing of the old one counts */
}

/* Commits evs; when the whole batch is refused for an event's own data,
 * each alone, so that only the bad ones fail (acked -EIO). Returns 0 when
 * every event was stored or failed for its own data (all acked and freed),
 * else the database's error with the events still to store moved to the
 * front of evs and counted in *left. */
static int commit_isolating(struct writer *w, struct grouped_event **evs, size_t n, size_t *left)
{
    int rc = commit_whole(w, evs, n);
    *left = 0;
    if (rc == 0) return 0;
    if (!is_data_error(rc)) {
        *left = n;
        return rc;
    }
    int unavailable = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int r = unavailable ? unavailable : n == 1 ? rc : commit_whole(w, &evs[i], 1);
        if (r == 0) continue;
        if (!is_data_error(r)) {
            unavailable = r;
            evs[k++] = evs[i];
            continue;
        }
        log_error("event not stored: the database refused it", "project=%lld error=%s",
                  (long long)evs[i]->project_id, events_write_errmsg(w->db));
        w->failed++;
        metrics_add("periscope_pipeline_events_total", "outcome=\"failed\"", 1);
        finish(&evs[i], 1, -EIO);
    }
    *left = k;
    return unavailable;
}

static void spool_state(struct writer *w)
{
    if (w->spool) health_spool(health_of(w), spool_bytes(w->spool), spool_events(w->spool));
}

/* One batch of the oldest spooled events into the database. 0 when the
 * spool is empty afterwards or the batch went in, else negative. */
static int replay_one(struct writer *w)
{
    size_t n = 0;
    if (!w->spool || spool_events(w->spool) == 0) return 0;
    int rc = spool_peek(w->spool, w->replay, w->batch_max, &n);
    if (rc == -EBADMSG) {
        /* Damaged after the scan at open: nothing else can read it. */
        log_error("spool: damaged record, the rest of the spool is dropped", "events=%llu",
                  (unsigned long long)spool_events(w->spool));
        metrics_add("periscope_pipeline_events_total", "outcome=\"spool_lost\"",
                    (double)spool_events(w->spool));
        spool_consume(w->spool, spool_events(w->spool));
        spool_state(w);
        return 0;
    }
    if (rc < 0) return rc;
    size_t left;
    rc = commit_isolating(w, w->replay, n, &left);
    if (rc < 0) {
        for (size_t i = 0; i < left; i++)
            grouped_event_free(w->replay[i]); /* still in the spool: read again next time */
        note_failure(w, rc);
        return rc;
    }
    note_ok(w);
    rc = spool_consume(w->spool, n);
    if (rc < 0) log_error("spool: cannot move on", "error=%s", strerror(-rc));
    spool_state(w);
    metrics_add("periscope_pipeline_events_total", "outcome=\"replayed\"", (double)n);
    return rc;
}

/* Blocks until the next retry (w->next_retry_ms) or until the writer is
 * told to stop, whichever comes first. */
static void backoff_wait(struct writer *w)
{
    int64_t wait = w->next_retry_ms - clock_mono_ms();
    if (wait <= 0) return;
    struct timespec until = clock_deadline_mono(wait);
    pthread_mutex_lock(&w->wake_mu);
    while (!w->stop_woke && pthread_cond_timedwait(&w->wake, &w->wake_mu, &until) != ETIMEDOUT)
        ;
    w->stop_woke = false; /* once: the backoff holds again after that retry */
    pthread_mutex_unlock(&w->wake_mu);
}

/* Events the database cannot take now: into the spool (acked once on
 * disk), else held here and retried with backoff, oldest spooled events
 * first, until the database takes them. Never fails an event. */
static void keep(struct writer *w, struct grouped_event **evs, size_t n)
{
    for (;;) {
        int rc = w->spool ? spool_append(w->spool, evs, n) : -ENOSPC;
        if (rc == 0) {
            w->spooled += n;
            metrics_add("periscope_pipeline_events_total", "outcome=\"spooled\"", (double)n);
            finish(evs, n, 0);
            spool_state(w);
            return;
        }
        if (w->spool && !w->spool_full_logged) {
            log_error("spool cannot take more; holding events, ingest answers 503 when full",
                      "error=%s spool_bytes=%llu", strerror(-rc),
                      (unsigned long long)spool_bytes(w->spool));
            w->spool_full_logged = true;
        }
        backoff_wait(w);
        liveness_busy(&w->beat);
        while (w->spool && spool_events(w->spool) > 0)
            if (replay_one(w) < 0) break;
        if (w->spool && spool_events(w->spool) > 0) continue;
        size_t left;
        rc = commit_isolating(w, evs, n, &left);
        if (rc == 0) {
            note_ok(w);
            return;
        }
        note_failure(w, rc);
        n = left;
    }
}

int writer_commit_batch(struct writer *w, struct grouped_event **evs, size_t n)
{
    if (n == 0) return 0;
    uint64_t failed = w->failed;
    if (w->spool && spool_events(w->spool) > 0) {
        keep(w, evs, n); /* behind the older events, in order */
        return 0;
    }
    size_t left;
    int rc = commit_isolating(w, evs, n, &left);
    if (rc == 0) {
        note_ok(w);
        return w->failed > failed ? -EIO : 0;
    }
    note_failure(w, rc);
    keep(w, evs, left);
    return w->failed > failed ? -EIO : 0;
}

/* Tops up a batch of n events with those still upstream: one more take
 * at a time while the upstream answers > 0. No take starts once
 * WRITER_LINGER_MS has passed; the last may wait that long again (the
 * topic's timeout counts whole milliseconds). */
static size_t linger(struct writer *w, size_t n)
{
    if (!w->upstream) return n;
    int64_t t0_ns = clock_mono_ns();
    while (n < w->batch_max && w->upstream(w->upstream_ctx) > 0 &&
           clock_seconds_since(t0_ns) * 1000 < WRITER_LINGER_MS) {
        int more = topic_take(w->in, (void **)w->evs + n, w->batch_max - n, WRITER_LINGER_MS);
        if (more <= 0) break;
        n += (size_t)more;
    }
    return n;
}

static void idle_ping(struct writer *w)
{
    int rc = events_write_ping(w->db);
    if (rc == 0 && w->backoff_ms) {
        note_ok(w);
    } else if (rc == 0) {
        health_write_ok(health_of(w), atomic_load(&health_of(w)->last_write_ok_ms));
    } else {
        note_failure(w, rc);
    }
}

/* How long to wait for events: until the next spool replay (while events
 * wait in the spool) or idle ping, or the next counter flush if sooner. */
static int take_wait_ms(struct writer *w)
{
    bool spooled = w->spool && spool_events(w->spool) > 0;
    int64_t left = (spooled ? w->next_retry_ms : w->next_ping_ms) - clock_mono_ms();
    int wait = left > 0 ? (int)left : 0;
    int counters = writer_counters_wait_ms(w->counters);
    return counters >= 0 && counters < wait ? counters : wait;
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    pthread_setname_np(pthread_self(), "pipeline-write");
    for (;;) {
        liveness_idle(&w->beat);
        int n = topic_take(w->in, (void **)w->evs, w->batch_max, take_wait_ms(w));
        if (n == -ESHUTDOWN) break;
        liveness_busy(&w->beat);
        bool spooled = w->spool && spool_events(w->spool) > 0;
        if (n == 0 && !spooled && clock_mono_ms() >= w->next_ping_ms) {
            idle_ping(w);
            w->next_ping_ms = clock_mono_ms() + IDLE_PING_MS;
        }
        if (n > 0) {
            writer_commit_batch(w, w->evs, linger(w, (size_t)n));
            w->next_ping_ms = clock_mono_ms() + IDLE_PING_MS;
        }
        if (w->spool && spool_events(w->spool) > 0 && clock_mono_ms() >= w->next_retry_ms)
            replay_one(w);
        writer_counters_tick(w->counters);
    }
    return NULL;
}

int writer_new(const struct pipeline_deps *deps, struct writer **out)
{
    struct writer *w = calloc(1, sizeof(*w));
    if (!w) return -ENOMEM;
    w->deps = *deps;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int crc = pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (crc != 0) {
        free(w);
        return -crc;
    }
    pthread_mutex_init(&w->wake_mu, NULL);
    health_init(&w->own_health);
    w->db = store_writer(deps->store);
    struct config d; /* a config built by hand may leave it 0 */
    config_defaults(&d);
    w->batch_max = (size_t)(deps->cfg->batch_max > 0 ? deps->cfg->batch_max : d.batch_max);
    w->batch = writer_batch_new(w->batch_max);
    w->evs = calloc(w->batch_max, sizeof(*w->evs));
    w->replay = calloc(w->batch_max, sizeof(*w->replay));
    w->counters = writer_counters_new(w->db, deps->cfg->counter_flush_ms, deps->cfg->node_id);
    w->next_ping_ms = clock_mono_ms() + IDLE_PING_MS;
    if (!w->db || !w->batch || !w->evs || !w->replay || !w->counters) {
        writer_free(w);
        return -ENOMEM;
    }
    const struct config *cfg = deps->cfg;
    if (cfg->spool_max_bytes > 0 && cfg->data_dir) {
        char err[512];
        int rc = spool_open(cfg->data_dir, cfg->spool_max_bytes, &w->spool, err, sizeof err);
        if (rc < 0) {
            log_error("spool cannot be opened", "error=%s", err);
            writer_free(w);
            return rc;
        }
        spool_state(w);
    }
    *out = w;
    return 0;
}

void writer_free(struct writer *w)
{
    if (!w) return;
    writer_counters_free(w->counters); /* flushes what is left */
    writer_batch_free(w->batch);
    spool_close(w->spool);
    free(w->evs);
    free(w->replay);
    health_destroy(&w->own_health);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->wake_mu);
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
    pthread_mutex_lock(&w->wake_mu);
    w->stop_woke = true;
    pthread_mutex_unlock(&w->wake_mu);
    pthread_cond_broadcast(&w->wake);
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
    out->spooled = w->spooled;
}
