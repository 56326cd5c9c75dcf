/* lua/script_format — runs a project script's format(alert, destination)
 * hook (docs/architecture.md §4), in the script's own sandboxed vm through vm_pcall
 * (count hook, memory cap), for the notifier and the dry run.
 *
 * The hook's result is handed back as text for notify_format_override():
 * a table is JSON-encoded (periscope.json), a string is passed as-is, nil
 * means "use the default formatter", false "send this destination nothing". Owned by the thread
 * that owns the script. */
#ifndef PERISCOPE_LUA_SCRIPT_FORMAT_H
#define PERISCOPE_LUA_SCRIPT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "lua/script.h"

/* alert and destination are borrowed (their shape: lua/periscope/format.lua).
 * Returns 1 with *out (malloc'd, caller frees, NUL-terminated, *len bytes)
 * and *is_json; 0 when the script has no format hook or it returned nil; 2 when it
 * returned false (suppress);
 * -1 with err filled (hook "format": error, timeout, memory, or a result
 * that is neither table, string nor nil). */
int script_format(struct script *s, const cJSON *alert, const cJSON *destination, char **out,
                  size_t *len, bool *is_json, struct vm_error *err);

#endif
