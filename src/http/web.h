/* web — the browser interface's files (web/, installed under
 * share/periscope/web), served by the binary.
 *
 * web_assets_open reads every file under the directory once, at start,
 * into memory with its type, an ETag and, when smaller, a gzip copy; the
 * table is read-only afterwards, so any HTTP thread may answer from it.
 * URLs: /static/<path> is web/<path>; any other path that is not an API
 * or probe route (web_matches) is a page of the app and gets the app shell
 * web/index.html, so deep links (a notification's
 * /projects/{id}/issues/{issue}) load the app, which routes in the browser.
 * Every answer carries the strict Content-Security-Policy (no inline
 * script, frame-ancestors 'none'), X-Content-Type-Options: nosniff and
 * Referrer-Policy: same-origin. Files never change while the server runs. */
#ifndef PERISCOPE_HTTP_WEB_H
#define PERISCOPE_HTTP_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <microhttpd.h>

struct web_assets;

#define WEB_FILE_MAX_BYTES (4u << 20)   /* one file */
#define WEB_TOTAL_MAX_BYTES (32u << 20) /* all of them */
#define WEB_FILES_MAX 2000
#define WEB_CSP                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "                  \
    "form-action 'self'; frame-ancestors 'none'"

/* Loads dir (which must hold index.html). *out: caller frees with
 * web_assets_free. 0, or negative errno with a line in err. */
int web_assets_open(const char *dir, struct web_assets **out, char *err, size_t errlen);
void web_assets_free(struct web_assets *w);
size_t web_assets_count(const struct web_assets *w);

/* true for a URL the web interface answers: not /api/…, /healthz, /readyz
 * or /metrics. */
bool web_matches(const char *url);

/* Answers GET/HEAD of url (405 otherwise; 404 for a /static/ file that is
 * not there; 304 when If-None-Match names the current ETag). w NULL (no
 * web directory) answers 404 for everything. */
enum MHD_Result web_answer(const struct web_assets *w, struct MHD_Connection *conn, const char *url,
                           const char *method);

#endif
