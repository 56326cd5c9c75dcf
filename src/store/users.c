/* users — accounts and memberships, for both backends (contract in users.h). */
#include "store/users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "store/store.h"

#define USER_COLUMNS "u.id, u.email, u.name, u.role, u.created_at"

static const char SQL_USER_INSERT[] =
    "INSERT INTO users (email, name, role, password_hash, created_at)"
    " VALUES ($1, $2, $3, $4, $5) RETURNING id";
static const char SQL_USER_GET[] = "SELECT " USER_COLUMNS " FROM users u WHERE u.id = $1";
static const char SQL_USER_LIST[] =
    "SELECT " USER_COLUMNS " FROM users u WHERE u.id > $1 ORDER BY u.id LIMIT $2";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET email = COALESCE($2, email), name = COALESCE($3, name),"
    " role = COALESCE($4, role), password_hash = COALESCE($5, password_hash) WHERE id = $1";
static const char SQL_USER_DELETE[] = "DELETE FROM users WHERE id = $1";
static const char SQL_USER_COUNT[] =
    "SELECT COUNT(*) FROM users WHERE CAST($1 AS TEXT) IS NULL OR role = $1";
static const char SQL_USER_BY_EMAIL[] =
    "SELECT id, email, role, password_hash FROM users WHERE email = $1";
static const char SQL_USER_BY_ID[] =
    "SELECT id, email, role, password_hash FROM users WHERE id = $1";
static const char SQL_MEMBERS_LIST[] =
    "SELECT " USER_COLUMNS " FROM project_members m JOIN users u ON u.id = m.user_id"
    " WHERE m.project_id = $1 ORDER BY u.id";
static const char SQL_MEMBERS_CLEAR[] = "DELETE FROM project_members WHERE project_id = $1";
static const char SQL_MEMBERS_ADD[] =
    "INSERT INTO project_members (project_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
static const char SQL_MEMBER_PROJECTS[] =
    "SELECT project_id FROM project_members WHERE user_id = $1 ORDER BY project_id";

static int run(struct db_stmt *st)
{
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        ;
    return rc;
}

static cJSON *user_row(struct db_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    json_set(o, "id", json_new_int(db_col_int64(st, 0)));
    json_set(o, "email", db_col_json_text_or_empty(st, 1));
    json_set(o, "name", db_col_json_text_or_empty(st, 2));
    json_set(o, "role", db_col_json_text_or_empty(st, 3));
    json_set(o, "created_at", json_new_int(db_col_int64(st, 4)));
    return o;
}

static int user_rows(struct db_stmt *st, cJSON **out)
{
    cJSON *arr = cJSON_CreateArray();
    int rc;
    if (!arr) return -ENOMEM;
    while ((rc = db_step(st)) == DB_ROW) {
        cJSON *row = user_row(st);
        if (!row) {
            store_row_skipped("user", (long long)db_col_int64(st, 0));
            continue;
        }
        json_push(arr, row);
    }
    if (rc < 0) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

int users_create(struct db *db, const char *email, const char *name, const char *role,
                 const char *password_hash, int64_t *id_out)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_INSERT);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, email, (size_t)-1)) ||
        (rc = db_bind_text(st, 2, name ? name : "", (size_t)-1)) ||
        (rc = db_bind_text(st, 3, role, (size_t)-1)) ||
        (rc = db_bind_text(st, 4, password_hash, (size_t)-1)) ||
        (rc = db_bind_int64(st, 5, clock_wall_ms())))
        return rc;
    if ((rc = db_step_row(st, -EIO)) != 0) return rc;
    *id_out = db_col_int64(st, 0);
    db_finish(st);
    return 0;
}

int users_get(struct db *db, int64_t id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_GET);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, id)) || (rc = db_step_row(st, -ENOENT))) return rc;
    *out = user_row(st);
    db_finish(st);
    return *out ? 0 : -ENOMEM;
}

