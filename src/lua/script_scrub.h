/* lua/script_scrub — an event's personal data scrubbing as the pipeline
 * runs it: the built-in rules (scrub.h, with the project's settings), then
 * the project script's optional scrub(event) hook, then normalize_event
 * again when anything changed (so level, environment, release and
 * timestamp are read from what will be stored).
 *
 * The hook gets the whole normalized, already scrubbed event as a table
 * (lists marked so that they stay lists once emptied). It may change the
 * table in place and return nothing, or return another table; that table
 * becomes the event (lua/event_json.h's rules), re-normalized: event_id is
 * the envelope's whatever the hook does, and everything else — message,
 * exception, tags, user, request, extra, contexts, breadcrumbs, level,
 * environment, release, timestamp — is what the hook left. The hook runs
 * through vm_pcall like every hook (instruction count, memory cap); when
 * it raises, times out, returns another type or a table JSON cannot hold,
 * the built-in result stands and the error is reported as hook "scrub".
 *
 * Runs on the thread that owns the script (a pipeline worker, the dry run,
 * validation). */
#ifndef PERISCOPE_LUA_SCRIPT_SCRUB_H
#define PERISCOPE_LUA_SCRIPT_SCRUB_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "lua/script.h"

struct grouped_event;
struct scrub_rules;

struct script_scrub_result {
    int scrubbed;     /* values the built-in rules replaced or removed */
    bool hook_ran;    /* the script has a scrub hook and it was called */
    bool hook_failed; /* ... and failed (error says why): the built-in result stands */
    struct vm_error error;
};

/* Calls s's scrub hook on event (borrowed). 1 with *out (the hook's event,
 * caller cJSON_Deletes); 0 when s has no scrub hook; -1 with err filled. */
int script_scrub(struct script *s, const cJSON *event, cJSON **out, struct vm_error *err);

/* Built-in rules (NULL: the default ones), then s's hook (s may be NULL),
 * on *json, which must be normalized (the hook's tree replaces it; when
 * anything changed it is normalized again into ev: normalize.h). Returns 1
 * when the tree changed (it no longer matches the bytes received), 0 when
 * it did not, or a negative errno when scrubbing could not complete — then
 * the event must not be stored. */
int script_scrub_event(struct script *s, const struct scrub_rules *rules, cJSON **json,
                       struct grouped_event *ev, struct script_scrub_result *res);

#endif
