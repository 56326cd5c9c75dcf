/* notify/dest_config — a destination's settings as the admin API takes and
 * shows them: validation per type (URL schemes, required fields, header
 * names and values, email addresses, signing secret) and the masked view
 * GET answers (secrets, passwords and URL tokens are never shown in full).
 * Pure; thread-safe. JSON results are owned by the caller. */
#ifndef PERISCOPE_NOTIFY_DEST_CONFIG_H
#define PERISCOPE_NOTIFY_DEST_CONFIG_H

#include <stdbool.h>
#include "base/error.h"
#include "base/json.h"

#define DEST_MASK "…(masked)"
#define DEST_NAME_MAX 200

/* The config object for a destination of type from the request body: for
 * create, existing is NULL; for a patch, existing is the stored config and
 * only the fields present in body change (a masked value sent back as it
 * was shown keeps the stored one). A new webhook_url drops the stored
 * webhook_headers and secret, a new smtp_url host the stored password,
 * unless body sends them again: secrets never follow a changed address.
 * Returns 0 with *out set, or -EINVAL with e filled (answer 400). allow_private: literal private
 * addresses in URLs are accepted (ALLOW_PRIVATE_DESTINATIONS). */
int dest_config_build(const char *type, const cJSON *body, const cJSON *existing,
                      bool allow_private, cJSON **out, struct error_detail *e);

/* The API object for a destinations_get() row: id, type, name, enabled,
 * created_at (ms, as stored), and the type's fields, masked. NULL on OOM. */
cJSON *dest_config_view(const cJSON *row);

/* "https://hooks.slack.com/services/T0…(masked)": scheme, host and port,
 * the first path segment and two characters more; no user info, no query.
 * A URL with no path and no query is returned as is. Caller frees. */
char *dest_mask_url(const char *url);

#endif
