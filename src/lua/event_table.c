/* lua/event_table — cJSON → Lua table, bounded in depth and stack. */
#include "lua/event_table.h"

#include <math.h>
#include <string.h>
#include <lauxlib.h>

#define EXACT_INTEGER_MAX 9007199254740992.0 /* 2^53 */

const char *const event_table_grouping_fields[] = {
    "exception", "threads", "stacktrace", "fingerprint", "message", "logentry",
    "platform", "level", "logger", "transaction", "tags", "sdk", "request", "culprit", NULL,
};

const char *const event_table_grouping_skip[] = {"vars", "pre_context", "post_context", NULL};

/* Called for every key of the event: the first byte rules out most names
 * before strcmp runs. */
static int listed(const char *const *list, const char *key)
{
    for (; list && *list; list++)
        if ((*list)[0] == key[0] && strcmp(*list, key) == 0)
            return 1;
    return 0;
}

static void push_number(lua_State *L, double d)
{
    if (d == floor(d) && fabs(d) <= EXACT_INTEGER_MAX)
        lua_pushinteger(L, (lua_Integer)d);
    else
        lua_pushnumber(L, d);
}

/* t[key] = the value on top (popped), t just below it: a fresh table
 * without metatable, so a raw set is what lua_setfield would do, without
 * lua_setfield's pointer-keyed string cache lookup. */
static void set_key(lua_State *L, const char *key)
{
    lua_pushlstring(L, key, strlen(key));
    lua_insert(L, -2);
    lua_rawset(L, -3);
}

/* Pushes item and returns 1, or pushes nothing and returns 0 (a container
 * too deep, or an invalid node). Raises on the memory cap. */
static int push_value(lua_State *L, const cJSON *item, int depth, int max_depth,
                      const char *const *skip)
{
    luaL_checkstack(L, 3, "event nesting");
    switch (item->type & 0xff) {
    case cJSON_False: lua_pushboolean(L, 0); return 1;
    case cJSON_True: lua_pushboolean(L, 1); return 1;
    case cJSON_NULL: lua_pushlightuserdata(L, NULL); return 1;
    case cJSON_Number: push_number(L, item->valuedouble); return 1;
    case cJSON_String:
    case cJSON_Raw:
        /* pushlstring: lua_pushstring's pointer-keyed cache never hits on
         * a freshly parsed tree and costs a strcmp per call. */
        if (item->valuestring)
            lua_pushlstring(L, item->valuestring, strlen(item->valuestring));
        else
            lua_pushliteral(L, "");
        return 1;
    case cJSON_Array: {
        if (depth >= max_depth)
            return 0;
        lua_createtable(L, cJSON_GetArraySize(item), 0);
        lua_Integer i = 0;
        for (const cJSON *c = item->child; c; c = c->next) {
            if (!push_value(L, c, depth + 1, max_depth, skip))
                lua_pushlightuserdata(L, NULL);
            lua_rawseti(L, -2, ++i);
        }
        return 1;
    }
    case cJSON_Object: {
        if (depth >= max_depth)
            return 0;
        lua_createtable(L, 0, 8);
        for (const cJSON *c = item->child; c; c = c->next) {
            if (c->string && !listed(skip, c->string) && push_value(L, c, depth + 1, max_depth, skip))
                set_key(L, c->string);
        }
        return 1;
    }
    default:
        return 0;
    }
}

int event_table_push(lua_State *L)
{
    const struct event_table_args *args = lua_touserdata(L, 1);
    const cJSON *ev = args->event;
    if (!cJSON_IsObject(ev)) {
        lua_newtable(L);
        return 1;
    }
    if (!args->fields) {
        if (!push_value(L, ev, 0, args->max_depth + 1, args->skip_keys))
            lua_newtable(L);
        return 1;
    }
    lua_createtable(L, 0, 8);
    for (const cJSON *c = ev->child; c; c = c->next) {
        if (c->string && listed(args->fields, c->string) &&
            push_value(L, c, 1, args->max_depth + 1, args->skip_keys))
            set_key(L, c->string);
    }
    return 1;
}
