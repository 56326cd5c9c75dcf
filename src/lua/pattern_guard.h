/* lua/pattern_guard — the sandbox's defence against catastrophic Lua
 * patterns. string.find/match/gmatch/gsub run in C, where the count hook
 * cannot stop them, and a pattern with q quantifiers can backtrack about
 * (n+1)^q times against an n-byte subject (("a*"):rep(10).."b" against
 * ("a"):rep(5000) would run for ages).
 *
 * The guard wraps those four functions: before the real one runs it
 * estimates the worst case as (n+1)^q, q counting unescaped *, +, -, ?
 * outside character classes plus each %b and %f, and raises "pattern too
 * complex for a subject of N bytes" when that exceeds
 * PATTERN_GUARD_BUDGET. Plain finds (4th argument true) and patterns
 * without quantifiers pass untouched. The server's own modules (chunks
 * named "@…", loaded from lua_dir) are trusted and never refused.
 *
 * Used by sandbox_open only; a state is owned by one thread. */
#ifndef PERISCOPE_LUA_PATTERN_GUARD_H
#define PERISCOPE_LUA_PATTERN_GUARD_H

#include <stddef.h>
#include <lua.h>

#define PATTERN_GUARD_BUDGET 1e8 /* estimated backtracking steps per call */

/* The quantifier count of a Lua pattern (see above). Pure. */
int pattern_guard_quantifiers(const char *pattern, size_t len);

/* True when (subject_len + 1)^quantifiers exceeds the budget. Pure. */
int pattern_guard_too_complex(size_t subject_len, int quantifiers);

/* Pushes a copy of the string library table at idx whose find, match,
 * gmatch and gsub are guarded. Raises on allocation failure. */
void pattern_guard_push_library(lua_State *L, int idx);

#endif
