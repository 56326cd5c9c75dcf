/* lua/registry — struct script_registry: per project the active script
 * (version, source, generation) and the personal data scrubbing rules built
 * from its settings (scrub.h), shared by every pipeline worker, plus each
 * project's script error statistics.
 *
 * Reload is build, validate, swap: a script is published only after it
 * compiled and ran against a sample event in a fresh state. Publishing bumps
 * the registry's generation; workers compare it before each event
 * (script_registry_generation, one atomic load) and rebuild the states of
 * projects whose generation changed.
 *
 * The registry also owns the process's memo of the default grouping
 * (lua/grouping_memo.h), whose keys carry its generations: built at open,
 * freed at close (after the pipeline workers that borrow it stopped).
 *
 * Files: registry.c (table, publication, activation), registry_reload.c,
 * registry_validate.c, registry_stats.c.
 *
 * Thread-safe: one mutex guards the table; the store is reached through
 * store_acquire/store_release, never while the mutex is held. */
#ifndef PERISCOPE_LUA_REGISTRY_H
#define PERISCOPE_LUA_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "base/json.h"

#include "lua/vm.h"

struct config;
struct script;
struct script_registry;
struct store;

/* Creates the registry and loads every project's active script from store
 * (borrowed; may be NULL: every project runs the default rules); limits and
 * the public URL from cfg (may be NULL: the built-in limits). Scripts
 * that no longer compile are logged and skipped (default rules). Returns 0
 * or a negative errno. */
int script_registry_open(struct store *store, const struct config *cfg,
                         struct script_registry **out);
void script_registry_close(struct script_registry *reg);

/* The shared memo of the default grouping: borrowed, valid until close;
 * thread-safe. */
struct grouping_memo *script_registry_memo(struct script_registry *reg);

/* Limits every state is built with (from the config). Borrowed. */
const struct vm_limits *script_registry_limits(const struct script_registry *reg);

/* Changes whenever any project's active script or scrubbing settings
 * change. Any thread. */
uint64_t script_registry_generation(struct script_registry *reg);

/* The project's active script: *version 0 and *source NULL for the default
 * rules; else *source is a malloc'd copy (caller frees) of *len bytes.
 * *generation identifies this publication. Returns 0 or -ENOMEM. */
int script_registry_get(struct script_registry *reg, int64_t project_id, int64_t *version,
                        char **source, size_t *len, uint64_t *generation);

/* The project's scrubbing rules: a reference the caller drops with
 * scrub_rules_unref (the default rules when the project has none of its
 * own, NULL only when even those could not be built), and *generation,
 * which changes when they are replaced (0: never published). Any thread. */
struct scrub_rules;
struct scrub_rules *script_registry_scrub(struct script_registry *reg, int64_t project_id,
                                          uint64_t *generation);

/* The project's stored grouping rules in Sentry's syntax: malloc'd copies
 * (caller frees), both NULL when it has none. Returns 0 or -ENOMEM. */
int script_registry_get_rules(struct script_registry *reg, int64_t project_id, char **fingerprint,
                              char **stacktrace);

/* Compiles the rules (fingerprint rules text, stack trace rules text) in a
 * fresh state: 0, or -EINVAL with *error_message (malloc'd, caller frees;
 * it names the line). Any thread. */
int script_registry_check_rules(struct script_registry *reg, const char *fingerprint,
                                const char *stacktrace, char **error_message);

/* Checks, stores and publishes the project's grouping rules (two empty
 * texts: back to Sentry's built-in ones). Returns 0; -ENOENT (no such
 * project); -EINVAL with *error_message; or -EIO. */
int script_registry_set_rules(struct script_registry *reg, int64_t project_id,
                              const char *fingerprint, const char *stacktrace,
                              char **error_message);

/* How format() is validated: run on a sample alert for every destination
 * type, the notifier's way. 0 when it never failed, else 1 with err filled
 * (naming the destination type). notify/format_hook.h has the one the
 * application sets (notify_format_check_script); the registry lies below
 * notify/ and so is handed it. */
typedef int (*script_format_check_fn)(struct script *s, const char *public_url,
                                      struct vm_error *err);
