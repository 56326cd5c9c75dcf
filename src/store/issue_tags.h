/* issue_tags — per-issue counts of tag values (table issue_tags, migration
 * 0060; on SQLite clustered on its key, WITHOUT ROWID, since 0070): written
 * by the writer once per batch, read by the issue detail and the
 * environment/release filters of the issue list.
 *
 * Why aggregated and not a row per event: a batch of 1000 events on a few
 * issues becomes a few dozen upserts instead of several thousand inserts,
 * which keeps the write path within a few percent (see the report in the
 * commit that added it). Counts stay when retention deletes events.
 *
 * The batch (struct issue_tags_batch) belongs to the writer thread: add
 * each stored event's tags, then flush inside the same transaction before
 * the commit. Tag strings are borrowed until the flush or reset. */
#ifndef PERISCOPE_STORE_ISSUE_TAGS_H
#define PERISCOPE_STORE_ISSUE_TAGS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct db;
struct event_tags;
struct issue_tags_batch;

/* Room for max_pairs distinct (issue, key, value) per batch; pairs past it
 * are dropped for that batch (counted by periscope_issue_tags_dropped_total). */
struct issue_tags_batch *issue_tags_batch_new(size_t max_pairs);
void issue_tags_batch_free(struct issue_tags_batch *b);
/* Forgets what was added (after a rollback, or before a batch). */
void issue_tags_batch_reset(struct issue_tags_batch *b);

/* Counts one stored event's tags on issue_id; seen_ms is its time. tags may
 * be NULL (no tags). */
void issue_tags_batch_add(struct issue_tags_batch *b, int64_t issue_id,
                          const struct event_tags *tags, int64_t seen_ms);

/* Upserts the counted pairs on db (inside the caller's transaction) and
 * resets the batch. 0 or negative. */
int issue_tags_batch_flush(struct issue_tags_batch *b, struct db *db);

/* The issue's tags summary: [{"key", "total", "top_values": [{"value",
 * "count", "last_seen"}]}] with at most top_n values per key, most seen
 * first, keys in alphabetical order. Caller owns *out. */
int issue_tags_summary(struct db *db, int64_t issue_id, int top_n, json_t **out);

#endif
