/* db_postgres — the Postgres backend of db.h, over libpq.
 *
 * Each statement is prepared once per connection (PQprepare, named by a
 * counter) and run with PQexecPrepared: text parameters, blobs as binary
 * parameters, text results. Parameter buffers belong to the statement and
 * are reused, so a warm statement binds without allocating.
 *
 * Every wait is bounded (db_postgres_wait.c): TCP keepalives, the server's
 * statement_timeout and lock_timeout (DB_TIMEOUT_MS, half of it for locks),
 * and the client's own deadline on every query and connect.
 *
 * A dropped connection is re-established; statements are then
 * prepared again lazily (a generation counter tells which are stale). A
 * statement that failed because the connection dropped outside a
 * transaction is retried once; inside one, the caller gets -ECONNRESET and
 * db_reconnected() tells that the transaction is gone. */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "store/db_postgres_internal.h"

#define PG_CONNECT_TIMEOUT_MS 10000 /* at start-up */

static const struct db_ops pg_ops;

struct pg_db *pg_db_of(struct db *db)
{
    return (struct pg_db *)db;
}

struct pg_stmt *pg_stmt_of(struct db_stmt *st)
{
    return (struct pg_stmt *)st;
}

static void pg_notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Copies a libpq message without its trailing newline. */
void pg_seterr(struct db *db, const char *prefix, const char *msg)
{
    size_t n = msg ? strlen(msg) : 0;
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    db_seterr(db, "%s%.*s", prefix, (int)n, msg ? msg : "");
}

/* Keepalives: a peer gone without a word (partition, power off) is
 * noticed in about idle + interval * count seconds. */
static void set_params(struct pg_db *db, const struct config *cfg)
{
    struct config d; /* a config built by hand may leave it 0 */
    config_defaults(&d);
    int timeout = cfg->db_timeout_ms > 0 ? cfg->db_timeout_ms : d.db_timeout_ms;
    snprintf(db->port, sizeof db->port, "%d", cfg->pg_port);
    /* Every event this connection stores names the node (events.node's
     * default): a restart reconciles its own counters (store/counters.h). */
    snprintf(db->options, sizeof db->options,
             "-c statement_timeout=%d -c lock_timeout=%d -c periscope.node=%d", timeout,
             timeout / 2 > 0 ? timeout / 2 : 1, cfg->node_id);
    const char *kv[][2] = {{"host", cfg->pg_host},       {"port", db->port},
                           {"user", cfg->pg_user},       {"password", cfg->pg_password},
                           {"dbname", cfg->pg_database}, {"application_name", "periscope"},
                           {"client_encoding", "UTF8"},  {"options", db->options},
                           {"keepalives", "1"},          {"keepalives_idle", "5"},
                           {"keepalives_interval", "2"}, {"keepalives_count", "3"},
                           {"tcp_user_timeout", "10000"}};
    size_t n = sizeof kv / sizeof kv[0];
    for (size_t i = 0; i < n; i++) {
        db->keys[i] = kv[i][0];
        db->vals[i] = kv[i][1];
    }
    db->keys[n] = db->vals[n] = NULL;
    db->timeout_ms = timeout;
    db->connect_timeout_ms = timeout;
}

int db_postgres_open(const struct config *cfg, struct db **out, char *err, size_t errlen)
{
    struct pg_db *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    db->base.kind = DB_POSTGRES;
    db->base.ops = &pg_ops;
    db->gen = 1;
    set_params(db, cfg);
    if (pg_connect(db, db->keys, db->vals, PG_CONNECT_TIMEOUT_MS) < 0) {
        snprintf(err, errlen, "%s:%s/%s: %s", cfg->pg_host ? cfg->pg_host : "", db->port,
                 cfg->pg_database ? cfg->pg_database : "", db->base.err);
        free(db);
        return -ECONNREFUSED;
    }
    PQsetNoticeProcessor(db->conn, pg_notice_ignore, NULL);
    *out = &db->base;
    return 0;
}

static void pg_close(struct db *db)
{
    PQfinish(pg_db_of(db)->conn);
    free(db);
}

