/* The operator sandbox: exactly the allow-list, and every escape class from
 * Redis's Lua CVEs fails safely — after which the next event is processed
 * normally by the same state. Catastrophic patterns are refused before
 * the C matcher runs; ordinary ones still work. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/pattern_guard.h"
#include "lua/sandbox.h"
#include "lua_helpers.h"

/* The hash the fixture grouping gives the sample event. */
static char default_hash[33];

static struct script *open_ok(const char *source)
{
    struct vm_limits limits = test_limits();
    struct script *s = NULL;
    struct vm_error err = {0};
    int rc = script_open(&limits, source, source ? strlen(source) : 0, &s, &err);
    if (rc != 0) fail_msg("script_open: %s", err.trace);
    return s;
}

/* Runs the sample event; returns the result (caller clears). */
static struct script_result run_sample(struct script *s)
{
    cJSON *ev = sample_event();
    struct script_result res;
    assert_int_equal(script_run(s, ev, true, &res), 0);
    cJSON_Delete(ev);
    return res;
}

/* The same state still processes an event exactly as the default does. */
static void assert_next_event_normal(struct script *s)
{
    cJSON *ev = sample_event();
    struct script_result res;
    assert_int_equal(script_run(s, ev, false, &res), 0);
    assert_false(res.filtered);
    assert_string_equal(res.hash, default_hash);
    script_result_clear(&res);
    cJSON_Delete(ev);
}

/* A filter hook whose body is `body`: runs it, expects one error of kind,
 * the event kept with the default grouping, then a normal next event. */
static void assert_filter_fails_safely(const char *body, enum vm_error_kind kind,
                                       const char *needle)
{
    char source[1024];
    snprintf(source, sizeof source, "return { filter = function(event) %s end }", body);
    struct script *s = open_ok(source);
    struct script_result res = run_sample(s);
    assert_int_equal(res.nerrors, 1);
    assert_string_equal(res.errors[0].hook, "filter");
    if (res.errors[0].error.kind != kind)
        fail_msg("kind %s, want %s: %s", vm_error_kind_name(res.errors[0].error.kind),
                 vm_error_kind_name(kind), res.errors[0].error.trace);
    if (needle && !strstr(res.errors[0].error.message, needle))
        fail_msg("message '%s' lacks '%s'", res.errors[0].error.message, needle);
    assert_false(res.filtered);
    assert_string_equal(res.hash, default_hash);
    script_result_clear(&res);
    assert_next_event_normal(s);
    script_close(s);
}

/* Runs an operator chunk in a bare vm and returns its string result
 * (caller frees), or NULL when it raised (err filled). */
static char *eval_operator(const char *source, struct vm_error *err)
{
    struct vm_limits limits = test_limits();
    struct vm *vm = NULL;
    assert_int_equal(vm_new(&limits, &vm, err), 0);
    char *out = NULL;
    if (vm_load_operator_chunk(vm, source, strlen(source), err) == 0 &&
        vm_pcall(vm, 0, 1, err) == 0) {
        out =
            strdup(lua_tostring(vm_lua(vm), -1) ? lua_tostring(vm_lua(vm), -1) : "(not a string)");
        lua_pop(vm_lua(vm), 1);
    }
    vm_free(vm);
    return out;
}

static int setup(void **state)
{
    (void)state;
    struct script *s = open_ok(NULL);
    struct script_result res = run_sample(s);
    memcpy(default_hash, res.hash, sizeof default_hash);
    script_result_clear(&res);
    script_close(s);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_sandbox_globals_are_exactly_the_allow_list(void **state)
{
    (void)state;
    /* "periscope" is ours (lib.c): its contents are not enumerated here. */
    char *names[512];
    size_t n = 0;
    for (size_t i = 0; i < sandbox_allowed_count; i++) {
        const struct sandbox_name *a = &sandbox_allowed[i];
        char buf[128];
        snprintf(buf, sizeof buf, "%s%s%s", a->library ? a->library : "", a->library ? "." : "",
                 a->name);
        names[n++] = strdup(buf);
    }
    qsort(names, n, sizeof names[0], cmp_str);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(names[i]) + 1;
    char *expected = calloc(1, len + 1);
    for (size_t i = 0; i < n; i++) {
        strcat(expected, names[i]);
        if (i + 1 < n) strcat(expected, " ");
        free(names[i]);
    }

    struct vm_error err;
    char *got = eval_operator("local names = {}\n"
                              "for k, v in pairs(_ENV) do\n"
                              "  names[#names + 1] = k\n"
                              "  if type(v) == 'table' and k ~= '_G' and k ~= 'periscope' then\n"
                              "    for k2 in pairs(v) do names[#names + 1] = k .. '.' .. k2 end\n"
                              "  end\n"
                              "end\n"
                              "table.sort(names)\n"
                              "return table.concat(names, ' ')\n",
                              &err);
    if (!got) fail_msg("%s", err.trace);
    assert_string_equal(got, expected);
    free(got);
    free(expected);
}

static void test_sandbox_forbidden_globals_are_absent(void **state)
{
    (void)state;
    static const char *const forbidden[] = {
        "package",        "io",         "os",        "debug",
        "load",           "loadstring", "dofile",    "loadfile",
        "collectgarbage", "require",    "coroutine", "print",
        "warn",           "module",     "setfenv",   "getfenv",
        "newproxy",       "gcinfo",     "jit",       "ffi",
    };
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        char source[128];
        snprintf(source, sizeof source, "return tostring(%s == nil and _G.%s == nil)", forbidden[i],
                 forbidden[i]);
        struct vm_error err;
        char *got = eval_operator(source, &err);
        if (!got || strcmp(got, "true") != 0) fail_msg("%s is reachable", forbidden[i]);
        free(got);
    }
    struct vm_error err;
    char *got = eval_operator("return tostring(string.dump == nil and ('').dump == nil)", &err);
    assert_string_equal(got, "true");
    free(got);
}

