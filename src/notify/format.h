/* notify/format — turns an alert into the message a destination receives,
 * through lua/periscope/format.lua run in a trusted Lua state (the server's
 * own code, not a project script: full standard library, lua-cjson).
 *
 * A struct notify_format is used by one thread at a time: the notifier
 * thread owns one; the admin "test" endpoint makes a short-lived one. */
#ifndef PERISCOPE_NOTIFY_FORMAT_H
#define PERISCOPE_NOTIFY_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* What is sent. Strings are owned by the message (notify_message_clear). */
struct notify_message {
    char *body;                  /* webhook types and the logger */
    char *content_type;          /* of body */
    char *subject, *text, *html; /* email */
};

void notify_message_clear(struct notify_message *m);

struct notify_format;

/* Loads <lua_dir>/periscope/format.lua. Returns 0 or negative errno with a
 * message in err. Caller frees with notify_format_free. */
int notify_format_new(const char *lua_dir, struct notify_format **out, char *err, size_t errlen);
void notify_format_free(struct notify_format *f);

/* The default message for alert (see format.lua for its shape) to dest
 * ({"id", "type", "name"}). Both borrowed. 0, or -EINVAL with the Lua error
 * in err (unknown type, formatter error). */
int notify_format_render(struct notify_format *f, const json_t *alert, const json_t *dest,
                         struct notify_message *out, char *err, size_t errlen);

/* One digest message for alerts (a JSON array of alert objects). */
int notify_format_digest(struct notify_format *f, const json_t *alerts, const json_t *dest,
                         struct notify_message *out, char *err, size_t errlen);

/* The message from a project format() hook's result: JSON text of a table
 * (is_json) or a plain string; email fields it leaves out come from the
 * default message for alert. */
int notify_format_override(struct notify_format *f, const json_t *alert, const json_t *dest,
                           const char *value, size_t len, bool is_json, struct notify_message *out,
                           char *err, size_t errlen);

#endif