/* LISTEN takes an identifier, which cannot be a bound parameter; db.c has
 * checked that channel is [a-z_][a-z0-9_]*. */
static int pg_listen_now(struct pg_db *db, const char *channel)
{
    char sql[sizeof "LISTEN " + DB_CHANNEL_MAX];
    snprintf(sql, sizeof sql, "LISTEN %s", channel);
    PGresult *res = pg_result_of_send(db, PQsendQuery(db->conn, sql));
    bool ok = res && pg_result_ok(res);
    if (!ok) pg_seterr(&db->base, "LISTEN: ", res ? PQresultErrorMessage(res) : "no result");
    PQclear(res);
    return ok ? 0 : -EIO;
}

static int pg_reconnect(struct pg_db *db)
{
    if (pg_connect(db, db->keys, db->vals, db->connect_timeout_ms) < 0) {
        char why[DB_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", db->base.err);
        db_seterr(&db->base, "postgres reconnect failed: %s", why);
        return -ECONNREFUSED;
    }
    PQsetNoticeProcessor(db->conn, pg_notice_ignore, NULL);
    db->gen++;
    db->base.reconnected = true;
    for (int i = 0; i < db->nchannels; i++)
        if (pg_listen_now(db, db->channels[i]) < 0) return -ECONNREFUSED;
    return 0;
}

/* Maps a failed result's SQLSTATE to a negative errno, with the message. */
static int pg_result_error(struct db *db, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    PGconn *conn = pg_db_of(db)->conn;
    const char *msg = res ? PQresultErrorMessage(res) : conn ? PQerrorMessage(conn) : db->err;
    pg_seterr(db, "", msg && *msg ? msg : "postgres error");
    if (!state) return -EIO;
    if (!strcmp(state, "23505")) return -EEXIST;
    if (!strcmp(state, "23503")) return -ENOENT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01")) return -EAGAIN;
    if (!strncmp(state, "22", 2) || !strncmp(state, "23", 2)) return -EINVAL;
    if (!strncmp(state, "53", 2)) return -ENOMEM;
    if (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3)) return -ECONNRESET;
    return -EIO;
}

bool pg_result_ok(const PGresult *res)
{
    ExecStatusType s = PQresultStatus(res);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
}

/* Runs fn on the connection, reconnecting when it has dropped. On success
 * *out (may be NULL) takes the result. Retries once when the connection was
 * lost outside a transaction, where nothing of the caller's is lost. */
int pg_call(struct pg_db *db, pg_run_fn fn, void *ctx, PGresult **out)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (PQstatus(db->conn) == CONNECTION_BAD) {
            int rc = pg_reconnect(db);
            if (rc < 0) return rc;
        }
        bool idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
        PGresult *res = fn(db, ctx);
        if (res && pg_result_ok(res)) {
            if (out)
                *out = res;
            else
                PQclear(res);
            return 0;
        }
        if (PQstatus(db->conn) != CONNECTION_BAD) {
            int rc = pg_result_error(&db->base, res);
            PQclear(res);
            return rc;
        }
        PQclear(res);
        char lost[DB_ERRMSG_MAX];
        snprintf(lost, sizeof lost, "%s", db->conn ? PQerrorMessage(db->conn) : db->base.err);
        if (db->timed_out) {
            /* Asking again would double the wait: the caller hears now. */
            pg_seterr(&db->base, "", lost);
            return -ETIMEDOUT;
        }
        int rc = pg_reconnect(db);
        if (rc < 0) return rc;
        if (!idle) {
            pg_seterr(&db->base, "postgres connection lost, transaction aborted: ", lost);
            return -ECONNRESET;
        }
    }
    db_seterr(&db->base, "postgres connection lost twice in a row");
    return -ECONNRESET;
}

static PGresult *run_exec(struct pg_db *db, void *sql)
{
    return pg_result_of_send(db, PQsendQuery(db->conn, sql));
}

static int pg_exec(struct db *db, const char *sql)
{
    return pg_call(pg_db_of(db), run_exec, (void *)sql, NULL);
}

