/* dsn — the Sentry DSN of a project key:
 *   <scheme>://<public_key>@<host[:port][/path]>/<project_id>
 * built from PUBLIC_URL (default http://HOST:PORT). Pure; any thread. */
#ifndef PERISCOPE_HTTP_DSN_H
#define PERISCOPE_HTTP_DSN_H

#include <stdint.h>

struct config;

/* Caller frees. NULL on allocation failure. */
char *dsn_build(const struct config *cfg, const char *public_key, int64_t project_id);

#endif
