/* lua/lib — see lib.h. */
#include "lua/lib.h"

#include <lauxlib.h>

#include "grouping/glob.h"
#include "grouping/hash.h"
#include "grouping/parameterize.h"
#include "base/log.h"
#include "lua/json.h"
#include "lua/vm.h"

/* C work charged against the instruction limit: one unit per this many
 * bytes (or glob steps) — see vm_charge. */
#define BYTES_PER_UNIT 64

/* More values than any grouping produces; bounds the stack use of hash(). */
#define HASH_MAX_VALUES 10000

static int l_log(lua_State *L)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    int level = luaL_checkoption(L, 1, NULL, levels);
    const char *msg = luaL_checkstring(L, 2);
    log_write((enum log_level)level, "script log", "message=%s", msg);
    return 0;
}

static int l_parameterize(lua_State *L)
{
    size_t len, out_len;
    const char *s = luaL_checklstring(L, 1, &len);
    vm_charge(L, (long)(len / BYTES_PER_UNIT));
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, PARAMETERIZE_MAX_OUT(len));
    if (parameterize(s, len, out, PARAMETERIZE_MAX_OUT(len), &out_len) != 0)
        return luaL_error(L, "parameterize: output buffer too small");
    luaL_pushresultsize(&b, out_len);
    return 1;
}

/* hash({...}): the values stay on the stack (so converted numbers live
 * until the digest is done); pointer arrays are GC-owned userdata. */
static int l_hash(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n < 0 || n > HASH_MAX_VALUES)
        return luaL_error(L, "hash: expected at most %d values", HASH_MAX_VALUES);
    luaL_checkstack(L, (int)n + 2, "hash: too many values");
    const char **values = lua_newuserdatauv(L, sizeof *values * (size_t)(n ? n : 1), 0);
    size_t *lens = lua_newuserdatauv(L, sizeof *lens * (size_t)(n ? n : 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        int t = lua_geti(L, 1, i);
        if (t != LUA_TSTRING && t != LUA_TNUMBER)
            return luaL_error(L, "hash: value %d is a %s, not a string", (int)i,
                              lua_typename(L, t));
        values[i - 1] = lua_tolstring(L, -1, &lens[i - 1]);
    }
    char out[33];
    if (grouping_hash(values, lens, (size_t)n, out) != 0)
        return luaL_error(L, "hash: digest failed");
    lua_pushstring(L, out);
    return 1;
}

/* glob_match(glob, subject, is_path): the frame rules' globs (grouping/glob.h). */
static int l_glob_match(lua_State *L)
{
    size_t glen, n;
    const char *glob = luaL_checklstring(L, 1, &glen);
    const char *s = luaL_checklstring(L, 2, &n);
    luaL_argcheck(L, glen <= GLOB_MAX_BYTES, 1, "glob too long");
    vm_charge(L, (long)((double)n * (double)(glen + 1) / BYTES_PER_UNIT));
    lua_pushboolean(L, glob_match(glob, glen, s, n, lua_toboolean(L, 3)));
    return 1;
}

static const luaL_Reg periscope_funcs[] = {
    {"log", l_log},   {"parameterize", l_parameterize},
    {"hash", l_hash}, {"glob_match", l_glob_match},
    {NULL, NULL},
};

int periscope_lib_open(lua_State *L)
{
    luaL_newlib(L, periscope_funcs);
    json_push_library(L);
    lua_setfield(L, -2, "json");
    return 1;
}
