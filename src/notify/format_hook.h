/* notify/format_hook — the format() check the
 * application hands the script registry (lua/registry.h): a script's
 * format() hook run on a sample alert for every destination type, the way
 * the notifier formats (lua/script_format.h, in the script's own vm), so
 * that script validation refuses a format() that fails.
 *
 * Runs on the thread that owns s. Touches no shared state. */
#ifndef PERISCOPE_NOTIFY_FORMAT_HOOK_H
#define PERISCOPE_NOTIFY_FORMAT_HOOK_H

#include "model/alert.h"
#include "lua/script.h"

/* script_format_check_fn (lua/registry.h): s's format() on a sample alert
 * (public_url for its links) for every destination type. 0, or 1 with err
 * ("… (destination type email)"). */
int notify_format_check_script(struct script *s, const char *public_url, struct vm_error *err);

/* Runs s's format() hook on alert (borrowed) for each destination type
 * (lua/script_format.h). Returns 0 when the hook never failed (or s has
 * none); else 1 with the first failure in *hook_err and its type (static)
 * in *type. */
int notify_format_check(struct script *s, const struct alert_data *alert, const char **type,
                        struct vm_error *hook_err);

#endif
