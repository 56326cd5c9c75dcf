/* spool — accepted events the database could not take, on disk in
 * DATA_DIR/spool/events.spool until it can (like Relay's spool).
 *
 * Append-only records, each [magic][length][CRC-32 of the body][body], the
 * body a grouped event (everything the writer stores: ids, times, hash,
 * title, culprit, level, environment, release, tags, compressed payload).
 * spool_append writes whole batches and fsyncs before it returns, so an
 * event is acknowledged only once it is on disk. Replay reads from the
 * oldest record on (spool_peek), the writer commits, spool_consume moves
 * on; once everything is consumed the file is truncated to zero. The read
 * position is kept in memory only: after a crash mid-replay the records
 * are replayed again from the start, which the database's unique event id
 * makes harmless. At open, a torn or corrupt tail (power loss during an
 * append, which was then never acknowledged) is cut off and logged.
 *
 * Bounded by max_bytes: an append that would pass it is refused (-ENOSPC)
 * and nothing of it is written. Used by the writer thread only. */
#ifndef PERISCOPE_SPOOL_H
#define PERISCOPE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;
struct grouped_event;

/* Opens (creating dir and file, 0700/0600) and scans the spool. 0 or
 * negative with a message in err. */
int spool_open(const char *dir, size_t max_bytes, struct spool **out, char *err, size_t errlen);
void spool_close(struct spool *sp);

/* Bytes and events waiting (not yet consumed). */
uint64_t spool_bytes(const struct spool *sp);
uint64_t spool_events(const struct spool *sp);

/* Appends evs[0..n) (grouped events; borrowed) and fsyncs. 0, -ENOSPC
 * (would pass max_bytes; nothing written) or another negative errno (the
 * file is cut back to where it was). */
int spool_append(struct spool *sp, struct grouped_event *const *evs, size_t n);

/* Reads up to max of the oldest waiting events into evs (new events, the
 * caller frees them with grouped_event_free; their ack is NULL). *n is how many.
 * 0 or negative (a record that cannot be decoded: -EBADMSG). */
int spool_peek(struct spool *sp, struct grouped_event **evs, size_t max, size_t *n);

/* The n events of the last spool_peek are stored: moves past them, and
 * truncates the file when nothing is left. 0 or negative. */
int spool_consume(struct spool *sp, size_t n);

#endif