static void test_sandbox_string_metatable_is_hidden(void **state)
{
    (void)state;
    struct vm_error err;
    char *got = eval_operator("return getmetatable('')", &err);
    assert_string_equal(got, "string");
    free(got);
}

static void test_sandbox_refuses_gc_metamethods(void **state)
{
    (void)state;
    assert_filter_fails_safely("setmetatable({}, { __gc = function() while true do end end })",
                               VM_ERROR_RUNTIME, "__gc");
    assert_filter_fails_safely("setmetatable({}, { __gc = true })", VM_ERROR_RUNTIME, "__gc");
    /* A __gc added after setmetatable is never registered by Lua 5.4: it
     * must not run at close (it would loop forever without a hook). */
    struct script *s = open_ok("local mt = {}\n"
                               "local keep = setmetatable({}, mt)\n"
                               "mt.__gc = function() while true do end end\n"
                               "return { filter = function() return keep ~= nil end }\n");
    assert_next_event_normal(s);
    script_close(s);
}

struct dump_buffer {
    char data[8192];
    size_t len;
};

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    struct dump_buffer *b = ud;
    if (b->len + sz > sizeof b->data) return 1;
    memcpy(b->data + b->len, p, sz);
    b->len += sz;
    return 0;
}

static void test_sandbox_rejects_bytecode_chunks(void **state)
{
    (void)state;
    /* What string.dump would make, made by a separate, ordinary state. */
    lua_State *host = luaL_newstate();
    assert_int_equal(luaL_loadstring(host, "return { filter = function() return false end }"),
                     LUA_OK);
    struct dump_buffer b = {.len = 0};
    assert_int_equal(lua_dump(host, dump_writer, &b, 0), 0);
    lua_close(host);

    struct vm_limits limits = test_limits();
    struct script *s = NULL;
    struct vm_error err;
    assert_int_not_equal(script_open(&limits, b.data, b.len, &s, &err), 0);
    assert_null(s);
    assert_int_equal(err.kind, VM_ERROR_SYNTAX);
    assert_non_null(strstr(err.message, "binary chunk"));
}

static void test_sandbox_rejects_scripts_over_the_size_cap(void **state)
{
    (void)state;
    struct vm_limits limits = test_limits();
    size_t len = limits.script_max_bytes + 1;
    char *source = malloc(len);
    memset(source, ' ', len);
    struct script *s = NULL;
    struct vm_error err;
    assert_int_not_equal(script_open(&limits, source, len, &s, &err), 0);
    assert_int_equal(err.kind, VM_ERROR_SYNTAX);
    assert_non_null(strstr(err.message, "too large"));
    free(source);
}

static void test_sandbox_stops_deep_recursion(void **state)
{
    (void)state;
    assert_filter_fails_safely("local function f(n) return f(n + 1) + 1 end return f(1)",
                               VM_ERROR_MEMORY, NULL);
    assert_filter_fails_safely("local function f() return pcall(f) end f() error('after')",
                               VM_ERROR_RUNTIME, NULL);
}

static void test_sandbox_caps_memory_of_string_bombs(void **state)
{
    (void)state;
    assert_filter_fails_safely("return #string.rep('x', 1 << 30) > 0", VM_ERROR_MEMORY,
                               "not enough memory");
    assert_filter_fails_safely("local s = 'x' while true do s = s .. s end", VM_ERROR_MEMORY, NULL);
    assert_filter_fails_safely("local t = {} for i = 1, 1e9 do t[i] = {i} end", VM_ERROR_MEMORY,
                               NULL);
}

static void test_sandbox_times_out_infinite_loops(void **state)
{
    (void)state;
    assert_filter_fails_safely("while true do end", VM_ERROR_TIMEOUT, "script timeout");
    /* Catching the timeout does not buy more time. */
    assert_filter_fails_safely("while true do pcall(function() while true do end end) end",
                               VM_ERROR_TIMEOUT, NULL);
    assert_filter_fails_safely("local n = 0 repeat n = n + 1 until n < 0", VM_ERROR_TIMEOUT, NULL);
}

