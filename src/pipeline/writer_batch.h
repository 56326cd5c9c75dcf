/* writer_batch — the body of one writer transaction: for each event, find
 * or create its issue (once per distinct (project, hash) in the batch),
 * insert the event unless it is a duplicate, raise "new" / "regression"
 * alerts with their outbox rows. Counts (issue, tags, hourly) are not in
 * the transaction: after the commit writer_batch_count adds them to the
 * node's counter buffer (store/counters.h), flushed every COUNTER_FLUSH_MS.
 *
 * Phases: issues (looked up many per statement, missing ones created),
 * events (multi-row inserts), accounting in event order (alerts), issues
 * created for duplicates only removed.
 *
 * Used only by the writer thread, between its BEGIN and COMMIT; holds a
 * per-batch issue table sized for batch_max events. */
#ifndef PERISCOPE_WRITER_BATCH_H
#define PERISCOPE_WRITER_BATCH_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct grouped_event;
struct alert_msg;
struct counter_buffer;

struct writer_batch;

struct writer_batch_result {
    size_t stored, duplicates;
    struct alert_msg **alerts; /* owned by the batch until taken */
    size_t nalerts;
};

/* What became of one event of the batch. */
enum writer_event_outcome {
    WRITER_EVENT_DUPLICATE,  /* its event_id was stored before: nothing added */
    WRITER_EVENT_NEW_ISSUE,  /* stored, the first event of an issue it created */
    WRITER_EVENT_REGRESSION, /* stored, and it reopened a resolved issue */
    WRITER_EVENT_EXISTING,   /* stored on an issue that was there (or made for an earlier one) */
};

struct writer_batch *writer_batch_new(size_t batch_max);
void writer_batch_free(struct writer_batch *b);

/* Runs the statements of one batch (n <= batch_max) inside the caller's
 * transaction. 0 with *res filled, or negative (the caller rolls back and
 * calls writer_batch_discard). */
int writer_batch_write(struct writer_batch *b, struct db *db, struct grouped_event **evs, size_t n,
                       int64_t now_ms, struct writer_batch_result *res);

/* After writer_batch_write: event i's outcome and its issue's id. */
enum writer_event_outcome writer_batch_event_outcome(const struct writer_batch *b, size_t i,
                                                     int64_t *issue_id);
/* "duplicate", "new", "regression", "existing"; static. */
const char *writer_event_outcome_name(enum writer_event_outcome o);

/* After a commit: adds each event stored by the batch to buf (its issue's
 * count and last seen, its tags, its hour). 0, or -ENOMEM when some could
 * not be added (those increments are lost; the caller logs it). */
int writer_batch_count(const struct writer_batch *b, struct grouped_event *const *evs, size_t n,
                       struct counter_buffer *buf);

/* After a commit: the alert messages move to the caller (free() each). */
void writer_batch_take_alerts(struct writer_batch *b);
/* After a rollback: frees the alert messages of the failed attempt. */
void writer_batch_discard(struct writer_batch *b);

#endif