static int pg_begin(struct db *db)
{
    return pg_exec(db, "BEGIN");
}

static int pg_commit(struct db *db)
{
    /* COMMIT of a failed transaction "succeeds" as a rollback, and outside a
     * transaction (e.g. on a fresh session after a reconnect) it only warns:
     * both would lose writes the caller believes committed. */
    PGTransactionStatusType ts = PQtransactionStatus(pg_db_of(db)->conn);
    if (ts == PQTRANS_INERROR) {
        pg_exec(db, "ROLLBACK");
        db_seterr(db, "transaction aborted by an earlier error; rolled back");
        return -EIO;
    }
    if (ts != PQTRANS_INTRANS) {
        db_seterr(db, "commit without an open transaction (was the connection lost?)");
        return ts == PQTRANS_IDLE ? -EIO : -ECONNRESET;
    }
    return pg_exec(db, "COMMIT");
}

static int pg_rollback(struct db *db)
{
    PGconn *c = pg_db_of(db)->conn;
    if (PQstatus(c) == CONNECTION_BAD || PQtransactionStatus(c) == PQTRANS_IDLE)
        return 0; /* nothing to undo: the server has dropped it */
    return pg_exec(db, "ROLLBACK");
}

static int pg_listen(struct db *db, const char *channel)
{
    struct pg_db *p = pg_db_of(db);
    for (int i = 0; i < p->nchannels; i++)
        if (!strcmp(p->channels[i], channel)) return 0;
    if (p->nchannels == PG_LISTEN_MAX) {
        db_seterr(db, "too many LISTEN channels on one connection");
        return -E2BIG;
    }
    int rc = pg_exec(db, "SELECT 1"); /* reconnects first when needed */
    if (rc == 0) rc = pg_listen_now(p, channel);
    if (rc == 0) snprintf(p->channels[p->nchannels++], DB_CHANNEL_MAX + 1, "%s", channel);
    return rc;
}

static int pg_connection_lost(struct pg_db *db)
{
    char lost[DB_ERRMSG_MAX];
    snprintf(lost, sizeof lost, "%s", db->conn ? PQerrorMessage(db->conn) : db->base.err);
    int rc = pg_reconnect(db);
    if (rc < 0) return rc;
    pg_seterr(&db->base, "postgres connection lost while listening: ", lost);
    return -ECONNRESET;
}

static int pg_wait_notification(struct db *db, int timeout_ms, char *channel, size_t channel_len,
                                char *payload, size_t payload_len)
{
    struct pg_db *p = pg_db_of(db);
    if (PQstatus(p->conn) == CONNECTION_BAD || !PQconsumeInput(p->conn))
        return pg_connection_lost(p);
    PGnotify *n = PQnotifies(p->conn);
    if (!n) {
        struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN};
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0) return errno == EINTR ? 0 : -errno;
        if (r == 0) return 0;
        if (!PQconsumeInput(p->conn) || PQstatus(p->conn) == CONNECTION_BAD)
            return pg_connection_lost(p);
        if (!(n = PQnotifies(p->conn)))
            return 0; /* other traffic (e.g. an error before EOF): ask again */
    }
    if (channel_len) snprintf(channel, channel_len, "%s", n->relname);
    if (payload_len) snprintf(payload, payload_len, "%s", n->extra ? n->extra : "");
    PQfreemem(n);
    return 1;
}

static void pg_set_timeout(struct db *db, int ms)
{
    pg_db_of(db)->timeout_ms = ms;
}

static const struct db_ops pg_ops = {
    .close = pg_close,
    .set_timeout = pg_set_timeout,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .stmt_new = pg_stmt_new,
    .stmt_new_once = pg_stmt_new_once,
    .stmt_discard = pg_stmt_discard,
    .stmt_free = pg_stmt_free,
    .stmt_reset = pg_stmt_reset,
    .stmt_finish = pg_stmt_finish,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_is_null = pg_col_is_null,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_count = pg_col_count,
    .col_name = pg_col_name,
    .changes = pg_changes,
    .listen = pg_listen,
    .wait_notification = pg_wait_notification,
};
