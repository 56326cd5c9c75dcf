/* db_postgres — the Postgres backend of db.h, over libpq.
 *
 * Each statement is prepared once per connection (PQprepare, named by a
 * counter) and run with PQexecPrepared: text parameters, blobs as binary
 * parameters, text results. Parameter buffers belong to the statement and
 * are reused, so a warm statement binds without allocating.
 *
 * A dropped connection is re-established with PQreset; statements are then
 * prepared again lazily (a generation counter tells which are stale). A
 * statement that failed because the connection dropped outside a
 * transaction is retried once; inside one, the caller gets -ECONNRESET and
 * db_reconnected() tells that the transaction is gone. */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db_internal.h"

#define PG_CONNECT_TIMEOUT_S "10"
#define PG_BYTEA_OID 17
#define PG_NUMBER_MAX 32 /* room for any int64 or %.17g double */

struct pg_db {
    struct db base;
    PGconn *conn;
    unsigned gen;       /* bumped on every reconnect; starts at 1 */
    unsigned next_name; /* prepared statement names p1, p2, … */
};

struct pg_blob {
    unsigned char *p; /* PQunescapeBytea's, NULL: not unescaped yet */
    size_t len;
};

struct pg_stmt {
    struct db_stmt base;
    char name[16];
    unsigned gen; /* the connection generation it was prepared in, 0: never */
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

static const struct db_ops pg_ops;

static struct pg_db *pdb(struct db *db) { return (struct pg_db *)db; }

static struct pg_stmt *pst(struct db_stmt *st) { return (struct pg_stmt *)st; }

static void pg_notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Copies a libpq message without its trailing newline. */
static void set_pg_err(struct db *db, const char *prefix, const char *msg)
{
    size_t n = msg ? strlen(msg) : 0;
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    db_seterr(db, "%s%.*s", prefix, (int)n, msg ? msg : "");
}

int db_postgres_open(const struct config *cfg, struct db **out, char *err, size_t errlen)
{
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->pg_port);
    const char *keys[] = {"host", "port", "user", "password", "dbname", "connect_timeout",
                          "application_name", "client_encoding", NULL};
    const char *vals[] = {cfg->pg_host, port, cfg->pg_user, cfg->pg_password, cfg->pg_database,
                          PG_CONNECT_TIMEOUT_S, "periscope", "UTF8", NULL};
    struct pg_db *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    db->base.kind = DB_POSTGRES;
    db->base.ops = &pg_ops;
    db->gen = 1;
    db->conn = PQconnectdbParams(keys, vals, 0);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        const char *m = db->conn ? PQerrorMessage(db->conn) : "out of memory";
        size_t n = strlen(m);
        while (n && m[n - 1] == '\n')
            n--;
        snprintf(err, errlen, "postgres connect %s:%s/%s: %.*s", cfg->pg_host ? cfg->pg_host : "",
                 port, cfg->pg_database ? cfg->pg_database : "", (int)n, m);
        PQfinish(db->conn);
        free(db);
        return -ECONNREFUSED;
    }
    PQsetNoticeProcessor(db->conn, pg_notice_ignore, NULL);
    *out = &db->base;
    return 0;
}

static void pg_close(struct db *db)
{
    PQfinish(pdb(db)->conn);
    free(db);
}

static int pg_reconnect(struct pg_db *db)
{
    PQreset(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        set_pg_err(&db->base, "postgres reconnect failed: ", PQerrorMessage(db->conn));
        return -ECONNREFUSED;
    }
    PQsetNoticeProcessor(db->conn, pg_notice_ignore, NULL);
    db->gen++;
    db->base.reconnected = true;
    return 0;
}

