/* lua/sandbox — the allow-list and the two environments built from it. */
#include "lua/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/lib.h"
#include "lua/pattern_guard.h"
#include "lua/sandbox_caps.h"

#define LOADED_KEY "periscope.loaded" /* registry: server modules by name */
#define MODULE_NAME_MAX 128

/* clang-format off: the list reads best packed by library */
const struct sandbox_name sandbox_allowed[] = {
    /* base, minus load, loadstring, dofile, loadfile, collectgarbage, require,
     * print and warn (stdout/stderr are the server's) */
    {NULL, "assert"},
    {NULL, "error"},
    {NULL, "getmetatable"},
    {NULL, "ipairs"},
    {NULL, "next"},
    {NULL, "pairs"},
    {NULL, "pcall"},
    {NULL, "rawequal"},
    {NULL, "rawget"},
    {NULL, "rawlen"},
    {NULL, "rawset"},
    {NULL, "select"},
    {NULL, "setmetatable"},
    {NULL, "tonumber"},
    {NULL, "tostring"},
    {NULL, "type"},
    {NULL, "xpcall"},
    {NULL, "_VERSION"},
    {NULL, "_G"},
    {NULL, "periscope"},
    /* string, minus dump (bytecode is never loaded, so never made) */
    {NULL, "string"},
    {"string", "byte"},
    {"string", "char"},
    {"string", "find"},
    {"string", "format"},
    {"string", "gmatch"},
    {"string", "gsub"},
    {"string", "len"},
    {"string", "lower"},
    {"string", "match"},
    {"string", "rep"},
    {"string", "reverse"},
    {"string", "sub"},
    {"string", "upper"},
    {"string", "pack"},
    {"string", "packsize"},
    {"string", "unpack"},
    {NULL, "table"},
    {"table", "concat"},
    {"table", "insert"},
    {"table", "move"},
    {"table", "pack"},
    {"table", "remove"},
    {"table", "sort"},
    {"table", "unpack"},
    {NULL, "math"},
    {"math", "abs"},
    {"math", "acos"},
    {"math", "asin"},
    {"math", "atan"},
    {"math", "ceil"},
    {"math", "cos"},
    {"math", "deg"},
    {"math", "exp"},
    {"math", "floor"},
    {"math", "fmod"},
    {"math", "huge"},
    {"math", "log"},
    {"math", "max"},
    {"math", "maxinteger"},
    {"math", "min"},
    {"math", "mininteger"},
    {"math", "modf"},
    {"math", "pi"},
    {"math", "rad"},
    {"math", "random"},
    {"math", "sin"},
    {"math", "sqrt"},
    {"math", "tan"},
    {"math", "tointeger"},
    {"math", "type"},
    {"math", "ult"},
    {NULL, "utf8"},
    {"utf8", "char"},
    {"utf8", "charpattern"},
    {"utf8", "codes"},
    {"utf8", "codepoint"},
    {"utf8", "len"},
    {"utf8", "offset"},
};
/* clang-format on */
const size_t sandbox_allowed_count = sizeof sandbox_allowed / sizeof sandbox_allowed[0];

static int is_allowed(const char *library, const char *name)
{
    for (size_t i = 0; i < sandbox_allowed_count; i++) {
        const struct sandbox_name *n = &sandbox_allowed[i];
        if (strcmp(n->name, name) != 0) continue;
        if ((library == NULL && n->library == NULL) ||
            (library && n->library && strcmp(library, n->library) == 0))
            return 1;
    }
    return 0;
}

/* Removes from the table at idx every string key not allowed under
 * `library` (NULL: the globals); `keep` is one extra name kept. Raises. */
static void strip_table(lua_State *L, int idx, const char *library, const char *keep)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L); /* the keys to remove; not removed while iterating */
    int doomed = lua_gettop(L), n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!key || !((keep && strcmp(key, keep) == 0) || is_allowed(library, key))) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, doomed, ++n);
        }
    }
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, doomed, i);
        lua_pushnil(L);
        lua_rawset(L, idx);
    }
    lua_pop(L, 1);
}

/* Pushes a copy of the table at idx, nested tables copied down to depth
 * levels (so operators can change their copy without touching the server's).
 * Raises. */
