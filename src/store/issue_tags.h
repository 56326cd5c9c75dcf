/* issue_tags — per-issue counts of tag values (table issue_tags, migration
 * 0060; on SQLite clustered on its key, WITHOUT ROWID, since 0070): written
 * by the writer's counter flush (store/counters.h: summed in memory per
 * node, added every COUNTER_FLUSH_MS), read here by the issue detail; the
 * environment/release filters of the issue list read it too.
 *
 * Why aggregated and not a row per event: many events on a few issues
 * become a few upserts instead of thousands of inserts. Counts stay when
 * retention deletes events. */
#ifndef PERISCOPE_STORE_ISSUE_TAGS_H
#define PERISCOPE_STORE_ISSUE_TAGS_H

#include <stddef.h>
#include <stdint.h>
#include "base/json.h"

struct db;

/* The issue's tags summary: [{"key", "total", "top_values": [{"value",
 * "count", "last_seen"}]}] with at most top_n values per key, most seen
 * first, keys in alphabetical order. Caller owns *out. */
int issue_tags_summary(struct db *db, int64_t issue_id, int top_n, cJSON **out);

#endif
