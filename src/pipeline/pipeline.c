/* pipeline — worker threads and the writer (see pipeline.h).
 *
 * deps.events → WORKERS threads (worker.c) → internal topic "grouped" →
 * one writer thread (writer.c). A worker takes struct raw_event* and hands
 * over struct grouped_event* (model/event.h). The internal topic has the
 * capacity of the events topic; a worker that finds it full blocks on it
 * (topic_publish_wait) until the writer takes some, so back-pressure
 * reaches ingest as a full "events" topic (503). */
#include "pipeline/pipeline.h"

#include <errno.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "base/ack.h"
#include "base/config.h"
#include "model/event.h"
#include "base/liveness.h"
#include "base/log.h"
#include "lua/deadline.h"
#include "base/metrics.h"
#include "pipeline/pipeline_metrics.h"
#include "base/topic.h"
#include "pipeline/worker.h"
#include "pipeline/writer.h"

enum {
    WORKER_TAKE_MAX = 64,
    /* A worker blocked on a full "grouped" (marked idle: the writer is the
     * one to blame then) waits in timed slices of this length. */
    GROUPED_FULL_WAIT_MS = 1000,
};

struct worker_thread {
    struct pipeline *p;
    pthread_t thread;
    struct liveness_beat beat;
};

struct pipeline {
    struct pipeline_deps deps;
    struct topic *grouped;
    struct writer *writer;
    struct worker_thread *threads;
    int nthreads;
    _Atomic size_t in_workers; /* taken from deps.events, not yet handed over */
    atomic_bool abandon;       /* stopping past its grace: answer 503, process nothing */
};

/* The writer's upstream: events queued for a worker or inside one. */
static size_t upstream_pending(void *ctx)
{
    struct pipeline *p = ctx;
    struct topic_stats s;
    topic_stats(p->deps.events, &s);
    return s.depth + atomic_load(&p->in_workers);
}

/* Hands evs to the writer, blocking while its topic is full (idle: the
 * writer is the one to blame then). */
static void hand_over(struct topic *grouped, struct grouped_event **evs, size_t n,
                      struct liveness_beat *beat)
{
    while (n > 0) {
        int k = topic_publish_wait(grouped, (void **)evs, n, 0);
        if (k == 0) {
            liveness_idle(beat);
            k = topic_publish_wait(grouped, (void **)evs, n, GROUPED_FULL_WAIT_MS);
        }
        if (k > 0) {
            evs += k;
            n -= (size_t)k;
            continue;
        }
        if (k == 0) continue;
        /* Closed: cannot happen while workers run (closed after they join). */
        for (size_t i = 0; i < n; i++) {
            ack_event_done(evs[i]->ack, -ESHUTDOWN);
            grouped_event_free(evs[i]);
        }
        return;
    }
}

static void *worker_main(void *arg)
{
    struct worker_thread *t = arg;
    struct pipeline *p = t->p;
    struct worker_ctx *w;
    pthread_setname_np(pthread_self(), "pipeline-work");
    if (worker_ctx_new(&p->deps, &w) != 0) {
        log_error("pipeline worker not started", "error=%s", "out of memory");
        return NULL;
    }
    struct raw_event *evs[WORKER_TAKE_MAX];
    struct grouped_event *out[WORKER_TAKE_MAX];
    for (;;) {
        liveness_idle(&t->beat);
        int n = topic_take(p->deps.events, (void **)evs, WORKER_TAKE_MAX, -1);
        if (n == -ESHUTDOWN) break;
        if (n > 0) atomic_fetch_add(&p->in_workers, (size_t)n);
        size_t keep = 0, filtered = 0, failed = 0;
        for (int i = 0; i < n; i++) {
            struct raw_event *raw = evs[i];
            struct grouped_event *ev = NULL;
            liveness_busy(&t->beat);
            /* Abandoned (or abandoned while this one ran): 503, not stored. */
            int rc = atomic_load(&p->abandon) ? -ESHUTDOWN : worker_process(w, raw, &ev);
            if (rc == 0 && atomic_load(&p->abandon)) rc = -ESHUTDOWN;
            struct ack *ack = ev ? ev->ack : raw->ack;
            int64_t project_id = raw->project_id;
            raw_event_free(raw);
            if (rc == 0 && !ev->filtered) {
                out[keep++] = ev;
                continue;
            }
            if (rc == -ESHUTDOWN) {
                ack_event_done(ack, rc);
                grouped_event_free(ev);
                continue;
            }
            if (rc != 0) {
                log_warn("event not processed", "project=%lld error=%s", (long long)project_id,
                         strerror(-rc));
                failed++;
            } else {
                filtered++;
            }
            ack_event_done(ack, rc == 0 ? 0 : -EIO);
            grouped_event_free(ev);
        }
        if (filtered)
            metrics_add("periscope_pipeline_events_total", "outcome=\"filtered\"",
                        (double)filtered);
        if (failed)
            metrics_add("periscope_pipeline_events_total", "outcome=\"failed\"", (double)failed);
        hand_over(p->grouped, out, keep, &t->beat);
        if (n > 0) atomic_fetch_sub(&p->in_workers, (size_t)n);
    }
    worker_ctx_free(w);
    return NULL;
}

