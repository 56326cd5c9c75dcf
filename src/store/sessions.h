/* sessions — browser sessions, stored under the SHA-256 of the cookie's id
 * (SQL for both backends). A session ends after idle_ms without use or
 * max_ms after its start, whichever comes first; an ended one is deleted
 * when it is next presented.
 *
 * Functions take a connection the caller holds; 0 or a negative errno
 * (-ENOENT: no such session, or it has ended). */
#ifndef PERISCOPE_STORE_SESSIONS_H
#define PERISCOPE_STORE_SESSIONS_H

#include <stdint.h>
#include "store/db.h"

/* Use is written back at most this often (or a tenth of the idle time, if
 * shorter), so that reading pages does not write on every request. */
#define SESSION_TOUCH_MS 60000

struct session_row {
    int64_t user_id;
    char csrf_token[65];
    int64_t created_at, last_seen_at;
};

int sessions_create(struct db *db, const char *id_hash, int64_t user_id, const char *csrf_token);
/* Finds a live session and records its use. */
int sessions_use(struct db *db, const char *id_hash, int64_t idle_ms, int64_t max_ms,
                 struct session_row *out);
int sessions_delete(struct db *db, const char *id_hash);
/* Every session of the user (a password change signs them all out). */
int sessions_delete_user(struct db *db, int64_t user_id);

/* Deletes the sessions that have ended by now_ms (never presented again,
 * so never deleted on use) and expired setup links. The number of
 * sessions deleted, or a negative errno. */
int64_t sessions_purge(struct db *db, int64_t now_ms, int64_t idle_ms, int64_t max_ms);

#endif
