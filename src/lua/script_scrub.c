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

/* Normalization may wrap what an SDK sent in up to two more levels
 * (exception → {"values": [...]}); the hook sees all of it. */
#define SCRUB_EXTRA_DEPTH 4
#define EVENT_MAX_DEPTH_DEFAULT 64

int script_scrub(struct script *s, const cJSON *event, cJSON **out, struct vm_error *err)
{
    *out = NULL;
    if (s->scrub_ref == LUA_NOREF) return 0;
    lua_State *L = s->vm->L;
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 8)) {
        vm_error_set(err, VM_ERROR_MEMORY, "Lua stack exhausted");
        return -1;
    }
    int depth =
        s->vm->limits.event_max_depth > 0 ? s->vm->limits.event_max_depth : EVENT_MAX_DEPTH_DEFAULT;
    depth += SCRUB_EXTRA_DEPTH;
    struct event_table_args args = {.event = event, .max_depth = depth, .mark_arrays = true};
    int rc = -1;
    if (vm_cpcall(s->vm, event_table_push, &args, 1, err) != 0) goto done;
    int table = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->scrub_ref);
    lua_pushvalue(L, table);
    if (vm_pcall(s->vm, 1, 1, err) != 0) goto done;
    int t = lua_type(L, -1);
    if (t != LUA_TNIL && t != LUA_TTABLE) {
        char text[128];
        snprintf(text, sizeof text, "scrub must return the event (a table) or nothing, not a %s",
                 luaL_typename(L, -1));
        vm_error_set(err, VM_ERROR_TYPE, text);
        goto done;
    }
    char why[256];
    struct event_json_limits lim = {.max_depth = depth, .max_bytes = s->vm->limits.memory_bytes};
    int conv = event_json_from_lua(L, t == LUA_TNIL ? table : -1, &lim, out, why, sizeof why);
    if (conv != 0) {
        char text[320];
        snprintf(text, sizeof text, "scrub result: %s", conv == -ENOMEM ? "out of memory" : why);
        vm_error_set(err, conv == -ENOMEM ? VM_ERROR_MEMORY : VM_ERROR_TYPE, text);
        goto done;
    }
    rc = 1;
done:
    lua_settop(L, top);
    return rc;
}

int script_scrub_event(struct script *s, const struct scrub_rules *rules, struct ingest_event *ev,
                       struct script_scrub_result *res)
{
    memset(res, 0, sizeof *res);
    int n = scrub_event(rules, ev->json);
    if (n < 0) return n;
    res->scrubbed = n;
    bool changed = n > 0;
    if (s && s->scrub_ref != LUA_NOREF) {
        cJSON *out = NULL;
        res->hook_ran = true;
        if (script_scrub(s, ev->json, &out, &res->error) == 1) {
            cJSON_Delete(ev->json);
            ev->json = out;
            changed = true;
        } else {
            res->hook_failed = true;
        }
    }
    if (!changed) return 0;
    int rc = normalize_event(ev);
    return rc == 0 ? 1 : rc;
}