/* Maps a failed result's SQLSTATE to a negative errno, with the message. */
static int pg_result_error(struct db *db, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(pdb(db)->conn);
    set_pg_err(db, "", msg && *msg ? msg : "postgres error");
    if (!state)
        return -EIO;
    if (!strcmp(state, "23505"))
        return -EEXIST;
    if (!strcmp(state, "23503"))
        return -ENOENT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
        return -EAGAIN;
    if (!strncmp(state, "22", 2))
        return -EINVAL;
    if (!strncmp(state, "53", 2))
        return -ENOMEM;
    if (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3))
        return -ECONNRESET;
    return -EIO;
}

static bool result_ok(const PGresult *res)
{
    ExecStatusType s = PQresultStatus(res);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
}

typedef PGresult *(*pg_run_fn)(struct pg_db *db, void *ctx);

/* Runs fn on the connection, reconnecting when it has dropped. On success
 * *out (may be NULL) takes the result. Retries once when the connection was
 * lost outside a transaction, where nothing of the caller's is lost. */
static int pg_call(struct pg_db *db, pg_run_fn fn, void *ctx, PGresult **out)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (PQstatus(db->conn) == CONNECTION_BAD) {
            int rc = pg_reconnect(db);
            if (rc < 0)
                return rc;
        }
        bool idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
        PGresult *res = fn(db, ctx);
        if (res && result_ok(res)) {
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
        snprintf(lost, sizeof lost, "%s", PQerrorMessage(db->conn));
        int rc = pg_reconnect(db);
        if (rc < 0)
            return rc;
        if (!idle) {
            set_pg_err(&db->base, "postgres connection lost, transaction aborted: ", lost);
            return -ECONNRESET;
        }
    }
    db_seterr(&db->base, "postgres connection lost twice in a row");
    return -ECONNRESET;
}

static PGresult *run_exec(struct pg_db *db, void *sql) { return PQexec(db->conn, sql); }

static int pg_exec(struct db *db, const char *sql) { return pg_call(pdb(db), run_exec, (void *)sql, NULL); }

static int pg_begin(struct db *db) { return pg_exec(db, "BEGIN"); }

static int pg_commit(struct db *db)
{
    /* COMMIT of a failed transaction "succeeds" as a rollback, and outside a
     * transaction (e.g. after a reconnect) it only warns: both lose writes
     * the caller believes committed. */
    PGTransactionStatusType ts = PQtransactionStatus(pdb(db)->conn);
    if (ts == PQTRANS_INERROR) {
        pg_exec(db, "ROLLBACK");
        db_seterr(db, "transaction aborted by an earlier error; rolled back");
        return -EIO;
    }
    if (ts == PQTRANS_IDLE) {
        db_seterr(db, "commit without a transaction (was the connection lost?)");
        return -EIO;
    }
    return pg_exec(db, "COMMIT");
}

static int pg_rollback(struct db *db)
{
    PGconn *c = pdb(db)->conn;
    if (PQstatus(c) == CONNECTION_BAD || PQtransactionStatus(c) == PQTRANS_IDLE)
        return 0; /* nothing to undo: the server has dropped it */
    return pg_exec(db, "ROLLBACK");
}

/* The highest $n outside quotes and comments: how many values to send. */
static int count_params(const char *sql)
{
    int maxn = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            while (p[1] && p[1] != q)
                p++;
            if (p[1])
                p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (p[1] && p[1] != '\n')
                p++;
        } else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            int n = 0;
            while (p[1] >= '0' && p[1] <= '9' && n < 100000)
                n = n * 10 + (*++p - '0');
            if (n > maxn)
                maxn = n;
        }
    }
    return maxn;
}

static PGresult *run_prepare(struct pg_db *db, void *ctx)
{
    struct pg_stmt *s = ctx;
    if (s->gen == db->gen)
        return PQmakeEmptyPGresult(db->conn, PGRES_COMMAND_OK);
    snprintf(s->name, sizeof s->name, "p%u", ++db->next_name);
    PGresult *res = PQprepare(db->conn, s->name, s->base.sql, 0, NULL);
    if (res && result_ok(res))
        s->gen = db->gen;
    return res;
}

