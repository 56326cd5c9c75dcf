/* admin_issue_actions — merge, unmerge, assignment, comments and activity of
 * issues (issue 19; README "Merging issues", "Assignment and comments"):
 *   POST   /api/admin/projects/{p}/issues/merge              {"ids": [target, …]}
 *   DELETE /api/admin/projects/{p}/issues/{i}/hashes/{hash}  split a hash out
 *   POST   /api/admin/projects/{p}/issues/{i}/comments       {"text"}
 * and, for admin_issues.c, the assignee part of PATCH …/issues/{i} and the
 * issue detail's "hashes" and "activity". HTTP threads; one pooled
 * connection per call. */
#ifndef PERISCOPE_HTTP_ADMIN_ISSUE_ACTIONS_H
#define PERISCOPE_HTTP_ADMIN_ISSUE_ACTIONS_H

#include <stdint.h>
#include "base/json.h"

#include "http/admin.h"

struct db;

/* The user behind the request (accounts/authz.h: a session's person, or a
 * token's creator), for assigned:me and as the author of comments and
 * changes: 0 for the root key, which is no user. */
int64_t admin_request_user(const struct admin_req *req);

/* PATCH …/issues/{i} with "assignee_id" (a positive user id or null):
 * assigns. 1: the body has no assignee_id (nothing done); 0: assigned;
 * -1: answered (400, 404 or 500). */
int admin_issue_patch_assignee(const struct admin_req *req, struct admin_resp *resp, struct db *db,
                               int64_t pid, int64_t iid, const cJSON *body);

/* Adds "hashes" and "activity" (times as RFC 3339) to an issue object. */
int admin_issue_triage_detail(struct db *db, int64_t iid, cJSON *issue);

#endif
