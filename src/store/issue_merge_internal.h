/* issue_merge_internal — the counting half of a merge and an unmerge
 * (issue_merge_counts.c), used by issue_merge.c only: what moves with the
 * issues besides hashes and events, on the caller's connection inside its
 * transaction. 0 or a negative errno. */
#ifndef PERISCOPE_STORE_ISSUE_MERGE_INTERNAL_H
#define PERISCOPE_STORE_ISSUE_MERGE_INTERNAL_H

#include <stdint.h>

#include "store/issue_merge.h"

struct db;

/* One statement with its first one or two parameters bound to a and b
 * (in issue_merge.c; the statements of both files run through them). */
int issue_merge_run_id(struct db *db, const char *sql, int64_t a);
int issue_merge_run_ids(struct db *db, const char *sql, int64_t a, int64_t b);

/* Folds source's users (exact set and sketch), windows (and their users)
 * and alert rule firings into target, with target's user_count made
 * again from the union and a count or users snooze's base moved by what
 * the fold added (so it still waits for new events). Before source is
 * deleted. */
int issue_merge_fold_counts(struct db *db, int64_t target, int64_t source);

/* After the events of a split-out hash moved from old_id to new_id: their
 * counts, tags and hours move too — the events already in the counters
 * (store/counters.h) are recounted from their payloads (tags_fn) onto the
 * new issue and taken off the old one; those still buffered follow their
 * hash at the next flush. The new issue's users are made from its events;
 * the old issue keeps its users (they cannot be told apart by event
 * without reading all of its events). */
int issue_unmerge_recount(struct db *db, int64_t old_id, int64_t new_id,
                          issue_event_tags_fn tags_fn, void *ctx);

#endif
