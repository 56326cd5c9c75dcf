/* lua/event_table — cJSON → Lua table, bounded in depth and stack. */
#include "lua/event_table.h"

#include <math.h>
#include <string.h>
#include <lauxlib.h>

#include "lua/event_walk.h"

#define EXACT_INTEGER_MAX 9007199254740992.0 /* 2^53 */

const char *const event_table_grouping_fields[] = {
    "exception", "threads",  "stacktrace", "fingerprint", "message",
    "logentry",  "platform", "level",      "logger",      "transaction",
    "tags",      "sdk",      "request",    "culprit",     NULL,
};

const char *const event_table_grouping_skip[] = {"vars", "pre_context", "post_context", NULL};

static const char *const REQUEST_KEEP[] = {"url", NULL};
const struct event_table_narrow event_table_grouping_narrow[] = {{"request", REQUEST_KEEP},
                                                                 {NULL, NULL}};

static void push_number(lua_State *L, double d)
{
    if (d == floor(d) && fabs(d) <= EXACT_INTEGER_MAX)
        lua_pushinteger(L, (lua_Integer)d);
    else
        lua_pushnumber(L, d);
}

/* The push sink: every value goes on the stack, a member or element sets
 * it into the table just below it. The stack is checked before each push. */
static void sink_scalar(void *ctx, const cJSON *item)
{
    lua_State *L = ctx;
    luaL_checkstack(L, 3, "event nesting");
    switch (item->type & 0xff) {
    case cJSON_False:
        lua_pushboolean(L, 0);
        break;
    case cJSON_True:
        lua_pushboolean(L, 1);
        break;
    case cJSON_NULL:
        lua_pushlightuserdata(L, NULL);
        break;
    case cJSON_Number:
        push_number(L, item->valuedouble);
        break;
    default:
        /* pushlstring: lua_pushstring's pointer-keyed cache never hits on
         * a freshly parsed tree and costs a strcmp per call. */
        if (item->valuestring)
            lua_pushlstring(L, item->valuestring, strlen(item->valuestring));
        else
            lua_pushliteral(L, "");
        break;
    }
}

static void sink_open(void *ctx, const cJSON *item, int is_array)
{
    lua_State *L = ctx;
    luaL_checkstack(L, 3, "event nesting");
    if (is_array)
        lua_createtable(L, cJSON_GetArraySize(item), 0);
    else
        lua_createtable(L, 0, item ? 8 : 0);
}

static void sink_close(void *ctx)
{
    (void)ctx;
}

/* t[key] = the value on top (popped), t just below it: a fresh table
 * without metatable, so a raw set is what lua_setfield would do, without
 * lua_setfield's pointer-keyed string cache lookup. */
static void sink_member(void *ctx, const char *key)
{
    lua_State *L = ctx;
    lua_pushlstring(L, key, strlen(key));
    lua_insert(L, -2);
    lua_rawset(L, -3);
}

static void sink_element(void *ctx, long i)
{
    lua_State *L = ctx;
    lua_rawseti(L, -2, (lua_Integer)i);
}

static void sink_nul(void *ctx)
{
    lua_State *L = ctx;
    luaL_checkstack(L, 3, "event nesting");
    lua_pushlightuserdata(L, NULL);
}

static const struct event_sink PUSH_SINK = {
    sink_scalar, sink_open, sink_close, sink_member, sink_element, sink_nul,
};

/* As sink_open, an array marked with the metatable at stack index 2. */
static void sink_open_marking(void *ctx, const cJSON *item, int is_array)
{
    lua_State *L = ctx;
    sink_open(ctx, item, is_array);
    if (is_array) {
        lua_pushvalue(L, 2);
        lua_setmetatable(L, -2);
    }
}

static const struct event_sink MARKING_SINK = {
    sink_scalar, sink_open_marking, sink_close, sink_member, sink_element, sink_nul,
};

static const char ARRAY_MT_KEY = 0; /* its address is the registry key */

void event_table_push_array_mt(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ARRAY_MT_KEY);
}

int event_table_push(lua_State *L)
{
    const struct event_table_args *args = lua_touserdata(L, 1);
    if (!args->mark_arrays) {
        event_walk(&PUSH_SINK, L, args);
        return 1;
    }
    lua_settop(L, 1);
    event_table_push_array_mt(L);
    if (lua_isnil(L, 2)) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 2);
        lua_pushliteral(L, "periscope.array");
        lua_setfield(L, -2, "__metatable");
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &ARRAY_MT_KEY);
    }
    event_walk(&MARKING_SINK, L, args);
    return 1;
}
