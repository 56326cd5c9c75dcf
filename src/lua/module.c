/* lua/module — the `periscope` library as a loadable Lua C module
 * (build/lua/periscope.so), so that busted specs can require("periscope")
 * and run lua/ and rules/ code against the real C functions. The server
 * itself never loads this file; it calls periscope_lib_open directly. */
#include <lua.h>

#include "lua/lib.h"

int luaopen_periscope(lua_State *L);

int luaopen_periscope(lua_State *L)
{
    return periscope_lib_open(L);
}
