/* lua/script — one project's rules compiled in their own vm: the default
 * grouping module (periscope.grouping) plus the project's optional hooks
 * (filter, fingerprint, format, scrub), and the per-event run of filter,
 * grouping and fingerprint (scrub: lua/script_scrub.h, format:
 * lua/script_format.h).
 *
 * A script never costs an event: a hook that raises, times out, hits the
 * memory cap or returns the wrong type is reported in the result's errors
 * and the default is used for that event. Only when the default grouping
 * itself cannot run does script_run fail.
 *
 * Owned by one thread at a time (like its vm). */
#ifndef PERISCOPE_LUA_SCRIPT_H
#define PERISCOPE_LUA_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "lua/vm.h"

#define SCRIPT_GROUPING_MODULE "periscope.grouping"
#define SCRIPT_FINGERPRINT_MAX_PARTS 64
#define SCRIPT_MAX_ERRORS 4

/* One project's compiled rules in their own vm (its definition is private
 * to lua/: lua/script_internal.h). */
struct script;

/* The hooks a project script may define. */
enum script_hook {
    SCRIPT_HOOK_FILTER,
    SCRIPT_HOOK_FINGERPRINT,
    SCRIPT_HOOK_FORMAT,
    SCRIPT_HOOK_SCRUB,
    SCRIPT_HOOK_ALERT,
};

/* True when s (may be NULL: false) defines the hook. */
bool script_has_hook(const struct script *s, enum script_hook hook);

/* The vm s runs in (owned by s). */
struct vm *script_vm(const struct script *s);

/* One failed hook: hook is "filter", "fingerprint", "grouping" or "event"
 * (building the event table), a static string ("scrub" and "format" are
 * reported by their own modules). */
struct script_hook_error {
    const char *hook;
    struct vm_error error;
};

struct script_result {
    bool filtered;     /* filter() returned false: drop the event */
    char hash[33];     /* MD5 hex of the components */
    char *title;       /* owned */
    char *culprit;     /* owned, may be "" */
    char **components; /* owned; only when asked for */
    size_t ncomponents;
    size_t nerrors;
    struct script_hook_error errors[SCRIPT_MAX_ERRORS];
};

/* Builds a vm, loads the grouping module, and (source non-NULL) compiles
 * and runs the project's chunk, which must return nil or a table whose
 * filter/fingerprint/format/scrub are functions when present and whose
 * `rules`, when present, came from periscope.sentry_rules (Sentry-syntax
 * fingerprint and stack trace rules the default grouping then applies).
 * Returns 0, or a
 * negative errno with err filled (kind SYNTAX for compile errors, TYPE for
 * a wrong return, else as the chunk failed). Caller closes the script. */
int script_open(const struct vm_limits *limits, const char *source, size_t len, struct script **out,
                struct vm_error *err);
/* A project's stored grouping rules in Sentry's syntax (borrowed texts;
 * NULL or "" for none). */
struct script_rules {
    const char *fingerprint;
    const char *stacktrace;
};
bool script_rules_present(const struct script_rules *rules);

/* script_open with the project's stored rules (rules may be NULL), which
 * the default grouping applies unless the script returns its own `rules`.
 * Rules that do not parse fail the open (-EINVAL, err says which line). */
int script_open_rules(const struct vm_limits *limits, const char *source, size_t len,
                      const struct script_rules *rules, struct script **out, struct vm_error *err);
/* script_open_rules with another default grouping module than
 * SCRIPT_GROUPING_MODULE (a previous grouping config during a grouping
 * transition: grouping/config.h). */
int script_open_grouping(const struct vm_limits *limits, const char *grouping_module,
                         const char *source, size_t len, const struct script_rules *rules,
                         struct script **out, struct vm_error *err);
void script_close(struct script *s);

/* True when the script has a hook that needs the whole event. */
bool script_wants_full_event(const struct script *s);

/* What script_run hands the event to Lua with (fields, skipped keys,
 * depth): the grouping memo digests exactly this. */
struct event_table_args;
void script_event_args(const struct script *s, const cJSON *event, struct event_table_args *out);

/* Runs filter, then (unless filtered) the default grouping, the
 * fingerprint hook and the hash, on a borrowed event. want_components also
 * copies the components out. Returns 0 (hook errors are in res->errors) or
 * -EIO when the default grouping could not run. Clear res afterwards. */
int script_run(struct script *s, const cJSON *event, bool want_components,
               struct script_result *res);
void script_result_clear(struct script_result *res);

/* script_run such that every hook runs once (validation): when filter()
 * dropped the event without an error, it runs again with the filter
 * switched off. */
int script_run_all_hooks(struct script *s, const cJSON *event, struct script_result *res);

/* The line of the operator chunk where the hook ("filter", "fingerprint",
 * "format", "scrub") is defined, 0 when the script has none or it is not defined
 * there: where a wrong return type is reported. Raises nothing. */
int script_hook_line(const struct script *s, const char *hook);

#endif
