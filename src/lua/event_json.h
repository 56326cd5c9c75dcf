/* lua/event_json — a Lua table back into a cJSON event tree: how the scrub
 * hook's result becomes the event that is grouped and stored.
 *
 * The rules (README "Personal data scrubbing"):
 *   - a table that is a non-empty sequence (keys exactly 1..n) is an
 *     array; so is one marked as an array by event_table (mark_arrays),
 *     even once emptied; any other table is an object, whose keys must be
 *     strings;
 *   - strings must be valid UTF-8 without NUL bytes; integers and finite
 *     floats are numbers; booleans; periscope.json.null is null;
 *   - anything else (a function, a coroutine, userdata, a table mixing
 *     index and name keys) is refused with the path where it sits.
 * Bounded: nesting deeper than max_depth (which also stops a table that
 * contains itself) and results whose JSON text would exceed max_bytes are
 * refused, so a table shared many times cannot blow up into a huge tree.
 *
 * Never raises: it reads the table with lua_next / lua_type / lua_rawlen
 * and converts nothing in place, so it holds no cJSON across a longjmp and
 * needs no protected call. Runs on the thread that owns the state. */
#ifndef PERISCOPE_LUA_EVENT_JSON_H
#define PERISCOPE_LUA_EVENT_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include <lua.h>

struct event_json_limits {
    int max_depth;    /* nesting levels below the top table */
    size_t max_bytes; /* the JSON text the result stands for, roughly */
};

/* Converts the table at idx. 0 with *out (caller cJSON_Deletes); -EINVAL
 * (a value JSON cannot hold, or not a table), -E2BIG (too deep or too
 * large) with a message in err; -ENOMEM. */
int event_json_from_lua(lua_State *L, int idx, const struct event_json_limits *lim, cJSON **out,
                        char *err, size_t errlen);

#endif
