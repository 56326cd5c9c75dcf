/* notify/route — whether one alert goes to one destination (issue 19):
 * the project's alert(alert, issue, event) hook when its script has one
 * (false: nowhere; true: where the alert rules chose; a list of ids:
 * those), else the alert rules' choice recorded on the delivery by the
 * writer (rule_match). A hook that fails counts as true, and its failure is
 * handed back for the caller to report. Runs on the thread that owns s. */
#ifndef PERISCOPE_NOTIFY_ROUTE_H
#define PERISCOPE_NOTIFY_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include "base/json.h"

#include "lua/script.h"
#include "lua/script_alert.h"

/* alert is format.lua's alert table (borrowed; its "issue" and "event" are
 * the hook's other arguments); s may be NULL. 1: send; 0: not, with
 * *reason (static). hook_err->kind is VM_ERROR_NONE unless the hook
 * failed. */
int notify_route(struct script *s, const cJSON *alert, int64_t destination_id, bool rule_match,
                 const char **reason, struct vm_error *hook_err);

/* Just the hook's decision on alert (the dry run shows it): 0 with *out
 * (RULES when s has no alert hook), -1 with hook_err filled and *out
 * RULES. */
int notify_route_decide(struct script *s, const cJSON *alert, struct script_alert_result *out,
                        struct vm_error *hook_err);

#endif
