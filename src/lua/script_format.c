/* lua/script_format — the project's format() hook. */
#include "lua/script_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "lua/event_table.h"

#define FORMAT_MAX_DEPTH 32 /* alert data is shallow */

/* Under vm_pcall with (hook, alert, destination): calls the hook and
 * returns nil, its string, or its table as JSON text plus true. Raises on
 * any other type. */
static int format_call(lua_State *L)
{
    lua_call(L, 2, 1);
    int t = lua_type(L, -1);
    if (t == LUA_TNIL || t == LUA_TSTRING) return 1;
    if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) return 1; /* false: suppress */
    if (t != LUA_TTABLE)
        return luaL_error(L, "format must return a table, a string, false or nil, not a %s",
                          luaL_typename(L, -1));
    lua_getglobal(L, "periscope");
    lua_getfield(L, -1, "json");
    lua_getfield(L, -1, "encode");
    lua_pushvalue(L, -4);
    lua_call(L, 1, 1);
    lua_pushboolean(L, 1);
    return 2;
}

static int push_table(struct script *s, const cJSON *json, struct vm_error *err)
{
    struct event_table_args args = {.event = json, .max_depth = FORMAT_MAX_DEPTH};
    return vm_cpcall(s->vm, event_table_push, &args, 1, err);
}

int script_format(struct script *s, const cJSON *alert, const cJSON *destination, char **out,
                  size_t *len, bool *is_json, struct vm_error *err)
{
    *out = NULL;
    *len = 0;
    *is_json = false;
    if (s->format_ref == LUA_NOREF) return 0;
    lua_State *L = s->vm->L;
    int top = lua_gettop(L);
    int rc = -1;
    if (!lua_checkstack(L, 8)) {
        vm_error_set(err, VM_ERROR_MEMORY, "Lua stack exhausted");
        return -1;
    }
    lua_pushcfunction(L, format_call);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->format_ref);
    if (push_table(s, alert, err) != 0 || push_table(s, destination, err) != 0) goto done;
    if (vm_pcall(s->vm, 3, 2, err) != 0) {
        if (err->kind == VM_ERROR_RUNTIME && strstr(err->message, "format must return"))
            err->kind = VM_ERROR_TYPE;
        goto done;
    }
    rc = 0;
    if (lua_isboolean(L, -2)) { /* false: no message for this destination */
        rc = 2;
        goto done;
    }
    size_t n;
    const char *text = lua_tolstring(L, -2, &n);
    if (text) {
        *out = malloc(n + 1);
        if (!*out) {
            vm_error_set(err, VM_ERROR_MEMORY, "out of memory copying the format result");
            rc = -1;
            goto done;
        }
        memcpy(*out, text, n + 1);
        *len = n;
        *is_json = lua_toboolean(L, -1);
        rc = 1;
    }
done:
    lua_settop(L, top);
    return rc;
}