static PGresult *run_execute(struct pg_db *db, void *ctx)
{
    struct pg_stmt *s = ctx;
    if (s->gen != db->gen) {
        PGresult *res = run_prepare(db, s);
        if (!res || !result_ok(res))
            return res;
        PQclear(res);
    }
    return PQexecPrepared(db->conn, s->name, s->nparams, s->values, s->lengths, s->formats, 0);
}

static void free_blobs(struct pg_stmt *s)
{
    for (int i = 0; i < s->nblobs; i++) {
        PQfreemem(s->blobs[i].p);
        s->blobs[i].p = NULL;
    }
}

static void pg_stmt_finish(struct db_stmt *st)
{
    struct pg_stmt *s = pst(st);
    free_blobs(s);
    PQclear(s->res);
    s->res = NULL;
    s->executed = false;
    s->row = -1;
    s->nrows = 0;
}

static void pg_stmt_free(struct db_stmt *st)
{
    struct pg_stmt *s = pst(st);
    pg_stmt_finish(st);
    if (s->bufs)
        for (int i = 0; i < s->nparams; i++)
            free(s->bufs[i].p);
    free(s->bufs);
    free(s->values);
    free(s->lengths);
    free(s->formats);
    free(s->blobs);
    free(s);
}

static struct db_stmt *pg_stmt_new(struct db *db, const char *sql)
{
    struct pg_stmt *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->base.db = db;
    s->base.sql = sql;
    s->row = -1;
    s->nparams = count_params(sql);
    if (s->nparams) {
        size_t n = (size_t)s->nparams;
        s->bufs = calloc(n, sizeof *s->bufs);
        s->values = calloc(n, sizeof *s->values);
        s->lengths = calloc(n, sizeof *s->lengths);
        s->formats = calloc(n, sizeof *s->formats);
        if (!s->bufs || !s->values || !s->lengths || !s->formats)
            goto oom;
    }
    /* Prepare now so that a bad statement fails here, not at the first step. */
    if (pg_call(pdb(db), run_prepare, s, NULL) < 0)
        goto fail;
    return &s->base;
oom:
    db_seterr(db, "out of memory");
fail:
    if (s)
        pg_stmt_free(&s->base);
    return NULL;
}

static void pg_stmt_reset(struct db_stmt *st)
{
    struct pg_stmt *s = pst(st);
    pg_stmt_finish(st);
    for (int i = 0; i < s->nparams; i++) {
        s->values[i] = NULL;
        s->lengths[i] = 0;
        s->formats[i] = 0;
    }
}

/* Stores a parameter value in the statement's buffer for $idx. */
static int set_param(struct db_stmt *st, int idx, const void *p, size_t len, int format)
{
    struct pg_stmt *s = pst(st);
    if (idx < 1 || idx > s->nparams) {
        db_seterr(st->db, "no parameter $%d in statement", idx);
        return -ERANGE;
    }
    if (len > INT32_MAX) {
        db_seterr(st->db, "parameter $%d too large", idx);
        return -E2BIG;
    }
    struct db_buf *b = &s->bufs[idx - 1];
    if (db_buf_set(b, p, len) < 0) {
        db_seterr(st->db, "out of memory");
        return -ENOMEM;
    }
    s->values[idx - 1] = b->p;
    s->lengths[idx - 1] = (int)len;
    s->formats[idx - 1] = format;
    return 0;
}

static int pg_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
    char num[PG_NUMBER_MAX];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    return set_param(st, idx, num, (size_t)n, 0);
}

static int pg_bind_double(struct db_stmt *st, int idx, double v)
{
    char num[PG_NUMBER_MAX];
    int n;
    if (isnan(v))
        n = snprintf(num, sizeof num, "NaN");
    else if (isinf(v))
        n = snprintf(num, sizeof num, "%sInfinity", v < 0 ? "-" : "");
    else
        n = snprintf(num, sizeof num, "%.17g", v);
    return set_param(st, idx, num, (size_t)n, 0);
}

