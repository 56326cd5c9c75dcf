/* lua/event_table — an event's cJSON tree as a Lua table, built in C.
 *
 * Mirrors lua-cjson's decoder (JSON null is the lightuserdata NULL, equal
 * to cjson.null / periscope.json.null) except that integral numbers within
 * ±2^53 become Lua integers, so "release " .. n reads "1", not "1.0".
 * Strings are copied. Containers nested deeper than max_depth are left out
 * (an object drops the key, an array holds null there), and the stack is
 * checked before every push: a 100,000-deep or 1 MiB event cannot overflow
 * the C or the Lua stack; at worst it hits the state's memory cap.
 *
 * Called on the worker that owns the state; the cJSON tree is borrowed. */
#ifndef PERISCOPE_LUA_EVENT_TABLE_H
#define PERISCOPE_LUA_EVENT_TABLE_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include <lua.h>

/* A top-level object of which only the listed members are kept. */
struct event_table_narrow {
    const char *field;
    const char *const *keep; /* NULL-terminated */
};

struct event_table_args {
    const cJSON *event;           /* borrowed */
    int max_depth;                /* nesting levels below the event itself */
    const char *const *fields;    /* NULL: every top-level key; else a NULL-terminated list */
    const char *const *skip_keys; /* NULL, or keys left out below the top level */
    const struct event_table_narrow *narrow; /* NULL, or {NULL} terminated (with fields only) */
    bool mark_arrays;                        /* every array gets the array marker metatable, so an
                                              * array still reads as one once empty (lua/event_json.h) */
};

/* Pushes the metatable that marks tables made from JSON arrays (named
 * "periscope.array", locked; kept in the registry under a light userdata
 * key), or nil when no marked table was made in this state yet. Never
 * raises (no allocation). */
void event_table_push_array_mt(lua_State *L);

/* The top-level keys the default grouping reads (lua/periscope/grouping.lua
 * must read nothing else from the event; a project script with hooks gets
 * the whole event). */
extern const char *const event_table_grouping_fields[];
/* Bulky frame members the default grouping never reads (local variables,
 * surrounding source lines): left out of the grouping-only table. */
extern const char *const event_table_grouping_skip[];
/* Of the request the default grouping reads only the url (headers, body,
 * cookies, env differ per event and would only defeat the grouping memo). */
extern const struct event_table_narrow event_table_grouping_narrow[];

/* lua_CFunction for vm_cpcall: argument 1 is a struct event_table_args*
 * (light userdata); returns the table. Raises on the memory cap. */
int event_table_push(lua_State *L);

#endif
