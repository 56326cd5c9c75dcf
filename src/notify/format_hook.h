/* notify/format_hook — the one path from an alert to the message a
 * destination gets: the project's format(alert, destination) hook when it
 * gives a body (lua/script_format.h), else the default formatter
 * (notify/format.h). The notifier and the dry run (dryrun.h: POST
 * …/script/test, `periscope rules check`) both call it, so they produce
 * the same body for the same alert and destination.
 *
 * A hook that raises, times out, hits its memory cap, returns the wrong
 * type, or gives a body the encoder cannot use never costs the
 * notification: the default message is used and the failure is handed
 * back in *hook_err for the caller to report (the notifier counts it in
 * the script status; the dry run lists it).
 *
 * notify_format_check runs the same path for every destination type, so
 * that script validation (lua/registry.h) refuses a format() that fails.
 *
 * Runs on the thread that owns both f and s (never shared across
 * threads). Touches no shared state. */
#ifndef PERISCOPE_NOTIFY_FORMAT_HOOK_H
#define PERISCOPE_NOTIFY_FORMAT_HOOK_H

#include <stddef.h>
#include <jansson.h>

#include "lua/script.h"
#include "notify/format.h"

/* alert (format.lua's alert table) and dest ({"id", "type", "name"}) are
 * borrowed; s may be NULL (the project runs the default rules). Fills *out
 * (notify_message_clear) and sets hook_err->kind to VM_ERROR_NONE, or to
 * the hook's failure when the default was used instead. Returns 0; 1 when
 * format() returned false (no message for this destination: *out empty); or
 * -EINVAL with err filled when even the default formatter failed (unknown
 * type, formatter error). */
int notify_format_alert(struct notify_format *f, struct script *s, const json_t *alert,
                        const json_t *dest, struct notify_message *out, struct vm_error *hook_err,
                        char *err, size_t errlen);

/* script_format_check_fn (lua/registry.h): s's format() on a sample alert
 * (public_url for its links) for every destination type, with the default
 * formatters of lua_dir. 0, or 1 with err ("… (destination type email)").
 * When the default formatters cannot load (a broken LUA_DIR) the check is
 * skipped with a warning: that is the server's fault, not the script's. */
int notify_format_check_script(struct script *s, const char *lua_dir, const char *public_url,
                               struct vm_error *err);

/* Runs s's format() hook on alert (borrowed) for each destination type
 * through notify_format_alert. Returns 0 when the hook never failed (or s
 * has none); else 1 with the first failure in *hook_err and its type
 * (static) in *type. */
int notify_format_check(struct notify_format *f, struct script *s, const json_t *alert,
                        const char **type, struct vm_error *hook_err);

#endif
