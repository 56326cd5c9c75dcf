#include "notify/format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>

/* Deeper JSON than this is not pushed (the alert data is shallow). */
#define FORMAT_MAX_DEPTH 32

struct notify_format {
    lua_State *L;
    int module_ref; /* periscope.format */
    int encode_ref; /* cjson.encode */
    int decode_ref; /* cjson.decode */
};

void notify_message_clear(struct notify_message *m)
{
    free(m->body);
    free(m->content_type);
    free(m->subject);
    free(m->text);
    free(m->html);
    memset(m, 0, sizeof *m);
}

static int traceback(lua_State *L)
{
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

/* Runs the function on the stack top with nargs under it; leaves nres
 * results or copies the error into err. */
static int pcall(lua_State *L, int nargs, int nres, char *err, size_t errlen)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    if (rc != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "lua error");
        lua_pop(L, 1);
        return -EINVAL;
    }
    return 0;
}

static int require_ref(lua_State *L, const char *name, char *err, size_t errlen)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    if (pcall(L, 1, 1, err, errlen) < 0) return LUA_NOREF;
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

int notify_format_new(const char *lua_dir, struct notify_format **out, char *err, size_t errlen)
{
    struct notify_format *f = calloc(1, sizeof *f);
    if (!f) return -ENOMEM;
    f->L = luaL_newstate();
    if (!f->L) goto oom;
    luaL_openlibs(f->L);
    lua_getglobal(f->L, "package");
    lua_pushfstring(f->L, "%s/?.lua", lua_dir);
    lua_setfield(f->L, -2, "path");
    lua_pop(f->L, 1);

    f->module_ref = require_ref(f->L, "periscope.format", err, errlen);
    if (f->module_ref == LUA_NOREF) goto fail;
    int cjson = require_ref(f->L, "cjson", err, errlen);
    if (cjson == LUA_NOREF) goto fail;
    lua_rawgeti(f->L, LUA_REGISTRYINDEX, cjson);
    lua_getfield(f->L, -1, "encode");
    f->encode_ref = luaL_ref(f->L, LUA_REGISTRYINDEX);
    lua_getfield(f->L, -1, "decode");
    f->decode_ref = luaL_ref(f->L, LUA_REGISTRYINDEX);
    lua_pop(f->L, 1);
    *out = f;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    notify_format_free(f);
    return -EINVAL;
}

void notify_format_free(struct notify_format *f)
{
    if (!f) return;
    if (f->L) lua_close(f->L);
    free(f);
}

/* Pushes v as a Lua value: objects and arrays as tables, null as nil in
 * objects (an absent field) and as cjson.null (NULL lightuserdata) in
 * arrays. Returns false when too deep or out of stack. */
static bool push_json(lua_State *L, const json_t *v, int depth)
{
    if (depth > FORMAT_MAX_DEPTH || !lua_checkstack(L, 3)) return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *item;
        lua_createtable(L, 0, (int)json_object_size(v));
        json_object_foreach((json_t *)v, k, item)
        {
            if (json_is_null(item)) continue;
            if (!push_json(L, item, depth + 1)) return false;
            lua_setfield(L, -2, k);
        }
        return true;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        lua_createtable(L, (int)json_array_size(v), 0);
        json_array_foreach(v, i, item)
        {
            if (!push_json(L, item, depth + 1)) return false;
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return true;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        return true;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        return true;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(v));
        return true;
    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(v));
        return true;
    case JSON_NULL:
        lua_pushlightuserdata(L, NULL);
        return true;
    }
    return false;
}

static char *dup_top(lua_State *L, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (!s) return NULL;
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

/* Stack: message [fallback]. Calls format.encode(dtype, message, cjson.encode,
 * fallback) and moves the strings into out. Pops its inputs. */
static int encode_message(struct notify_format *f, const char *dtype, bool with_fallback,
                          struct notify_message *out, char *err, size_t errlen)
{
    lua_State *L = f->L;
    if (!with_fallback) lua_pushnil(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->module_ref);
    lua_getfield(L, -1, "encode");
    lua_remove(L, -2);
    lua_insert(L, -3); /* encode message fallback */
    lua_pushstring(L, dtype);
    lua_insert(L, -3); /* encode dtype message fallback */
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->encode_ref);
    lua_insert(L, -2); /* encode dtype message cjson.encode fallback */
    if (pcall(L, 4, 3, err, errlen) < 0) return -EINVAL;
    memset(out, 0, sizeof *out);
    bool email = strcmp(dtype, "email") == 0;
    if (email) {
        out->subject = dup_top(L, -3);
        out->text = dup_top(L, -2);
        out->html = dup_top(L, -1);
    } else {
        out->body = dup_top(L, -3);
        out->content_type = dup_top(L, -2);
    }
    lua_pop(L, 3);
    if (email ? !(out->subject && out->text && out->html) : !(out->body && out->content_type)) {
        notify_message_clear(out);
        snprintf(err, errlen, "formatter returned no message");
        return -EINVAL;
    }
    return 0;
}

static const char *dest_type(const json_t *dest)
{
    const char *t = json_string_value(json_object_get(dest, "type"));
    return t ? t : "";
}

/* Pushes format[fn](arg, dest): one result on success. */
static int call_formatter(struct notify_format *f, const char *fn, const json_t *arg,
                          const json_t *dest, char *err, size_t errlen)
{
    lua_State *L = f->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->module_ref);
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    if (!push_json(L, arg, 0) || !push_json(L, dest, 0)) {
        lua_settop(L, top);
        snprintf(err, errlen, "alert data too deep");
        return -EINVAL;
    }
    if (pcall(L, 2, 1, err, errlen) < 0) return -EINVAL;
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        snprintf(err, errlen, "no formatter for destination type '%s'", dest_type(dest));
        return -EINVAL;
    }
    return 0;
}

int notify_format_render(struct notify_format *f, const json_t *alert, const json_t *dest,
                         struct notify_message *out, char *err, size_t errlen)
{
    int rc = call_formatter(f, "default", alert, dest, err, errlen);
    if (rc < 0) return rc;
    rc = encode_message(f, dest_type(dest), false, out, err, errlen);
    lua_gc(f->L, LUA_GCSTEP, 0);
    return rc;
}

int notify_format_digest(struct notify_format *f, const json_t *alerts, const json_t *dest,
                         struct notify_message *out, char *err, size_t errlen)
{
    int rc = call_formatter(f, "digest", alerts, dest, err, errlen);
    if (rc < 0) return rc;
    return encode_message(f, dest_type(dest), false, out, err, errlen);
}

int notify_format_override(struct notify_format *f, const json_t *alert, const json_t *dest,
                           const char *value, size_t len, bool is_json, struct notify_message *out,
                           char *err, size_t errlen)
{
    lua_State *L = f->L;
    if (is_json) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, f->decode_ref);
        lua_pushlstring(L, value, len);
        if (pcall(L, 1, 1, err, errlen) < 0) return -EINVAL;
    } else {
        lua_pushlstring(L, value, len);
    }
    int rc = call_formatter(f, "default", alert, dest, err, errlen);
    if (rc < 0) {
        lua_pop(L, 1);
        return rc;
    }
    return encode_message(f, dest_type(dest), true, out, err, errlen);
}
