/* lua/vm — one lua_State with its limits: the memory cap (a counting
 * lua_Alloc), the instruction-count hook, the wall-clock deadline
 * (lua/deadline.h), and the ONE protected-call helper through which every
 * call into script code goes (vm_pcall).
 *
 * A vm holds the server's globals (the allow-listed libraries, `periscope`,
 * and a `require` restricted to the server's own modules under lua_dir) and,
 * separately, the operator sandbox (sandbox.h) that project chunks get as
 * their _ENV. Operator chunks are text only (mode "t") and size-capped.
 *
 * Owned by one thread at a time (a pipeline worker, or the registry while
 * validating); never shared. Nothing here takes locks. */
#ifndef PERISCOPE_LUA_VM_H
#define PERISCOPE_LUA_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

#define VM_HOOK_INSTRUCTIONS 1000  /* the count hook fires every this many instructions */
#define VM_OPERATOR_CHUNK "script" /* chunk name of operator code: errors read "script:LINE: …" */

struct vm_limits {
    size_t memory_bytes;        /* allocator cap for the whole state */
    long instructions_per_call; /* count hook: more in one vm_pcall → "script timeout" */
    long time_limit_ms;         /* wall clock per vm_pcall (0: LUA_TIME_LIMIT_MS's default) */
    size_t script_max_bytes;    /* operator chunk size cap */
    int event_max_depth;        /* event tables: deeper JSON is left out */
    const char *lua_dir;        /* server modules; borrowed, must outlive the vm */
};

struct config;

/* The limits from the configuration (LUA_MEMORY_LIMIT, LUA_INSTRUCTION_LIMIT,
 * LUA_TIME_LIMIT_MS, SCRIPT_MAX_BYTES, MAX_JSON_DEPTH, LUA_DIR), config_defaults'
 * where 0; cfg may be NULL (then lua_dir is NULL: the caller sets it).
 * The strings are borrowed from cfg. */
void vm_limits_from_config(const struct config *cfg, struct vm_limits *out);

enum vm_error_kind {
    VM_ERROR_NONE = 0,
    VM_ERROR_RUNTIME, /* the code raised */
    VM_ERROR_TIMEOUT, /* instruction limit (C work counted in) or wall-clock deadline */
    VM_ERROR_MEMORY,  /* memory cap */
    VM_ERROR_SYNTAX,  /* did not compile (or not text, or too big) */
    VM_ERROR_TYPE,    /* a hook returned the wrong type */
};

#define VM_ERROR_MESSAGE_MAX 256
#define VM_ERROR_TRACE_MAX 1024

/* What went wrong in one call. Fixed buffers: no ownership to track. */
struct vm_error {
    enum vm_error_kind kind;
    int line;                           /* line in the operator chunk, 0 if unknown */
    char message[VM_ERROR_MESSAGE_MAX]; /* first line of the error */
    char trace[VM_ERROR_TRACE_MAX];     /* the whole error with its traceback */
};

/* One capped state (its definition is lua/vm.c's own): the counting
 * allocator, the instruction count of the current call, the watchdog's
 * view of it, the operator sandbox. Reached through the functions below. */
struct vm;

/* Creates the state: server globals, the periscope library, the module
 * loader, then the operator sandbox. Returns 0, -ENOMEM, or -EIO when the
 * setup itself failed (message in err, may be NULL). Caller frees with
 * vm_free. */
int vm_new(const struct vm_limits *limits, struct vm **out, struct vm_error *err);

/* Full collection, then lua_close. NULL is fine. */
void vm_free(struct vm *vm);

/* The protected call: function and nargs arguments on the stack, as for
 * lua_pcall. Arms the count hook, calls with a traceback message handler,
 * disarms. On success leaves nresults values and returns 0; on error leaves
 * nothing, fills err (may be NULL) and returns -1. Never raises. */
int vm_pcall(struct vm *vm, int nargs, int nresults, struct vm_error *err);

/* Runs fn(ud) in protected mode with the hook armed (for C code that builds
 * tables from input and so may raise on the memory cap). fn may push
 * nresults values. Returns 0 or -1 with err filled. Never raises. */
int vm_cpcall(struct vm *vm, lua_CFunction fn, void *ud, int nresults, struct vm_error *err);

/* Counts `units` of work a C function is about to do (one unit is about
 * one VM instruction's worth: a table element moved, 64 bytes scanned)
 * against the current call's instruction limit, as if the script had run
 * them. Over the limit it raises "script timeout" (and keeps raising until
 * the call ends, like the count hook). Does nothing on a state vm_new did
 * not make. May raise. */
void vm_charge(lua_State *L, long units);

/* Raises "not enough memory: what", counted as a memory error (kind
 * MEMORY), for an allocation refused before it is tried. */
void vm_refuse_memory(lua_State *L, const char *what);

/* The memory cap of L's vm; SIZE_MAX for a state vm_new did not make. */
size_t vm_memory_cap(lua_State *L);

/* The vm that owns L (a state made by vm_new). */
struct vm *vm_of(lua_State *L);

/* The vm's lua_State, for pushing arguments and reading results around a
 * vm_pcall; owned by the vm. */
lua_State *vm_lua(const struct vm *vm);

/* The limits the vm was made with (borrowed from it). */
const struct vm_limits *vm_limits_of(const struct vm *vm);

/* Bytes the allocator has handed out and not got back; the most ever. */
size_t vm_memory_used(const struct vm *vm);
size_t vm_memory_peak(const struct vm *vm);

/* Compiles an operator chunk (text only, size-capped) with the sandbox as
 * its _ENV and pushes it. Returns 0, or -1 with err (kind SYNTAX or MEMORY)
 * and nothing pushed. Never raises. */
int vm_load_operator_chunk(struct vm *vm, const char *source, size_t len, struct vm_error *err);

/* Pushes the server module `name` (loaded through the restricted loader).
 * Returns 0 or -1 with err. Never raises. */
int vm_require(struct vm *vm, const char *name, struct vm_error *err);

/* Fills err from a message (kind given); line parsed from "script:N:". */
void vm_error_set(struct vm_error *err, enum vm_error_kind kind, const char *text);

/* "runtime", "timeout", "memory", "syntax", "type" — the metrics label. */
const char *vm_error_kind_name(enum vm_error_kind kind);

#endif
