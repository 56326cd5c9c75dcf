/* db_postgres_internal — what db_postgres.c (connection, transactions,
 * reconnect, LISTEN) shares with db_postgres_stmt.c (statements, binds,
 * columns). Not for use outside these two files. */
#ifndef PERISCOPE_DB_POSTGRES_INTERNAL_H
#define PERISCOPE_DB_POSTGRES_INTERNAL_H

#include <libpq-fe.h>

#include "store/db_internal.h"

#define PG_BYTEA_OID 17
#define PG_NUMBER_MAX 32 /* room for any int64 or %.17g double */
#define PG_LISTEN_MAX 8  /* channels one connection listens on */

#define PG_PARAMS_MAX 16

struct pg_db {
    struct db base;
    PGconn *conn; /* NULL after a timeout dropped it (PQstatus: CONNECTION_BAD) */
    const char *keys[PG_PARAMS_MAX], *vals[PG_PARAMS_MAX]; /* for reconnects */
    char port[16], options[160];
    int timeout_ms; /* client deadline per statement (+ a grace); 0: none */
    int connect_timeout_ms;
    int64_t retry_at_ms; /* no new connection attempt before (monotonic) */
    bool timed_out;      /* the last statement got no answer in time */
    unsigned gen;        /* bumped on every reconnect; starts at 1 */
    unsigned next_name;  /* prepared statement names p1, p2, … */
    char channels[PG_LISTEN_MAX][DB_CHANNEL_MAX + 1]; /* LISTENed, for reconnects */
    int nchannels;
};

struct pg_blob {
    unsigned char *p; /* PQunescapeBytea's, NULL: not unescaped yet */
    size_t len;
};

struct pg_stmt {
    struct db_stmt base;
    char name[16];
    unsigned gen; /* the connection generation it was prepared in, 0: never */
    bool once;    /* db_prepare_once: never prepared, sent unnamed each time */
    int nparams;
    struct db_buf *bufs;
    const char **values; /* NULL entry: SQL NULL */
    int *lengths;
    int *formats;
    PGresult *res;
    bool executed;
    int row, nrows;
    struct pg_blob *blobs; /* unescaped bytea of the current row, per column */
    int nblobs;
};

struct pg_db *pg_db_of(struct db *db);
struct pg_stmt *pg_stmt_of(struct db_stmt *st);
void pg_seterr(struct db *db, const char *prefix, const char *msg);
bool pg_result_ok(const PGresult *res);

typedef PGresult *(*pg_run_fn)(struct pg_db *db, void *ctx);
/* Runs fn on the connection, reconnecting when it has dropped; see
 * db_postgres.c. On success *out (may be NULL) takes the result. */
int pg_call(struct pg_db *db, pg_run_fn fn, void *ctx, PGresult **out);

/* db_postgres_wait.c: connects within timeout_ms (non-blocking mode); at
 * most one attempt per second after a failure. 0 or -ECONNREFUSED. */
int pg_connect(struct pg_db *db, const char *const *keys, const char *const *vals, int timeout_ms);
/* The result of a query just sent with PQsend* (sent: its return value),
 * waited for within the connection's deadline. NULL on failure; on a
 * timeout the connection is dropped (timed_out set). */
PGresult *pg_result_of_send(struct pg_db *db, int sent);
/* Closes the connection with why as the error (the next use reconnects). */
void pg_drop(struct pg_db *db, const char *why);

/* db_postgres_stmt.c */
struct db_stmt *pg_stmt_new(struct db *db, const char *sql);
struct db_stmt *pg_stmt_new_once(struct db *db, const char *sql);
void pg_stmt_free(struct db_stmt *st);
void pg_stmt_discard(struct db_stmt *st);
void pg_stmt_reset(struct db_stmt *st);
void pg_stmt_finish(struct db_stmt *st);
int pg_bind_int64(struct db_stmt *st, int idx, int64_t v);
int pg_bind_double(struct db_stmt *st, int idx, double v);
int pg_bind_text(struct db_stmt *st, int idx, const char *s, size_t len);
int pg_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len);
int pg_bind_null(struct db_stmt *st, int idx);
int pg_step(struct db_stmt *st);
bool pg_col_is_null(struct db_stmt *st, int col);
int64_t pg_col_int64(struct db_stmt *st, int col);
double pg_col_double(struct db_stmt *st, int col);
const char *pg_col_text(struct db_stmt *st, int col);
const void *pg_col_blob(struct db_stmt *st, int col, size_t *len);
int pg_col_count(struct db_stmt *st);
const char *pg_col_name(struct db_stmt *st, int col);
int64_t pg_changes(struct db_stmt *st);

#endif
