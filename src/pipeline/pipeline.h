/* pipeline — the worker threads (normalize → project filter → grouping →
 * hash → compress) and the writer thread (batched transactions, issue
 * upsert, idempotent event insert, alerts + outbox, then acks).
 *
 * Consumes deps->events (struct raw_event*), publishes on deps->alerts
 * (struct alert_msg*). Started after the store and scripts, stopped before
 * them: pipeline_stop drains both stages, commits, answers every waiting
 * request, and joins its threads. */
#ifndef PERISCOPE_PIPELINE_H
#define PERISCOPE_PIPELINE_H

#include <stdint.h>

struct config;
struct health;
struct liveness;
struct pipeline;
struct script_registry;
struct store;
struct topic;

/* What the pipeline uses, all borrowed (they outlive it). Copied by
 * pipeline_start; the writer and the workers see the same. */
struct pipeline_deps {
    const struct config *cfg;        /* workers, queue_capacity, batch_max, Lua limits */
    struct store *store;             /* the writer's connection (store_writer) */
    struct topic *events;            /* in: struct raw_event* from ingest */
    struct topic *alerts;            /* out: struct alert_msg* (may be NULL: none sent) */
    struct script_registry *scripts; /* may be NULL: the default rules for every project */
    struct liveness *liveness;       /* each worker and the writer beat it (may be NULL) */
    struct health *health;           /* the writer's state for /readyz (base/health.h;
                                      * may be NULL: the writer keeps its own) */
};

int pipeline_start(const struct pipeline_deps *deps, struct pipeline **out);

/* Waits however long the drain takes. */
void pipeline_stop(struct pipeline *p);

/* A bounded stop (SIGTERM): drains until grace_ms, then answers what is
 * still queued 503 (-ESHUTDOWN), interrupts every Lua call
 * (deadline_expire_all) and waits until deadline_ms (both clock_wall_ms
 * values, pthread_timedjoin_np's clock; 0: no limit). Returns 0, or
 * -ETIMEDOUT when a thread is still stuck: then nothing is freed (the
 * thread may wake up and use it) and the caller must answer the waiting
 * requests (ack_abandon_all) and exit without tearing the rest down. */
int pipeline_stop_by(struct pipeline *p, int64_t grace_ms, int64_t deadline_ms);

#endif