int users_list(struct db *db, int64_t after_id, int limit, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_LIST);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, after_id)) || (rc = db_bind_int64(st, 2, limit))) return rc;
    return user_rows(st, out);
}

int users_update(struct db *db, int64_t id, const char *email, const char *name, const char *role,
                 const char *password_hash)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_UPDATE);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, id)) || (rc = db_bind_text(st, 2, email, (size_t)-1)) ||
        (rc = db_bind_text(st, 3, name, (size_t)-1)) ||
        (rc = db_bind_text(st, 4, role, (size_t)-1)) ||
        (rc = db_bind_text(st, 5, password_hash, (size_t)-1)))
        return rc;
    if ((rc = run(st)) < 0) return rc;
    return db_changes(st) > 0 ? 0 : -ENOENT;
}

int users_delete(struct db *db, int64_t id)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_DELETE);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, id)) || (rc = run(st)) < 0) return rc;
    return db_changes(st) > 0 ? 0 : -ENOENT;
}

int users_count(struct db *db, const char *role, int64_t *out)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_COUNT);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, role, (size_t)-1)) || (rc = db_step_row(st, -EIO))) return rc;
    *out = db_col_int64(st, 0);
    db_finish(st);
    return 0;
}

static int login_row(struct db_stmt *st, struct user_login *out)
{
    const char *email = db_col_text(st, 1), *role = db_col_text(st, 2), *hash = db_col_text(st, 3);
    out->id = db_col_int64(st, 0);
    snprintf(out->email, sizeof out->email, "%s", email ? email : "");
    snprintf(out->role, sizeof out->role, "%s", role ? role : "");
    snprintf(out->password_hash, sizeof out->password_hash, "%s", hash ? hash : "");
    db_finish(st);
    return 0;
}

int users_by_email(struct db *db, const char *email, struct user_login *out)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_BY_EMAIL);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, email, (size_t)-1)) || (rc = db_step_row(st, -ENOENT))) return rc;
    return login_row(st, out);
}

int users_by_id(struct db *db, int64_t id, struct user_login *out)
{
    struct db_stmt *st = db_prepare(db, SQL_USER_BY_ID);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, id)) || (rc = db_step_row(st, -ENOENT))) return rc;
    return login_row(st, out);
}

int members_list(struct db *db, int64_t project_id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_MEMBERS_LIST);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, project_id))) return rc;
    return user_rows(st, out);
}

static int members_replace(struct db *db, int64_t project_id, const int64_t *user_ids, size_t n)
{
    struct db_stmt *st = db_prepare(db, SQL_MEMBERS_CLEAR);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, project_id)) || (rc = run(st)) < 0) return rc;
    for (size_t i = 0; i < n; i++) {
        if (!(st = db_prepare(db, SQL_MEMBERS_ADD))) return -EIO;
        if ((rc = db_bind_int64(st, 1, project_id)) || (rc = db_bind_int64(st, 2, user_ids[i])) ||
            (rc = run(st)) < 0)
            return rc;
    }
    return 0;
}

int members_set(struct db *db, int64_t project_id, const int64_t *user_ids, size_t n)
{
    int rc = db_begin(db);
    if (rc) return rc;
    rc = members_replace(db, project_id, user_ids, n);
    if (rc == 0) return db_commit(db);
    db_rollback(db);
    return rc;
}

int members_projects(struct db *db, int64_t user_id, int64_t **ids, size_t *n)
{
    struct db_stmt *st = db_prepare(db, SQL_MEMBER_PROJECTS);
    int64_t *arr = NULL;
    size_t len = 0, cap = 0;
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, user_id))) return rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (len == cap) {
            size_t want = cap ? cap * 2 : 16;
            int64_t *p = realloc(arr, want * sizeof *p);
            if (!p) {
                rc = -ENOMEM;
                break;
            }
            arr = p;
            cap = want;
        }
        arr[len++] = db_col_int64(st, 0);
    }
    if (rc < 0) {
        db_finish(st);
        free(arr);
        return rc;
    }
    *ids = arr;
    *n = len;
    return 0;
}
