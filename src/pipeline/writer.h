/* writer — the one thread that stores events: takes grouped events from its
 * input topic in batches of up to BATCH_MAX and commits each batch in one
 * transaction on store_writer() (issues found/created/counted, events
 * inserted once, alerts + outbox rows), then acks every event of the batch
 * (0 stored or duplicate; -EIO only for an event the database refuses for
 * its own data, e.g. its project was deleted meanwhile), publishes the
 * alerts on deps->alerts (dropped when full: the outbox is the truth) and
 * frees the events.
 *
 * While the database does not take writes (refused, lost, hung past
 * DB_TIMEOUT_MS, busy, full), nothing is failed: the batch goes to the
 * on-disk spool (spool.h; acked once it is fsynced) and the spool is
 * replayed in order with backoff; with no spool or a full one, the batch is
 * held and retried with backoff, so "grouped" and then "events" fill and
 * ingest answers 503. deps->health says which (base/health.h; the writer's
 * own when deps->health is NULL).
 *
 * The thread beats deps->liveness as stage "writer" (liveness.h).
 *
 * Owns its thread and the writer connection while running. writer_stop is
 * called after the input topic is closed: the thread drains it, commits,
 * and exits; writer_stop joins it. */
#ifndef PERISCOPE_WRITER_H
#define PERISCOPE_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct pipeline_deps;
struct topic;
struct writer;
struct grouped_event;

struct writer_stats {
    uint64_t batches, stored, duplicates, failed, alerts, spooled;
};

/* How many events are still on their way to the writer's input topic
 * (queued for or inside a worker). */
typedef size_t (*writer_upstream_fn)(void *ctx);

/* in: topic of struct grouped_event* (borrowed; outlives the writer).
 * upstream (may be NULL): while it answers > 0, the writer waits about
 * WRITER_LINGER_MS (1–2 ms) for more events before committing a part-full batch,
 * so that one transaction carries what is already in flight (group
 * commit) instead of a few events each. */
int writer_start(const struct pipeline_deps *deps, struct topic *in, writer_upstream_fn upstream,
                 void *upstream_ctx, struct writer **out);
/* Joins the thread (the input topic must be closed) and frees. */
void writer_stop(struct writer *w);
/* The same by deadline_ms (CLOCK_REALTIME ms, 0: no limit): -ETIMEDOUT,
 * nothing freed, when the thread is still busy then. */
int writer_stop_by(struct writer *w, int64_t deadline_ms);
void writer_get_stats(struct writer *w, struct writer_stats *out);

/* Writes, acks and frees one batch on the calling thread (the writer thread
 * uses it; the benchmark and tests call it directly, never concurrently with
 * a running writer on the same store). Returns 0 or the batch's status. */
int writer_commit_batch(struct writer *w, struct grouped_event **evs, size_t n);

/* A writer without a thread, for writer_commit_batch callers. deps is
 * copied; its store, alerts, liveness and cfg are borrowed. */
int writer_new(const struct pipeline_deps *deps, struct writer **out);
void writer_free(struct writer *w);

#endif
