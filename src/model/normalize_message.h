/* normalize_message — message and logentry in one shape, as Relay keeps
 * them (part of normalize). The source is `logentry`, else the legacy
 * `sentry.interfaces.Message`, else `message` (the first that is not null;
 * the others are dropped). An object source gives `formatted` and `message`
 * when they are strings and `params` when a list or object; any other
 * source is the message text itself (a string as it is, false as nothing,
 * another value as its JSON).
 *
 * Without `formatted`, a `message` template with params is formatted
 * (normalize_format: Python %-style or simple-curly style); when that is not
 * possible the template is the text. Result: `logentry: {formatted,
 * message?, params?}` — `message` only when it differs from `formatted` —
 * and the top-level `message` = formatted (normalize_trim, which runs
 * next, caps them at 8,192 characters as Relay does). No text at all: no
 * logentry and no `message`. Worker thread only (it edits the event in
 * place). */
#ifndef PERISCOPE_NORMALIZE_MESSAGE_H
#define PERISCOPE_NORMALIZE_MESSAGE_H

#include <cjson/cJSON.h>

/* 0 or -ENOMEM. Events without any message are left alone. */
int normalize_message(cJSON *root);

#endif
