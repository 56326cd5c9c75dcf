/* browser — what sessions need of the web: the session cookie's text and
 * the same-origin test of state-changing cookie requests (CSRF).
 *
 * Pure; any thread. */
#ifndef PERISCOPE_ACCOUNTS_BROWSER_H
#define PERISCOPE_ACCOUNTS_BROWSER_H

#include <stdbool.h>
#include <stddef.h>

#define SESSION_COOKIE "periscope_session"
#define SESSION_COOKIE_MAX 256

/* True when PUBLIC_URL is https (the cookie is then Secure). */
bool browser_is_https(const char *public_url);

/* Set-Cookie value: "periscope_session=ID; Path=/; Max-Age=N; HttpOnly;
 * SameSite=Lax" (+ "; Secure"). id NULL clears the cookie (Max-Age=0). */
void browser_session_cookie(char out[SESSION_COOKIE_MAX], const char *id, long max_age_s,
                            bool secure);

/* The origin of PUBLIC_URL ("https://host:port", lower-cased scheme and
 * host, default port left out) into out; false when it is not a URL. */
bool browser_origin_of(const char *url, char *out, size_t outlen);

/* A state-changing request made with the session cookie comes from our own
 * pages: its Origin header, when it has one, is PUBLIC_URL's origin; else
 * its Referer is a URL of that origin. Neither header: false. */
bool browser_same_origin(const char *public_url, const char *origin, const char *referer);

#endif
