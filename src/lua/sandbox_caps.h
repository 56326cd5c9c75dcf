/* lua/sandbox_caps — the library functions whose C loops run as long as
 * their arguments say, with that work counted against the call's
 * instruction limit (vm_charge) before it is done:
 *
 *   table.insert(t, pos, v), table.remove(t, pos)  one unit per element shifted
 *   table.move(a, f, e, t [, b])                   one unit per element moved
 *   string.rep(s, n [, sep])                       n/64 + result KiB units; a result
 *                                                  (or n) over the state's memory cap
 *                                                  is refused at once ("not enough
 *                                                  memory")
 *
 * so table.move({}, 1, 1e15, 1, {}), string.rep("", 1e15) or a loop of
 * table.insert(t, 1, x) on a big table end in "script timeout" instead of
 * holding the thread in C. insert and remove are this module's own (the
 * library's would call a __len metamethod a second time); they take
 * tables only, which is all a sandboxed script can make.
 *
 * Used by sandbox_open only; a state is owned by one thread. */
#ifndef PERISCOPE_LUA_SANDBOX_CAPS_H
#define PERISCOPE_LUA_SANDBOX_CAPS_H

#include <lua.h>

/* Replaces the functions above in the string and table libraries at
 * string_idx and table_idx. Raises on allocation failure. */
void sandbox_caps_install(lua_State *L, int string_idx, int table_idx);

#endif
