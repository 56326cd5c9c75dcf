/* db — dispatch to the backend, the per-connection statement cache and the
 * checks both backends share. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "store/db_internal.h"
#include "base/metrics.h"
#include "base/utf8.h"

int db_open(const struct config *cfg, struct db **out, char *err, size_t errlen)
{
    assert(cfg && out);
    *out = NULL;
    int rc = cfg->postgres_enabled ? db_postgres_open(cfg, out, err, errlen)
                                   : db_sqlite_open(cfg, out, err, errlen);
    if (rc == 0) {
        (*out)->secret_key = cfg->secrets_key_set ? cfg->secrets_key : NULL;
        struct config d; /* a config built by hand may leave it 0 */
        config_defaults(&d);
        db_set_timeout_ms(*out, cfg->db_timeout_ms > 0 ? cfg->db_timeout_ms : d.db_timeout_ms);
    }
    return rc;
}

const unsigned char *db_secret_key(const struct db *db)
{
    return db->secret_key;
}

static void cache_free(struct db *db)
{
    for (size_t i = 0; i < db->cache.cap; i++)
        if (db->cache.slots[i]) db->ops->stmt_free(db->cache.slots[i]);
    free(db->cache.slots);
    db->cache.slots = NULL;
    db->cache.cap = db->cache.count = 0;
}

void db_close(struct db *db)
{
    if (!db) return;
    cache_free(db);
    db->ops->close(db);
}

enum db_kind db_kind(const struct db *db)
{
    return db->kind;
}

const char *db_errmsg(const struct db *db)
{
    return db->err;
}

void db_set_timeout_ms(struct db *db, int ms)
{
    db->timeout_ms = ms;
    db->ops->set_timeout(db, ms);
}

int db_timeout_ms(const struct db *db)
{
    return db->timeout_ms;
}

bool db_reconnected(struct db *db)
{
    bool r = db->reconnected;
    db->reconnected = false;
    return r;
}

void db_seterr(struct db *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
}

int db_buf_set(struct db_buf *b, const void *src, size_t len)
{
    if (len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    if (len) memcpy(b->p, src, len);
    b->p[len] = '\0';
    return 0;
}

/* ---- statement cache: keyed by the sql pointer ---- */

static size_t cache_hash(const char *sql, size_t cap)
{
    uintptr_t x = (uintptr_t)sql;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static struct db_stmt *cache_find(struct db *db, const char *sql)
{
    if (!db->cache.cap) return NULL;
    for (size_t i = cache_hash(sql, db->cache.cap);; i = (i + 1) & (db->cache.cap - 1)) {
        struct db_stmt *st = db->cache.slots[i];
        if (!st || st->sql == sql) return st;
    }
}

static void cache_put_slot(struct db_stmt **slots, size_t cap, struct db_stmt *st)
{
    size_t i = cache_hash(st->sql, cap);
    while (slots[i])
        i = (i + 1) & (cap - 1);
    slots[i] = st;
}

static int cache_insert(struct db *db, struct db_stmt *st)
{
    struct db_stmt_cache *c = &db->cache;
    if ((c->count + 1) * 2 > c->cap) { /* keep the load under one half */
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct db_stmt **slots = calloc(cap, sizeof *slots);
        if (!slots) return -ENOMEM;
        for (size_t i = 0; i < c->cap; i++)
            if (c->slots[i]) cache_put_slot(slots, cap, c->slots[i]);
        free(c->slots);
        c->slots = slots;
        c->cap = cap;
    }
    cache_put_slot(c->slots, c->cap, st);
    c->count++;
    return 0;
}

/* Counts failures for /metrics (periscope_db_errors_total). A unique or
 * foreign-key violation is an answer the callers expect, not an error. */
static int counted(const struct db *db, int rc)
{
    if (rc < 0 && rc != -EEXIST && rc != -ENOENT)
        metrics_add("periscope_db_errors_total",
                    db->kind == DB_SQLITE ? "backend=\"sqlite\"" : "backend=\"postgres\"", 1);
    return rc;
}

struct db_stmt *db_prepare(struct db *db, const char *sql)
{
    struct db_stmt *st = cache_find(db, sql);
    if (st) {
        db->ops->stmt_reset(st);
        return st;
    }
    st = db->ops->stmt_new(db, sql);
    if (!st) {
        counted(db, -EIO);
        return NULL;
    }
    if (cache_insert(db, st) < 0) {
        db->ops->stmt_free(st);
        db_seterr(db, "out of memory");
        return NULL;
    }
    return st;
}

struct db_stmt *db_prepare_once(struct db *db, const char *sql)
{
    struct db_stmt *st =
        db->ops->stmt_new_once ? db->ops->stmt_new_once(db, sql) : db->ops->stmt_new(db, sql);
    if (!st) counted(db, -EIO);
    return st;
}

void db_stmt_discard(struct db_stmt *st)
{
    if (!st) return;
    if (st->db->ops->stmt_discard)
        st->db->ops->stmt_discard(st);
    else
        st->db->ops->stmt_free(st);
}

void db_finish_all(struct db *db)
{
    for (size_t i = 0; i < db->cache.cap; i++)
        if (db->cache.slots[i]) db->ops->stmt_finish(db->cache.slots[i]);
}

/* ---- connection-level calls ---- */

int db_exec(struct db *db, const char *sql)
{
    return counted(db, db->ops->exec(db, sql));
}

int db_begin(struct db *db)
{
    /* A half-read statement would pin an old snapshot into the transaction. */
    db_finish_all(db);
    return counted(db, db->ops->begin(db));
}

int db_commit(struct db *db)
{
    db_finish_all(db);
    return counted(db, db->ops->commit(db));
}

int db_rollback(struct db *db)
{
    db_finish_all(db);
    return db->ops->rollback(db);
}

/* ---- binds ---- */

int db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
    return st->db->ops->bind_int64(st, idx, v);
}

int db_bind_double(struct db_stmt *st, int idx, double v)
{
    return st->db->ops->bind_double(st, idx, v);
}

int db_bind_text(struct db_stmt *st, int idx, const char *s, size_t len)
{
    if (!s) return st->db->ops->bind_null(st, idx);
    if (len == (size_t)-1)
        len = strlen(s);
    else if (memchr(s, '\0', len)) {
        /* Postgres text cannot hold NUL; refuse it on both backends alike. */
        db_seterr(st->db, "text parameter $%d contains a NUL byte", idx);
        return -EINVAL;
    }
    return st->db->ops->bind_text(st, idx, s, len);
}

int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
    if (!p && len) return -EINVAL;
    return st->db->ops->bind_blob(st, idx, p ? p : "", len);
}

