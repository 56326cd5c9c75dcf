/* store/scripts_notify — "project N's active script changed", from one
 * node to every other one on the same Postgres (LISTEN/NOTIFY on the
 * channel periscope_scripts, the payload the project id in decimal).
 *
 * On SQLite (one node) notify does nothing and listen is -ENOTSUP. The
 * listening connection must be one of its own (db_open), used by one
 * thread; notify runs on any connection the caller holds. */
#ifndef PERISCOPE_STORE_SCRIPTS_NOTIFY_H
#define PERISCOPE_STORE_SCRIPTS_NOTIFY_H

#include <stdint.h>
#include "db.h"

#define SCRIPTS_NOTIFY_CHANNEL "periscope_scripts"

/* Tells every listening node that project_id's script changed. 0 or
 * negative errno. */
int scripts_notify_changed(struct db *db, int64_t project_id);

/* Subscribes the connection. 0, -ENOTSUP (SQLite) or negative errno. */
int scripts_listen(struct db *db);

/* Waits up to timeout_ms: 1 with *project_id (0 when the payload was not a
 * project id: reload everything), 0 on timeout, -ECONNRESET after a
 * reconnect (changes may have been missed: reload everything), other
 * negative on error. */
int scripts_wait_changed(struct db *db, int timeout_ms, int64_t *project_id);

#endif
