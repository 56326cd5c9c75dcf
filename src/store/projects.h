/* projects — projects and their DSN keys (SQL for both backends).
 *
 * All functions take a connection the caller holds, return 0 or a negative
 * errno (-ENOENT: no such row), and hand JSON rows to the caller (caller
 * owns, json_decref). Times in rows are ms since the epoch (the admin layer
 * formats them). */
#ifndef PERISCOPE_STORE_PROJECTS_H
#define PERISCOPE_STORE_PROJECTS_H

#include <stdint.h>
#include "base/json.h"
#include "store/db.h"

#define PROJECT_NAME_MAX 200
#define PUBLIC_KEY_HEX 32

/* Creates the project and its first key in one transaction (its own: do not
 * call it inside one). key_out gets the 32-hex public key (NUL-terminated).
 * -EINVAL: name empty, longer than PROJECT_NAME_MAX bytes or not UTF-8. */
int projects_create(struct db *db, const char *name, int64_t *id_out,
                    char key_out[PUBLIC_KEY_HEX + 1]);

/* {"id", "name", "created_at", "rate_limit_per_minute", "active_script_version",
 *  "public_key" (the oldest active key, or null)} */
int projects_get(struct db *db, int64_t id, cJSON **out);

/* Projects with id > after_id, ascending, at most limit rows: array. */
int projects_list(struct db *db, int64_t after_id, int limit, cJSON **out);

/* Sets name (NULL: unchanged) and rate limit (< 0: unchanged).
 * -ENOENT: no such project; -EINVAL: bad name. */
int projects_update(struct db *db, int64_t id, const char *name, int rate_limit_per_minute);

/* Deletes the project with its keys, issues, events, alerts, scripts. */
int projects_delete(struct db *db, int64_t id);

/* Number of projects (for the first-run "default" project). */
int projects_count(struct db *db, int64_t *out);

/* A new random 32-hex key (OpenSSL RAND_bytes) for the project; -ENOENT
 * when there is no such project. Keys of a project get strictly increasing
 * created_at, so "oldest" is well defined. */
int keys_create(struct db *db, int64_t project_id, char key_out[PUBLIC_KEY_HEX + 1]);

/* [{"public_key", "created_at", "revoked_at" | null}], oldest first;
 * -ENOENT when there is no such project. */
int keys_list(struct db *db, int64_t project_id, cJSON **out);

/* Marks the key revoked (-ENOENT when it is not the project's). Revoking a
 * revoked key again succeeds and keeps the first revocation time. Like
 * projects_delete and a projects_update of the rate limit, it tells the
 * other nodes (keys_notify_changed) so that they stop taking the key. */
int keys_revoke(struct db *db, int64_t project_id, const char *public_key);

/* The project of an active key: 0, or -ENOENT for an unknown, revoked or
 * malformed key (an indexed lookup, not a constant-time compare).
 * rate_limit_out (may be NULL) gets the project's events-per-minute quota. */
int keys_lookup(struct db *db, const char *public_key, int64_t *project_id, int *rate_limit_out);

#endif
