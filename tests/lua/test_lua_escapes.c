/* Scripts cannot escape their budgets through C: each way a hook could hold
 * a thread (or kill the process) inside a library function ends in a clear
 * error — timeout, memory, or "pattern too complex" — in bounded time, and
 * the same state runs the next call normally. Also periscope.json's
 * contract (lua/json.h), which replaced lua-cjson for this reason. */
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

#include "lua/script_format.h"
#include "lua_helpers.h"

/* Bound for one refused call, in CPU time of the calling thread: the
 * unbounded versions keep it busy for minutes or forever, so the bound
 * holds them as it did on the wall clock, while a loaded machine (which
 * stretches the wall clock, not the work) no longer fails the test. The
 * wall clock gets a bound too, a wider one: a call that waits instead of
 * working is caught as well. */
#define BOUND_S 5.0
#define WALL_BOUND_S 60.0

static double seconds_since(clockid_t clock, const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(clock, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Runs an operator chunk in vm and returns its result as a string (caller
 * frees), or NULL with err filled. */
static char *run_in(struct vm *vm, const char *source, struct vm_error *err)
{
    char *out = NULL;
    if (vm_load_operator_chunk(vm, source, strlen(source), err) == 0 &&
        vm_pcall(vm, 0, 1, err) == 0) {
        const char *s = lua_tostring(vm_lua(vm), -1);
        out = strdup(s ? s : "(not a string)");
        lua_pop(vm_lua(vm), 1);
    }
    return out;
}

static struct vm *new_vm(const struct vm_limits *limits)
{
    struct vm *vm = NULL;
    struct vm_error err;
    assert_int_equal(vm_new(limits, &vm, &err), 0);
    return vm;
}

/* The chunk fails with kind and a message holding needle, within BOUND_S;
 * then the same state still answers an ordinary chunk. */
static void assert_stopped_with(const struct vm_limits *limits, const char *source,
                                enum vm_error_kind kind, const char *needle)
{
    struct vm *vm = new_vm(limits);
    struct vm_error err = {0};
    struct timespec t0, cpu0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    char *got = run_in(vm, source, &err);
    double cpu = seconds_since(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    double took = seconds_since(CLOCK_MONOTONIC, &t0);
    if (got) fail_msg("%s: returned %s, want an error", source, got);
    if (err.kind != kind)
        fail_msg("%s: kind %s, want %s: %s", source, vm_error_kind_name(err.kind),
                 vm_error_kind_name(kind), err.trace);
    if (needle && !strstr(err.message, needle))
        fail_msg("%s: message '%s' lacks '%s'", source, err.message, needle);
    if (cpu > BOUND_S || took > WALL_BOUND_S)
        fail_msg("%s: stopped after %.1f s of CPU, %.1f s", source, cpu, took);
    got = run_in(vm, "return tostring(1 + 1)", &err);
    if (!got) fail_msg("after %s the state failed: %s", source, err.trace);
    assert_string_equal(got, "2");
    free(got);
    vm_free(vm);
}

static void test_table_ranges_are_counted_before_the_c_loop(void **state)
{
    (void)state;
    struct vm_limits l = test_limits();
    assert_stopped_with(&l, "table.move({}, 1, 1e15, 1, {})", VM_ERROR_TIMEOUT, "script timeout");
    assert_stopped_with(&l, "table.move({1, 2}, -(1 << 62), 1 << 62, 1)", VM_ERROR_TIMEOUT,
                        "script timeout");
    assert_stopped_with(&l,
                        "local t = {} for i = 1, 200000 do t[i] = i end\n"
                        "for i = 1, 1e9 do table.insert(t, 1, i) end",
                        VM_ERROR_TIMEOUT, "script timeout");
    assert_stopped_with(&l,
                        "local t = {} for i = 1, 200000 do t[i] = i end\n"
                        "for i = 1, 1e9 do table.remove(t, 1) t[#t + 1] = i end",
                        VM_ERROR_TIMEOUT, "script timeout");
    /* A __len that answers a huge length: one call, then the C loop. */
    assert_stopped_with(&l,
                        "local t = setmetatable({}, {__len = function() return 1 << 50 end})\n"
                        "table.insert(t, 1, 'x')",
                        VM_ERROR_TIMEOUT, "script timeout");
    /* The ordinary uses still work and give Lua's answers. */
    struct vm *vm = new_vm(&l);
    struct vm_error err;
    char *got = run_in(vm,
                       "local t = {1, 2, 3}\n"
                       "table.insert(t, 1, 0) table.insert(t, 9) local r = table.remove(t, 2)\n"
                       "local m = table.move({5, 6, 7}, 1, 3, 2, {})\n"
                       "local ok, e = pcall(table.insert, t, 9, 1)\n"
                       "return table.concat(t, ',') .. '|' .. r .. '|' .. tostring(m[1]) .. m[4]\n"
                       "  .. '|' .. tostring(ok) .. ' ' .. e:match('position out of bounds')\n"
                       "  .. '|' .. tostring(table.remove({})) .. tostring(#t)",
                       &err);
    if (!got) fail_msg("%s", err.trace);
    assert_string_equal(got, "0,2,3,9|1|nil7|false position out of bounds|nil4");
    free(got);
    vm_free(vm);
}

static void test_string_rep_results_are_capped(void **state)
{
    (void)state;
    struct vm_limits l = test_limits();
    assert_stopped_with(&l, "return string.rep('', 1e15)", VM_ERROR_MEMORY, "not enough memory");
    assert_stopped_with(&l, "return ('ab'):rep(1e9, ',')", VM_ERROR_MEMORY, "not enough memory");
    assert_stopped_with(&l, "for i = 1, 1e9 do local s = ('x'):rep(4e6) end", VM_ERROR_TIMEOUT,
                        "script timeout");
}

static void test_patterns_are_bounded_and_counted(void **state)
{
    (void)state;
    struct vm_limits l = test_limits();
    /* One quantifier, unanchored, 100 KB: n starts of n steps each. */
    assert_stopped_with(&l, "return ('a'):rep(1e5):find('a*b')", VM_ERROR_RUNTIME,
                        "pattern too complex for a subject of 100000 bytes");
    assert_stopped_with(&l, "return (('a'):rep(1e5)):gsub('a-b', '')", VM_ERROR_RUNTIME,
                        "pattern too complex");
    /* Trimming spaces the quadratic way. */
    assert_stopped_with(&l, "return ('x' .. (' '):rep(2e5) .. 'y'):match('^%s*(.-)%s*$')",
                        VM_ERROR_RUNTIME, "pattern too complex");
    /* A long needle: linear now, and a loop of them runs out of budget. */
    assert_stopped_with(&l,
                        "local s, p = ('a'):rep(4e6), ('a'):rep(2e6) .. 'b'\n"
                        "for i = 1, 1e9 do assert(s:find(p, 1, true) == nil) end",
                        VM_ERROR_TIMEOUT, "script timeout");
    assert_stopped_with(&l,
                        "local s = ('ab'):rep(1e6)\n"
                        "for i = 1, 1e9 do s:gsub('%s+', ' ') end",
                        VM_ERROR_TIMEOUT, "script timeout");
    /* Plain finds answer as Lua does. */
    struct vm *vm = new_vm(&l);
    struct vm_error err;
    char *got =
        run_in(vm,
               "local s = 'hello world'\n"
               "local function p(a, b) return tostring(a) .. ':' .. tostring(b) end\n"
               "return table.concat({p(s:find('o', 1, true)), p(s:find('o', 6, true)),\n"
               "  p(s:find('o', -3, true)), p(s:find('', 4, true)), p(s:find('o', -100, true)),\n"
               "  p(s:find('z', 1, true)), p(s:find('x', 99, true)), p(s:find('', 12, true)),\n"
               "  p(s:find('', 13, true)), p(string.find(12345, 34)), p(s:find('l+'))}, ',')",
               &err);
    if (!got) fail_msg("%s", err.trace);
    /* What stock Lua 5.4 answers for the same calls. */
    assert_string_equal(got, "5:5,8:8,nil:nil,4:3,5:5,nil:nil,nil:nil,12:11,nil:nil,3:4,3:4");
    free(got);
    vm_free(vm);
}

static void test_json_encode_stays_inside_the_memory_cap(void **state)
{
    (void)state;
    struct vm_limits l = test_limits();
    /* 8 MB held once, encoded 500 times: lua-cjson malloc'd past the cap
     * and exit()ed at 2 GB. */
    assert_stopped_with(&l,
                        "local s = ('x'):rep(8e6) local t = {}\n"
                        "for i = 1, 500 do t[i] = s end return periscope.json.encode(t)",
                        VM_ERROR_MEMORY, NULL);
    /* A DAG: 2^40 leaves from 40 tables. */
    assert_stopped_with(&l,
                        "local t = {('y'):rep(100)} for i = 1, 40 do t = {t, t} end\n"
                        "return periscope.json.encode(t)",
                        VM_ERROR_MEMORY, NULL);
    assert_stopped_with(&l, "local t = {} t[1] = t return periscope.json.encode(t)",
                        VM_ERROR_RUNTIME, "nesting deeper than 64");
    assert_stopped_with(&l, "return periscope.json.encode({[{}] = 1})", VM_ERROR_RUNTIME,
                        "key must be a string or a number");
    assert_stopped_with(&l,
                        "return periscope.json.encode({1, nil, nil, nil, nil, nil, 7, [99] = 1})",
                        VM_ERROR_RUNTIME, "sparse");
    assert_stopped_with(&l, "return periscope.json.encode(0/0)", VM_ERROR_RUNTIME, "NaN");
    assert_stopped_with(&l, "return periscope.json.encode(print or function() end)",
                        VM_ERROR_RUNTIME, "cannot encode a function");
}

static void test_json_round_trips_what_scripts_use(void **state)
{
    (void)state;
    struct vm_limits l = test_limits();
    struct vm *vm = new_vm(&l);
    struct vm_error err;
    char *got = run_in(
        vm,
        "local j = periscope.json\n"
        "local text = j.encode({'a', 1, 2.5, true, j.null, {}, {x = 'q\"\\\\\\n\\1'}})\n"
        "local back = j.decode('{\"n\": null, \"a\": [1, null, \"\\\\u00e9\\\\ud83d\\\\ude00\"],'\n"
        "  .. ' \"i\": -1.5e3, \"f\": 0.25, \"big\": 1e300, \"t\": true}')\n"
        "return text .. '|' .. tostring(back.n == j.null) .. #back.a\n"
        "  .. tostring(back.a[2] == j.null) .. back.a[3] .. math.type(back.i)\n"
        "  .. back.i .. math.type(back.f) .. math.type(back.big) .. tostring(back.t)\n"
        "  .. '|' .. j.encode(j.decode(' [ ] ')) .. j.encode('/')",
        &err);
    if (!got) fail_msg("%s", err.trace);
    assert_string_equal(got, "[\"a\",1,2.5,true,null,{},{\"x\":\"q\\\"\\\\\\n\\u0001\"}]|true3true"
                             "\xc3\xa9\xf0\x9f\x98\x80"
                             "integer-1500floatfloattrue|{}\"/\"");
    free(got);
    static const char *const bad[] = {
        "return periscope.json.decode('[1, 2')",
        "return periscope.json.decode('{\"a\" 1}')",
        "return periscope.json.decode('[01]')",
        "return periscope.json.decode('\"\\\\ud800\"')",
        "return periscope.json.decode('[1] x')",
        "return periscope.json.decode('\"a\\tb\"')",
        "return periscope.json.decode(('['):rep(65) .. (']'):rep(65))",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = run_in(vm, bad[i], &err);
        if (out) fail_msg("%s: decoded to %s", bad[i], out);
        if (!strstr(err.message, "json.decode: "))
            fail_msg("%s: message '%s'", bad[i], err.message);
    }
    vm_free(vm);
}

static void test_format_returning_a_huge_table_fails_safely(void **state)
{
    (void)state;
    struct vm_limits l = test_limits();
    const char *source = "local s = ('x'):rep(8e6)\n"
                         "return { format = function(a, d)\n"
                         "  local t = {} for i = 1, 500 do t[i] = s end return t end }";
    struct script *s = NULL;
    struct vm_error err = {0};
    if (script_open(&l, source, strlen(source), &s, &err) != 0) fail_msg("%s", err.trace);
    struct alert_data alert = {.kind = "new", .issue = {.title = "x"}};
    struct alert_destination dest = {.type = "slack_webhook", .name = "ops"};
    struct script_message m;
    char why[256];
    /* The encoder hits the cap: the default message goes out instead. */
    assert_int_equal(script_format_alert(s, &alert, &dest, &m, &err, why, sizeof why), 0);
    assert_int_equal(err.kind, VM_ERROR_MEMORY);
    assert_non_null(m.body);
    assert_non_null(strstr(m.body, "\"blocks\""));
    script_message_clear(&m);
    script_close(s);
}

/* Limits where only the wall clock can stop a call. */
static struct vm_limits clock_only(void)
{
    struct vm_limits l = test_limits();
    l.instructions_per_call = 1L << 50;
    l.time_limit_ms = 200;
    return l;
}

static void test_wall_clock_deadline_interrupts_from_outside(void **state)
{
    (void)state;
    struct vm_limits l = clock_only();
    assert_stopped_with(&l, "while true do end", VM_ERROR_TIMEOUT, "over 200 ms");
    /* pcall cannot swallow it. */
    assert_stopped_with(&l, "while true do pcall(function() while true do end end) end",
                        VM_ERROR_TIMEOUT, "script timeout");
    /* No Lua instruction runs here: C calling C (concat's __index is
     * concat itself, answering "" for ever). Only the call hook the
     * watchdog installs stops it. */
    assert_stopped_with(&l,
                        "local t = setmetatable({}, {__index = table.concat})\n"
                        "return table.concat(t, '', 1, 1 << 50)",
                        VM_ERROR_TIMEOUT, "over 200 ms");
    /* An error handler is still called: the message is the timeout's. */
    assert_stopped_with(&l, "xpcall(function() while true do end end, function(m) return m end)",
                        VM_ERROR_TIMEOUT, "script timeout");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_ranges_are_counted_before_the_c_loop),
        cmocka_unit_test(test_string_rep_results_are_capped),
        cmocka_unit_test(test_patterns_are_bounded_and_counted),
        cmocka_unit_test(test_json_encode_stays_inside_the_memory_cap),
        cmocka_unit_test(test_json_round_trips_what_scripts_use),
        cmocka_unit_test(test_format_returning_a_huge_table_fails_safely),
        cmocka_unit_test(test_wall_clock_deadline_interrupts_from_outside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
