/* tokens — API tokens and setup links, for both backends (contract in tokens.h). */
#include "store/tokens.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "store/store.h"

#define TOKEN_COLUMNS "id, name, scope, project_ids, user_id, created_at, expires_at, last_used_at"
#define PROJECT_IDS_TEXT_MAX (TOKEN_PROJECTS_MAX * 21)

static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO api_tokens (token_hash, name, user_id, scope, project_ids, created_at,"
    " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
static const char SQL_TOKEN_GET[] = "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE id = $1";
static const char SQL_TOKEN_LIST[] =
    "SELECT " TOKEN_COLUMNS
    " FROM api_tokens WHERE CAST($1 AS BIGINT) = 0 OR user_id = $1 ORDER BY id";
static const char SQL_TOKEN_LOOKUP[] =
    "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = $1";
static const char SQL_TOKEN_TOUCH[] = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
static const char SQL_TOKEN_DELETE[] =
    "DELETE FROM api_tokens WHERE id = $1 AND (CAST($2 AS BIGINT) = 0 OR user_id = $2)";
static const char SQL_SETUP_CLEAR[] = "DELETE FROM setup_tokens";
static const char SQL_SETUP_INSERT[] =
    "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)";
static const char SQL_SETUP_CONSUME[] =
    "DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2";
static const char SQL_SETUP_CHECK[] =
    "SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2";

static int run(struct db_stmt *st)
{
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        ;
    return rc;
}

/* "1,2,3" → ids (at most TOKEN_PROJECTS_MAX). */
static size_t parse_ids(const char *s, int64_t *ids)
{
    size_t n = 0;
    while (s && *s && n < TOKEN_PROJECTS_MAX) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s) break;
        ids[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static cJSON *time_or_null(struct db_stmt *st, int col)
{
    return db_col_is_null(st, col) ? cJSON_CreateNull() : json_new_int(db_col_int64(st, col));
}

static cJSON *token_json(struct db_stmt *st)
{
    cJSON *o = cJSON_CreateObject(), *ids = NULL;
    if (!o) return NULL;
    if (db_col_is_null(st, 3)) {
        ids = cJSON_CreateNull();
    } else {
        int64_t v[TOKEN_PROJECTS_MAX];
        size_t n = parse_ids(db_col_text(st, 3), v);
        ids = cJSON_CreateArray();
        for (size_t i = 0; ids && i < n; i++)
            json_push(ids, json_new_int(v[i]));
    }
    json_set(o, "id", json_new_int(db_col_int64(st, 0)));
    json_set(o, "name", db_col_json_text_or_empty(st, 1));
    json_set(o, "scope", db_col_json_text_or_empty(st, 2));
    json_set(o, "project_ids", ids ? ids : cJSON_CreateNull());
    json_set(o, "user_id", time_or_null(st, 4));
    json_set(o, "created_at", json_new_int(db_col_int64(st, 5)));
    json_set(o, "expires_at", time_or_null(st, 6));
    json_set(o, "last_used_at", time_or_null(st, 7));
    return o;
}

int tokens_create(struct db *db, const char *token_hash, const char *name, int64_t user_id,
                  const char *scope, const int64_t *project_ids, size_t n, int64_t expires_at,
                  int64_t *id_out)
{
    char ids[PROJECT_IDS_TEXT_MAX] = "";
    size_t used = 0;
    if (n > TOKEN_PROJECTS_MAX) return -EINVAL;
    for (size_t i = 0; project_ids && i < n; i++)
        used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%" PRId64, i ? "," : "",
                                 project_ids[i]);
    struct db_stmt *st = db_prepare(db, SQL_TOKEN_INSERT);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, token_hash, (size_t)-1)) ||
        (rc = db_bind_text(st, 2, name, (size_t)-1)) ||
        (rc = user_id > 0 ? db_bind_int64(st, 3, user_id) : db_bind_null(st, 3)) ||
        (rc = db_bind_text(st, 4, scope, (size_t)-1)) ||
        (rc = db_bind_text(st, 5, project_ids ? ids : NULL, (size_t)-1)) ||
        (rc = db_bind_int64(st, 6, clock_wall_ms())) ||
        (rc = expires_at > 0 ? db_bind_int64(st, 7, expires_at) : db_bind_null(st, 7)))
        return rc;
    if ((rc = db_step_row(st, -EIO))) return rc;
    *id_out = db_col_int64(st, 0);
    db_finish(st);
    return 0;
}

