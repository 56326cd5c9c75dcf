/* lua/lib — see lib.h. */
#include "lua/lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <lauxlib.h>
#include <string.h>

#include "grouping/hash.h"
#include "grouping/parameterize.h"
#include "log.h"

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

/* lua-cjson, loaded once per process by whichever worker gets there first. */
static pthread_once_t cjson_once = PTHREAD_ONCE_INIT;
static lua_CFunction cjson_luaopen;
static char cjson_load_error[256];

static void cjson_load(void)
{
    /* Never closed: the module's code must outlive every state using it. */
    void *handle = dlopen(PERISCOPE_CJSON_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(cjson_load_error, sizeof cjson_load_error, "cannot load %s: %s",
                 PERISCOPE_CJSON_PATH, dlerror());
        return;
    }
    void *sym = dlsym(handle, "luaopen_cjson");
    if (!sym) {
        snprintf(cjson_load_error, sizeof cjson_load_error, "luaopen_cjson missing in %s",
                 PERISCOPE_CJSON_PATH);
        return;
    }
    memcpy(&cjson_luaopen, &sym, sizeof cjson_luaopen);
}

/* Returns lua-cjson's luaopen function. May raise (a Lua error). */
static lua_CFunction cjson_opener(lua_State *L)
{
    pthread_once(&cjson_once, cjson_load);
    if (!cjson_luaopen) luaL_error(L, "json: %s", cjson_load_error);
    return cjson_luaopen;
}

/* Pushes a json table {encode, decode, null} backed by a private cjson. */
static void push_json(lua_State *L)
{
    lua_pushcfunction(L, cjson_opener(L));
    lua_call(L, 0, 1); /* the shared module table */
    lua_getfield(L, -1, "new");
    lua_call(L, 0, 1); /* a private instance */
    lua_remove(L, -2);
    static const char *const limits[] = {"encode_max_depth", "decode_max_depth"};
    for (size_t i = 0; i < 2; i++) {
        lua_getfield(L, -1, limits[i]);
        lua_pushinteger(L, PERISCOPE_JSON_MAX_DEPTH);
        lua_call(L, 1, 0);
    }
    lua_createtable(L, 0, 3);
    static const char *const fields[] = {"encode", "decode", "null"};
    for (size_t i = 0; i < 3; i++) {
        lua_getfield(L, -2, fields[i]);
        lua_setfield(L, -2, fields[i]);
    }
    lua_remove(L, -2);
}

static const luaL_Reg periscope_funcs[] = {
    {"log", l_log},
    {"parameterize", l_parameterize},
    {"hash", l_hash},
    {NULL, NULL},
};

int periscope_lib_open(lua_State *L)
{
    luaL_newlib(L, periscope_funcs);
    push_json(L);
    lua_setfield(L, -2, "json");
    return 1;
}