static int pg_bind_text(struct db_stmt *st, int idx, const char *s, size_t len)
{
    return set_param(st, idx, s, len, 0);
}

static int pg_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
    return set_param(st, idx, p, len, 1);
}

static int pg_bind_null(struct db_stmt *st, int idx)
{
    struct pg_stmt *s = pst(st);
    if (idx < 1 || idx > s->nparams) {
        db_seterr(st->db, "no parameter $%d in statement", idx);
        return -ERANGE;
    }
    s->values[idx - 1] = NULL;
    s->lengths[idx - 1] = 0;
    s->formats[idx - 1] = 0;
    return 0;
}

static int pg_step(struct db_stmt *st)
{
    struct pg_stmt *s = pst(st);
    free_blobs(s);
    if (!s->executed) {
        PQclear(s->res);
        s->res = NULL;
        int rc = pg_call(pdb(st->db), run_execute, s, &s->res);
        if (rc < 0)
            return rc;
        s->executed = true;
        s->row = -1;
        s->nrows = PQresultStatus(s->res) == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
    }
    if (s->row + 1 < s->nrows) {
        s->row++;
        return DB_ROW;
    }
    s->row = s->nrows;
    return DB_DONE;
}

static bool on_row(struct pg_stmt *s, int col)
{
    return s->res && s->row >= 0 && s->row < s->nrows && col >= 0 && col < PQnfields(s->res);
}

static bool pg_col_is_null(struct db_stmt *st, int col)
{
    struct pg_stmt *s = pst(st);
    return !on_row(s, col) || PQgetisnull(s->res, s->row, col);
}

static int64_t pg_col_int64(struct db_stmt *st, int col)
{
    if (pg_col_is_null(st, col))
        return 0;
    const char *v = PQgetvalue(pst(st)->res, pst(st)->row, col);
    if (v[0] == 't' || v[0] == 'f') /* boolean */
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static double pg_col_double(struct db_stmt *st, int col)
{
    if (pg_col_is_null(st, col))
        return 0;
    return strtod(PQgetvalue(pst(st)->res, pst(st)->row, col), NULL);
}

static const char *pg_col_text(struct db_stmt *st, int col)
{
    if (pg_col_is_null(st, col))
        return NULL;
    return PQgetvalue(pst(st)->res, pst(st)->row, col);
}

static const void *pg_col_blob(struct db_stmt *st, int col, size_t *len)
{
    struct pg_stmt *s = pst(st);
    *len = 0;
    if (pg_col_is_null(st, col))
        return NULL;
    const char *v = PQgetvalue(s->res, s->row, col);
    if (PQftype(s->res, col) != PG_BYTEA_OID) {
        *len = (size_t)PQgetlength(s->res, s->row, col);
        return v;
    }
    if (col >= s->nblobs) {
        int n = PQnfields(s->res);
        struct pg_blob *b = realloc(s->blobs, (size_t)n * sizeof *b);
        if (!b)
            return NULL;
        memset(b + s->nblobs, 0, (size_t)(n - s->nblobs) * sizeof *b);
        s->blobs = b;
        s->nblobs = n;
    }
    struct pg_blob *b = &s->blobs[col];
    if (!b->p) {
        b->p = PQunescapeBytea((const unsigned char *)v, &b->len);
        if (!b->p)
            return NULL;
    }
    *len = b->len;
    return b->p;
}

static int pg_col_count(struct db_stmt *st) { return pst(st)->res ? PQnfields(pst(st)->res) : 0; }

static const char *pg_col_name(struct db_stmt *st, int col)
{
    return pst(st)->res ? PQfname(pst(st)->res, col) : NULL;
}

static int64_t pg_changes(struct db_stmt *st)
{
    return pst(st)->res ? strtoll(PQcmdTuples(pst(st)->res), NULL, 10) : 0;
}

static const struct db_ops pg_ops = {
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .stmt_new = pg_stmt_new,
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
};
