/* lua/json — periscope.json for scripts: encode, decode and null, written
 * here so that every byte they make lives inside the Lua state.
 *
 * lua-cjson (what this replaced) builds its output in a plain malloc
 * buffer, outside the state's memory cap, and calls exit() once that
 * buffer passes 2 GB — which a 16 MB state reaches by encoding a table
 * that holds one big string many times over. Here the output grows in a
 * userdata (so the allocator's cap refuses it, and an error leaks
 * nothing) and every value and 64 bytes written are charged against the
 * call's instruction limit (vm_charge).
 *
 *   encode(v): nil and null → null; booleans; integers exactly, floats as
 *     %.14g (NaN and infinities refused); strings with ", \ and control
 *     characters escaped (other bytes as they are); a table whose keys are
 *     all positive integers is an array 1..max (holes as null; refused when
 *     max > 10 and more than half the slots are holes), any other table an
 *     object with string or number keys; {} is {}. Nesting deeper than
 *     JSON_MAX_DEPTH, functions and userdata (but null) are refused.
 *   decode(s): RFC 8259 text to tables (null is json.null, in objects and
 *     arrays; integral numbers within ±2^53 become integers, as in the
 *     event tables of lua/event_table.h), nesting capped at JSON_MAX_DEPTH;
 *     any error raises "json.decode: … at byte N".
 *
 * Called on the thread that owns the state; both raise Lua errors. */
#ifndef PERISCOPE_LUA_JSON_H
#define PERISCOPE_LUA_JSON_H

#include <lua.h>

#define JSON_MAX_DEPTH 64

/* Pushes {encode, decode, null}. May raise (out of memory). */
void json_push_library(lua_State *L);

#endif
