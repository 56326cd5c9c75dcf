/* lua/json — periscope.json, inside the state's memory cap (json.h). */
#include "lua/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "lua/vm.h"

#define BYTES_PER_UNIT 64
#define SPARSE_RATIO 2 /* an array may have at most this many slots per element … */
#define SPARSE_SAFE 10 /* … once it is longer than this */
#define EXACT_INTEGER_MAX 9007199254740992.0 /* 2^53 */
#define NUMBER_TEXT_MAX 512                  /* longer number literals are refused */

/* ---- encode ---- */

/* The output: a userdata at stack slot `slot`, replaced by a bigger one
 * as it grows (the cap refuses what is too big; an error frees it all). */
struct out {
    lua_State *L;
    int slot;
    char *data;
    size_t len, cap, charged;
};

static void out_reserve(struct out *o, size_t more)
{
    if (o->cap - o->len >= more) return;
    size_t cap = o->cap ? o->cap : 256;
    while (cap - o->len < more) {
        if (cap > ((size_t)-1) / 2) luaL_error(o->L, "json.encode: output too large");
        cap *= 2;
    }
    char *data = lua_newuserdatauv(o->L, cap, 0);
    if (o->len) memcpy(data, o->data, o->len);
    lua_replace(o->L, o->slot);
    o->data = data;
    o->cap = cap;
}

static void out_add(struct out *o, const char *s, size_t n)
{
    out_reserve(o, n);
    memcpy(o->data + o->len, s, n);
    o->len += n;
    if (o->len - o->charged >= BYTES_PER_UNIT * 1024) { /* charged in steps, not per byte */
        vm_charge(o->L, (long)((o->len - o->charged) / BYTES_PER_UNIT));
        o->charged = o->len;
    }
}

static void out_char(struct out *o, char c)
{
    out_add(o, &c, 1);
}

static void encode_string(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    out_char(o, '"');
    size_t run = 0; /* bytes copied as they are, flushed in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
            run++;
            continue;
        }
        out_add(o, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0};
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            out_add(o, esc, 6);
            continue;
        }
        out_add(o, esc, 2);
    }
    out_add(o, s + n - run, run);
    out_char(o, '"');
}

static void encode_number(struct out *o, int idx)
{
    char buf[40];
    int n;
    if (lua_isinteger(o->L, idx)) {
        n = snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(o->L, idx));
    } else {
        double d = lua_tonumber(o->L, idx);
        if (!isfinite(d)) luaL_error(o->L, "json.encode: cannot encode NaN or infinity");
        n = snprintf(buf, sizeof buf, "%.14g", d);
    }
    out_add(o, buf, (size_t)n);
}

/* The array length of the table at idx (all keys positive integers), or
 * -1 when it is an object. Raises for an excessively sparse array. */
static lua_Integer array_length(lua_State *L, int idx)
{
    lua_Integer max = 0, items = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
            lua_pop(L, 1);
            return -1;
        }
        lua_Integer k = lua_tointeger(L, -1);
        if (k > max) max = k;
        items++;
    }
    if (max > SPARSE_SAFE && max / SPARSE_RATIO > items)
        luaL_error(L, "json.encode: excessively sparse array (%I slots, %I elements)", max, items);
    return items ? max : -1;
}

static void encode_value(struct out *o, int idx, int depth);

static void encode_table(struct out *o, int idx, int depth)
{
    lua_State *L = o->L;
    if (depth >= JSON_MAX_DEPTH)
        luaL_error(L, "json.encode: nesting deeper than %d (a cycle?)", JSON_MAX_DEPTH);
    luaL_checkstack(L, 4, "json.encode");
    lua_Integer n = array_length(L, idx);
    if (n >= 0) {
        vm_charge(L, (long)(n / 8)); /* the holes, which the per-value charge misses */
        out_char(o, '[');
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1) out_char(o, ',');
            lua_rawgeti(L, idx, i);
            encode_value(o, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
        }
        out_char(o, ']');
        return;
    }
    out_char(o, '{');
    bool first = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);
        if (kt != LUA_TSTRING && kt != LUA_TNUMBER)
            luaL_error(L, "json.encode: a table key must be a string or a number, not a %s",
                       lua_typename(L, kt));
        if (!first) out_char(o, ',');
        first = false;
        lua_pushvalue(L, -2); /* a copy: tolstring would convert the key lua_next needs */
        size_t klen;
        const char *k = lua_tolstring(L, -1, &klen);
        encode_string(o, k, klen);
        lua_pop(L, 1);
        out_char(o, ':');
        encode_value(o, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
    out_char(o, '}');
}

