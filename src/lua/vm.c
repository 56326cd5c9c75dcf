/* lua/vm — a capped lua_State and the one protected-call helper. */
#include "lua/vm.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "base/config.h"
#include "lua/deadline.h"
#include "lua/sandbox.h"

#define VM_DEADLINE_MASK (LUA_MASKCOUNT | LUA_MASKCALL)

struct vm {
    lua_State *L;
    struct vm_limits limits;
    size_t memory_used; /* bytes the allocator has handed out and not got back */
    size_t memory_peak;
    bool memory_refused; /* the allocator refused since the last vm_pcall began */
    long instructions;   /* counted in the current vm_pcall, C work included (vm_charge) */
    bool timed_out;
    int sandbox_ref;               /* registry ref of the operator _ENV table */
    struct deadline_slot deadline; /* the watchdog's view of this state */
};

lua_State *vm_lua(const struct vm *vm)
{
    return vm->L;
}

const struct vm_limits *vm_limits_of(const struct vm *vm)
{
    return &vm->limits;
}

size_t vm_memory_used(const struct vm *vm)
{
    return vm->memory_used;
}

size_t vm_memory_peak(const struct vm *vm)
{
    return vm->memory_peak;
}

/* A limit the config leaves at 0 (a config built by hand) is the default
 * (config_defaults, base/config.h). */
void vm_limits_from_config(const struct config *cfg, struct vm_limits *out)
{
    struct config d;
    config_defaults(&d);
    if (!cfg) cfg = &d;
    *out = (struct vm_limits){
        .memory_bytes = cfg->lua_memory_bytes ? cfg->lua_memory_bytes : d.lua_memory_bytes,
        .instructions_per_call =
            cfg->lua_instruction_limit > 0 ? cfg->lua_instruction_limit : d.lua_instruction_limit,
        .time_limit_ms = cfg->lua_time_limit_ms > 0 ? cfg->lua_time_limit_ms : d.lua_time_limit_ms,
        .script_max_bytes = cfg->script_max_bytes ? cfg->script_max_bytes : d.script_max_bytes,
        .event_max_depth = cfg->max_json_depth > 0 ? cfg->max_json_depth : d.max_json_depth,
        .lua_dir = cfg->lua_dir, /* without a config the caller sets it */
    };
}

/* lua_Alloc with a cap: growth past the limit fails, which Lua turns into
 * an emergency collection and then a "not enough memory" error. Shrinking
 * and freeing never fail (Lua relies on that). */
static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct vm *vm = ud;
    size_t old = ptr ? osize : 0; /* for new blocks osize is a type tag */
    if (nsize == 0) {
        free(ptr);
        vm->memory_used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > vm->limits.memory_bytes - vm->memory_used) {
        vm->memory_refused = true;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    vm->memory_used = vm->memory_used - old + nsize;
    if (vm->memory_used > vm->memory_peak) vm->memory_peak = vm->memory_used;
    return p;
}

struct vm *vm_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* Raises "script timeout" (what: NULL) or "script timeout (what)" at the
 * running function's line, the hook left firing on every instruction (mask)
 * so that a script catching the error with pcall cannot run on. */
static void raise_timeout(lua_State *L, lua_Hook hook, int mask, const char *what)
{
    struct vm *vm = vm_of(L);
    vm->timed_out = true;
    lua_sethook(L, hook, mask, 1);
    lua_Debug where;
    const char *detail = what ? lua_pushfstring(L, " (%s)", what) : "";
    if (lua_getstack(L, 0, &where) && lua_getinfo(L, "Sl", &where) && where.currentline > 0)
        lua_pushfstring(L, "%s:%d: script timeout%s", where.short_src, where.currentline, detail);
    else
        lua_pushfstring(L, "script timeout%s", detail);
    lua_error(L);
}

/* The count hook. Lua 5.4 copies a thread's hook into the threads it
 * creates, and the count is shared through the vm, so nothing escapes it.
 * Raises "script timeout" past the limit. */
static void vm_count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct vm *vm = vm_of(L);
    vm->instructions += lua_gethookcount(L);
    if (vm->instructions <= vm->limits.instructions_per_call) return;
    raise_timeout(L, vm_count_hook, LUA_MASKCOUNT, NULL);
}

static int vm_msghandler(lua_State *L);

