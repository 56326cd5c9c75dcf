/* lua/script_format — an alert made into the message a destination gets,
 * in the script's own vm (docs/architecture.md §4, §6): the project's
 * format(alert, destination) hook when it gives a body, else the default
 * formatter (lua/periscope/format.lua, the server's own module, loaded
 * into the same vm on first use). Every Lua call goes through vm_pcall
 * (count hook, memory cap, deadline); the alert is pushed from its C
 * struct (lua/alert_table.h) and the message read straight from the
 * formatter's results: no JSON on the way in, one encode on the way out
 * (periscope.json, inside the memory cap).
 *
 * A hook that raises, times out, hits its memory cap, returns the wrong
 * type, or gives a body the encoder cannot use never costs the
 * notification: the default message is used and the failure is handed
 * back in *hook_err (the notifier counts it in the script status; the dry
 * run lists it). A script without hooks (the runtime's default script)
 * formats with the defaults alone.
 *
 * Owned by the thread that owns the script; touches no shared state. */
#ifndef PERISCOPE_LUA_SCRIPT_FORMAT_H
#define PERISCOPE_LUA_SCRIPT_FORMAT_H

#include <stddef.h>

#include "model/alert.h"
#include "lua/script.h"

/* What is sent. Strings are owned by the message (script_message_clear). */
struct script_message {
    char *body;                  /* webhook types and the logger */
    char *content_type;          /* of body */
    char *subject, *text, *html; /* email */
};

void script_message_clear(struct script_message *m);

/* The message for alert to dest (both borrowed). Fills *out and sets
 * hook_err->kind to VM_ERROR_NONE, or to the hook's failure when the
 * default was used instead. Returns 0; 1 when format() returned false (no
 * message for this destination: *out empty); or -EINVAL with err filled
 * when even the default formatter failed (unknown type, formatter error,
 * s NULL). */
int script_format_alert(struct script *s, const struct alert_data *alert,
                        const struct alert_destination *dest, struct script_message *out,
                        struct vm_error *hook_err, char *err, size_t errlen);

/* One digest message for n alerts held back for dest (the default
 * formatter's; no hook). 0 or -EINVAL with err. */
int script_format_digest(struct script *s, const struct alert_data *alerts, size_t n,
                         const struct alert_destination *dest, struct script_message *out,
                         char *err, size_t errlen);

#endif
