/* retention — the background task that keeps the event table bounded:
 * deletes events received more than RETENTION_DAYS ago and, per issue, the
 * oldest events past MAX_EVENTS_PER_ISSUE; then lets SQLite hand the freed
 * pages back (incremental vacuum when the file has it, WAL checkpoint).
 * Issue counts never change.
 *
 * One thread of its own. Each batch (RETENTION_BATCH rows) is one short
 * transaction on a connection borrowed from the store's pool and returned
 * before the pause between batches, so ingest (the writer, SQLite's one
 * write lock) waits at most one small delete. retention_start/stop are
 * called by main() only; retention_run_once by tests and the thread. */
#ifndef PERISCOPE_RETENTION_H
#define PERISCOPE_RETENTION_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

struct config;
struct store;
struct retention;

#define RETENTION_BATCH 500
#define RETENTION_PAUSE_MS 20            /* between two delete transactions */
#define RETENTION_BATCHES_PER_PASS 10000 /* bounds one pass (5M rows) */

struct retention_options {
    int retention_days;       /* <= 0: no age limit */
    int max_events_per_issue; /* <= 0: no cap */
    int interval_ms;          /* between passes */
    int batch;                /* rows per transaction */
    int pause_ms;             /* sleep between transactions */
    int64_t session_idle_ms;  /* ended browser sessions are deleted too (> 0) */
    int64_t session_max_ms;
};

struct retention_stats {
    int64_t deleted_old, deleted_over_cap, deleted_sessions;
    int errors;
};

/* The options cfg gives (RETENTION_DAYS, MAX_EVENTS_PER_ISSUE,
 * RETENTION_INTERVAL_MS, the session lifetimes), with this module's batch
 * sizes. */
void retention_options_load(const struct config *cfg, struct retention_options *o);

/* One pass as of now_ms, on the calling thread. Stops early (returns what
 * was done) when *stop becomes non-zero (may be NULL). 0 or the last
 * error (the pass goes on after an error in one step). */
int retention_run_once(struct store *st, const struct retention_options *o, int64_t now_ms,
                       const atomic_int *stop, struct retention_stats *out);

/* Starts the thread: a pass right away, then every interval_ms. */
int retention_start(struct store *st, const struct retention_options *o, struct retention **out);
/* Wakes and joins the thread (it finishes the transaction in flight). */
void retention_stop(struct retention *r);

#endif
