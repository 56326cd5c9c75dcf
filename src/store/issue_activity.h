/* store/issue_activity — what happened to an issue, oldest first: comments,
 * assignments, merges and unmerges (table issue_activity), and the issue's
 * assignee (issues.assignee_id).
 *
 * A row is {"id", "kind", "user_id" (null: the admin key), "text", "data"
 * (object), "created_at" (ms)}. Functions run on a connection the caller
 * holds and return 0 or a negative errno (-ENOENT: no such issue in the
 * project). */
#ifndef PERISCOPE_STORE_ISSUE_ACTIVITY_H
#define PERISCOPE_STORE_ISSUE_ACTIVITY_H

#include <stdbool.h>
#include <stdint.h>
#include "base/json.h"

struct db;

#define ISSUE_COMMENT_MAX 10000 /* bytes of a comment */
#define ISSUE_ACTIVITY_MAX 500  /* rows listed with an issue */

/* Records one row (inside the caller's transaction, if any). user_id 0:
 * the admin key. data (borrowed) may be NULL ({}). */
int issue_activity_add(struct db *db, int64_t project_id, int64_t issue_id, const char *kind,
                       int64_t user_id, const char *text, const cJSON *data, int64_t now_ms);

/* A comment on the project's issue: 0 with *out (the new row), -ENOENT. */
int issue_activity_comment(struct db *db, int64_t project_id, int64_t issue_id, int64_t user_id,
                           const char *text, int64_t now_ms, cJSON **out);

/* The issue's activity, oldest first, at most ISSUE_ACTIVITY_MAX rows (the
 * newest). Caller owns *out. */
int issue_activity_list(struct db *db, int64_t issue_id, cJSON **out);

/* *out: whether a hash was ever split out of the issue (or of one merged
 * into it), so that its user_count is an upper bound: an "unmerged" row
 * naming another issue as the one split off. */
int issue_activity_users_upper_bound(struct db *db, int64_t issue_id, bool *out);

/* Assigns the project's issue to assignee_id (0: nobody) and records it;
 * -ENOENT when there is no such issue. */
int issue_assign(struct db *db, int64_t project_id, int64_t issue_id, int64_t assignee_id,
                 int64_t user_id, int64_t now_ms);

#endif
