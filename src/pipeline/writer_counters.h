/* writer_counters — the writer thread's side of the buffered counters
 * (store/counters.h): after each commit the batch's stored events are
 * added to the node's buffer, and the buffer is flushed every
 * COUNTER_FLUSH_MS (0: after every batch, before its acknowledgement), when
 * it holds WRITER_COUNTERS_MAX_ROWS rows, and when the writer stops.
 *
 * Owned and called by the writer thread only (or by whoever drives a
 * writer without its thread: the bench's seeding, tests), on the writer's
 * connection between transactions. */
#ifndef PERISCOPE_WRITER_COUNTERS_H
#define PERISCOPE_WRITER_COUNTERS_H

#include <stddef.h>

struct db;
struct grouped_event;
struct writer_batch;
struct writer_counters;

/* Flush early past this many buffered rows (memory stays bounded). */
enum { WRITER_COUNTERS_MAX_ROWS = 200000 };

/* db is borrowed for the object's life. NULL on ENOMEM. */
struct writer_counters *writer_counters_new(struct db *db, int flush_ms, int node_id);
/* Flushes what is buffered (a failure is logged: a restart reconciles it),
 * then frees. NULL is fine. */
void writer_counters_free(struct writer_counters *c);

/* After batch committed evs[0..n): counts its stored events; flushes when
 * the interval is 0 or the buffer is full. */
void writer_counters_add(struct writer_counters *c, const struct writer_batch *batch,
                         struct grouped_event *const *evs, size_t n);

/* How long the writer may wait for events before the next flush is due:
 * -1 (forever) when nothing is buffered. */
int writer_counters_wait_ms(const struct writer_counters *c);

/* Flushes when the interval has passed since the first unflushed count. */
void writer_counters_tick(struct writer_counters *c);

/* Flushes now. 0 or negative (the buffer is kept for the next try). */
int writer_counters_flush(struct writer_counters *c);

#endif
