/* destinations — where a project's alerts are delivered (SQL for both
 * backends). A destination's per-type settings (webhook_url,
 * webhook_headers, secret, smtp_url, username, password, from, to) are one
 * JSON object stored as text in destinations.config.
 *
 * When the connection has a secrets key (db_secret_key) the column holds
 * the config sealed (secretbox.h); plaintext rows are read as they are.
 * A row whose config cannot be opened (no key, another key) reads as
 * "config": {} with "config_error" saying why.
 *
 * Functions take a connection the caller holds and return 0 or a negative
 * errno (-ENOENT: no such destination in that project). JSON results are
 * owned by the caller (json_decref); they hold secrets in clear: the admin
 * layer masks them before answering. Times are ms since the epoch. */
#ifndef PERISCOPE_STORE_DESTINATIONS_H
#define PERISCOPE_STORE_DESTINATIONS_H

#include <stdint.h>
#include "base/json.h"
#include "store/db.h"

/* config is a JSON object (borrowed, serialized into the row); now is the
 * creation time. */
int destinations_create(struct db *db, int64_t project_id, const char *type, const char *name,
                        int enabled, const cJSON *config, long long now, int64_t *id_out);

/* {"id", "project_id", "type", "name", "enabled" (bool), "config" (object),
 *  "created_at"}. project_id 0 matches any project (the notifier). */
int destinations_get(struct db *db, int64_t project_id, int64_t id, cJSON **out);

/* The project's destinations with id > after_id, ascending, at most limit. */
int destinations_list(struct db *db, int64_t project_id, int64_t after_id, int limit, cJSON **out);

/* name NULL, enabled < 0, config NULL: unchanged. */
int destinations_update(struct db *db, int64_t project_id, int64_t id, const char *name,
                        int enabled, const cJSON *config);

/* With a secrets key: seals every config still stored in clear (rows from
 * before the key was set). *sealed gets the count. 0 or negative errno. */
int destinations_seal_plaintext(struct db *db, int *sealed);

/* Deletes it with its pending deliveries. */
int destinations_delete(struct db *db, int64_t project_id, int64_t id);

#endif