int db_bind_null(struct db_stmt *st, int idx)
{
    return st->db->ops->bind_null(st, idx);
}

/* ---- execution and columns ---- */

int db_step(struct db_stmt *st)
{
    return counted(st->db, st->db->ops->step(st));
}

int db_step_row(struct db_stmt *st, int if_none)
{
    int rc = db_step(st);
    return rc == DB_ROW ? 0 : rc == DB_DONE ? if_none : rc;
}

bool db_col_is_null(struct db_stmt *st, int col)
{
    return st->db->ops->col_is_null(st, col);
}

int64_t db_col_int64(struct db_stmt *st, int col)
{
    return st->db->ops->col_int64(st, col);
}

double db_col_double(struct db_stmt *st, int col)
{
    return st->db->ops->col_double(st, col);
}

const char *db_col_text(struct db_stmt *st, int col)
{
    return st->db->ops->col_text(st, col);
}

cJSON *db_col_json_text(struct db_stmt *st, int col)
{
    return utf8_json_string(db_col_text(st, col));
}

cJSON *db_col_json_text_or_empty(struct db_stmt *st, int col)
{
    const char *s = db_col_text(st, col);
    return utf8_json_string(s ? s : "");
}

const void *db_col_blob(struct db_stmt *st, int col, size_t *len)
{
    size_t dummy;
    return st->db->ops->col_blob(st, col, len ? len : &dummy);
}

int db_col_count(struct db_stmt *st)
{
    return st->db->ops->col_count(st);
}

const char *db_col_name(struct db_stmt *st, int col)
{
    return st->db->ops->col_name(st, col);
}

int64_t db_changes(struct db_stmt *st)
{
    return st->db->ops->changes(st);
}

void db_finish(struct db_stmt *st)
{
    st->db->ops->stmt_finish(st);
}

/* ---- LISTEN/NOTIFY ---- */

static bool channel_valid(const char *ch)
{
    size_t n = ch ? strlen(ch) : 0;
    return n > 0 && n <= DB_CHANNEL_MAX && !(ch[0] >= '0' && ch[0] <= '9') &&
           strspn(ch, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int db_listen(struct db *db, const char *channel)
{
    if (!channel_valid(channel)) {
        db_seterr(db, "bad channel name");
        return -EINVAL;
    }
    if (!db->ops->listen) {
        db_seterr(db, "LISTEN needs Postgres");
        return -ENOTSUP;
    }
    return db->ops->listen(db, channel);
}

int db_notify(struct db *db, const char *channel, const char *payload)
{
    if (!channel_valid(channel)) {
        db_seterr(db, "bad channel name");
        return -EINVAL;
    }
    if (db->kind != DB_POSTGRES) return 0;
    struct db_stmt *st = db_prepare(db, "SELECT pg_notify($1, $2)");
    if (!st) return -EIO;
    int rc = db_bind_text(st, 1, channel, (size_t)-1);
    if (rc == 0) rc = db_bind_text(st, 2, payload ? payload : "", (size_t)-1);
    if (rc == 0) rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : 0;
}

int db_wait_notification(struct db *db, int timeout_ms, char *channel, size_t channel_len,
                         char *payload, size_t payload_len)
{
    if (!db->ops->wait_notification) {
        db_seterr(db, "LISTEN needs Postgres");
        return -ENOTSUP;
    }
    return db->ops->wait_notification(db, timeout_ms, channel, channel_len, payload, payload_len);
}
