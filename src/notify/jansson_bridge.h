/* notify/jansson_bridge — the one crossing from cJSON (everything else)
 * into jansson, which only the notification formats still read
 * (notify/format.c, notify/format_hook.c, notify/alert_data.c: they move
 * into the project's Lua vm with the alert pushed from a C struct, and
 * this header goes with them). Pure; any thread. */
#ifndef PERISCOPE_NOTIFY_JANSSON_BRIDGE_H
#define PERISCOPE_NOTIFY_JANSSON_BRIDGE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>

#include "base/json.h"
#include "notify/alert_data.h"
#include "notify/format.h"
#include "notify/format_hook.h"

/* A jansson copy of v (caller json_decref's it), or NULL (v NULL, OOM). */
static inline json_t *notify_to_jansson(const cJSON *v)
{
    char *text = json_print(v, 0);
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    free(text);
    return j;
}

/* A cJSON copy of the jansson value v (caller cJSON_Delete's it), or NULL. */
static inline cJSON *notify_from_jansson(const json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    cJSON *c = text ? json_parse_text(text) : NULL;
    free(text);
    return c;
}

/* notify_alert_data over cJSON: ctx in, the alert table out. */
static inline cJSON *notify_alert_data_cj(const cJSON *ctx, const char *public_url,
                                          const char *message_id)
{
    json_t *j_ctx = notify_to_jansson(ctx);
    json_t *j = j_ctx ? notify_alert_data(j_ctx, public_url, message_id) : NULL;
    cJSON *alert = notify_from_jansson(j);
    json_decref(j);
    json_decref(j_ctx);
    return alert;
}

/* notify_sample_alert over cJSON. */
static inline cJSON *notify_sample_alert_cj(int64_t project_id, const char *project_name,
                                            const char *public_url, long long now_ms)
{
    json_t *j = notify_sample_alert(project_id, project_name, public_url, now_ms);
    cJSON *alert = notify_from_jansson(j);
    json_decref(j);
    return alert;
}

/* notify_format_alert over cJSON; -ENOMEM (hook_err none) when a copy fails. */
static inline int notify_format_alert_cj(struct notify_format *f, struct script *s,
                                         const cJSON *alert, const cJSON *dest,
                                         struct notify_message *out, struct vm_error *hook_err,
                                         char *err, size_t errlen)
{
    json_t *a = notify_to_jansson(alert), *d = notify_to_jansson(dest);
    int rc;
    if (a && d) {
        rc = notify_format_alert(f, s, a, d, out, hook_err, err, errlen);
    } else {
        hook_err->kind = VM_ERROR_NONE;
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
    }
    json_decref(a);
    json_decref(d);
    return rc;
}

/* notify_format_digest over cJSON. */
static inline int notify_format_digest_cj(struct notify_format *f, const cJSON *alerts,
                                          const cJSON *dest, struct notify_message *out, char *err,
                                          size_t errlen)
{
    json_t *a = notify_to_jansson(alerts), *d = notify_to_jansson(dest);
    int rc = -ENOMEM;
    if (a && d)
        rc = notify_format_digest(f, a, d, out, err, errlen);
    else
        snprintf(err, errlen, "out of memory");
    json_decref(a);
    json_decref(d);
    return rc;
}

#endif
