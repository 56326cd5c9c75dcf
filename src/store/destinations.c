#include "store/destinations.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "base/secretbox.h"
#include "store/store.h"

#define DEST_COLUMNS "id, project_id, type, name, enabled, config, created_at"

/* The config column's text: sealed (secretbox.h) when the connection has
 * a key, else as it is. *out: caller frees. */
static int config_text(struct db *db, const cJSON *config, char **out)
{
    char *plain = json_print(config, 0);
    if (!plain) return -ENOMEM;
    const unsigned char *key = db_secret_key(db);
    if (!key) {
        *out = plain;
        return 0;
    }
    int rc = secretbox_seal(key, plain, strlen(plain), out);
    OPENSSL_cleanse(plain, strlen(plain));
    free(plain);
    return rc;
}

/* The config object of a stored text; *why: NULL, or why it cannot be
 * read (sealed without or with another key). An unreadable config becomes
 * {} (the admin API only ever stores objects). */
static cJSON *config_object(struct db *db, const char *text, const char **why)
{
    char *opened = NULL;
    size_t len;
    *why = NULL;
    if (secretbox_is_sealed(text)) {
        int rc = secretbox_open(db_secret_key(db), text, &opened, &len);
        if (rc == -ENOKEY)
            *why = "sealed: set SECRETS_KEY or DATA_DIR/secret.key to read it";
        else if (rc == -EBADMSG)
            *why = "sealed with another key than this server's";
        text = opened;
    }
    cJSON *cfg = text ? json_parse_text(text) : NULL;
    if (opened) OPENSSL_cleanse(opened, len);
    free(opened);
    if (!cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        cfg = cJSON_CreateObject();
    }
    return cfg;
}

/* One row of DEST_COLUMNS as a JSON object; NULL on OOM. */
static cJSON *dest_row(struct db *db, struct db_stmt *st)
{
    const char *why;
    cJSON *cfg = config_object(db, db_col_text(st, 5), &why);
    cJSON *row = json_build(
        "{s:I, s:I, s:o, s:o, s:b, s:o, s:I}", "id", (int64_t)db_col_int64(st, 0), "project_id",
        (int64_t)db_col_int64(st, 1), "type", db_col_json_text_or_empty(st, 2), "name",
        db_col_json_text_or_empty(st, 3), "enabled", db_col_int64(st, 4) != 0, "config", cfg,
        "created_at", (int64_t)db_col_int64(st, 6));
    if (row && why) json_set(row, "config_error", cJSON_CreateString(why));
    return row;
}

static int step_err(int rc)
{
    return rc < 0 ? rc : -EIO;
}

int destinations_create(struct db *db, int64_t project_id, const char *type, const char *name,
                        int enabled, const cJSON *config, long long now, int64_t *id_out)
{
    static const char SQL[] =
        "INSERT INTO destinations (project_id, type, name, enabled, config, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    char *cfg = NULL;
    int rc = config_text(db, config, &cfg);
    if (rc < 0) return rc;
    struct db_stmt *st = db_prepare(db, SQL);
    rc = -EIO;
    if (!st) goto done;
    db_bind_int64(st, 1, project_id);
    db_bind_text(st, 2, type, (size_t)-1);
    db_bind_text(st, 3, name, (size_t)-1);
    db_bind_int64(st, 4, enabled ? 1 : 0);
    db_bind_text(st, 5, cfg, (size_t)-1);
    db_bind_int64(st, 6, now);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *id_out = db_col_int64(st, 0);
        rc = 0;
    } else {
        rc = step_err(rc);
    }
    db_finish(st);
done:
    free(cfg);
    return rc;
}

int destinations_get(struct db *db, int64_t project_id, int64_t id, cJSON **out)
{
    static const char SQL_ANY[] = "SELECT " DEST_COLUMNS " FROM destinations WHERE id = $1";
    static const char SQL_PROJECT[] =
        "SELECT " DEST_COLUMNS " FROM destinations WHERE id = $1 AND project_id = $2";
    struct db_stmt *st = db_prepare(db, project_id ? SQL_PROJECT : SQL_ANY);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    if (project_id) db_bind_int64(st, 2, project_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *out = dest_row(db, st);
        rc = *out ? 0 : -ENOMEM;
    } else {
        rc = rc == DB_DONE ? -ENOENT : rc;
    }
    db_finish(st);
    return rc;
}

