/* admin_audit — writes the activity record (store/activity.h) of a
 * successful change made through the API: the actor from the request's
 * principal, the project, the target and the changes as the route's
 * policy row says (admin_policy.h).
 *
 * Internal to src/http/. Runs where the handler ran (an MHD or runner
 * thread); borrows a pooled store connection. A failure to record is
 * logged, never turned into a failed answer (the change is made). */
#ifndef PERISCOPE_HTTP_ADMIN_AUDIT_H
#define PERISCOPE_HTTP_ADMIN_AUDIT_H

#include <stdint.h>
#include "base/json.h"

#include "http/admin.h"
#include "http/admin_policy.h"

/* After a handler answered: records it when the answer is 2xx and the
 * policy names an action. */
void admin_audit(const struct admin_req *req, const struct admin_policy *policy,
                 const struct admin_resp *resp);

/* One row for what a handler records itself (logins, the first-run setup);
 * changes borrowed. */
void admin_audit_record(const struct admin_ctx *ctx, const struct principal *who,
                        int64_t project_id, const char *action, const char *target_type,
                        const char *target_id, const cJSON *changes);

#endif
