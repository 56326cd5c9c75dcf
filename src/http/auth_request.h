/* auth_request — who is calling: the credentials of an admin or auth
 * request resolved into a struct principal (accounts/authz.h), and the
 * CSRF test of a state-changing request made with the session cookie.
 *
 * Credentials, first that applies: `Authorization: Bearer` with the root
 * key (API_SECRET_KEY_ADMIN, compared in constant time) or an API token
 * (psc_…, found by its SHA-256); else the session cookie. A bearer that is
 * neither, or an expired token, is bad credentials (401); a cookie that
 * names no live session is no credentials.
 *
 * Internal to src/http/. The admin pool's threads (auth_offered: MHD
 * threads); borrows a pooled store connection. */
#ifndef PERISCOPE_HTTP_AUTH_REQUEST_H
#define PERISCOPE_HTTP_AUTH_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>

#include "accounts/authz.h"

struct admin_ctx;
struct db;

/* Fills p (PRINCIPAL_NONE without credentials). 0, -EACCES for bad
 * credentials, or another negative errno (database) — p is then NONE. */
int auth_resolve(const struct admin_ctx *ctx, struct MHD_Connection *conn, struct principal *p);

/* True when the request offers credentials that may be good: the root
 * key, a bearer shaped like an API token, or a session cookie shaped like
 * one. No database: the MHD thread decides with it whether to keep the
 * body; auth_resolve (on a pool thread) decides who it is. */
bool auth_offered(const struct admin_ctx *ctx, struct MHD_Connection *conn);

/* A person's rights from the store: role, memberships, email as label.
 * 0, -ENOENT (no such user) or another negative errno. */
int auth_load_person(struct db *db, int64_t user_id, struct principal *p);

/* True unless p is a session and method changes state without the
 * session's X-CSRF-Token or from another origin than PUBLIC_URL's. */
bool auth_csrf_ok(const struct admin_ctx *ctx, struct MHD_Connection *conn,
                  const struct principal *p, const char *method);

/* The client's address as text (for the login throttle and logs). */
void auth_client_address(struct MHD_Connection *conn, char *out, size_t outlen);

#endif
