/* db_postgres_stmt — Postgres statements: prepared once per connection
 * generation (one-use statements are sent unnamed instead, parse and
 * execute in one round trip), text parameters (blobs binary) in reused buffers, text
 * results; bytea columns are unescaped into memory the statement owns until
 * the next step. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_postgres_internal.h"

/* The highest $n outside quotes and comments: how many values to send. */
static int count_params(const char *sql)
{
    int maxn = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            while (p[1] && p[1] != q)
                p++;
            if (p[1]) p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (p[1] && p[1] != '\n')
                p++;
        } else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            int n = 0;
            while (p[1] >= '0' && p[1] <= '9' && n < 100000)
                n = n * 10 + (*++p - '0');
            if (n > maxn) maxn = n;
        }
    }
    return maxn;
}

static PGresult *run_prepare(struct pg_db *db, void *ctx)
{
    struct pg_stmt *s = ctx;
    if (s->gen == db->gen) return PQmakeEmptyPGresult(db->conn, PGRES_COMMAND_OK);
    snprintf(s->name, sizeof s->name, "p%u", ++db->next_name);
    PGresult *res = pg_result_of_send(db, PQsendPrepare(db->conn, s->name, s->base.sql, 0, NULL));
    if (res && pg_result_ok(res)) s->gen = db->gen;
    return res;
}

static PGresult *run_execute(struct pg_db *db, void *ctx)
{
    struct pg_stmt *s = ctx;
    if (s->once)
        return pg_result_of_send(db, PQsendQueryParams(db->conn, s->base.sql, s->nparams, NULL,
                                                       s->values, s->lengths, s->formats, 0));
    if (s->gen != db->gen) {
        PGresult *res = run_prepare(db, s);
        if (!res || !pg_result_ok(res)) return res;
        PQclear(res);
    }
    return pg_result_of_send(db, PQsendQueryPrepared(db->conn, s->name, s->nparams, s->values,
                                                     s->lengths, s->formats, 0));
}

static void free_blobs(struct pg_stmt *s)
{
    for (int i = 0; i < s->nblobs; i++) {
        PQfreemem(s->blobs[i].p);
        s->blobs[i].p = NULL;
    }
}

void pg_stmt_finish(struct db_stmt *st)
{
    struct pg_stmt *s = pg_stmt_of(st);
    free_blobs(s);
    PQclear(s->res);
    s->res = NULL;
    s->executed = false;
    s->row = -1;
    s->nrows = 0;
}

void pg_stmt_free(struct db_stmt *st)
{
    struct pg_stmt *s = pg_stmt_of(st);
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

/* The server's prepared statement goes too; after a reconnect there is
 * none, and in a failed transaction it stays until the connection closes. */
void pg_stmt_discard(struct db_stmt *st)
{
    struct pg_stmt *s = pg_stmt_of(st);
    struct pg_db *db = pg_db_of(st->db);
    if (s->gen != 0 && s->gen == db->gen && db->conn) {
        char sql[sizeof s->name + 16];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
        PQclear(PQexec(db->conn, sql));
    }
    pg_stmt_free(st);
}

static struct db_stmt *stmt_new(struct db *db, const char *sql, bool once)
{
    struct pg_stmt *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->base.db = db;
    s->base.sql = sql;
    s->once = once;
    s->row = -1;
    s->nparams = count_params(sql);
    if (s->nparams) {
        size_t n = (size_t)s->nparams;
        s->bufs = calloc(n, sizeof *s->bufs);
        s->values = calloc(n, sizeof *s->values);
        s->lengths = calloc(n, sizeof *s->lengths);
        s->formats = calloc(n, sizeof *s->formats);
        if (!s->bufs || !s->values || !s->lengths || !s->formats) goto oom;
    }
    /* Prepare now so that a bad statement fails here, not at the first step. */
    if (!once && pg_call(pg_db_of(db), run_prepare, s, NULL) < 0) goto fail;
    return &s->base;
oom:
    db_seterr(db, "out of memory");
fail:
    if (s) pg_stmt_free(&s->base);
    return NULL;
}

struct db_stmt *pg_stmt_new(struct db *db, const char *sql)
{
    return stmt_new(db, sql, false);
}

struct db_stmt *pg_stmt_new_once(struct db *db, const char *sql)
{
    return stmt_new(db, sql, true);
}

void pg_stmt_reset(struct db_stmt *st)
{
    struct pg_stmt *s = pg_stmt_of(st);
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
    struct pg_stmt *s = pg_stmt_of(st);
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

int pg_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
    char num[PG_NUMBER_MAX];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    return set_param(st, idx, num, (size_t)n, 0);
}

int pg_bind_double(struct db_stmt *st, int idx, double v)
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

int pg_bind_text(struct db_stmt *st, int idx, const char *s, size_t len)
{
    return set_param(st, idx, s, len, 0);
}

int pg_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
    return set_param(st, idx, p, len, 1);
}