int pipeline_start(const struct pipeline_deps *deps, struct pipeline **out)
{
    struct pipeline *p = calloc(1, sizeof(*p));
    if (!p) return -ENOMEM;
    p->deps = *deps;
    struct config d; /* a config built by hand may leave them 0 */
    config_defaults(&d);
    int want = deps->cfg->workers > 0 ? deps->cfg->workers : d.workers;
    size_t cap =
        (size_t)(deps->cfg->queue_capacity > 0 ? deps->cfg->queue_capacity : d.queue_capacity);
    int rc = -ENOMEM;
    p->grouped = topic_new("grouped", cap);
    p->threads = calloc((size_t)want, sizeof(*p->threads));
    if (!p->grouped || !p->threads) goto fail;
    if ((rc = writer_start(deps, p->grouped, upstream_pending, p, &p->writer)) != 0) goto fail;
    for (; p->nthreads < want; p->nthreads++) {
        struct worker_thread *t = &p->threads[p->nthreads];
        t->p = p;
        liveness_register(deps->liveness, &t->beat, "worker");
        if (pthread_create(&t->thread, NULL, worker_main, t) != 0) {
            liveness_unregister(deps->liveness, &t->beat);
            rc = -EAGAIN;
            goto fail;
        }
    }
    pipeline_metrics_attach(deps->events, p->grouped, deps->alerts);
    *out = p;
    return 0;
fail:
    /* Threads already running stop when the events topic closes. */
    if (p->nthreads > 0 || p->writer) {
        pipeline_stop(p);
        return rc;
    }
    topic_free(p->grouped);
    free(p->threads);
    free(p);
    return rc;
}

/* Joins the thread by deadline_ms (0: however long it takes). */
static bool join_by(pthread_t thread, int64_t deadline_ms)
{
    if (!deadline_ms) return pthread_join(thread, NULL) == 0;
    struct timespec until = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L};
    return pthread_timedjoin_np(thread, NULL, &until) == 0;
}

/* Joins the workers not joined yet by deadline_ms; true when all are. */
static bool join_workers(struct pipeline *p, bool *joined, int64_t deadline_ms)
{
    bool all = true;
    for (int i = 0; i < p->nthreads; i++) {
        if (!joined[i]) joined[i] = join_by(p->threads[i].thread, deadline_ms);
        all &= joined[i];
    }
    return all;
}

int pipeline_stop_by(struct pipeline *p, int64_t grace_ms, int64_t deadline_ms)
{
    if (!p) return 0;
    pipeline_metrics_detach();
    /* Ingest has stopped: workers drain what is queued, then the writer
     * drains and commits what they handed over. */
    topic_close(p->deps.events);
    bool joined_stack[64],
        *joined = p->nthreads <= 64 ? joined_stack : calloc((size_t)p->nthreads, 1);
    if (!joined) return -ENOMEM;
    for (int i = 0; i < p->nthreads; i++)
        joined[i] = false;
    bool all = join_workers(p, joined, grace_ms);
    if (!all) {
        /* Past the grace: what is still queued is answered 503, and no Lua
         * hook may hold a worker any longer. */
        log_warn("pipeline: drain past its grace, abandoning queued events", NULL);
        atomic_store(&p->abandon, true);
        deadline_expire_all();
        all = join_workers(p, joined, deadline_ms);
    }
    if (joined != joined_stack) free(joined);
    if (!all) {
        /* A worker stuck outside Lua: leave the pipeline as it is (the
         * thread may still use it); the caller answers the waiting
         * requests and exits. */
        log_error("pipeline: a worker did not stop in time; left behind", NULL);
        return -ETIMEDOUT;
    }
    for (int i = 0; i < p->nthreads; i++)
        liveness_unregister(p->deps.liveness, &p->threads[i].beat);
    topic_close(p->grouped);
    if (writer_stop_by(p->writer, deadline_ms) != 0) {
        log_error("pipeline: the writer did not stop in time; left behind", NULL);
        return -ETIMEDOUT;
    }
    topic_free(p->grouped);
    free(p->threads);
    free(p);
    return 0;
}

void pipeline_stop(struct pipeline *p)
{
    pipeline_stop_by(p, 0, 0);
}
