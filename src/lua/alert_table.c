/* lua/alert_table — struct alert_data → Lua table (alert_table.h). */
#include "lua/alert_table.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>

void alert_table_time(long long ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", date, (int)(ms % 1000));
}

int alert_table_count(enum alert_table_shape shape)
{
    return shape == ALERT_TABLE_ROUTE ? 3 : 2;
}

/* Each sets a field of the table on top of the stack. */
static void set_str(lua_State *L, const char *key, const char *v)
{
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, int64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, key);
}

static void set_time(lua_State *L, const char *key, long long ms)
{
    char buf[32];
    alert_table_time(ms, buf);
    lua_pushstring(L, buf);
    lua_setfield(L, -2, key);
}

/* Sets the issue link as field "link" of the table on top. */
static void set_link(lua_State *L, const struct alert_data *a)
{
    const char *base = a->public_url ? a->public_url : "";
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    lua_pushlstring(L, base, n);
    lua_pushfstring(L, "/projects/%I/issues/%I", (lua_Integer)a->issue.project_id,
                    (lua_Integer)a->issue.id);
    lua_concat(L, 2);
    lua_setfield(L, -2, "link");
}

static void push_alert(lua_State *L, const struct alert_data *a)
{
    luaL_checkstack(L, 6, "alert table");
    lua_createtable(L, 0, 11);
    set_int(L, "id", a->id);
    set_str(L, "kind", a->kind);
    set_time(L, "created_at", a->created_at_ms);
    set_str(L, "message_id", a->message_id);
    set_str(L, "title", a->issue.title);
    set_str(L, "culprit", a->issue.culprit);
    set_str(L, "level", a->issue.level);
    set_link(L, a);

    lua_createtable(L, 0, 11);
    set_int(L, "id", a->issue.id);
    set_int(L, "project_id", a->issue.project_id);
    set_str(L, "title", a->issue.title);
    set_str(L, "culprit", a->issue.culprit);
    set_str(L, "level", a->issue.level);
    set_str(L, "status", a->issue.status);
    set_time(L, "first_seen", a->issue.first_seen_ms);
    set_time(L, "last_seen", a->issue.last_seen_ms);
    set_int(L, "count", a->issue.count);
    set_str(L, "hash", a->issue.hash);
    lua_getfield(L, -2, "link");
    lua_setfield(L, -2, "link");
    lua_setfield(L, -2, "issue");

    lua_createtable(L, 0, 2);
    set_int(L, "id", a->project.id);
    set_str(L, "name", a->project.name);
    lua_setfield(L, -2, "project");

    lua_createtable(L, 0, 4);
    set_str(L, "event_id", a->event.event_id);
    set_str(L, "environment", a->event.environment);
    set_str(L, "release", a->event.release);
    set_str(L, "level", a->event.level);
    lua_setfield(L, -2, "event");
}

static void push_destination(lua_State *L, const struct alert_destination *d)
{
    lua_createtable(L, 0, 3);
    set_int(L, "id", d->id);
    set_str(L, "type", d->type ? d->type : "");
    set_str(L, "name", d->name);
}

int alert_table_push(lua_State *L)
{
    const struct alert_table_args *args = lua_touserdata(L, 1);
    lua_settop(L, 0);
    luaL_checkstack(L, 8, "alert table");
    switch (args->shape) {
    case ALERT_TABLE_FORMAT:
        push_alert(L, &args->alerts[0]);
        push_destination(L, args->dest);
        return 2;
    case ALERT_TABLE_DIGEST:
        lua_createtable(L, (int)args->n, 0);
        for (size_t i = 0; i < args->n; i++) {
            push_alert(L, &args->alerts[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        push_destination(L, args->dest);
        return 2;
    case ALERT_TABLE_ROUTE:
        push_alert(L, &args->alerts[0]);
        lua_getfield(L, 1, "issue");
        lua_getfield(L, 1, "event");
        return 3;
    }
    return luaL_error(L, "alert table: unknown shape");
}