int destinations_list(struct db *db, int64_t project_id, int64_t after_id, int limit, cJSON **out)
{
    static const char SQL[] = "SELECT " DEST_COLUMNS " FROM destinations "
                              "WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3";
    struct db_stmt *st = db_prepare(db, SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, after_id);
    db_bind_int64(st, 3, limit);
    cJSON *rows = cJSON_CreateArray();
    int rc;
    while (rows && (rc = db_step(st)) == DB_ROW) {
        cJSON *row = dest_row(db, st);
        if (!row || json_push(rows, row) < 0)
            store_row_skipped("destinations", (long long)db_col_int64(st, 0));
    }
    db_finish(st);
    if (!rows) return -ENOMEM;
    if (rc != DB_DONE) {
        cJSON_Delete(rows);
        return rc < 0 ? rc : -EIO;
    }
    *out = rows;
    return 0;
}

int destinations_update(struct db *db, int64_t project_id, int64_t id, const char *name,
                        int enabled, const cJSON *config)
{
    /* COALESCE keeps a column whose new value is bound NULL. */
    static const char SQL[] = "UPDATE destinations SET name = COALESCE($3, name), "
                              "enabled = COALESCE($4, enabled), config = COALESCE($5, config) "
                              "WHERE id = $1 AND project_id = $2";
    char *cfg = NULL;
    int rc = config ? config_text(db, config, &cfg) : 0;
    if (rc < 0) return rc;
    struct db_stmt *st = db_prepare(db, SQL);
    rc = -EIO;
    if (!st) goto done;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, project_id);
    if (name)
        db_bind_text(st, 3, name, (size_t)-1);
    else
        db_bind_null(st, 3);
    if (enabled >= 0)
        db_bind_int64(st, 4, enabled ? 1 : 0);
    else
        db_bind_null(st, 4);
    if (cfg)
        db_bind_text(st, 5, cfg, (size_t)-1);
    else
        db_bind_null(st, 5);
    rc = db_step(st);
    if (rc == DB_DONE)
        rc = db_changes(st) > 0 ? 0 : -ENOENT;
    else
        rc = step_err(rc);
    db_finish(st);
done:
    free(cfg);
    return rc;
}

int destinations_delete(struct db *db, int64_t project_id, int64_t id)
{
    static const char SQL[] = "DELETE FROM destinations WHERE id = $1 AND project_id = $2";
    struct db_stmt *st = db_prepare(db, SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, project_id);
    int rc = db_step(st);
    if (rc == DB_DONE)
        rc = db_changes(st) > 0 ? 0 : -ENOENT;
    else
        rc = step_err(rc);
    db_finish(st);
    return rc;
}

int destinations_seal_plaintext(struct db *db, int *sealed)
{
    static const char SQL_PLAIN[] =
        "SELECT id, config FROM destinations WHERE config NOT LIKE 'sealed:v1:%' ORDER BY id";
    static const char SQL_SET[] =
        "UPDATE destinations SET config = $2 WHERE id = $1 AND config = $3";
    *sealed = 0;
    const unsigned char *key = db_secret_key(db);
    if (!key) return 0;
    struct db_stmt *st = db_prepare(db, SQL_PLAIN);
    if (!st) return -EIO;
    cJSON *plain = cJSON_CreateObject(); /* id → text, read whole before writing */
    int rc;
    while (plain && (rc = db_step(st)) == DB_ROW) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)db_col_int64(st, 0));
        json_set(plain, id, cJSON_CreateString(db_col_text(st, 1) ? db_col_text(st, 1) : ""));
    }
    db_finish(st);
    if (!plain) return -ENOMEM;
    rc = rc == DB_DONE ? 0 : (rc < 0 ? rc : -EIO);
    const char *id;
    cJSON *text;
    json_object_each(plain, id, text)
    {
        char *sealed_text = NULL;
        const char *t = json_str(text);
        if (rc == 0) rc = secretbox_seal(key, t, strlen(t), &sealed_text);
        struct db_stmt *up = rc == 0 ? db_prepare(db, SQL_SET) : NULL;
        if (rc == 0 && !up) rc = -EIO;
        if (rc == 0) {
            db_bind_int64(up, 1, strtoll(id, NULL, 10));
            db_bind_text(up, 2, sealed_text, (size_t)-1);
            db_bind_text(up, 3, t, (size_t)-1);
            rc = db_step(up);
            rc = rc == DB_DONE ? 0 : step_err(rc);
            if (rc == 0) *sealed += (int)db_changes(up);
            db_finish(up);
        }
        free(sealed_text);
    }
    cJSON_Delete(plain);
    return rc;
}