int tokens_get(struct db *db, int64_t id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_TOKEN_GET);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, id)) || (rc = db_step_row(st, -ENOENT))) return rc;
    *out = token_json(st);
    db_finish(st);
    return *out ? 0 : -ENOMEM;
}

int tokens_list(struct db *db, int64_t user_id, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_TOKEN_LIST);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    if (!st || !arr) {
        cJSON_Delete(arr);
        return st ? -ENOMEM : -EIO;
    }
    if ((rc = db_bind_int64(st, 1, user_id))) {
        cJSON_Delete(arr);
        return rc;
    }
    while ((rc = db_step(st)) == DB_ROW) {
        cJSON *row = token_json(st);
        if (row)
            json_push(arr, row);
        else
            store_row_skipped("token", (long long)db_col_int64(st, 0));
    }
    if (rc < 0) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

int tokens_lookup(struct db *db, const char *token_hash, struct token_row *out)
{
    struct db_stmt *st = db_prepare(db, SQL_TOKEN_LOOKUP);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, token_hash, (size_t)-1)) || (rc = db_step_row(st, -ENOENT)))
        return rc;
    const char *name = db_col_text(st, 1), *scope = db_col_text(st, 2);
    memset(out, 0, sizeof *out);
    out->id = db_col_int64(st, 0);
    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    snprintf(out->scope, sizeof out->scope, "%s", scope ? scope : "");
    out->all_projects = db_col_is_null(st, 3);
    if (!out->all_projects) out->nprojects = parse_ids(db_col_text(st, 3), out->project_ids);
    out->user_id = db_col_is_null(st, 4) ? 0 : db_col_int64(st, 4);
    out->expires_at = db_col_is_null(st, 6) ? 0 : db_col_int64(st, 6);
    out->last_used_at = db_col_is_null(st, 7) ? 0 : db_col_int64(st, 7);
    db_finish(st);
    return 0;
}

int tokens_touch(struct db *db, const struct token_row *t)
{
    int64_t now = clock_wall_ms();
    if (t->last_used_at && now - t->last_used_at < TOKEN_TOUCH_MS) return 0;
    struct db_stmt *st = db_prepare(db, SQL_TOKEN_TOUCH);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, t->id)) || (rc = db_bind_int64(st, 2, now)) ||
        (rc = run(st)) < 0)
        return rc;
    return 0;
}

int tokens_delete(struct db *db, int64_t id, int64_t user_id)
{
    struct db_stmt *st = db_prepare(db, SQL_TOKEN_DELETE);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_int64(st, 1, id)) || (rc = db_bind_int64(st, 2, user_id)) ||
        (rc = run(st)) < 0)
        return rc;
    return db_changes(st) > 0 ? 0 : -ENOENT;
}

int setup_link_replace(struct db *db, const char *token_hash, int64_t expires_at)
{
    struct db_stmt *st;
    int rc = db_begin(db);
    if (rc) return rc;
    if (!(st = db_prepare(db, SQL_SETUP_CLEAR)) || run(st) < 0 ||
        !(st = db_prepare(db, SQL_SETUP_INSERT)) || db_bind_text(st, 1, token_hash, (size_t)-1) ||
        db_bind_int64(st, 2, clock_wall_ms()) || db_bind_int64(st, 3, expires_at) || run(st) < 0) {
        db_rollback(db);
        return -EIO;
    }
    return db_commit(db);
}

static int setup_link_run(struct db *db, const char *sql, const char *token_hash, bool consume)
{
    struct db_stmt *st = db_prepare(db, sql);
    int rc;
    if (!st) return -EIO;
    if ((rc = db_bind_text(st, 1, token_hash, (size_t)-1)) ||
        (rc = db_bind_int64(st, 2, clock_wall_ms())))
        return rc;
    if (!consume) return db_step_row(st, -ENOENT) == 0 ? (db_finish(st), 0) : -ENOENT;
    if ((rc = run(st)) < 0) return rc;
    return db_changes(st) > 0 ? 0 : -ENOENT;
}

int setup_link_consume(struct db *db, const char *token_hash)
{
    return setup_link_run(db, SQL_SETUP_CONSUME, token_hash, true);
}

int setup_link_check(struct db *db, const char *token_hash)
{
    return setup_link_run(db, SQL_SETUP_CHECK, token_hash, false);
}
