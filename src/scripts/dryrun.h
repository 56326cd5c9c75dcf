/* dryrun — what the pipeline would make of one event, without storing
 * anything: the admin API's POST …/script/test and `periscope rules check`.
 *
 * It runs the pipeline's own steps in the pipeline's order — normalize_event
 * (normalize.h), the personal data scrubbing (the project's rules, then the
 * script's scrub hook: lua/script_scrub.h, the call runtime_scrub
 * makes), then the script's filter, grouping and hash (script_run,
 * the call runtime_process makes), then the C fallback grouping when
 * even the default Lua grouping fails, as the worker does — so the hash it
 * reports is the one a real ingest stores. Then, unless the event was
 * filtered, each destination type's notification, made by the notifier's
 * own path (lua/script_format.h, in the script's vm): the project's
 * format() hook when it gives one, else — also when the hook fails — the
 * default formatter.
 *
 * Any thread; the script is owned by the caller for the call (a fresh one
 * per dry run, so nothing is shared with the workers). */
#ifndef PERISCOPE_DRYRUN_H
#define PERISCOPE_DRYRUN_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "base/json.h"

#include "lua/script.h"

struct scrub_rules;
struct alert_rules;

struct dryrun_input {
    int64_t project_id;
    const char *project_name;        /* for the notifications; borrowed */
    const cJSON *event;              /* the event as an SDK sends it; borrowed, not modified */
    const char *format_type;         /* one destination type, or NULL: every type */
    const char *public_url;          /* for links in the notifications */
    const struct scrub_rules *scrub; /* the project's scrubbing rules; NULL: the defaults */
    const struct alert_rules *alert_rules; /* the project's alert rules; NULL: the default */
};

/* *out (caller owns): {"filtered", "components", "hash", "title",
 * "culprit", "issue_id": null, "scrubbed" (values the built-in rules
 * replaced or removed), "event" (the event as it would be stored:
 * normalized and scrubbed), "alerts" (dryrun_alerts.h: the alert rules an
 * alert on it would match and the alert() hook's decision),
 * "notifications": {type: body} (false: format() returned false), "errors":
 * [{"hook", "kind", "message", "line"}]}. A body is the JSON a webhook
 * receives, {"subject", "text", "html"} for email. Returns 0 (script
 * problems are in "errors"), -EINVAL for an event that is not a JSON
 * object or an unknown format_type, or -ENOMEM. */
int dryrun_run(struct script *s, const struct dryrun_input *in, cJSON **out);

/* The stored event, normalized (event_stored.h), for dry runs and validation samples:
 * the project's newest event (event_id NULL) or the given one. *out is
 * caller-owned. -ENOENT when there is none. */
struct db;
int dryrun_load_event(struct db *db, int64_t project_id, const uint8_t *event_id, cJSON **out);

#endif
