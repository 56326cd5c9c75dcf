/* lua/pattern_guard — bounded-time Lua pattern matching. string.find,
 * match, gmatch and gsub run in C, where neither the count hook nor the
 * deadline watchdog can stop them, and Lua's backtracking matcher can take
 * about starts × (n+1)^q steps against an n-byte subject: ("a*"):rep(10).."b"
 * against ("a"):rep(5000) would run for ages, ("a"):rep(1e5):find("a*b")
 * for seconds, a long needle in a plain find for as long.
 *
 * So the sandbox_open'ed `string` library (the one the server's own modules
 * use, the string metatable's methods, and the operators' copies: no code
 * is exempt) has these four wrapped:
 *
 *  - Plain finds (4th argument true, or a pattern without specials) are
 *    done here with memmem, which is linear, and give Lua's results.
 *  - Every other call is estimated before the real function runs:
 *      starts × Π(choices of each quantifier but a trailing one) × cost of
 *      one attempt (the pattern's length, plus the subject's for each %b
 *      and back-reference), plus the subject's length,
 *    where starts is 1 when anchored (^, not for gmatch), the number of
 *    occurrences of the pattern's literal prefix when it has one, else
 *    n+1; a quantifier on class C has (longest run of C in the subject)+1
 *    choices (2 for ?); a quantifier at the very end of the pattern (only
 *    captures closing after it) never backtracks and costs its run once.
 *    The subject is what lies from init on (find, match, gmatch). An
 *    estimate over PATTERN_GUARD_BUDGET raises "pattern too complex for a
 *    subject of N bytes"; else it is charged (1 unit per
 *    PATTERN_STEPS_PER_UNIT steps) against the call's instruction limit
 *    (vm_charge: "script timeout") — a find only for the starts it went
 *    through before its match, a plain find 1 unit per 64 bytes scanned.
 *
 * Used by sandbox_open only; a state is owned by one thread. */
#ifndef PERISCOPE_LUA_PATTERN_GUARD_H
#define PERISCOPE_LUA_PATTERN_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

#define PATTERN_GUARD_BUDGET 2e7  /* estimated matcher steps in one call, at most (~0.1 s) */
#define PATTERN_STEPS_PER_UNIT 16 /* estimated steps charged as one instruction */
#define PATTERN_BYTES_PER_UNIT 64 /* bytes a plain find scans per instruction charged */

/* The estimate above for pattern p (plen bytes) against subject s (n
 * bytes); anchor_ok false for gmatch (where ^ is a literal). Pure. */
double pattern_guard_estimate(const char *s, size_t n, const char *p, size_t plen, bool anchor_ok);

/* Replaces find, match, gmatch and gsub of the string library table at idx
 * with the guarded ones. Raises on allocation failure. */
void pattern_guard_install(lua_State *L, int idx);

#endif