/* Installed by the deadline watchdog (another thread) when the call ran
 * past its wall-clock limit, for every instruction and every call (so a
 * loop of C functions calling C functions stops too); runs on the owner
 * thread. Raises "script timeout (over N ms)" — but lets vm_pcall's
 * message handler run, or the error would become "error in error
 * handling". */
static void vm_deadline_hook(lua_State *L, lua_Debug *ar)
{
    if (ar->event == LUA_HOOKCALL && lua_getinfo(L, "f", ar)) {
        bool handler = lua_tocfunction(L, -1) == vm_msghandler;
        lua_pop(L, 1);
        if (handler) return;
    }
    char what[64];
    snprintf(what, sizeof what, "over %ld ms", vm_of(L)->limits.time_limit_ms);
    raise_timeout(L, vm_deadline_hook, VM_DEADLINE_MASK, what);
}

void vm_refuse_memory(lua_State *L, const char *what)
{
    void *ud = NULL;
    if (lua_getallocf(L, &ud) == vm_alloc) ((struct vm *)ud)->memory_refused = true;
    luaL_error(L, "not enough memory: %s", what);
}

size_t vm_memory_cap(lua_State *L)
{
    void *ud = NULL;
    return lua_getallocf(L, &ud) == vm_alloc ? ((struct vm *)ud)->limits.memory_bytes : SIZE_MAX;
}

void vm_charge(lua_State *L, long units)
{
    void *ud = NULL;
    if (lua_getallocf(L, &ud) != vm_alloc) return; /* not a vm's state: nothing to count against */
    struct vm *vm = ud;
    if (units < 0) units = 0;
    long room = vm->limits.instructions_per_call - vm->instructions;
    vm->instructions =
        units > room ? vm->limits.instructions_per_call + 1 : vm->instructions + units;
    if (vm->instructions > vm->limits.instructions_per_call)
        raise_timeout(L, vm_count_hook, LUA_MASKCOUNT, NULL);
}

/* Message handler: the error text with a traceback. Error objects that are
 * not strings are described, never converted through __tostring (that
 * would run operator code inside the handler). */
static int vm_msghandler(lua_State *L)
{
    const char *msg = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
    if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

const char *vm_error_kind_name(enum vm_error_kind kind)
{
    switch (kind) {
    case VM_ERROR_NONE:
        return "none";
    case VM_ERROR_RUNTIME:
        return "runtime";
    case VM_ERROR_TIMEOUT:
        return "timeout";
    case VM_ERROR_MEMORY:
        return "memory";
    case VM_ERROR_SYNTAX:
        return "syntax";
    case VM_ERROR_TYPE:
        return "type";
    }
    return "unknown";
}

void vm_error_set(struct vm_error *err, enum vm_error_kind kind, const char *text)
{
    if (!err) return;
    err->kind = kind;
    err->line = 0;
    snprintf(err->trace, sizeof err->trace, "%s", text);
    size_t first = strcspn(text, "\n");
    if (first >= sizeof err->message) first = sizeof err->message - 1;
    memcpy(err->message, text, first);
    err->message[first] = '\0';
    const char *prefix = VM_OPERATOR_CHUNK ":";
    if (strncmp(text, prefix, strlen(prefix)) == 0) {
        char *end = NULL;
        long line = strtol(text + strlen(prefix), &end, 10);
        if (end && *end == ':' && line > 0 && line < 10000000) err->line = (int)line;
    }
}

int vm_pcall(struct vm *vm, int nargs, int nresults, struct vm_error *err)
{
    lua_State *L = vm->L;
    if (!lua_checkstack(L, 2)) {
        lua_pop(L, nargs + 1);
        vm_error_set(err, VM_ERROR_MEMORY, "Lua stack exhausted");
        return -1;
    }
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, vm_msghandler);
    lua_insert(L, base);
    vm->instructions = 0;
    vm->timed_out = false;
    vm->memory_refused = false;
    lua_sethook(L, vm_count_hook, LUA_MASKCOUNT, VM_HOOK_INSTRUCTIONS);
    deadline_arm(&vm->deadline, vm->limits.time_limit_ms);
    int rc = lua_pcall(L, nargs, nresults, base);
    deadline_disarm(&vm->deadline); /* the watchdog is done with L: the hook is ours to clear */
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base);
    if (rc == LUA_OK) return 0;
    const char *text =
        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(error object is not a string)";
    enum vm_error_kind kind = vm->timed_out                              ? VM_ERROR_TIMEOUT
                              : (rc == LUA_ERRMEM || vm->memory_refused) ? VM_ERROR_MEMORY
                                                                         : VM_ERROR_RUNTIME;
    vm_error_set(err, kind, text);
    lua_pop(L, 1);
    return -1;
}

