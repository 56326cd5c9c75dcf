/* projects — projects and their DSN keys, for both backends. */
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>

#include "base/utf8.h"
#include "store/projects.h"
#include "base/clock.h"
#include "store/scripts_notify.h"
#include "store/store.h"
#include "store/project_scrub.h"

#define KEY_RANDOM_BYTES (PUBLIC_KEY_HEX / 2)
#define KEY_CREATE_ATTEMPTS 3

/* "public_key" is the oldest active key: the one a new project's DSN shows. */
#define PROJECT_COLUMNS                                                                            \
    "p.id, p.name, p.created_at, p.rate_limit_per_minute, p.active_script_version,"                \
    " (SELECT k.public_key FROM project_keys k WHERE k.project_id = p.id"                          \
    " AND k.revoked_at IS NULL ORDER BY k.created_at, k.public_key LIMIT "                         \
    "1), " PROJECT_SCRUB_COLUMNS ", p.grouping_transition_days"

static const char SQL_PROJECT_INSERT[] =
    "INSERT INTO projects (name, created_at) VALUES ($1, $2) RETURNING id";
static const char SQL_PROJECT_GET[] = "SELECT " PROJECT_COLUMNS " FROM projects p WHERE p.id = $1";
static const char SQL_PROJECT_LIST[] =
    "SELECT " PROJECT_COLUMNS " FROM projects p WHERE p.id > $1 ORDER BY p.id LIMIT $2";
static const char SQL_PROJECT_UPDATE[] =
    "UPDATE projects SET name = COALESCE($2, name),"
    " rate_limit_per_minute = CASE WHEN $3 < 0 THEN rate_limit_per_minute ELSE $3 END"
    " WHERE id = $1";
static const char SQL_PROJECT_DELETE[] = "DELETE FROM projects WHERE id = $1";
static const char SQL_PROJECT_COUNT[] = "SELECT COUNT(*) FROM projects";
/* created_at is kept strictly increasing within a project, so "oldest key"
 * is well defined even for keys made in the same millisecond. */
static const char SQL_KEY_INSERT[] =
    "INSERT INTO project_keys (public_key, project_id, created_at)"
    " SELECT CAST($1 AS TEXT), CAST($2 AS BIGINT),"
    " CASE WHEN MAX(created_at) >= $3 THEN MAX(created_at) + 1 ELSE $3 END"
    " FROM project_keys WHERE project_id = $2";
/* The LEFT JOIN tells "no keys" (one row of NULLs) from "no project" (none). */
static const char SQL_KEY_LIST[] =
    "SELECT k.public_key, k.created_at, k.revoked_at FROM projects p"
    " LEFT JOIN project_keys k ON k.project_id = p.id WHERE p.id = $1"
    " ORDER BY k.created_at, k.public_key";
static const char SQL_KEY_REVOKE[] = "UPDATE project_keys SET revoked_at = COALESCE(revoked_at, $3)"
                                     " WHERE project_id = $1 AND public_key = $2";
static const char SQL_KEY_LOOKUP[] =
    "SELECT k.project_id, p.rate_limit_per_minute FROM project_keys k"
    " JOIN projects p ON p.id = k.project_id"
    " WHERE k.public_key = $1 AND k.revoked_at IS NULL";

/* A name is 1..PROJECT_NAME_MAX bytes of valid UTF-8. */
static bool name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    return len > 0 && len <= PROJECT_NAME_MAX && utf8_valid(name, len);
}

static bool key_valid(const char *key)
{
    return key && strlen(key) == PUBLIC_KEY_HEX &&
           strspn(key, "0123456789abcdef") == PUBLIC_KEY_HEX;
}

/* Sets key to a column's text, or null. */
static int set_text(cJSON *obj, const char *key, struct db_stmt *st, int col)
{
    cJSON *v = db_col_json_text(st, col);
    return json_set(obj, key, v ? v : cJSON_CreateNull());
}

static int set_int(cJSON *obj, const char *key, struct db_stmt *st, int col)
{
    cJSON *v = db_col_is_null(st, col) ? cJSON_CreateNull() : json_new_int(db_col_int64(st, col));
    return json_set(obj, key, v);
}