/* Set once, before the registry is shared (NULL: format() not validated). */
void script_registry_set_format_check(struct script_registry *reg, script_format_check_fn fn);

/* Compiles source in a fresh sandboxed state, runs each hook on
 * sample_event (NULL: a built-in Python-style error event) and format()
 * through the format check (script_registry_set_format_check); any error, timeout, memory cap,
 * wrong type or unusable format() result rejects it. Returns 0, or -EINVAL with *error_message
 * (malloc'd, caller frees) and *error_line (0 when no line applies). Any thread; touches no shared
 * state. */
int script_registry_validate(struct script_registry *reg, const char *source, size_t len,
                             const cJSON *sample_event, char **error_message, int *error_line);

/* Makes stored version `version` of the project active (0: the default
 * rules): loads it, validates it, points projects.active_script_version at
 * it, and publishes it. Returns 0; -ENOENT (no such project or version);
 * -EINVAL with the message and line as for validate; or -EIO. */
int script_registry_activate(struct script_registry *reg, int64_t project_id, int64_t version,
                             char **error_message, int *error_line);

/* The same, validating against sample_event (borrowed; NULL: the built-in
 * one), e.g. the project's latest stored event. */
int script_registry_activate_on(struct script_registry *reg, int64_t project_id, int64_t version,
                                const cJSON *sample_event, char **error_message, int *error_line);

/* The project's grouping transition when one runs at now_ms (the previous
 * script, rules and default grouping config; store/grouping_transitions.h):
 * 0 with *out (grouping_transition_clear it), -ENOENT when none. Reads the
 * store: for a worker building a project's state, not per event. */
struct grouping_transition;
int script_registry_transition(struct script_registry *reg, int64_t project_id, int64_t now_ms,
                               struct grouping_transition *out);

/* Re-reads every project's active script and scrubbing settings from the
 * store and publishes the ones that changed (start, SIGHUP, a reconnect of
 * the Postgres listener). Scripts were validated when they were activated;
 * here they need only compile. Returns the number published or a negative
 * errno. */
int script_registry_reload_all(struct script_registry *reg);

/* Live per-project counters since the active script was published, bumped
 * by the workers without a lock (relaxed atomics) and read by the stats. */
enum script_counter {
    SCRIPT_COUNT_EVENTS,   /* events run through the project's script */
    SCRIPT_COUNT_FILTERED, /* events its filter() dropped */
    SCRIPT_COUNT_FILTER_CALLS,
    SCRIPT_COUNT_FINGERPRINT_CALLS,
    SCRIPT_COUNT_FORMAT_CALLS,
    SCRIPT_COUNT_SCRUB_CALLS,
    SCRIPT_COUNT_N
};
struct script_counters;

/* The project's counters: a stable pointer, valid until the registry
 * closes (cache it); NULL on OOM. Publishing a script resets them. */
struct script_counters *script_registry_counters(struct script_registry *reg, int64_t project_id);
void script_counters_add(struct script_counters *c, enum script_counter which, uint64_t n);

/* Re-reads one project's active script and scrubbing settings from the
 * store and publishes what changed (a NOTIFY from another node, a settings
 * change on this one). Returns 1 when something was published, 0 when
 * nothing changed, or a negative errno. */
int script_registry_reload_project(struct script_registry *reg, int64_t project_id);

/* Counts one hook failure for the project: metrics
 * periscope_script_errors_total{project,hook,kind}, the stats' last error,
 * and a log line (at most one a second per project and hook). */
void script_registry_record_error(struct script_registry *reg, int64_t project_id, const char *hook,
                                  const struct vm_error *err);

/* {"project_id", "version", "generation", "activated_at" (ms) | null,
 *  "events", "filtered", "hooks": {hook: {"calls", "errors", "timeouts"}},
 *  "errors": {hook: {kind: n}},
 *  "last_error": {"hook", "kind", "message", "line", "at"} | null}, all
 *  counted since the active script was published.
 * Caller owns *out (json_decref). */
int script_registry_stats(struct script_registry *reg, int64_t project_id, cJSON **out);

#endif
