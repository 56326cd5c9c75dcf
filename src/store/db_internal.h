/* db_internal — what db.c shares with its two backends (db_sqlite.c,
 * db_postgres.c). Not for use outside these files.
 *
 * A backend embeds struct db / struct db_stmt as the first member of its own
 * connection and statement structs and fills a struct db_ops. db.c owns the
 * statement cache, the error buffer and argument checks; a backend only
 * talks to its library. */
#ifndef PERISCOPE_DB_INTERNAL_H
#define PERISCOPE_DB_INTERNAL_H

#include <stdarg.h>
#include "store/db.h"

struct db_ops {
    void (*close)(struct db *db);
    int (*exec)(struct db *db, const char *sql);
    int (*begin)(struct db *db);
    int (*commit)(struct db *db);
    int (*rollback)(struct db *db);
    void (*set_timeout)(struct db *db, int ms);

    /* Prepares sql (borrowed for the statement's life); NULL + errmsg. */
    struct db_stmt *(*stmt_new)(struct db *db, const char *sql);
    void (*stmt_free)(struct db_stmt *st);
    /* A statement for one use (db_prepare_once); NULL: stmt_new. Postgres
     * sends it unnamed with its values, parse and execute in one round
     * trip, and nothing stays on the server: no prepare and DEALLOCATE
     * round trips around it. A bad statement fails at its first step. */
    struct db_stmt *(*stmt_new_once)(struct db *db, const char *sql);
    /* Frees a statement prepared for one use (db_prepare_once): also what
     * the server keeps of it. NULL: stmt_free. */
    void (*stmt_discard)(struct db_stmt *st);
    void (*stmt_reset)(struct db_stmt *st); /* reset and clear bindings */
    void (*stmt_finish)(struct db_stmt *st);

    int (*bind_int64)(struct db_stmt *st, int idx, int64_t v);
    int (*bind_double)(struct db_stmt *st, int idx, double v);
    int (*bind_text)(struct db_stmt *st, int idx, const char *s, size_t len);
    int (*bind_blob)(struct db_stmt *st, int idx, const void *p, size_t len);
    int (*bind_null)(struct db_stmt *st, int idx);

    int (*step)(struct db_stmt *st);
    bool (*col_is_null)(struct db_stmt *st, int col);
    int64_t (*col_int64)(struct db_stmt *st, int col);
    double (*col_double)(struct db_stmt *st, int col);
    const char *(*col_text)(struct db_stmt *st, int col);
    const void *(*col_blob)(struct db_stmt *st, int col, size_t *len);
    int (*col_count)(struct db_stmt *st);
    const char *(*col_name)(struct db_stmt *st, int col);
    int64_t (*changes)(struct db_stmt *st);

    /* NULL when the backend has no LISTEN/NOTIFY. */
    int (*listen)(struct db *db, const char *channel);
    int (*wait_notification)(struct db *db, int timeout_ms, char *channel, size_t channel_len,
                             char *payload, size_t payload_len);
};

/* Open-addressed table: sql pointer → statement. */
struct db_stmt_cache {
    struct db_stmt **slots;
    size_t cap; /* power of two, 0 before the first insert */
    size_t count;
};

#define DB_ERRMSG_MAX 512
#define DB_CHANNEL_MAX 63

struct db {
    enum db_kind kind;
    const struct db_ops *ops;
    struct db_stmt_cache cache;
    bool reconnected;
    int timeout_ms;                  /* db_set_timeout_ms */
    const unsigned char *secret_key; /* cfg->secrets_key, or NULL (db_secret_key) */
    char err[DB_ERRMSG_MAX];
};

struct db_stmt {
    struct db *db;
    const char *sql; /* the cache key */
};

/* A growable byte buffer reused across binds so that binding allocates only
 * while a statement's parameters grow. */
struct db_buf {
    char *p;
    size_t cap;
};

/* Copies len bytes into b and NUL-terminates them. 0 or -ENOMEM. */
int db_buf_set(struct db_buf *b, const void *src, size_t len);

/* Sets the connection's error message (printf-style). */
void db_seterr(struct db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int db_sqlite_open(const struct config *cfg, struct db **out, char *err, size_t errlen);
int db_postgres_open(const struct config *cfg, struct db **out, char *err, size_t errlen);

#endif
