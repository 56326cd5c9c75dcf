/* lua/script_alert — the project's alert() hook (see script_alert.h). */
#include "lua/script_alert.h"

#include <string.h>
#include <lauxlib.h>

#include "lua/alert_table.h"
#include "lua/script_internal.h"

#define ALERT_TYPE_ERROR "alert must return"

/* Under vm_pcall with (hook, alert, issue, event): calls the hook and
 * leaves true, false or a validated list of ids. Raises on anything else. */
static int alert_call(lua_State *L)
{
    lua_call(L, 3, 1);
    int t = lua_type(L, -1);
    if (t == LUA_TBOOLEAN) return 1;
    if (t != LUA_TTABLE)
        return luaL_error(L, ALERT_TYPE_ERROR " true, false or a list of destination ids, not a %s",
                          luaL_typename(L, -1));
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n > SCRIPT_ALERT_MAX_DESTINATIONS)
        return luaL_error(L, ALERT_TYPE_ERROR " at most %d destination ids",
                          SCRIPT_ALERT_MAX_DESTINATIONS);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
            return luaL_error(L, ALERT_TYPE_ERROR " a list of destination ids (entry %d is not)",
                              (int)i);
        lua_pop(L, 1);
    }
    return 1;
}

/* The validated result on top: into the struct script_alert_result. */
static int alert_read(struct script *s, void *ud, struct vm_error *err)
{
    (void)err;
    struct script_alert_result *out = ud;
    lua_State *L = vm_lua(script_vm(s));
    if (lua_isboolean(L, -1)) {
        out->decision = lua_toboolean(L, -1) ? SCRIPT_ALERT_RULES : SCRIPT_ALERT_DROP;
        return 0;
    }
    out->decision = SCRIPT_ALERT_LIST;
    size_t n = (size_t)lua_rawlen(L, -1);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        out->ids[out->nids++] = (int64_t)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    return 0;
}

int script_alert(struct script *s, const struct alert_data *alert, struct script_alert_result *out,
                 struct vm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!script_has_hook(s, SCRIPT_HOOK_ALERT)) return 0;
    struct alert_table_args args = {.shape = ALERT_TABLE_ROUTE, .alerts = alert, .n = 1};
    struct script_hook_call call = {
        .ref = s->alert_ref,
        .trampoline = alert_call,
        .push_args = alert_table_push,
        .push_ud = &args,
        .nargs = alert_table_count(ALERT_TABLE_ROUTE),
        .nresults = 1,
        .type_error = ALERT_TYPE_ERROR,
        .read = alert_read,
        .read_ud = out,
    };
    int rc = script_hook_call(s, &call, err);
    if (rc != 0) memset(out, 0, sizeof *out);
    return rc;
}