static void test_sandbox_error_objects_that_are_tables(void **state)
{
    (void)state;
    assert_filter_fails_safely("error({ code = 1 })", VM_ERROR_RUNTIME,
                               "error object is a table value");
    /* __tostring is never called by the message handler. */
    assert_filter_fails_safely(
        "error(setmetatable({}, { __tostring = function() while true do end end }))",
        VM_ERROR_RUNTIME, "error object is a table value");
    assert_filter_fails_safely("error()", VM_ERROR_RUNTIME, "error object is a nil value");
}

static void test_sandbox_has_no_coroutines(void **state)
{
    (void)state;
    assert_filter_fails_safely("local co = coroutine.create(function() while true do end end)",
                               VM_ERROR_RUNTIME, "coroutine");
}

/* The estimate of pattern p against subject s. */
static double estimate(const char *s, const char *p)
{
    return pattern_guard_estimate(s, strlen(s), p, strlen(p), true);
}

static void test_pattern_estimate_counts_starts_runs_and_length(void **state)
{
    (void)state;
    char subject[10001];
    memset(subject, 'a', 10000);
    subject[10000] = '\0';
    /* Unanchored with a backtracking quantifier: every start pays the run
     * (the 10^8-step ("a"):rep(1e4):find("a*b") the old (n+1)^q missed). */
    assert_true(estimate(subject, "a*b") > 1e8);
    /* Anchored: one start. */
    assert_true(estimate(subject, "^a*b") < 1e5);
    /* A trailing quantifier never backtracks: linear. */
    assert_true(estimate(subject, "a+") < 1e5);
    assert_true(estimate(subject, "(%s+)") < 1e5);
    /* Runs are measured: no digit in the subject, no stretch. */
    assert_true(estimate(subject, "%d+x") < 1e5);
    /* A literal prefix: only its occurrences are starts. */
    assert_true(estimate(subject, "error: (%a+)x") < 1e5);
    assert_true(estimate(subject, "aa(%a+)x") > 1e8);
    /* $ after a quantifier makes it backtrack (the trim pattern). */
    assert_true(estimate(subject, "%a*$") > 1e8);
    /* No quantifier, but a long pattern: starts × length. */
    char needle[2002];
    memset(needle, 'a', 2000);
    needle[2000] = '.';
    needle[2001] = '\0';
    assert_true(estimate(subject, needle) > 1e7);
    /* Classes, escapes and brackets parse; ? is two choices. */
    assert_true(estimate(subject, "[%]*]+") < 1e5);
    assert_true(estimate(subject, "^Script error%.?$") < 1e5);
    assert_true(estimate(subject, "%bxy") > 1e7);
}

static void test_sandbox_refuses_catastrophic_patterns_fast(void **state)
{
    (void)state;
    static const char *const calls[] = {
        "s:find(p)",     "string.find(s, p)",     "s:match(p)",    "string.match(s, p)",
        "s:gsub(p, '')", "string.gsub(s, p, '')", "s:gmatch(p)()", "string.gmatch(s, p)()",
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "local s, p = ('a'):rep(5000), ('a*'):rep(10) .. 'b' return %s == nil", calls[i]);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_filter_fails_safely(body, VM_ERROR_RUNTIME,
                                   "pattern too complex for a subject of 5000 bytes");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (s > 2.0) fail_msg("%s took %.1f s", calls[i], s);
    }
}

static void test_sandbox_ordinary_patterns_still_work(void **state)
{
    (void)state;
    struct vm_error err;
    char *got = eval_operator(
        "local msg = 'ConnectionError: connection refused at db-1:5432' .. (' '):rep(2000)\n"
        "local host, port = msg:match('at ([%w%-]+):(%d+)')\n"
        "local n = select(2, msg:gsub('%s+', ' '))\n"
        "local words = 0 for _ in string.gmatch('a b c', '%a+') do words = words + 1 end\n"
        "local plain = (('a*'):rep(10) .. 'b'):find(('a*'):rep(10), 1, true)\n"
        "return table.concat({host, port, n, words, plain, tostring(msg:find('refused'))}, ',')",
        &err);
    if (!got) fail_msg("%s", err.trace);
    assert_string_equal(got, "db-1,5432,5,3,1,29");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sandbox_globals_are_exactly_the_allow_list),
        cmocka_unit_test(test_sandbox_forbidden_globals_are_absent),
        cmocka_unit_test(test_sandbox_string_metatable_is_hidden),
        cmocka_unit_test(test_sandbox_refuses_gc_metamethods),
        cmocka_unit_test(test_sandbox_rejects_bytecode_chunks),
        cmocka_unit_test(test_sandbox_rejects_scripts_over_the_size_cap),
        cmocka_unit_test(test_sandbox_stops_deep_recursion),
        cmocka_unit_test(test_sandbox_caps_memory_of_string_bombs),
        cmocka_unit_test(test_sandbox_times_out_infinite_loops),
        cmocka_unit_test(test_sandbox_error_objects_that_are_tables),
        cmocka_unit_test(test_sandbox_has_no_coroutines),
        cmocka_unit_test(test_pattern_estimate_counts_starts_runs_and_length),
        cmocka_unit_test(test_sandbox_refuses_catastrophic_patterns_fast),
        cmocka_unit_test(test_sandbox_ordinary_patterns_still_work),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
