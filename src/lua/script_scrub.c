/* lua/script_scrub — built-in scrubbing, then the scrub(event) hook. */
#include "lua/script_scrub.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>

#include "model/event.h"
#include "model/normalize.h"
#include "model/scrub.h"
#include "lua/event_json.h"
#include "lua/event_table.h"
#include "lua/script_internal.h"

/* Normalization may wrap what an SDK sent in up to two more levels
 * (exception → {"values": [...]}); the hook sees all of it. */
#define SCRUB_EXTRA_DEPTH 4

#define SCRUB_TYPE_ERROR "scrub must return"

/* Under vm_pcall with (hook, event): calls the hook and returns the event
 * as it left it (nil) or the table it returned. Raises on anything else. */
static int scrub_call(lua_State *L)
{
    lua_pushvalue(L, 2);
    lua_insert(L, 1); /* event, hook, event */
    lua_call(L, 1, 1);
    int t = lua_type(L, -1);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 1;
    }
    if (t != LUA_TTABLE)
        return luaL_error(L, SCRUB_TYPE_ERROR " the event (a table) or nothing, not a %s",
                          luaL_typename(L, -1));
    return 1;
}

struct scrub_read {
    int depth;
    cJSON **out;
};

/* The event table on top: back to cJSON. */
static int scrub_read(struct script *s, void *ud, struct vm_error *err)
{
    struct scrub_read *r = ud;
    char why[256];
    struct event_json_limits lim = {.max_depth = r->depth,
                                    .max_bytes = vm_limits_of(s->vm)->memory_bytes};
    int conv = event_json_from_lua(vm_lua(s->vm), -1, &lim, r->out, why, sizeof why);
    if (conv == 0) return 1;
    char text[320];
    snprintf(text, sizeof text, "scrub result: %s", conv == -ENOMEM ? "out of memory" : why);
    vm_error_set(err, conv == -ENOMEM ? VM_ERROR_MEMORY : VM_ERROR_TYPE, text);
    return -1;
}

int script_scrub(struct script *s, const cJSON *event, cJSON **out, struct vm_error *err)
{
    *out = NULL;
    if (!script_has_hook(s, SCRIPT_HOOK_SCRUB)) return 0;
    int depth = script_event_max_depth(s) + SCRUB_EXTRA_DEPTH;
    struct event_table_args args = {.event = event, .max_depth = depth, .mark_arrays = true};
    struct scrub_read r = {.depth = depth, .out = out};
    struct script_hook_call call = {
        .ref = s->scrub_ref,
        .trampoline = scrub_call,
        .push_args = event_table_push,
        .push_ud = &args,
        .nargs = 1,
        .nresults = 1,
        .type_error = SCRUB_TYPE_ERROR,
        .read = scrub_read,
        .read_ud = &r,
    };
    return script_hook_call(s, &call, err);
}

int script_scrub_event(struct script *s, const struct scrub_rules *rules, cJSON **json,
                       struct grouped_event *ev, struct script_scrub_result *res)
{
    memset(res, 0, sizeof *res);
    int n = scrub_event(rules, *json);
    if (n < 0) return n;
    res->scrubbed = n;
    bool changed = n > 0;
    if (script_has_hook(s, SCRIPT_HOOK_SCRUB)) {
        cJSON *out = NULL;
        res->hook_ran = true;
        if (script_scrub(s, *json, &out, &res->error) == 1) {
            cJSON_Delete(*json);
            *json = out;
            changed = true;
        } else {
            res->hook_failed = true;
        }
    }
    if (!changed) return 0;
    int rc = normalize_event(*json, ev);
    return rc == 0 ? 1 : rc;
}
