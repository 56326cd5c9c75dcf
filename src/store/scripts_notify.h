/* store/scripts_notify — one node's changes reaching every other node on
 * the same Postgres (LISTEN/NOTIFY), the payload the project id in
 * decimal: "project N's active script changed" (channel periscope_scripts)
 * and "project N's keys or quota changed" (periscope_keys: a revoked key,
 * a deleted project, a new rate limit), so that a revoked key stops
 * working on every node within a second.
 *
 * On SQLite (one node) notify does nothing and listen is -ENOTSUP. The
 * listening connection must be one of its own (db_open), used by one
 * thread; notify runs on any connection the caller holds. */
#ifndef PERISCOPE_STORE_SCRIPTS_NOTIFY_H
#define PERISCOPE_STORE_SCRIPTS_NOTIFY_H

#include <stdint.h>
#include "store/db.h"

#define SCRIPTS_NOTIFY_CHANNEL "periscope_scripts"
#define KEYS_NOTIFY_CHANNEL "periscope_keys"

enum node_change { NODE_CHANGE_SCRIPT, NODE_CHANGE_KEYS };

/* Tells every listening node that project_id's script changed. 0 or
 * negative errno. */
int scripts_notify_changed(struct db *db, int64_t project_id);

/* Tells every listening node that project_id's keys or quota changed. */
int keys_notify_changed(struct db *db, int64_t project_id);

/* Subscribes the connection to both channels. 0, -ENOTSUP (SQLite) or
 * negative errno. */
int scripts_listen(struct db *db);

/* Waits up to timeout_ms: 1 with *what and *project_id (0 when the payload
 * was not a project id: reload everything), 0 on timeout, -ECONNRESET
 * after a reconnect (changes may have been missed: reload everything),
 * other negative on error. */
int scripts_wait_changed(struct db *db, int timeout_ms, enum node_change *what,
                         int64_t *project_id);

#endif
