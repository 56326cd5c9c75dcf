/* auth_session — what login and the first-run setup share: starting a
 * browser session (random id and CSRF token, stored hashed, the cookie)
 * and the user object the auth answers carry.
 *
 * Internal to src/http/. Runs on the thread of the request. */
#ifndef PERISCOPE_HTTP_AUTH_SESSION_H
#define PERISCOPE_HTTP_AUTH_SESSION_H

#include <stdint.h>
#include "base/json.h"

#include "accounts/authz.h"
#include "http/admin.h"

/* {id, email, name, role, created_at, project_ids (null for admins)}; the
 * store row of user_id with p's memberships. NULL when the user is gone. */
cJSON *auth_user_json(struct db *db, int64_t user_id, const struct principal *p);

/* Starts a session for user_id: answers status with {"user", "csrf_token"}
 * and the Set-Cookie header, fills who (a session principal, for the
 * activity record). Answers 500 itself on failure and returns < 0. */
int auth_session_start(const struct admin_req *req, struct admin_resp *resp, struct db *db,
                       int64_t user_id, int status, struct principal *who);

/* The password cost the server is configured with. */
struct password_params;
void auth_password_params(const struct admin_ctx *ctx, struct password_params *out);

#endif
