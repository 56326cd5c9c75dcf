/* lua/lib — the `periscope` Lua library: the C functions scripts and the
 * default grouping may call, as luaL_Reg tables.
 *
 *   periscope.json.encode(v) / periscope.json.decode(s)   lua-cjson, depth-capped
 *   periscope.json.null                                   lua-cjson's null
 *   periscope.log(level, msg)                             "debug"|"info"|"warn"|"error" -> log.h
 *   periscope.parameterize(s)                             grouping/parameterize
 *   periscope.hash({s1, s2, ...})                         grouping/hash (MD5 hex)
 *
 * The sandbox (lua/sandbox.c) adds periscope.sentry_rules(text), a
 * project's rules in Sentry's syntax (lua/periscope/sentry_rules.lua).
 *
 * JSON is lua-cjson, the Debian package's module (cjson.so) loaded with
 * dlopen, since a sandboxed state has no `require`; every state gets its own
 * cjson instance (cjson.new) with nesting capped at PERISCOPE_JSON_MAX_DEPTH.
 *
 * Called on the thread that owns the lua_State. These functions raise Lua
 * errors on bad arguments (they are called from protected calls only). */
#ifndef PERISCOPE_LUA_LIB_H
#define PERISCOPE_LUA_LIB_H

#include <lua.h>

#define PERISCOPE_JSON_MAX_DEPTH 64
#ifndef PERISCOPE_CJSON_PATH
#define PERISCOPE_CJSON_PATH "/usr/lib/x86_64-linux-gnu/lua/5.4/cjson.so"
#endif

/* Pushes the `periscope` table. May raise (out of memory, cjson.so missing). */
int periscope_lib_open(lua_State *L);

#endif
