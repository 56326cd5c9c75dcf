/* lua/script_alert — the project's alert() hook (see script_alert.h). */
#include "lua/script_alert.h"

#include <string.h>
#include <lauxlib.h>

#include "lua/event_table.h"

#define ALERT_MAX_DEPTH 32 /* alert data is shallow */

/* Under vm_pcall with (hook, alert, issue, event): calls the hook and
 * leaves true, false or a validated list of ids. Raises on anything else. */
static int alert_call(lua_State *L)
{
    lua_call(L, 3, 1);
    int t = lua_type(L, -1);
    if (t == LUA_TBOOLEAN) return 1;
    if (t != LUA_TTABLE)
        return luaL_error(L, "alert must return true, false or a list of destination ids, not a %s",
                          luaL_typename(L, -1));
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n > SCRIPT_ALERT_MAX_DESTINATIONS)
        return luaL_error(L, "alert must return at most %d destination ids",
                          SCRIPT_ALERT_MAX_DESTINATIONS);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
            return luaL_error(L, "alert must return a list of destination ids (entry %d is not)",
                              (int)i);
        lua_pop(L, 1);
    }
    return 1;
}

static int push_table(struct script *s, const cJSON *json, struct vm_error *err)
{
    if (!json) {
        lua_pushnil(s->vm->L);
        return 0;
    }
    struct event_table_args args = {.event = json, .max_depth = ALERT_MAX_DEPTH};
    return vm_cpcall(s->vm, event_table_push, &args, 1, err);
}

int script_alert(struct script *s, const cJSON *alert, const cJSON *issue, const cJSON *event,
                 struct script_alert_result *out, struct vm_error *err)
{
    memset(out, 0, sizeof *out);
    if (s->alert_ref == LUA_NOREF) return 0;
    lua_State *L = s->vm->L;
    int top = lua_gettop(L);
    int rc = -1;
    if (!lua_checkstack(L, 8)) {
        vm_error_set(err, VM_ERROR_MEMORY, "Lua stack exhausted");
        return -1;
    }
    lua_pushcfunction(L, alert_call);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->alert_ref);
    if (push_table(s, alert, err) != 0 || push_table(s, issue, err) != 0 ||
        push_table(s, event, err) != 0)
        goto done;
    if (vm_pcall(s->vm, 4, 1, err) != 0) {
        if (err->kind == VM_ERROR_RUNTIME && strstr(err->message, "alert must return"))
            err->kind = VM_ERROR_TYPE;
        goto done;
    }
    rc = 0;
    if (lua_isboolean(L, -1)) {
        out->decision = lua_toboolean(L, -1) ? SCRIPT_ALERT_RULES : SCRIPT_ALERT_DROP;
        goto done;
    }
    out->decision = SCRIPT_ALERT_LIST;
    size_t n = (size_t)lua_rawlen(L, -1);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        out->ids[out->nids++] = (int64_t)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
done:
    lua_settop(L, top);
    return rc;
}
