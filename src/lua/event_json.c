/* lua/event_json — Lua table → cJSON, bounded, never raising. */
#include "lua/event_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>

#include "lua/event_table.h"

#define PATH_SEGMENTS 16 /* an error names at most this many levels of its path */
#define NODE_BYTES 8     /* what a value adds to the JSON text besides its contents */
#define NUMBER_BYTES 24  /* the longest number cJSON prints */

/* One level of the path to the value being converted: a key (a Lua string
 * on the stack while its value is converted) or a list index. */
struct segment {
    const char *key;
    lua_Integer index;
};

struct conv {
    lua_State *L;
    const struct event_json_limits *lim;
    size_t bytes;
    int depth; /* levels in path */
    struct segment path[PATH_SEGMENTS];
    char *err;
    size_t errlen;
};

/* The path is written out only for an error: "extra.list[2].f". */
static int fail(struct conv *c, int rc, const char *fmt, ...)
{
    char where[192] = "event", what[192];
    size_t len = 0;
    for (int i = 0; i < c->depth && i < PATH_SEGMENTS && len < sizeof where; i++) {
        const struct segment *s = &c->path[i];
        int n = s->key ? snprintf(where + len, sizeof where - len, "%s%.40s", i ? "." : "", s->key)
                       : snprintf(where + len, sizeof where - len, "[%lld]", (long long)s->index);
        len += n > 0 ? (size_t)n : 0;
    }
    if (c->depth > PATH_SEGMENTS && len < sizeof where)
        snprintf(where + len, sizeof where - len, "...");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s", where, what);
    return rc;
}

/* Counts n more bytes of JSON text; -E2BIG past the limit. */
static int spend(struct conv *c, size_t n)
{
    c->bytes += n;
    if (c->bytes <= c->lim->max_bytes) return 0;
    return fail(c, -E2BIG, "the event would exceed %zu bytes", c->lim->max_bytes);
}

/* Whether s[0..n) is UTF-8 (no overlongs, no surrogates, <= U+10FFFF)
 * without NUL bytes. ASCII, the common case, goes eight bytes at a time. */
static bool text_ok(const unsigned char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    for (size_t i = 0; i < n;) {
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (!(x & high) && !((x - ones) & ~x & high)) { /* ASCII, no NUL */
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c == 0) return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (len == 0 || c > 0xf4 || i + len > n) return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80) return false;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
            return false;
        i += len;
    }
    return true;
}

static void path_push(struct conv *c, const char *key, lua_Integer index)
{
    if (c->depth < PATH_SEGMENTS) c->path[c->depth] = (struct segment){key, index};
    c->depth++;
}

static void path_pop(struct conv *c)
{
    c->depth--;
}

static int convert(struct conv *c, int idx, int depth, cJSON **out);

static int convert_string(struct conv *c, int idx, cJSON **out)
{
    size_t n;
    const char *s = lua_tolstring(c->L, idx, &n); /* a string: no conversion, no allocation */
    if (!text_ok((const unsigned char *)s, n))
        return fail(c, -EINVAL, "strings must be UTF-8 without NUL bytes");
    int rc = spend(c, n + NODE_BYTES);
    if (rc) return rc;
    *out = cJSON_CreateString(s);
    return *out ? 0 : -ENOMEM;
}

static int convert_number(struct conv *c, int idx, cJSON **out)
{
    double d =
        lua_isinteger(c->L, idx) ? (double)lua_tointeger(c->L, idx) : lua_tonumber(c->L, idx);
    if (!isfinite(d)) return fail(c, -EINVAL, "numbers must be finite");
    int rc = spend(c, NUMBER_BYTES);
    if (rc) return rc;
    *out = cJSON_CreateNumber(d);
    return *out ? 0 : -ENOMEM;
}

/* The table at idx: 1 for an array of *n elements, 0 for an object, or a
 * negative error. */
