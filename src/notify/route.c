/* notify/route — see route.h. */
#include "notify/route.h"

#include <string.h>

int notify_route_decide(struct script *s, const struct alert_data *alert,
                        struct script_alert_result *out, struct vm_error *hook_err)
{
    memset(hook_err, 0, sizeof *hook_err);
    memset(out, 0, sizeof *out);
    return script_alert(s, alert, out, hook_err);
}

static int by_rules(bool rule_match, const char **reason)
{
    if (!rule_match) *reason = "no alert rule chose this destination";
    return rule_match;
}

int notify_route(struct script *s, const struct alert_data *alert, int64_t destination_id,
                 bool rule_match, const char **reason, struct vm_error *hook_err)
{
    memset(hook_err, 0, sizeof *hook_err);
    *reason = NULL;
    if (!script_has_hook(s, SCRIPT_HOOK_ALERT)) return by_rules(rule_match, reason);
    struct script_alert_result res;
    int rc = notify_route_decide(s, alert, &res, hook_err);
    if (rc != 0 || res.decision == SCRIPT_ALERT_RULES) return by_rules(rule_match, reason);
    if (res.decision == SCRIPT_ALERT_DROP) {
        *reason = "alert() returned false";
        return 0;
    }
    for (size_t i = 0; i < res.nids; i++)
        if (res.ids[i] == destination_id) return 1;
    *reason = "alert() did not name this destination";
    return 0;
}
