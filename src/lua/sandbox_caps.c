/* lua/sandbox_caps — C loops of the libraries counted before they run
 * (sandbox_caps.h). */
#include "lua/sandbox_caps.h"

#include <lauxlib.h>

#include "lua/vm.h"

/* string.rep's loop: one unit per 64 iterations, one per 1 KiB copied
 * (a 1 MiB rep counts as about 17,000 instructions). */
#define REP_ITERATIONS_PER_UNIT 64
#define REP_BYTES_PER_UNIT 1024

/* Charges `moves` element moves (a non-negative count) before they happen. */
static void charge_moves(lua_State *L, lua_Unsigned moves)
{
    vm_charge(L, moves > (lua_Unsigned)LUA_MAXINTEGER / 2 ? LUA_MAXINTEGER / 2 : (long)moves);
}

/* table.insert(t, [pos,] v). Raises. */
static int caps_insert(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer e = (lua_Integer)((lua_Unsigned)luaL_len(L, 1) + 1u); /* first empty slot */
    lua_Integer pos = e;
    switch (lua_gettop(L)) {
    case 2:
        break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
        charge_moves(L, (lua_Unsigned)e - (lua_Unsigned)pos);
        for (lua_Integer i = e; i > pos; i--) {
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

/* table.remove(t [, pos]). Raises. */
static int caps_remove(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer size = luaL_len(L, 1);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size) /* a given position must be in [1, size + 1] */
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2, "position out of bounds");
    lua_geti(L, 1, pos); /* the result */
    if (pos < size) charge_moves(L, (lua_Unsigned)size - (lua_Unsigned)pos);
    for (; pos < size; pos++) {
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

/* table.move: the library's own (upvalue 1), after charging e - f + 1. */
static int caps_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    if (e >= f) charge_moves(L, (lua_Unsigned)e - (lua_Unsigned)f + 1u);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* string.rep: the library's own (upvalue 1), after the size cap and the
 * charge for its loop. */
static int caps_rep(lua_State *L)
{
    size_t len, seplen;
    luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &seplen);
    if (n > 0) {
        /* The result must fit the state, and so must the repetitions (n
         * copies of "" loop n times for nothing). */
        double bytes = (double)n * (double)len + (double)(n - 1) * (double)seplen;
        double cap = (double)vm_memory_cap(L);
        if (bytes > cap || (double)n > cap)
            vm_refuse_memory(L, "string.rep result over the state's memory cap");
        double units = (double)n / REP_ITERATIONS_PER_UNIT + bytes / REP_BYTES_PER_UNIT;
        vm_charge(L, units > (double)LUA_MAXINTEGER / 2 ? LUA_MAXINTEGER / 2 : (long)units);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* lib[name] = fn, with the current lib[name] as its upvalue when wrap. */
static void replace(lua_State *L, int lib, const char *name, lua_CFunction fn, int wrap)
{
    if (wrap) lua_getfield(L, lib, name);
    lua_pushcclosure(L, fn, wrap);
    lua_setfield(L, lib, name);
}

void sandbox_caps_install(lua_State *L, int string_idx, int table_idx)
{
    string_idx = lua_absindex(L, string_idx);
    table_idx = lua_absindex(L, table_idx);
    replace(L, string_idx, "rep", caps_rep, 1);
    replace(L, table_idx, "move", caps_move, 1);
    replace(L, table_idx, "insert", caps_insert, 0);
    replace(L, table_idx, "remove", caps_remove, 0);
}
