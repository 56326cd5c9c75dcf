/* notify/route — see route.h. */
#include "notify/route.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <lauxlib.h>

/* A copy of v for the hook (NULL for NULL or JSON null). */
static cJSON *to_cjson(const cJSON *v)
{
    return v && !cJSON_IsNull(v) ? json_dup(v) : NULL;
}

int notify_route_decide(struct script *s, const cJSON *alert, struct script_alert_result *out,
                        struct vm_error *hook_err)
{
    memset(hook_err, 0, sizeof *hook_err);
    memset(out, 0, sizeof *out);
    if (!s || s->alert_ref == LUA_NOREF) return 0;
    cJSON *a = to_cjson(alert), *issue = to_cjson(json_get(alert, "issue")),
          *event = to_cjson(json_get(alert, "event"));
    int rc = -1;
    if (!a)
        vm_error_set(hook_err, VM_ERROR_MEMORY, "out of memory building the alert() arguments");
    else
        rc = script_alert(s, a, issue, event, out, hook_err);
    cJSON_Delete(a);
    cJSON_Delete(issue);
    cJSON_Delete(event);
    return rc;
}

static int by_rules(bool rule_match, const char **reason)
{
    if (!rule_match) *reason = "no alert rule chose this destination";
    return rule_match;
}

int notify_route(struct script *s, const cJSON *alert, int64_t destination_id, bool rule_match,
                 const char **reason, struct vm_error *hook_err)
{
    memset(hook_err, 0, sizeof *hook_err);
    *reason = NULL;
    if (!s || s->alert_ref == LUA_NOREF) return by_rules(rule_match, reason);
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