static void encode_value(struct out *o, int idx, int depth)
{
    lua_State *L = o->L;
    vm_charge(L, 1);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        out_add(o, "null", 4);
        return;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            out_add(o, "true", 4);
        else
            out_add(o, "false", 5);
        return;
    case LUA_TNUMBER:
        encode_number(o, idx);
        return;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        encode_string(o, s, n);
        return;
    }
    case LUA_TTABLE:
        encode_table(o, idx, depth);
        return;
    case LUA_TLIGHTUSERDATA:
        if (!lua_touserdata(L, idx)) {
            out_add(o, "null", 4);
            return;
        }
        break;
    default:
        break;
    }
    luaL_error(L, "json.encode: cannot encode a %s", luaL_typename(L, idx));
}

static int json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    lua_pushnil(L); /* slot 2: the output buffer */
    struct out o = {.L = L, .slot = 2};
    encode_value(&o, 1, 0);
    lua_pushlstring(L, o.data ? o.data : "", o.len);
    return 1;
}

/* ---- decode ---- */

struct in {
    lua_State *L;
    const char *s;
    size_t n, i;
};

static int fail(struct in *in, const char *what)
{
    return luaL_error(in->L, "json.decode: %s at byte %d", what,
                      in->i > 0x7fffffff ? 0x7fffffff : (int)in->i + 1);
}

static void skip_space(struct in *in)
{
    while (in->i < in->n && (in->s[in->i] == ' ' || in->s[in->i] == '\t' || in->s[in->i] == '\n' ||
                             in->s[in->i] == '\r'))
        in->i++;
}

static int hex4(struct in *in)
{
    if (in->n - in->i < 4) return -1;
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = in->s[in->i + (size_t)k];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    in->i += 4;
    return v;
}

