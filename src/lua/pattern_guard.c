/* lua/pattern_guard — worst-case estimate in front of Lua's pattern matcher. */
#include "lua/pattern_guard.h"

#include <lauxlib.h>

static const char *const GUARDED[] = {"find", "match", "gmatch", "gsub"};

/* Index just past the character class that starts at p[i] == '['. */
static size_t skip_class(const char *p, size_t len, size_t i)
{
    i++; /* '[' */
    if (i < len && p[i] == '^') i++;
    if (i < len && p[i] == ']') /* a leading ']' is literal */
        i++;
    while (i < len && p[i] != ']')
        i += p[i] == '%' ? 2 : 1;
    return i + 1;
}

int pattern_guard_quantifiers(const char *p, size_t len)
{
    int q = 0;
    for (size_t i = 0; i < len;) {
        char c = p[i];
        if (c == '%' && i + 1 < len && p[i + 1] == 'b') {
            q++;
            i += 4; /* %bxy */
        } else if (c == '%' && i + 1 < len && p[i + 1] == 'f') {
            q++;
            i = i + 2 < len && p[i + 2] == '[' ? skip_class(p, len, i + 2) : i + 2;
        } else if (c == '%') {
            i += 2;
        } else if (c == '[') {
            i = skip_class(p, len, i);
        } else {
            q += c == '*' || c == '+' || c == '-' || c == '?';
            i++;
        }
    }
    return q;
}

int pattern_guard_too_complex(size_t subject_len, int quantifiers)
{
    double steps = 1;
    for (int i = 0; i < quantifiers; i++) {
        steps *= (double)subject_len + 1;
        if (steps > PATTERN_GUARD_BUDGET) return 1;
    }
    return 0;
}

/* Whether the function that called the guard is one of the server's own
 * modules (chunk names "@periscope/…"); operator code is "=script". */
static int called_by_server_module(lua_State *L)
{
    lua_Debug ar;
    return lua_getstack(L, 1, &ar) && lua_getinfo(L, "S", &ar) && ar.source[0] == '@';
}

/* Length of argument idx as the string library would see it (strings and
 * numbers), or 0 for anything else (the real function raises on it). */
static size_t arg_length(lua_State *L, int idx)
{
    size_t len = 0;
    if (lua_type(L, idx) == LUA_TSTRING) {
        lua_tolstring(L, idx, &len);
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        lua_pushvalue(L, idx); /* converted in the copy, not in place */
        lua_tolstring(L, -1, &len);
        lua_pop(L, 1);
    }
    return len;
}

/* The guarded function; upvalue 1 is the real one, upvalue 2 true for
 * find (whose 4th argument asks for a plain search). Raises. */
static int guarded(lua_State *L)
{
    int plain = lua_toboolean(L, lua_upvalueindex(2)) && lua_toboolean(L, 4);
    if (!plain && lua_type(L, 2) == LUA_TSTRING) {
        size_t plen, slen = arg_length(L, 1);
        const char *pattern = lua_tolstring(L, 2, &plen);
        int q = pattern_guard_quantifiers(pattern, plen);
        if (q > 0 && pattern_guard_too_complex(slen, q) && !called_by_server_module(L))
            return luaL_error(L, "pattern too complex for a subject of %d bytes", (int)slen);
    }
    /* The library's own C function, inside the caller's protected call. */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

void pattern_guard_push_library(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    for (size_t i = 0; i < sizeof GUARDED / sizeof GUARDED[0]; i++) {
        lua_getfield(L, idx, GUARDED[i]);
        lua_pushboolean(L, i == 0); /* find */
        lua_pushcclosure(L, guarded, 2);
        lua_setfield(L, -2, GUARDED[i]);
    }
}