static void copy_table(lua_State *L, int idx, int depth)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 4, "copy_table");
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (depth > 1 && lua_type(L, -1) == LUA_TTABLE) {
            copy_table(L, -1, depth - 1);
            lua_replace(L, -2);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

/* setmetatable for operators: a metatable with __gc would run operator code
 * from the garbage collector, outside any protected call or hook (the
 * Redis CVE class). Lua only registers finalizers present at setmetatable
 * time, so checking here is enough. Raises. */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not allowed");
        lua_pop(L, 1);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, lua_isnoneornil(L, 2) || lua_istable(L, 2), 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* Checks a dotted module name (identifier segments only) and writes
 * lua_dir/seg/seg.lua into path. Returns 0 or -EINVAL. */
static int module_path(const char *lua_dir, const char *name, char *path, size_t cap)
{
    size_t len = strlen(name);
    if (len == 0 || len > MODULE_NAME_MAX || name[0] == '.' || name[len - 1] == '.') return -EINVAL;
    char rel[MODULE_NAME_MAX + 1];
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '.') {
            if (name[i + 1] == '.') return -EINVAL;
            rel[i] = '/';
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_') {
            rel[i] = c;
        } else {
            return -EINVAL;
        }
    }
    rel[len] = '\0';
    int n = snprintf(path, cap, "%s/%s.lua", lua_dir, rel);
    return n > 0 && (size_t)n < cap ? 0 : -EINVAL;
}

/* Reads a whole regular file into a userdata it pushes (a raise then
 * cannot leak a buffer; the file is opened only after the allocation).
 * Returns the size, or -1 with nothing pushed. Raises on OOM. */
static long push_file(lua_State *L, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SANDBOX_MODULE_MAX_BYTES)
        return -1;
    size_t size = (size_t)st.st_size;
    void *buf = lua_newuserdatauv(L, size ? size : 1, 0);
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(buf, 1, size, f) : 0;
    if (f) fclose(f);
    if (!f || got != size) {
        lua_pop(L, 1);
        return -1;
    }
    return (long)size;
}

/* require(name) for the server's own modules: lua_dir only, text only,
 * cached in the registry. Raises (it runs module code). */
static int sandbox_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    if (lua_getfield(L, -1, name) != LUA_TNIL) return 1;
    lua_pop(L, 1);

    char path[4096];
    const char *lua_dir = lua_tostring(L, lua_upvalueindex(1));
    if (module_path(lua_dir, name, path, sizeof path) != 0)
        return luaL_error(L, "module '%s': invalid name", name);
    long size = push_file(L, path);
    if (size < 0) return luaL_error(L, "module '%s' not found under %s", name, lua_dir);
    const char *chunkname = lua_pushfstring(L, "@%s", path + strlen(lua_dir) + 1);
    if (luaL_loadbufferx(L, lua_touserdata(L, -2), (size_t)size, chunkname, "t") != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, name);
    lua_call(L, 1, 1); /* server code, inside the caller's protected call */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name); /* the loaded table */
    return 1;
}

/* periscope.sentry_rules(text): a project's rules in Sentry's syntax,
 * parsed by server code (lua/periscope/sentry_rules.lua, loaded on first
 * use through the server's require). Raises with the reason when the rules
 * do not parse. */
static int sandbox_sentry_rules(lua_State *L)
{
    lua_settop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "periscope.sentry_rules");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "new");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

/* Filters the libraries already opened in _G down to the allow-list. */
static void strip_globals(lua_State *L)
{
    static const char *const libraries[] = {"string", "table", "math", "utf8"};
    lua_pushglobaltable(L);
    for (size_t i = 0; i < sizeof libraries / sizeof libraries[0]; i++) {
        lua_getfield(L, -1, libraries[i]);
        strip_table(L, -1, libraries[i], NULL);
        lua_pop(L, 1);
    }
    strip_table(L, -1, NULL, "require");
    lua_pop(L, 1);
}

/* The C loops a script could stretch, bounded for everyone (the server's
 * modules, operators' copies, and ("x"):find through the string
 * metatable, whose __index is this same table). */
static void bound_libraries(lua_State *L)
{
    lua_getglobal(L, "string");
    lua_getglobal(L, "table");
    pattern_guard_install(L, -2);
    sandbox_caps_install(L, -2, -1);
    lua_pop(L, 2);
}

/* The operator _ENV: copies of the allowed globals (the bounded
 * libraries), the guarded setmetatable, _G pointing to itself. Pushes it. */
static void push_operator_env(lua_State *L)
{
    lua_pushglobaltable(L);
    copy_table(L, -1, 3); /* globals → libraries → periscope.json */
    lua_remove(L, -2);
    lua_pushnil(L);
    lua_setfield(L, -2, "require");
    lua_pushcfunction(L, sandbox_setmetatable);
    lua_setfield(L, -2, "setmetatable");
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
}

int sandbox_open(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
    };
    luaL_checkstring(L, 1);
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }
    /* The string metatable leads to the real string table: hide it. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushliteral(L, "string");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, sandbox_require, 1);
    lua_setglobal(L, "require");
    strip_globals(L);
    bound_libraries(L);

    periscope_lib_open(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "periscope");
    lua_pop(L, 1);
    lua_setglobal(L, "periscope");
    lua_getglobal(L, "periscope");
    lua_pushcfunction(L, sandbox_sentry_rules);
    lua_setfield(L, -2, "sentry_rules");
    lua_pop(L, 1);

    push_operator_env(L);
    return 1;
}
