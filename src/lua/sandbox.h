/* lua/sandbox — what Lua code may reach, as data: one allow-list of globals
 * and library functions (docs/architecture.md §4). Everything not on the list is gone,
 * both from the operator sandbox and from the libraries the server's own
 * modules see (the string metatable leads back to the real `string`).
 *
 * Operator chunks get a fresh table as _ENV holding copies of the allowed
 * libraries, `periscope`, a setmetatable that refuses __gc, and _G pointing
 * to itself. Never io, os, package, debug, coroutine, require, load*,
 * dofile, collectgarbage, print, warn, string.dump.
 *
 * C functions whose work their arguments decide are bounded for all code
 * in the state, the server's own modules included: pattern matching
 * (lua/pattern_guard.h: refused when too complex, else charged against the
 * instruction limit; plain finds linear) and the table/string loops of
 * lua/sandbox_caps.h. The string metatable's __index is the same bounded
 * `string` table.
 *
 * The server's own modules (lua_dir/periscope/NAME.lua) run with the state's
 * globals: the same allow-list plus `require`, which loads only files under
 * lua_dir, as text, named by dotted identifiers. */
#ifndef PERISCOPE_LUA_SANDBOX_H
#define PERISCOPE_LUA_SANDBOX_H

#include <stddef.h>
#include <lua.h>

/* One allowed name: a base global (library NULL) or a library function. A
 * library's own entry ({NULL, "string"}) allows the table itself. */
struct sandbox_name {
    const char *library;
    const char *name;
};

extern const struct sandbox_name sandbox_allowed[];
extern const size_t sandbox_allowed_count;

/* Largest server module file the loader reads. */
#define SANDBOX_MODULE_MAX_BYTES (1024 * 1024)

/* lua_CFunction, run it through vm_cpcall (it raises on allocation
 * failure). Argument 1: the lua_dir string. Sets up the state's globals,
 * the module loader and `periscope`, and returns the operator sandbox
 * table. */
int sandbox_open(lua_State *L);

#endif
