/* dsn — Sentry DSNs from PUBLIC_URL (contract in dsn.h). */
#include "http/dsn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"

char *dsn_build(const struct config *cfg, const char *public_key, int64_t project_id)
{
    /* config_load guarantees "<scheme>://<rest>" without a trailing slash. */
    const char *url = cfg->public_url;
    const char *sep = strstr(url, "://");
    if (!sep) return NULL;
    int scheme_len = (int)(sep - url);
    char *out = NULL;
    if (asprintf(&out, "%.*s://%s@%s/%" PRId64, scheme_len, url, public_key, sep + 3, project_id) <
        0)
        return NULL;
    return out;
}
