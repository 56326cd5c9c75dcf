/* lua/pattern_guard — a worst-case estimate in front of Lua's pattern
 * matcher, and linear plain finds (pattern_guard.h). */
#include "lua/pattern_guard.h"

#include <ctype.h>
#include <string.h>
#include <lauxlib.h>

#include "lua/vm.h"

enum guarded_fn { FN_FIND, FN_MATCH, FN_GMATCH, FN_GSUB, FN_COUNT };
static const char *const GUARDED[FN_COUNT] = {"find", "match", "gmatch", "gsub"};

#define PREFIX_MAX 64 /* literal prefix bytes looked for */
#define RUNS_MAX 16   /* quantified classes measured on the subject; the rest count as n */

/* Index just past the bracket class that starts at p[i] == '[' (a ']' right
 * after '[' or '[^' is literal); plen when it is not closed. */
static size_t class_end(const char *p, size_t plen, size_t i)
{
    i++;
    if (i < plen && p[i] == '^') i++;
    do {
        if (i >= plen) return plen;
        if (p[i++] == '%' && i < plen) i++;
    } while (i < plen && p[i] != ']');
    return i < plen ? i + 1 : plen;
}

/* %a, %d, … (upper case: the complement); any other letter after % is
 * that character itself. */
static bool letter_class(int c, int cl)
{
    bool in;
    switch (tolower(cl)) {
    case 'a':
        in = isalpha(c);
        break;
    case 'c':
        in = iscntrl(c);
        break;
    case 'd':
        in = isdigit(c);
        break;
    case 'g':
        in = isgraph(c);
        break;
    case 'l':
        in = islower(c);
        break;
    case 'p':
        in = ispunct(c);
        break;
    case 's':
        in = isspace(c);
        break;
    case 'u':
        in = isupper(c);
        break;
    case 'w':
        in = isalnum(c);
        break;
    case 'x':
        in = isxdigit(c);
        break;
    default:
        return cl == c;
    }
    return isupper(cl) ? !in : in;
}

/* [set] from p[open] == '[' to p[close] == ']'. */
static bool bracket_class(int c, const char *p, size_t open, size_t close)
{
    size_t i = open + 1;
    bool negate = i < close && p[i] == '^';
    if (negate) i++;
    for (; i < close; i++) {
        int k = (unsigned char)p[i];
        if (k == '%' && i + 1 < close) {
            if (letter_class(c, (unsigned char)p[++i])) return !negate;
        } else if (i + 2 < close && p[i + 1] == '-') {
            if (k <= c && c <= (unsigned char)p[i + 2]) return !negate;
            i += 2;
        } else if (k == c) {
            return !negate;
        }
    }
    return negate;
}

/* Whether byte c matches the one-character class p[start, end). */
static bool class_match(int c, const char *p, size_t start, size_t end)
{
    switch (p[start]) {
    case '.':
        return true;
    case '%':
        return end - start >= 2 && letter_class(c, (unsigned char)p[start + 1]);
    case '[':
        return bracket_class(c, p, start, end - 1);
    default:
        return (unsigned char)p[start] == c;
    }
}

/* The longest run of subject bytes in the class: how far a quantifier on
 * it can ever stretch. */
static size_t longest_run(const char *s, size_t n, const char *p, size_t start, size_t end)
{
    if (p[start] == '.') return n;
    size_t best = 0, run = 0;
    for (size_t i = 0; i < n; i++) {
        run = class_match((unsigned char)s[i], p, start, end) ? run + 1 : 0;
        if (run > best) best = run;
    }
    return best;
}

/* The character a one-character class stands for when it is a literal,
 * or -1. */
static int literal_of(const char *p, size_t start, size_t end)
{
    if (end - start == 1 && p[start] != '.' && p[start] != '[') return (unsigned char)p[start];
    if (end - start == 2 && p[start] == '%' && !isalnum((unsigned char)p[start + 1]))
        return (unsigned char)p[start + 1];
    return -1;
}

/* Occurrences (overlapping) of lit in s: the starts a pattern beginning
 * with lit gets past its first few bytes at. */
static double occurrences(const char *s, size_t n, const char *lit, size_t k)
{
    double count = 0;
    const char *at = s, *end = s + n;
    while ((size_t)(end - at) >= k && (at = memmem(at, (size_t)(end - at), lit, k)) != NULL) {
        count++;
        at++;
    }
    return count;
}

/* The estimate in parts: total = starts × per_start + linear. */
struct estimate {
    double starts, per_start, linear;
};