int pg_bind_null(struct db_stmt *st, int idx)
{
    struct pg_stmt *s = pg_stmt_of(st);
    if (idx < 1 || idx > s->nparams) {
        db_seterr(st->db, "no parameter $%d in statement", idx);
        return -ERANGE;
    }
    s->values[idx - 1] = NULL;
    s->lengths[idx - 1] = 0;
    s->formats[idx - 1] = 0;
    return 0;
}

int pg_step(struct db_stmt *st)
{
    struct pg_stmt *s = pg_stmt_of(st);
    free_blobs(s);
    if (!s->executed) {
        PQclear(s->res);
        s->res = NULL;
        int rc = pg_call(pg_db_of(st->db), run_execute, s, &s->res);
        if (rc < 0) return rc;
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

bool pg_col_is_null(struct db_stmt *st, int col)
{
    struct pg_stmt *s = pg_stmt_of(st);
    return !on_row(s, col) || PQgetisnull(s->res, s->row, col);
}

int64_t pg_col_int64(struct db_stmt *st, int col)
{
    if (pg_col_is_null(st, col)) return 0;
    const char *v = PQgetvalue(pg_stmt_of(st)->res, pg_stmt_of(st)->row, col);
    if (v[0] == 't' || v[0] == 'f') /* boolean */
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

double pg_col_double(struct db_stmt *st, int col)
{
    if (pg_col_is_null(st, col)) return 0;
    return strtod(PQgetvalue(pg_stmt_of(st)->res, pg_stmt_of(st)->row, col), NULL);
}

const char *pg_col_text(struct db_stmt *st, int col)
{
    if (pg_col_is_null(st, col)) return NULL;
    return PQgetvalue(pg_stmt_of(st)->res, pg_stmt_of(st)->row, col);
}

const void *pg_col_blob(struct db_stmt *st, int col, size_t *len)
{
    struct pg_stmt *s = pg_stmt_of(st);
    *len = 0;
    if (pg_col_is_null(st, col)) return NULL;
    const char *v = PQgetvalue(s->res, s->row, col);
    if (PQftype(s->res, col) != PG_BYTEA_OID) {
        *len = (size_t)PQgetlength(s->res, s->row, col);
        return v;
    }
    if (col >= s->nblobs) {
        int n = PQnfields(s->res);
        struct pg_blob *b = realloc(s->blobs, (size_t)n * sizeof *b);
        if (!b) return NULL;
        memset(b + s->nblobs, 0, (size_t)(n - s->nblobs) * sizeof *b);
        s->blobs = b;
        s->nblobs = n;
    }
    struct pg_blob *b = &s->blobs[col];
    if (!b->p) {
        b->p = PQunescapeBytea((const unsigned char *)v, &b->len);
        if (!b->p) return NULL;
    }
    *len = b->len;
    return b->p;
}

int pg_col_count(struct db_stmt *st)
{
    return pg_stmt_of(st)->res ? PQnfields(pg_stmt_of(st)->res) : 0;
}

const char *pg_col_name(struct db_stmt *st, int col)
{
    return pg_stmt_of(st)->res ? PQfname(pg_stmt_of(st)->res, col) : NULL;
}

int64_t pg_changes(struct db_stmt *st)
{
    return pg_stmt_of(st)->res ? strtoll(PQcmdTuples(pg_stmt_of(st)->res), NULL, 10) : 0;
}