int vm_cpcall(struct vm *vm, lua_CFunction fn, void *ud, int nresults, struct vm_error *err)
{
    if (!lua_checkstack(vm->L, 3)) {
        vm_error_set(err, VM_ERROR_MEMORY, "Lua stack exhausted");
        return -1;
    }
    lua_pushcfunction(vm->L, fn);
    lua_pushlightuserdata(vm->L, ud);
    return vm_pcall(vm, 1, nresults, err);
}

/* Under vm_cpcall: builds globals and sandbox, keeps the sandbox's ref. */
static int vm_setup(lua_State *L)
{
    struct vm *vm = lua_touserdata(L, 1);
    lua_pushcfunction(L, sandbox_open);
    lua_pushstring(L, vm->limits.lua_dir);
    lua_call(L, 1, 1);
    vm->sandbox_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int vm_new(const struct vm_limits *limits, struct vm **out, struct vm_error *err)
{
    struct vm *vm = calloc(1, sizeof *vm);
    if (!vm) return -ENOMEM;
    vm->limits = *limits;
    if (vm->limits.time_limit_ms <= 0) {
        struct config d;
        config_defaults(&d);
        vm->limits.time_limit_ms = d.lua_time_limit_ms;
    }
    vm->sandbox_ref = LUA_NOREF;
    vm->L = lua_newstate(vm_alloc, vm);
    if (!vm->L) {
        free(vm);
        vm_error_set(err, VM_ERROR_MEMORY, "cannot create a Lua state");
        return -ENOMEM;
    }
    deadline_register(&vm->deadline, vm->L, vm_deadline_hook, VM_DEADLINE_MASK);
    /* Each event leaves one short-lived table tree behind: the
     * generational collector reclaims that for less (lua_bench: the hook
     * case ~25% faster) and keeps the live set flat. */
    lua_gc(vm->L, LUA_GCGEN, 0, 0);
    if (vm_cpcall(vm, vm_setup, vm, 0, err) != 0) {
        vm_free(vm);
        return -EIO;
    }
    *out = vm;
    return 0;
}

void vm_free(struct vm *vm)
{
    if (!vm) return;
    deadline_unregister(&vm->deadline);
    lua_gc(vm->L, LUA_GCCOLLECT);
    lua_close(vm->L);
    free(vm);
}

int vm_load_operator_chunk(struct vm *vm, const char *source, size_t len, struct vm_error *err)
{
    lua_State *L = vm->L;
    if (len > vm->limits.script_max_bytes) {
        char text[128];
        snprintf(text, sizeof text, "script too large: %zu bytes, the limit is %zu", len,
                 vm->limits.script_max_bytes);
        vm_error_set(err, VM_ERROR_SYNTAX, text);
        return -1;
    }
    if (!lua_checkstack(L, 2)) {
        vm_error_set(err, VM_ERROR_MEMORY, "Lua stack exhausted");
        return -1;
    }
    vm->memory_refused = false;
    int rc = luaL_loadbufferx(L, source, len, "=" VM_OPERATOR_CHUNK, "t");
    if (rc != LUA_OK) {
        const char *text =
            lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "cannot load script";
        vm_error_set(err, rc == LUA_ERRMEM ? VM_ERROR_MEMORY : VM_ERROR_SYNTAX, text);
        lua_pop(L, 1);
        return -1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->sandbox_ref);
    if (!lua_setupvalue(L, -2, 1)) /* a main chunk's only upvalue is _ENV */
        lua_pop(L, 1);
    return 0;
}

static int vm_require_fn(lua_State *L)
{
    const char *name = lua_touserdata(L, 1);
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    return 1;
}

int vm_require(struct vm *vm, const char *name, struct vm_error *err)
{
    return vm_cpcall(vm, vm_require_fn, (void *)name, 1, err);
}