/* Code point cp as UTF-8 into b; returns the byte count. */
static int utf8_put(unsigned long cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (char)(0xf0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* \u and four hex digits (after the u), a surrogate pair taken whole. */
static unsigned long unicode_escape(struct in *in)
{
    int hi = hex4(in);
    if (hi < 0) fail(in, "invalid \\u escape");
    if (hi < 0xd800 || hi > 0xdfff) return (unsigned long)hi;
    if (hi > 0xdbff || in->n - in->i < 2 || in->s[in->i] != '\\' || in->s[in->i + 1] != 'u')
        fail(in, "unpaired surrogate in \\u escape");
    in->i += 2;
    int lo = hex4(in);
    if (lo < 0xdc00 || lo > 0xdfff) fail(in, "unpaired surrogate in \\u escape");
    return 0x10000 + (((unsigned long)hi - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
}

/* Pushes the string starting after its opening quote. */
static void decode_string(struct in *in)
{
    luaL_Buffer b;
    luaL_buffinit(in->L, &b);
    for (;;) {
        size_t start = in->i;
        while (in->i < in->n && in->s[in->i] != '"' && in->s[in->i] != '\\' &&
               (unsigned char)in->s[in->i] >= 0x20)
            in->i++;
        luaL_addlstring(&b, in->s + start, in->i - start);
        if (in->i >= in->n) fail(in, "unterminated string");
        char c = in->s[in->i++];
        if (c == '"') break;
        if (c != '\\') {
            in->i--;
            fail(in, "control character in string");
        }
        if (in->i >= in->n) fail(in, "unterminated string");
        char e = in->s[in->i++];
        char u[4];
        switch (e) {
        case '"':
        case '\\':
        case '/':
            luaL_addchar(&b, e);
            break;
        case 'b':
            luaL_addchar(&b, '\b');
            break;
        case 'f':
            luaL_addchar(&b, '\f');
            break;
        case 'n':
            luaL_addchar(&b, '\n');
            break;
        case 'r':
            luaL_addchar(&b, '\r');
            break;
        case 't':
            luaL_addchar(&b, '\t');
            break;
        case 'u':
            luaL_addlstring(&b, u, (size_t)utf8_put(unicode_escape(in), u));
            break;
        default:
            in->i--;
            fail(in, "invalid escape");
        }
    }
    luaL_pushresult(&b);
}

static void decode_number(struct in *in)
{
    size_t start = in->i;
    const char *s = in->s;
    if (in->i < in->n && s[in->i] == '-') in->i++;
    size_t int_start = in->i;
    while (in->i < in->n && s[in->i] >= '0' && s[in->i] <= '9')
        in->i++;
    size_t digits = in->i - int_start;
    if (digits == 0 || (digits > 1 && s[int_start] == '0')) fail(in, "invalid number");
    if (in->i < in->n && s[in->i] == '.') {
        size_t f = ++in->i;
        while (in->i < in->n && s[in->i] >= '0' && s[in->i] <= '9')
            in->i++;
        if (in->i == f) fail(in, "invalid number");
    }
    if (in->i < in->n && (s[in->i] == 'e' || s[in->i] == 'E')) {
        in->i++;
        if (in->i < in->n && (s[in->i] == '+' || s[in->i] == '-')) in->i++;
        size_t e = in->i;
        while (in->i < in->n && s[in->i] >= '0' && s[in->i] <= '9')
            in->i++;
        if (in->i == e) fail(in, "invalid number");
    }
    char text[NUMBER_TEXT_MAX + 1];
    size_t len = in->i - start;
    if (len > NUMBER_TEXT_MAX) fail(in, "number too long");
    memcpy(text, s + start, len);
    text[len] = '\0';
    double d = strtod(text, NULL);
    if (d == floor(d) && fabs(d) <= EXACT_INTEGER_MAX)
        lua_pushinteger(in->L, (lua_Integer)d);
    else
        lua_pushnumber(in->L, d);
}

static bool literal(struct in *in, const char *word, size_t n)
{
    if (in->n - in->i < n || memcmp(in->s + in->i, word, n) != 0) return false;
    in->i += n;
    return true;
}

static void decode_value(struct in *in, int depth);

/* Pushes the array or object whose opening bracket was just read. */
static void decode_container(struct in *in, char open, int depth)
{
    lua_State *L = in->L;
    if (depth >= JSON_MAX_DEPTH) fail(in, "nesting too deep");
    luaL_checkstack(L, 4, "json.decode");
    lua_newtable(L);
    char close = open == '[' ? ']' : '}';
    skip_space(in);
    if (in->i < in->n && in->s[in->i] == close) {
        in->i++;
        return;
    }
    for (lua_Integer k = 1;; k++) {
        skip_space(in);
        if (open == '{') {
            if (in->i >= in->n || in->s[in->i] != '"') fail(in, "expected a string key");
            in->i++;
            decode_string(in);
            skip_space(in);
            if (in->i >= in->n || in->s[in->i] != ':') fail(in, "expected ':'");
            in->i++;
        }
        decode_value(in, depth + 1);
        if (open == '{')
            lua_rawset(L, -3);
        else
            lua_rawseti(L, -2, k);
        skip_space(in);
        if (in->i < in->n && in->s[in->i] == ',') {
            in->i++;
            continue;
        }
        if (in->i < in->n && in->s[in->i] == close) {
            in->i++;
            return;
        }
        fail(in, open == '[' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}

static void decode_value(struct in *in, int depth)
{
    vm_charge(in->L, 1);
    skip_space(in);
    if (in->i >= in->n) fail(in, "unexpected end of text");
    char c = in->s[in->i];
    if (c == '{' || c == '[') {
        in->i++;
        decode_container(in, c, depth);
    } else if (c == '"') {
        in->i++;
        decode_string(in);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        decode_number(in);
    } else if (literal(in, "true", 4)) {
        lua_pushboolean(in->L, 1);
    } else if (literal(in, "false", 5)) {
        lua_pushboolean(in->L, 0);
    } else if (literal(in, "null", 4)) {
        lua_pushlightuserdata(in->L, NULL);
    } else {
        fail(in, "unexpected character");
    }
}

static int json_decode(lua_State *L)
{
    struct in in = {.L = L};
    in.s = luaL_checklstring(L, 1, &in.n);
    vm_charge(L, (long)(in.n / BYTES_PER_UNIT));
    decode_value(&in, 0);
    skip_space(&in);
    if (in.i < in.n) fail(&in, "trailing text");
    return 1;
}

void json_push_library(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"encode", json_encode},
        {"decode", json_decode},
        {NULL, NULL},
    };
    luaL_newlib(L, funcs);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
}
