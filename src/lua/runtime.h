/* lua/runtime — the Lua side of the pipeline: one runtime per worker thread,
 * holding one sandboxed lua_State per project (created lazily), which runs
 * the project's scrubbing (its rules from the registry, then its scrub
 * hook), its filter and fingerprint hooks and the default grouping
 * (lua/periscope/grouping.lua).
 *
 * Not thread-safe: each pipeline worker (and the notifier) owns its own
 * runtime (and frees it on its own thread: runtime_free flushes that
 * thread's memo counts); only the grouping memo is shared. Script problems
 * (error, timeout, memory cap, wrong return type) never cost the event: the
 * default behaviour is used, the error is logged and counted per project
 * and hook. */
#ifndef PERISCOPE_LUA_RUNTIME_H
#define PERISCOPE_LUA_RUNTIME_H

#include <stdint.h>

#include "lua/script.h"

struct config;
struct grouped_event;
struct runtime;
struct script_registry;

/* reg (borrowed, may be NULL: the default rules only, with limits from cfg,
 * which may be NULL too: the built-in limits). */
int runtime_new(struct script_registry *reg, const struct config *cfg, struct runtime **out);
void runtime_free(struct runtime *rt);

/* For a normalized event (*json, normalized into ev), before anything else
 * reads it: the project's (ev->project_id) scrubbing (lua/script_scrub.h).
 * Returns 1 when the tree changed (store it, not the bytes received), 0 when not, or a negative
 * errno when it could not be scrubbed (the event must not be stored). A failing scrub hook is
 * reported like the other hooks and the built-in result stands. */
int runtime_scrub(struct runtime *rt, cJSON **json, struct grouped_event *ev);

/* For a normalized event (json, of project ev->project_id): runs the project's filter (sets
 * ev->filtered), the grouping (default, or the project's fingerprint hook),
 * the hash, title and culprit into ev. Returns 0; negative only when even
 * the default grouping could not run (the caller then falls back to the C
 * grouping). */
int runtime_process(struct runtime *rt, cJSON *json, struct grouped_event *ev);

/* The memo of the default grouping (lua/grouping_memo.h): on by default,
 * the registry's (shared by every runtime of the process) or, without a
 * registry, one of the runtime's own with GROUPING_MEMO_ENTRIES_DEFAULT
 * entries built on first use. set_memo gives the runtime an own memo of
 * `entries` entries instead, or turns it off with 0 (a runtime that always
 * runs Lua, for comparison). Returns 0 or -ENOMEM. */
struct grouping_memo_stats;
int runtime_set_memo(struct runtime *rt, size_t entries);
/* The counters of the memo in use (the shared one's count every runtime's
 * lookups); -ENOENT when it is off or no own memo was built yet. */
int runtime_memo_stats(const struct runtime *rt, struct grouping_memo_stats *out);

/* The script whose vm formats and routes the project's alerts (the
 * notifier: lua/script_format.h, lua/script_alert.h): the project's own
 * (rebuilt when the registry published a new one), else — the project runs
 * the default rules, or there is no registry — the runtime's default
 * script, where the default formatters run alone. NULL only when not even
 * that can be built. When the project's script has a format hook, one call
 * is counted for the script status. Owned by rt; valid until the next call
 * on rt. */
struct script *runtime_format_script(struct runtime *rt, int64_t project_id);

/* Reports a failed hook of the project's script the way
 * runtime_process does (registry stats, metrics, a rate-limited log
 * line); after a memory error a state that stays large is rebuilt. */
void runtime_hook_failed(struct runtime *rt, int64_t project_id, const char *hook,
                         const struct vm_error *err);

#endif
