/* db — one database connection, SQLite or Postgres, behind one small API, so
 * that every SQL statement in src/store/ is written once.
 *
 * SQL dialect: statements use $1, $2, … placeholders (SQLite accepts them as
 * named parameters; Postgres natively), ON CONFLICT, RETURNING, and only
 * types both sides share (BIGINT, TEXT, blobs as BLOB/BYTEA). Timestamps
 * are BIGINT milliseconds since the epoch everywhere.
 *
 * Threading: a struct db is used by one thread at a time (the caller
 * serializes, e.g. the writer thread owns its connection, readers take one
 * from the store's pool). Outside src/store/ it comes in through store.h,
 * or directly where a module holds a connection of its own (the script
 * listener's LISTEN connection, scripts/script_listener.c; ingest's key
 * lookups, ingest/auth_store.c); no SQL is written outside src/store/. */
#ifndef PERISCOPE_DB_H
#define PERISCOPE_DB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "base/json.h"

struct config;
struct db;
struct db_stmt;

enum db_kind { DB_SQLITE, DB_POSTGRES };

enum db_step_result {
    DB_ROW = 1,  /* a row is available through db_col_* */
    DB_DONE = 0, /* no (more) rows; the statement ran */
    /* < 0: error (negative errno-style); db_errmsg() says what */
};

/* Opens a connection. SQLite: WAL, synchronous=NORMAL, busy_timeout,
 * foreign_keys. Postgres: from cfg->pg_*. Returns 0 or negative errno with a
 * message in err. */
int db_open(const struct config *cfg, struct db **out, char *err, size_t errlen);
void db_close(struct db *db);
/* The key that seals secrets at rest (config.h secrets_key; borrowed from
 * the config the connection was opened with), or NULL when there is none. */
const unsigned char *db_secret_key(const struct db *db);
enum db_kind db_kind(const struct db *db);
const char *db_errmsg(const struct db *db); /* borrowed until the next call */

/* Postgres: true when the connection was lost and re-established (the
 * caller's transaction, if any, is gone). Resets on read. */
bool db_reconnected(struct db *db);

/* The longest wait for one statement on this connection, in ms (0: none).
 * Postgres: the client's deadline (the server's statement_timeout stays
 * DB_TIMEOUT_MS); past it the connection is dropped and the statement
 * fails -ETIMEDOUT. SQLite: the busy timeout. */
void db_set_timeout_ms(struct db *db, int ms);
int db_timeout_ms(const struct db *db);

/* Runs one or more statements without parameters (migrations, BEGIN…).
 * Returns 0 or negative. */
int db_exec(struct db *db, const char *sql);
int db_begin(struct db *db); /* BEGIN (SQLite: BEGIN IMMEDIATE) */
int db_commit(struct db *db);
int db_rollback(struct db *db); /* safe to call after a failure */

/* Prepared statements are cached per connection, keyed by the sql pointer
 * (pass string literals). The statement is borrowed: valid until db_close.
 * db_prepare resets it and clears its bindings. NULL on error. */
struct db_stmt *db_prepare(struct db *db, const char *sql);

/* A statement for one use, not cached: for SQL the store assembles from its
 * own fixed fragments at run time (issue search), whose text is not a
 * literal. sql is borrowed until db_stmt_discard, which the caller must
 * call. NULL on error. */
struct db_stmt *db_prepare_once(struct db *db, const char *sql);
void db_stmt_discard(struct db_stmt *st);

/* Bind parameter $idx (1-based). Values are copied by the call. */
int db_bind_int64(struct db_stmt *st, int idx, int64_t v);
int db_bind_double(struct db_stmt *st, int idx, double v);
/* len (size_t)-1: strlen; s NULL binds NULL; text holding a NUL byte is
 * -EINVAL (Postgres cannot store it). */
int db_bind_text(struct db_stmt *st, int idx, const char *s, size_t len);
/* len 0 binds an empty blob, not NULL. */
int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len);
int db_bind_null(struct db_stmt *st, int idx);

/* Executes (on the first call) and advances. Returns DB_ROW, DB_DONE or a
 * negative error. A unique violation is -EEXIST; a foreign-key violation
 * (the referenced row does not exist) is -ENOENT; a lost Postgres connection
 * inside a transaction is -ECONNRESET. To run a statement again, db_prepare
 * it again. */
int db_step(struct db_stmt *st);

/* db_step for a statement that yields at most one row: 0 with the row
 * available through db_col_*, if_none (e.g. -ENOENT) when there is no row,
 * or the negative error of db_step. */
int db_step_row(struct db_stmt *st, int if_none);

/* Column access for the current row (0-based). Pointers are borrowed until
 * the next db_step/db_prepare on the statement. */
bool db_col_is_null(struct db_stmt *st, int col);
int64_t db_col_int64(struct db_stmt *st, int col);
double db_col_double(struct db_stmt *st, int col);
const char *db_col_text(struct db_stmt *st, int col);              /* NULL for SQL NULL */
const void *db_col_blob(struct db_stmt *st, int col, size_t *len); /* NULL for SQL NULL */
int db_col_count(struct db_stmt *st);
/* A text column as a new JSON string for the API: SQL NULL is JSON null
 * (db_col_json_text) or "" (db_col_json_text_or_empty); text that is not
 * valid UTF-8 (stored before ingest repaired it, or set by a script) has
 * U+FFFD for what is not, so that every answer is valid UTF-8. NULL only
 * when out of memory. */
cJSON *db_col_json_text(struct db_stmt *st, int col);
cJSON *db_col_json_text_or_empty(struct db_stmt *st, int col);
const char *db_col_name(struct db_stmt *st, int col);

/* Rows changed by the last INSERT/UPDATE/DELETE run through st. */
int64_t db_changes(struct db_stmt *st);

/* Done with the statement's result before it is prepared again (frees
 * Postgres results early; optional). */
void db_finish(struct db_stmt *st);

/* db_finish on every cached statement of the connection. A statement read
 * only part-way keeps an SQLite read snapshot open; the store calls this
 * when a pooled connection comes back, db_begin/commit/rollback call it
 * too. */
void db_finish_all(struct db *db);

/* Postgres LISTEN/NOTIFY, so that one node's change reaches the others.
 * A channel is [a-z_][a-z0-9_]*, at most 63 bytes (else -EINVAL).
 * db_listen subscribes the connection (again after every reconnect); give
 * the listener a connection of its own (db_open), not a pooled one. SQLite
 * (one node): db_listen/db_wait_notification are -ENOTSUP, db_notify does
 * nothing and returns 0. db_notify is delivered when the caller's
 * transaction commits (at once outside one). */
int db_listen(struct db *db, const char *channel);
int db_notify(struct db *db, const char *channel, const char *payload);
/* Waits up to timeout_ms for a notification on a listened channel: 1 with
 * channel and payload copied (truncated to their sizes, NUL-terminated), 0
 * on timeout, -ECONNRESET when the connection was lost and re-established
 * (notifications in between are lost: re-read the state), other negative
 * on error. */
int db_wait_notification(struct db *db, int timeout_ms, char *channel, size_t channel_len,
                         char *payload, size_t payload_len);

/* Applies migrations/<kind>/NNNN_*.sql from dir in order, each in its own
 * transaction, recorded in schema_migrations. Idempotent. Returns the number
 * applied (>= 0) or negative with a message in err. */
int db_migrate(struct db *db, const char *migrations_dir, char *err, size_t errlen);

#endif