/* "scrubbing" from the PROJECT_SCRUB_COLUMNS at col. */
static int set_scrubbing(cJSON *obj, struct db_stmt *st, int col)
{
    struct scrub_settings s;
    /* A list that no longer parses is shown (and run, lua/registry) as the defaults. */
    if (project_scrub_from_row(st, col, &s) != 0) scrub_settings_default(&s);
    return json_set(obj, "scrubbing", scrub_settings_to_json(&s));
}

/* The current row of a PROJECT_COLUMNS query as an object; caller owns. */
static cJSON *project_row(struct db_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || set_int(o, "id", st, 0) || set_text(o, "name", st, 1) ||
        set_int(o, "created_at", st, 2) || set_int(o, "rate_limit_per_minute", st, 3) ||
        set_int(o, "active_script_version", st, 4) || set_text(o, "public_key", st, 5) ||
        set_scrubbing(o, st, 6) || set_int(o, "grouping_transition_days", st, 10)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Steps st to the end; 0 or the negative error. */
static int run(struct db_stmt *st)
{
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        ;
    return rc;
}

/* -EIO when OpenSSL has no entropy: then nothing is safe to hand out. */
static int random_key(char out[PUBLIC_KEY_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[KEY_RANDOM_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1) return -EIO;
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[PUBLIC_KEY_HEX] = '\0';
    return 0;
}

/* Inserts a fresh key; retries on the (astronomically unlikely) clash. */
static int key_insert(struct db *db, int64_t project_id, char key_out[PUBLIC_KEY_HEX + 1])
{
    int rc = -EEXIST;
    for (int i = 0; i < KEY_CREATE_ATTEMPTS && rc == -EEXIST; i++) {
        struct db_stmt *st = db_prepare(db, SQL_KEY_INSERT);
        if (!st) return -EIO;
        if ((rc = random_key(key_out)) || (rc = db_bind_text(st, 1, key_out, PUBLIC_KEY_HEX)) ||
            (rc = db_bind_int64(st, 2, project_id)) || (rc = db_bind_int64(st, 3, clock_wall_ms())))
            return rc;
        rc = run(st);
    }
    return rc;
}

int keys_create(struct db *db, int64_t project_id, char key_out[PUBLIC_KEY_HEX + 1])
{
    return key_insert(db, project_id, key_out);
}

int projects_create(struct db *db, const char *name, int64_t *id_out,
                    char key_out[PUBLIC_KEY_HEX + 1])
{
    if (!name_valid(name)) return -EINVAL;
    int rc = db_begin(db);
    if (rc < 0) return rc;
    struct db_stmt *st = db_prepare(db, SQL_PROJECT_INSERT);
    if (!st) {
        rc = -EIO;
        goto fail;
    }
    if ((rc = db_bind_text(st, 1, name, (size_t)-1)) ||
        (rc = db_bind_int64(st, 2, clock_wall_ms())))
        goto fail;
    if ((rc = db_step(st)) != DB_ROW) {
        rc = rc < 0 ? rc : -EIO;
        goto fail;
    }
    int64_t id = db_col_int64(st, 0);
    if ((rc = run(st)) < 0 || (rc = key_insert(db, id, key_out)) < 0 || (rc = db_commit(db)) < 0)
        goto fail;
    if (id_out) *id_out = id;
    return 0;
fail:
    db_rollback(db);
    return rc;
}

int projects_get(struct db *db, int64_t id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_PROJECT_GET);
    if (!st) return -EIO;
    int rc = db_bind_int64(st, 1, id);
    if (rc == 0) rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        *out = project_row(st);
        rc = *out ? 0 : -ENOMEM;
    }
    db_finish(st);
    return rc;
}

int projects_list(struct db *db, int64_t after_id, int limit, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_PROJECT_LIST);
    cJSON *arr = cJSON_CreateArray();
    int rc = arr ? 0 : -ENOMEM;
    if (!st) rc = -EIO;
    if (rc == 0 && !(rc = db_bind_int64(st, 1, after_id)))
        rc = db_bind_int64(st, 2, limit < 0 ? 0 : limit);
    while (rc == 0 && (rc = db_step(st)) == DB_ROW) {
        cJSON *row = project_row(st);
        rc = json_push(arr, row) ? -ENOMEM : 0;
    }
    if (st) db_finish(st);
    if (rc < 0) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

