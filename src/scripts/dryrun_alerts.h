/* dryrun_alerts — the alert part of a dry run (dryrun.h, issue 19): which
 * of the project's alert rules an alert on this event would match, per
 * kind, and what the script's alert() hook decides for the alert the dry
 * run formats. Any thread; s is owned by the caller for the call. */
#ifndef PERISCOPE_DRYRUN_ALERTS_H
#define PERISCOPE_DRYRUN_ALERTS_H

#include "base/json.h"

#include "model/alert.h"
#include "lua/script.h"

struct alert_rules;
struct grouped_event;

/* For ev (its tags, else those of its tree json, which may be NULL):
 * {"rules": [{"name", "matches": [kinds], "destinations": "all" | [ids]}],
 *  "default_rules": bool, "hook": null (no alert hook) | {"decision":
 *  "rules" | "drop" | "list", "destinations": [ids]}}. rules NULL: the
 * default set. A failing hook is reported in hook_err (kind NONE when it
 * did not fail) and shows as "rules". NULL on OOM. */
cJSON *dryrun_alerts(struct script *s, const struct alert_rules *rules,
                     const struct grouped_event *ev, const cJSON *json,
                     const struct alert_data *alert, struct vm_error *hook_err);

#endif
