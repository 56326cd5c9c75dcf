/* lua/lib — the `periscope` Lua library: the C functions scripts and the
 * default grouping may call, as luaL_Reg tables.
 *
 *   periscope.json.encode(v) / periscope.json.decode(s)   lua/json.h, inside the memory cap
 *   periscope.json.null                                   the lightuserdata NULL
 *   periscope.log(level, msg)                             "debug"|"info"|"warn"|"error" -> log.h
 *   periscope.parameterize(s)                             grouping/parameterize
 *   periscope.hash({s1, s2, ...})                         grouping/hash (MD5 hex)
 *   periscope.glob_match(glob, s, is_path)                grouping/glob (frame-rule globs)
 *
 * The sandbox (lua/sandbox.c) adds periscope.sentry_rules(text), a
 * project's rules in Sentry's syntax (lua/periscope/sentry_rules.lua).
 *
 * Called on the thread that owns the lua_State. These functions raise Lua
 * errors on bad arguments (they are called from protected calls only). */
#ifndef PERISCOPE_LUA_LIB_H
#define PERISCOPE_LUA_LIB_H

#include <lua.h>

/* Pushes the `periscope` table. May raise (out of memory). */
int periscope_lib_open(lua_State *L);

#endif
