/* sessions — browser sessions, for both backends (contract in sessions.h). */
#include "store/sessions.h"

#include <errno.h>
#include <stdio.h>

#include "base/clock.h"
#include "store/store.h"

static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at)"
    " VALUES ($1, $2, $3, $4, $4)";
static const char SQL_SESSION_GET[] =
    "SELECT user_id, csrf_token, created_at, last_seen_at FROM sessions WHERE id_hash = $1";
static const char SQL_SESSION_TOUCH[] = "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1";
static const char SQL_SESSION_DELETE[] = "DELETE FROM sessions WHERE id_hash = $1";
static const char SQL_SESSION_DELETE_USER[] = "DELETE FROM sessions WHERE user_id = $1";
static const char SQL_SESSION_PURGE[] =
    "DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2";
static const char SQL_SETUP_PURGE[] = "DELETE FROM setup_tokens WHERE expires_at <= $1";

static int run(struct db_stmt *st)
{
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        ;
    return rc;
}

int sessions_create(struct db *db, const char *id_hash, int64_t user_id, const char *csrf_token)
{
    struct db_stmt *st = db_prepare(db, SQL_SESSION_INSERT);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, id_hash, (size_t)-1)) || (rc = db_bind_int64(st, 2, user_id)) ||
        (rc = db_bind_text(st, 3, csrf_token, (size_t)-1)) ||
        (rc = db_bind_int64(st, 4, clock_wall_ms())))
        return rc;
    return run(st) < 0 ? -EIO : 0;
}

int sessions_delete(struct db *db, const char *id_hash)
{
    struct db_stmt *st = db_prepare(db, SQL_SESSION_DELETE);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, id_hash, (size_t)-1)) || (rc = run(st)) < 0) return rc;
    return 0;
}

int sessions_delete_user(struct db *db, int64_t user_id)
{
    struct db_stmt *st = db_prepare(db, SQL_SESSION_DELETE_USER);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, user_id)) || (rc = run(st)) < 0) return rc;
    return 0;
}

int64_t sessions_purge(struct db *db, int64_t now_ms, int64_t idle_ms, int64_t max_ms)
{
    struct db_stmt *st = db_prepare(db, SQL_SESSION_PURGE);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, now_ms - idle_ms)) ||
        (rc = db_bind_int64(st, 2, now_ms - max_ms)) || (rc = run(st)) < 0)
        return rc;
    int64_t n = db_changes(st);
    if (!(st = db_prepare(db, SQL_SETUP_PURGE))) return -EIO;
    if ((rc = db_bind_int64(st, 1, now_ms)) || (rc = run(st)) < 0) return rc;
    return n;
}

int sessions_use(struct db *db, const char *id_hash, int64_t idle_ms, int64_t max_ms,
                 struct session_row *out)
{
    struct db_stmt *st = db_prepare(db, SQL_SESSION_GET);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, id_hash, (size_t)-1)) || (rc = db_step_row(st, -ENOENT)))
        return rc;
    const char *csrf = db_col_text(st, 1);
    out->user_id = db_col_int64(st, 0);
    snprintf(out->csrf_token, sizeof out->csrf_token, "%s", csrf ? csrf : "");
    out->created_at = db_col_int64(st, 2);
    out->last_seen_at = db_col_int64(st, 3);
    db_finish(st);
    int64_t now = clock_wall_ms();
    if (now - out->last_seen_at >= idle_ms || now - out->created_at >= max_ms) {
        sessions_delete(db, id_hash);
        return -ENOENT;
    }
    int64_t touch = idle_ms / 10 < SESSION_TOUCH_MS ? idle_ms / 10 : SESSION_TOUCH_MS;
    if (now - out->last_seen_at < touch) return 0;
    if (!(st = db_prepare(db, SQL_SESSION_TOUCH))) return -EIO;
    if ((rc = db_bind_text(st, 1, id_hash, (size_t)-1)) || (rc = db_bind_int64(st, 2, now)) ||
        (rc = run(st)) < 0)
        return rc;
    out->last_seen_at = now;
    return 0;
}
