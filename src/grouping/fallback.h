/* grouping/fallback — the C grouping used when the Lua runtime is absent or
 * fails, so that no event is ever lost for want of a group.
 *
 * Components, first that exists: the client fingerprint (no variable
 * expansion except {{ default }}), else every exception's type and value in
 * order, else the message (logentry template, else formatted text;
 * parameterized as Sentry does: grouping/parameterize.h), else
 * nothing (Sentry's fallback group: MD5 of no values). The hash is Sentry's
 * hash_from_values: MD5 hex over the UTF-8 bytes of the values fed in order,
 * no separators. Title: "Type: first line of value", else the message, else
 * "<unlabeled event>". Culprit: the top (innermost) in-app frame of the main
 * exception, "module in function", else the event's culprit/transaction.
 *
 * Reads a normalized event tree (normalize.h); writes hash, *title and
 * *culprit (owned by the caller; previous values freed). Any thread. */
#ifndef PERISCOPE_GROUPING_FALLBACK_H
#define PERISCOPE_GROUPING_FALLBACK_H

#include <cjson/cJSON.h>

/* 0 or -ENOMEM. */
int grouping_fallback(const cJSON *event, char hash[33], char **title, char **culprit);

#endif
