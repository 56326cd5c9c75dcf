/* store/issue_merge — merging issues into one and splitting a hash back out
 * (issue 19), each in one transaction under the project's exclusive
 * issue-hashes lock (store/issue_hashes.h), so that a writer on any node
 * never stores an event on an issue that a merge is deleting, and a batch
 * that follows the merge finds its hashes on the target.
 *
 * Merge folds issues ids[1..n) into ids[0]: their hashes, events, counts
 * (times_seen added, first/last seen and first/last release widened), tag
 * counts, hourly counts, users (set and sketch), windows, rule firings,
 * alerts and activity (comments included) move to the target; they are
 * deleted. The target keeps its own status, snooze, resolution and
 * assignee. Unmerge moves one hash and the events grouped by it into a new
 * issue (its title and level from the newest of those events) with their
 * counts, tags, hours and users. Counts still in a writer's buffer follow
 * their hash when flushed (store/counters.h).
 *
 * Both run on a pooled connection the caller holds (they BEGIN and COMMIT)
 * and record an activity row (kind "merged" / "unmerged", user_id 0: the
 * admin key). 0 or a negative errno. */
#ifndef PERISCOPE_STORE_ISSUE_MERGE_H
#define PERISCOPE_STORE_ISSUE_MERGE_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct event_tags;

/* The tags the pipeline counted for a stored event (payload as stored,
 * len bytes): *tags malloc'd (NULL: none). Given by a caller that can
 * read payloads (scripts/event_stored.h); negative when it cannot. */
typedef int (*issue_event_tags_fn)(void *ctx, const void *payload, size_t len,
                                   const uint8_t event_id[16], int64_t received_at_ms,
                                   struct event_tags **tags);

#define ISSUE_MERGE_MAX 100 /* issues in one merge */

/* -EINVAL: fewer than 2 ids, more than ISSUE_MERGE_MAX, or one repeated;
 * -ENOENT with *missing (the first id that is no issue of the project). */
int issue_merge(struct db *db, int64_t project_id, const int64_t *ids, size_t n, int64_t user_id,
                int64_t now_ms, int64_t *missing);

/* -ENOENT: the hash is not one of the issue's (or no such issue);
 * -EMLINK: it is the issue's only hash. 0 with *new_issue_id. tags_fn
 * reads the moved events' tags for the recount (issue_merge_internal.h). */
int issue_unmerge(struct db *db, int64_t project_id, int64_t issue_id, const char *hash,
                  int64_t user_id, int64_t now_ms, issue_event_tags_fn tags_fn, void *ctx,
                  int64_t *new_issue_id);

#endif
