/* lua/script_alert — runs a project script's alert(alert, issue, event)
 * hook (issue 19, README "Alert rules") through vm_pcall (count hook,
 * memory cap, deadline) in the script's own vm, for the notifier and the
 * dry run. The hook decides where an alert goes: false drops it, true
 * sends it where the project's alert rules say, a list of destination ids
 * sends it to those. Owned by the thread that owns the script. */
#ifndef PERISCOPE_LUA_SCRIPT_ALERT_H
#define PERISCOPE_LUA_SCRIPT_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "model/alert.h"
#include "lua/script.h"

#define SCRIPT_ALERT_MAX_DESTINATIONS 50

enum script_alert_decision {
    SCRIPT_ALERT_RULES, /* no hook, true, or the hook failed: as the rules say */
    SCRIPT_ALERT_DROP,  /* false */
    SCRIPT_ALERT_LIST,  /* a list of destination ids */
};

struct script_alert_result {
    enum script_alert_decision decision;
    int64_t ids[SCRIPT_ALERT_MAX_DESTINATIONS];
    size_t nids;
};

/* Calls alert(alert, alert.issue, alert.event) with the alert's table
 * (lua/alert_table.h; borrowed). s may be NULL. Returns 0 with *out (RULES
 * when there is no alert hook), or -1 with err filled (error, timeout,
 * memory, or a result that is not a boolean or a list of at most
 * SCRIPT_ALERT_MAX_DESTINATIONS integer ids) and *out RULES. */
int script_alert(struct script *s, const struct alert_data *alert, struct script_alert_result *out,
                 struct vm_error *err);

#endif