static void estimate(const char *s, size_t n, const char *p, size_t plen, bool anchor_ok,
                     struct estimate *out)
{
    bool anchored = anchor_ok && plen > 0 && p[0] == '^';
    double attempt = (double)plen + 1, paths = 1, pending = 1, own_work = (double)n;
    char prefix[PREFIX_MAX];
    size_t prefix_len = 0;
    bool in_prefix = !anchored;
    int runs = 0;
    for (size_t i = anchored ? 1 : 0; i < plen;) {
        char c = p[i];
        if (c == '(' || c == ')') { /* captures: zero width */
            i++;
            continue;
        }
        /* Something follows the last quantifier: it backtracks. */
        paths *= pending;
        pending = 1;
        if (c == '$' && i + 1 == plen) break;
        if (c == '%' && i + 1 < plen && (p[i + 1] == 'b' || isdigit((unsigned char)p[i + 1]))) {
            attempt += (double)n; /* a balance or a back-reference scans the subject */
            i += p[i + 1] == 'b' ? 4 : 2;
            in_prefix = false;
            continue;
        }
        if (c == '%' && i + 1 < plen && p[i + 1] == 'f') {
            i += 2;
            if (i < plen && p[i] == '[') i = class_end(p, plen, i);
            in_prefix = false;
            continue;
        }
        size_t start = i;
        i = c == '[' ? class_end(p, plen, i) : c == '%' && i + 1 < plen ? i + 2 : i + 1;
        char q = i < plen && p[i] && strchr("*+-?", p[i]) ? p[i++] : 0;
        int lit = q ? -1 : literal_of(p, start, i);
        if (in_prefix && lit >= 0 && prefix_len < PREFIX_MAX) {
            prefix[prefix_len++] = (char)lit;
            continue;
        }
        in_prefix = false;
        if (!q) continue;
        size_t run = n;
        if (q != '?' && runs++ < RUNS_MAX) {
            run = longest_run(s, n, p, start, i - 1);
            own_work += (double)n;
        }
        pending = q == '?' ? 2 : (double)run + 1;
    }
    /* pending is a trailing quantifier now: it stretches once per match. */
    out->starts = anchored ? 1 : prefix_len ? occurrences(s, n, prefix, prefix_len) : (double)n + 1;
    out->per_start = paths * attempt;
    out->linear = own_work + (anchored || !prefix_len ? 0 : ((double)n + 1) * (double)prefix_len);
}

double pattern_guard_estimate(const char *s, size_t n, const char *p, size_t plen, bool anchor_ok)
{
    struct estimate e;
    estimate(s, n, p, plen, anchor_ok, &e);
    return e.starts * e.per_start + e.linear;
}

static bool no_specials(const char *p, size_t plen)
{
    for (size_t i = 0; i < plen; i++)
        if (p[i] && strchr("^$*+?.([%-", p[i])) return false;
    return true;
}

/* Where a find or match starts: the library's rule for a (possibly
 * negative) init, 0-based; > n when it starts past the end. */
static size_t start_of(lua_State *L, int arg, size_t n)
{
    lua_Integer init = luaL_optinteger(L, arg, 1);
    if (init > 0) return (size_t)init - 1;
    if (init == 0 || (size_t) - (init + 1) >= n) /* -(init+1): no overflow at the minimum */
        return 0;
    return n - (size_t) - (init + 1) - 1;
}

static void charge_steps(lua_State *L, double steps)
{
    double units = steps / PATTERN_STEPS_PER_UNIT;
    vm_charge(L, units > 1e15 ? (long)1e15 : (long)units);
}

/* string.find for a plain needle, as the library answers it, with memmem
 * (linear) instead of a first-byte scan and compare (quadratic at worst). */
static int plain_find(lua_State *L, const char *s, size_t n, const char *p, size_t plen)
{
    size_t start = start_of(L, 3, n);
    if (start > n) {
        lua_pushnil(L);
        return 1;
    }
    const char *hit = plen == 0 ? s + start : memmem(s + start, n - start, p, plen);
    size_t scanned = (hit ? (size_t)(hit - s) + plen : n) - start;
    vm_charge(L, (long)(scanned / PATTERN_BYTES_PER_UNIT));
    if (!hit) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
    lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)plen);
    return 2;
}

/* Calls the library's own function (upvalue 1) on the arguments. */
static int call_library(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* The guarded function; upvalue 1 is the library's own, upvalue 2 which
 * one it is. Raises. */
static int guarded(lua_State *L)
{
    int fn = (int)lua_tointeger(L, lua_upvalueindex(2));
    int ts = lua_type(L, 1), tp = lua_type(L, 2);
    if ((ts != LUA_TSTRING && ts != LUA_TNUMBER) || (tp != LUA_TSTRING && tp != LUA_TNUMBER))
        return call_library(L); /* it raises the argument error */
    size_t n, plen;
    const char *s = lua_tolstring(L, 1, &n); /* numbers converted in place, as the library does */
    const char *p = lua_tolstring(L, 2, &plen);
    if (fn == FN_FIND && (lua_toboolean(L, 4) || no_specials(p, plen)))
        return plain_find(L, s, n, p, plen);
    /* find, match and gmatch start at init: what lies before never counts */
    size_t start = fn == FN_GSUB ? 0 : start_of(L, 3, n);
    if (start > n) start = n;
    struct estimate e;
    estimate(s + start, n - start, p, plen, fn != FN_GMATCH, &e);
    double worst = e.starts * e.per_start + e.linear;
    if (worst > PATTERN_GUARD_BUDGET)
        return luaL_error(L, "pattern too complex for a subject of %d bytes",
                          n > 0x7fffffff ? 0x7fffffff : (int)n);
    if (fn != FN_FIND) {
        charge_steps(L, worst);
        return call_library(L);
    }
    /* find stops at its match: charge the starts it got through. */
    int results = call_library(L);
    double tried = (double)(n - start) + 1;
    if (lua_type(L, 1) == LUA_TNUMBER) tried = (double)lua_tointeger(L, 1) - (double)start;
    charge_steps(L, (tried < e.starts ? tried : e.starts) * e.per_start + e.linear);
    return results;
}

void pattern_guard_install(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    for (int i = 0; i < FN_COUNT; i++) {
        lua_getfield(L, idx, GUARDED[i]);
        lua_pushinteger(L, i);
        lua_pushcclosure(L, guarded, 2);
        lua_setfield(L, idx, GUARDED[i]);
    }
}
