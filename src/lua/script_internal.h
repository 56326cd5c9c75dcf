/* lua/script_internal — the inside of struct script, and the one frame
 * every hook call goes through. Included only by lua/script*.c (the
 * script module and its hook runners); everything else uses script.h. */
#ifndef PERISCOPE_LUA_SCRIPT_INTERNAL_H
#define PERISCOPE_LUA_SCRIPT_INTERNAL_H

#include <lua.h>

#include "lua/script.h"

struct script {
    struct vm *vm;
    int group_ref;  /* periscope.grouping.group */
    int expand_ref; /* periscope.grouping.expand_fingerprint */
    int filter_ref; /* the project's hooks; LUA_NOREF when absent */
    int fingerprint_ref;
    int format_ref;
    int scrub_ref; /* lua/script_scrub.h */
    int alert_ref; /* lua/script_alert.h */
    int rules_ref; /* the rules behind the script's `rules` (periscope.sentry_rules); LUA_NOREF when
                      absent */
    /* The default formatters (lua/script_format.h), bound on first use:
     * periscope.format.render and render_digest, periscope.json.encode. */
    int render_ref, render_digest_ref, encode_ref;
};

/* One call of a project hook (alert, format, …). */
struct script_hook_call {
    int ref; /* the hook's registry ref (not LUA_NOREF) */
    /* Runs under vm_pcall as trampoline(hook, args…): calls the hook,
     * checks its result, returns nresults values; raises a message holding
     * type_error for a result of the wrong type. */
    lua_CFunction trampoline;
    lua_CFunction push_args; /* under vm_cpcall(push_ud): returns the nargs arguments */
    void *push_ud;
    int nargs, nresults;
    const char *type_error; /* a runtime error whose message holds this is kind TYPE */
    /* With the results on top of the stack (valid until it returns): reads
     * them into read_ud; may run more vm_pcalls. Returns 0 or -1 (err set). */
    int (*read)(struct script *s, void *read_ud, struct vm_error *err);
    void *read_ud;
};

/* The frame: checks the stack, pushes the trampoline, the hook and the
 * arguments, calls through vm_pcall (count hook, memory cap, deadline),
 * lets read take the results, and restores the stack top. Returns read's
 * result, or -1 with err filled (the hook raised, timed out, ran out of
 * memory, returned the wrong type, or its arguments could not be built). */
int script_hook_call(struct script *s, const struct script_hook_call *call, struct vm_error *err);

/* How deep an event's JSON goes into a table: the vm's event_max_depth
 * (MAX_JSON_DEPTH), or config_defaults()'s for a vm built without it. */
int script_event_max_depth(const struct script *s);

#endif