/* Tells the other nodes (Postgres) that the project's keys or quota
 * changed, so their key caches forget them. Best effort: the change is
 * made, and their cache entries expire on their own (AUTH_CACHE_TTL_MS). */
static void keys_changed(struct db *db, int64_t project_id)
{
    (void)keys_notify_changed(db, project_id);
}

/* Runs a statement whose parameters are bound and reports -ENOENT when it
 * changed no row. */
static int run_changing(struct db_stmt *st)
{
    int rc = run(st);
    if (rc < 0) return rc;
    return db_changes(st) > 0 ? 0 : -ENOENT;
}

int projects_update(struct db *db, int64_t id, const char *name, int rate_limit_per_minute)
{
    if (name && !name_valid(name)) return -EINVAL;
    struct db_stmt *st = db_prepare(db, SQL_PROJECT_UPDATE);
    if (!st) return -EIO;
    int rc;
    if ((rc = db_bind_int64(st, 1, id)) || (rc = db_bind_text(st, 2, name, (size_t)-1)) ||
        (rc = db_bind_int64(st, 3, rate_limit_per_minute)))
        return rc;
    rc = run_changing(st);
    if (rc == 0 && rate_limit_per_minute >= 0) keys_changed(db, id);
    return rc;
}

int projects_delete(struct db *db, int64_t id)
{
    struct db_stmt *st = db_prepare(db, SQL_PROJECT_DELETE);
    if (!st) return -EIO;
    int rc = db_bind_int64(st, 1, id);
    if (rc == 0) rc = run_changing(st);
    if (rc == 0) keys_changed(db, id);
    return rc;
}

int projects_count(struct db *db, int64_t *out)
{
    struct db_stmt *st = db_prepare(db, SQL_PROJECT_COUNT);
    if (!st) return -EIO;
    int rc = db_step_row(st, -EIO);
    if (rc == 0) {
        *out = db_col_int64(st, 0);
    }
    db_finish(st);
    return rc;
}

static cJSON *key_row(struct db_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || set_text(o, "public_key", st, 0) || set_int(o, "created_at", st, 1) ||
        set_int(o, "revoked_at", st, 2)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int keys_list(struct db *db, int64_t project_id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_KEY_LIST);
    if (!st) return -EIO;
    cJSON *arr = cJSON_CreateArray();
    bool project_found = false;
    int rc = arr ? db_bind_int64(st, 1, project_id) : -ENOMEM;
    while (rc == 0 && (rc = db_step(st)) == DB_ROW) {
        project_found = true;
        if (db_col_is_null(st, 0)) { /* the project has no keys */
            rc = 0;
            continue;
        }
        rc = json_push(arr, key_row(st)) ? -ENOMEM : 0;
    }
    db_finish(st);
    if (rc == 0 && !project_found) rc = -ENOENT;
    if (rc < 0) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

int keys_revoke(struct db *db, int64_t project_id, const char *public_key)
{
    if (!key_valid(public_key)) return -ENOENT;
    struct db_stmt *st = db_prepare(db, SQL_KEY_REVOKE);
    if (!st) return -EIO;
    int rc;
    if ((rc = db_bind_int64(st, 1, project_id)) ||
        (rc = db_bind_text(st, 2, public_key, PUBLIC_KEY_HEX)) ||
        (rc = db_bind_int64(st, 3, clock_wall_ms())))
        return rc;
    rc = run_changing(st);
    if (rc == 0) keys_changed(db, project_id);
    return rc;
}

int keys_lookup(struct db *db, const char *public_key, int64_t *project_id, int *rate_limit_out)
{
    if (!key_valid(public_key)) return -ENOENT;
    struct db_stmt *st = db_prepare(db, SQL_KEY_LOOKUP);
    if (!st) return -EIO;
    int rc = db_bind_text(st, 1, public_key, PUBLIC_KEY_HEX);
    if (rc == 0) rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        *project_id = db_col_int64(st, 0);
        if (rate_limit_out) *rate_limit_out = (int)db_col_int64(st, 1);
    }
    db_finish(st);
    return rc;
}
