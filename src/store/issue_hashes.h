/* store/issue_hashes — which issue owns a grouping hash (issue_hashes), and
 * the lock that keeps moving hashes and events between issues (merge,
 * unmerge: store/issue_merge.h) from racing the writer.
 *
 * The lock: on Postgres a transaction-scoped advisory lock per project —
 * shared for every writer batch (taken before its issues are looked up),
 * exclusive for a merge or an unmerge. So a merge waits for the batches in
 * flight and the batches after it look their hashes up in what the merge
 * committed: no event is stored on an issue a merge is deleting. SQLite has
 * one writer at a time and needs none (the calls do nothing there).
 *
 * Every function runs on the caller's connection inside the caller's
 * transaction and returns 0 or a negative errno. */
#ifndef PERISCOPE_STORE_ISSUE_HASHES_H
#define PERISCOPE_STORE_ISSUE_HASHES_H

#include <stddef.h>
#include <stdint.h>
#include "base/json.h"

#include "store/events_write.h"

struct db;

/* The writer's shared lock on each of ids[0..n) (sorted ascending by the
 * caller, so that two writers take them in one order). */
int issue_hashes_lock_shared(struct db *db, const int64_t *project_ids, size_t n);
/* A merge's or unmerge's exclusive lock on the project. */
int issue_hashes_lock_exclusive(struct db *db, int64_t project_id);

/* A grouping transition: hash is unknown, and prev_hash is what the
 * project's previous grouping gives the same event. When prev_hash belongs
 * to an issue, hash is attached to it too: 0 with *id and *status of the
 * issue that owns hash afterwards (another node may have attached it
 * first). -ENOENT when prev_hash belongs to no issue. */
int issue_hashes_attach(struct db *db, int64_t project_id, const char *hash, const char *prev_hash,
                        int64_t now_ms, int64_t *id, enum issue_status *status);

/* The hashes of an issue, oldest first: array of strings (caller owns). */
int issue_hashes_list(struct db *db, int64_t issue_id, cJSON **out);

#endif