static int table_kind(struct conv *c, int idx, lua_Integer *n)
{
    lua_State *L = c->L;
    bool marked = false;
    if (lua_getmetatable(L, idx)) {
        event_table_push_array_mt(L);
        marked = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    lua_Integer count = 0, max = 0;
    bool indexes = true;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        count++;
        if (indexes && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
            lua_Integer k = lua_tointeger(L, -1);
            if (k > max) max = k;
        } else {
            indexes = false;
            if (!marked) { /* a name: an object, whatever else it holds */
                lua_pop(L, 1);
                break;
            }
        }
    }
    *n = count;
    if (count == 0) return marked ? 1 : 0;
    if (indexes && max == count) return 1;
    if (marked) return fail(c, -EINVAL, "a list may only hold the indexes 1..n");
    return 0;
}

static int convert_array(struct conv *c, int idx, int depth, lua_Integer n, cJSON **out)
{
    lua_State *L = c->L;
    cJSON *a = cJSON_CreateArray();
    if (!a) return -ENOMEM;
    int rc = spend(c, NODE_BYTES);
    for (lua_Integer i = 1; rc == 0 && i <= n; i++) {
        lua_rawgeti(L, idx, i);
        path_push(c, NULL, i);
        cJSON *v = NULL;
        rc = convert(c, lua_gettop(L), depth + 1, &v);
        path_pop(c);
        lua_pop(L, 1);
        if (rc == 0) cJSON_AddItemToArray(a, v);
    }
    if (rc != 0) {
        cJSON_Delete(a);
        return rc;
    }
    *out = a;
    return 0;
}

static int convert_object(struct conv *c, int idx, int depth, cJSON **out)
{
    lua_State *L = c->L;
    cJSON *o = cJSON_CreateObject();
    if (!o) return -ENOMEM;
    int rc = spend(c, NODE_BYTES);
    lua_pushnil(L);
    while (rc == 0 && lua_next(L, idx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            rc = fail(c, -EINVAL, "object keys must be strings (a table mixing list and names?)");
            lua_pop(L, 2);
            break;
        }
        size_t klen;
        const char *key = lua_tolstring(L, -2, &klen);
        cJSON *v = NULL;
        path_push(c, key, 0);
        if (!text_ok((const unsigned char *)key, klen))
            rc = fail(c, -EINVAL, "keys must be UTF-8 without NUL bytes");
        else if ((rc = spend(c, klen)) == 0)
            rc = convert(c, lua_gettop(L), depth + 1, &v);
        path_pop(c);
        lua_pop(L, 1); /* the value; the key stays for lua_next */
        if (rc == 0 && !cJSON_AddItemToObject(o, key, v)) {
            cJSON_Delete(v);
            rc = -ENOMEM;
        }
        if (rc != 0) lua_pop(L, 1);
    }
    if (rc != 0) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return 0;
}

static int convert(struct conv *c, int idx, int depth, cJSON **out)
{
    lua_State *L = c->L;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return convert_string(c, idx, out);
    case LUA_TNUMBER:
        return convert_number(c, idx, out);
    case LUA_TBOOLEAN:
        *out = cJSON_CreateBool(lua_toboolean(L, idx));
        return *out ? spend(c, NODE_BYTES) : -ENOMEM;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) != NULL) break;
        *out = cJSON_CreateNull();
        return *out ? spend(c, NODE_BYTES) : -ENOMEM;
    case LUA_TTABLE: {
        if (depth > c->lim->max_depth)
            return fail(c, -E2BIG, "nested deeper than %d levels (a table that holds itself?)",
                        c->lim->max_depth);
        if (!lua_checkstack(L, 4)) return fail(c, -ENOMEM, "Lua stack exhausted");
        lua_Integer n;
        int kind = table_kind(c, idx, &n);
        if (kind < 0) return kind;
        return kind ? convert_array(c, idx, depth, n, out) : convert_object(c, idx, depth, out);
    }
    default:
        break;
    }
    return fail(c, -EINVAL, "a %s cannot be stored in an event", luaL_typename(L, idx));
}

int event_json_from_lua(lua_State *L, int idx, const struct event_json_limits *lim, cJSON **out,
                        char *err, size_t errlen)
{
    struct conv c = {.L = L, .lim = lim, .err = err, .errlen = errlen};
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        return fail(&c, -EINVAL, "must be a table, not a %s", luaL_typename(L, idx));
    int top = lua_gettop(L);
    int rc = convert(&c, idx, 0, out);
    lua_settop(L, top);
    if (rc == 0 && !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        rc = fail(&c, -EINVAL, "the event must be a table of fields, not a list");
    }
    return rc;
}
