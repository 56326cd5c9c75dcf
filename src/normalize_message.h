/* normalize_message — message and logentry in one shape (part of normalize):
 * the source is `logentry`, else the legacy `sentry.interfaces.Message`, else
 * `message`; each may be a string or {formatted|message, params}. Result:
 * `logentry: {formatted, message?, params?}` and `message` = formatted.
 * A template with params and no formatted text is formatted here
 * (Python %-style: %s %d %r …, %(name)s, %%). Worker thread only. */
#ifndef PERISCOPE_NORMALIZE_MESSAGE_H
#define PERISCOPE_NORMALIZE_MESSAGE_H

#include <cjson/cJSON.h>

/* 0 or -ENOMEM. Events without any message are left alone. */
int normalize_message(cJSON *root);

#endif
