/* dryrun_alerts — see dryrun_alerts.h. */
#include "scripts/dryrun_alerts.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model/event.h"
#include "model/event_tags.h"
#include "notify/route.h"
#include "model/alert_rules.h"

static const char *const KIND_NAMES[] = {"new", "regression", "escalating", "frequency"};

static cJSON *rule_json(const struct alert_rule *r, const struct grouped_event *ev,
                        const struct event_tags *tags)
{
    cJSON *matches = cJSON_CreateArray();
    for (unsigned i = 0; i < 4; i++)
        if (alert_rule_matches(r, 1u << i, ev->level, ev->environment, tags))
            json_push(matches, cJSON_CreateString(KIND_NAMES[i]));
    cJSON *dest;
    if (r->all_destinations) {
        dest = cJSON_CreateString("all");
    } else {
        dest = cJSON_CreateArray();
        for (size_t i = 0; i < r->ndestinations; i++)
            json_push(dest, json_new_int(r->destinations[i]));
    }
    return json_build("{s:s, s:o, s:o}", "name", r->name, "matches", matches, "destinations", dest);
}

static cJSON *hook_json(struct script *s, const struct alert_data *alert, struct vm_error *hook_err)
{
    if (!script_has_hook(s, SCRIPT_HOOK_ALERT)) return cJSON_CreateNull();
    struct script_alert_result res;
    notify_route_decide(s, alert, &res, hook_err);
    static const char *const names[] = {"rules", "drop", "list"};
    cJSON *ids = cJSON_CreateArray();
    for (size_t i = 0; i < res.nids; i++)
        json_push(ids, json_new_int(res.ids[i]));
    return json_build("{s:s, s:o}", "decision", names[res.decision], "destinations", ids);
}

cJSON *dryrun_alerts(struct script *s, const struct alert_rules *rules,
                     const struct grouped_event *ev, const cJSON *json,
                     const struct alert_data *alert, struct vm_error *hook_err)
{
    memset(hook_err, 0, sizeof *hook_err);
    struct alert_rules *own = rules ? NULL : alert_rules_default();
    const struct alert_rules *use = rules ? rules : own;
    struct event_tags *tags = NULL;
    if (ev->tags == NULL && json) event_tags_extract(json, &tags);
    const struct event_tags *t = ev->tags ? ev->tags : tags;
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; use && list && i < use->n; i++)
        json_push(list, rule_json(&use->rule[i], ev, t));
    cJSON *out = use ? json_build("{s:o, s:b, s:o}", "rules", list, "default_rules",
                                  use->is_default, "hook", hook_json(s, alert, hook_err))
                     : NULL;
    if (!use) cJSON_Delete(list);
    free(tags);
    alert_rules_free(own);
    return out;
}
