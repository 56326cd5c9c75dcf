/* db_sqlite — the SQLite backend of db.h.
 *
 * Connections are opened SQLITE_OPEN_NOMUTEX: db.h already requires that one
 * thread at a time uses a connection. Bound text and blobs are copied into
 * per-parameter buffers owned by the statement and bound SQLITE_STATIC, so a
 * warm statement binds without allocating. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "store/db_internal.h"

#define SQLITE_BUSY_TIMEOUT_MS 5000

/* WAL lets readers run beside the writer; NORMAL is durable across process
 * crashes in WAL mode; a large page cache keeps the event-id index hot
 * (PERFORMANCE.md). No mmap: a 256 MB map put every database page the
 * writer touched into the server's RSS (303 MB peak in the 100,000-issue
 * bench case, against 107 MB without it) and bought no measurable speed,
 * since the page cache already holds the hot pages. */
/* auto_vacuum takes effect only on a new, empty file (before the first
 * table); it lets retention hand freed pages back (events_retention_compact). */
static const char SQLITE_PRAGMAS[] = "PRAGMA auto_vacuum=INCREMENTAL;"
                                     "PRAGMA journal_mode=WAL;"
                                     "PRAGMA synchronous=NORMAL;"
                                     "PRAGMA foreign_keys=ON;"
                                     "PRAGMA cache_size=-65536;"
                                     "PRAGMA mmap_size=0;"
                                     "PRAGMA temp_store=MEMORY;";

struct sqlite_db {
    struct db base;
    sqlite3 *h;
};

struct sqlite_stmt {
    struct db_stmt base;
    sqlite3_stmt *h;
    int nparams;         /* highest $n in the statement */
    int *map;            /* $n → SQLite's parameter index, 0 when absent */
    struct db_buf *bufs; /* per $n copies of bound text/blobs */
    int64_t changes;
};

static const struct db_ops sqlite_ops;

static sqlite3 *handle(struct db *db)
{
    return ((struct sqlite_db *)db)->h;
}

static struct sqlite_stmt *sst(struct db_stmt *st)
{
    return (struct sqlite_stmt *)st;
}

/* Maps an SQLite result code to a negative errno and records the message. */
static int sqlite_error(struct db *db, int rc)
{
    db_seterr(db, "%s", sqlite3_errmsg(handle(db)));
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return -EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return -ENOENT;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_RANGE:
        return -ERANGE;
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
        return -EINVAL;
    default:
        return -EIO;
    }
}

/* Creates the database file 0600 when it does not exist yet, whatever the
 * umask: it holds webhook tokens and SMTP passwords, and SQLite gives its
 * -wal and -shm files the database file's mode. An existing file keeps
 * its mode (file_modes.h warns at start-up when others may read it). */
static int create_private(const char *path)
{
    if (path[0] == ':' || strncmp(path, "file:", 5) == 0) return 0; /* in memory, or a URI */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return errno == EEXIST ? 0 : -errno;
    int rc = fchmod(fd, 0600) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

/* An existing database file must not be empty: SQLite would silently turn
 * it into a new database (a new `default` project and key: every SDK then
 * gets 401). A file that does not exist yet is fine (created later); one
 * that is not a database fails SQLite's own open ("file is not a
 * database"), a damaged one quick_check (check.h). Never opens the file
 * itself: closing any descriptor of a file drops every POSIX lock this
 * process holds on it, SQLite's included. 0 or negative with the reason. */
static int refuse_unusable_file(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (path[0] == ':' || strncmp(path, "file:", 5) == 0) return 0;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "%s cannot be read (%s): refusing to start", path, strerror(errno));
        return -EIO;
    }
    if (!S_ISREG(sb.st_mode) || access(path, R_OK | W_OK) != 0) {
        snprintf(err, errlen, "%s cannot be read and written (%s): refusing to start", path,
                 S_ISREG(sb.st_mode) ? strerror(errno) : "not a regular file");
        return -EIO;
    }
    if (sb.st_size == 0) {
        snprintf(err, errlen,
                 "%s is empty (0 bytes): refusing to start; restore it from a backup, "
                 "or remove it to start a new database",
                 path);
        return -EIO;
    }
    return 0;
}

int db_sqlite_open(const struct config *cfg, struct db **out, char *err, size_t errlen)
{
    char path[PATH_MAX];
    const char *p = cfg->sqlite_path;
    if (!p || !*p) {
        int n = snprintf(path, sizeof path, "%s/periscope.db", cfg->data_dir ? cfg->data_dir : ".");
        if (n < 0 || (size_t)n >= sizeof path) {
            snprintf(err, errlen, "SQLITE_PATH: path too long");
            return -ENAMETOOLONG;
        }
        p = path;
    }
    if (refuse_unusable_file(p, err, errlen) < 0) return -EIO;
    int created = create_private(p);
    if (created < 0) {
        snprintf(err, errlen, "sqlite open %s: %s", p, strerror(-created));
        return -EIO;
    }
    struct sqlite_db *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    db->base.kind = DB_SQLITE;
    db->base.ops = &sqlite_ops;
    int rc = sqlite3_open_v2(
        p, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite open %s: %s", p,
                 db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, SQLITE_BUSY_TIMEOUT_MS);
    char *msg = NULL;
    rc = sqlite3_exec(db->h, SQLITE_PRAGMAS, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite pragmas on %s: %s", p, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        goto fail;
    }
    /* SYNC=full: WAL fsynced at every commit, so an acknowledged event
     * survives a power loss too (NORMAL: a crash of the process only). */
    if (cfg->sync_full &&
        sqlite3_exec(db->h, "PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite synchronous=FULL on %s: %s", p, sqlite3_errmsg(db->h));
        goto fail;
    }
    *out = &db->base;
    return 0;
fail:
    sqlite3_close_v2(db->h);
    free(db);
    return -EIO;
}

static void sqlite_close(struct db *db)
{
    sqlite3_close_v2(handle(db));
    free(db);
}

static int sqlite_exec(struct db *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(handle(db), sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : sqlite_error(db, rc);
}

static int sqlite_begin(struct db *db)
{
    return sqlite_exec(db, "BEGIN IMMEDIATE");
}

static int sqlite_commit(struct db *db)
{
    return sqlite_exec(db, "COMMIT");
}

static int sqlite_rollback(struct db *db)
{
    /* Some errors (BUSY, FULL, IOERR) have rolled back already. */
    if (sqlite3_get_autocommit(handle(db))) return 0;
    return sqlite_exec(db, "ROLLBACK");
}

/* $n parameters bind by their number; any other parameter by position. */
static int build_param_map(struct sqlite_stmt *s)
{
    int count = sqlite3_bind_parameter_count(s->h);
    int maxn = 0;
    for (int i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(s->h, i);
        int n = (name && name[0] == '$') ? atoi(name + 1) : i;
        if (n <= 0) return -EINVAL;
        if (n > maxn) maxn = n;
    }
    s->nparams = maxn;
    if (!maxn) return 0;
    s->map = calloc((size_t)maxn + 1, sizeof *s->map);
    s->bufs = calloc((size_t)maxn + 1, sizeof *s->bufs);
    if (!s->map || !s->bufs) return -ENOMEM;
    for (int i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(s->h, i);
        s->map[(name && name[0] == '$') ? atoi(name + 1) : i] = i;
    }
    return 0;
}

static void sqlite_stmt_free(struct db_stmt *st)
{
    struct sqlite_stmt *s = sst(st);
    sqlite3_finalize(s->h);
    if (s->bufs)
        for (int i = 0; i <= s->nparams; i++)
            free(s->bufs[i].p);
    free(s->bufs);
    free(s->map);
    free(s);
}

static struct db_stmt *sqlite_stmt_new(struct db *db, const char *sql)
{
    struct sqlite_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        db_seterr(db, "out of memory");
        return NULL;
    }
    s->base.db = db;
    s->base.sql = sql;
    int rc = sqlite3_prepare_v3(handle(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->h, NULL);
    if (rc != SQLITE_OK) {
        sqlite_error(db, rc);
        goto fail;
    }
    if (!s->h) {
        db_seterr(db, "empty statement");
        goto fail;
    }
    if (build_param_map(s) < 0) {
        db_seterr(db, "bad parameters in statement (use $1..$n)");
        goto fail;
    }
    return &s->base;
fail:
    sqlite_stmt_free(&s->base);
    return NULL;
}

static void sqlite_stmt_reset(struct db_stmt *st)
{
    sqlite3_reset(sst(st)->h);
    sqlite3_clear_bindings(sst(st)->h);
    sst(st)->changes = 0;
}

static void sqlite_stmt_finish(struct db_stmt *st)
{
    if (sqlite3_stmt_busy(sst(st)->h)) sqlite3_reset(sst(st)->h);
}

/* SQLite's index of $idx, or 0 after recording an error. */
static int param_index(struct db_stmt *st, int idx)
{
    struct sqlite_stmt *s = sst(st);
    if (idx < 1 || idx > s->nparams || !s->map[idx]) {
        db_seterr(st->db, "no parameter $%d in statement", idx);
        return 0;
    }
    return s->map[idx];
}

static int bind_result(struct db_stmt *st, int rc)
{
    return rc == SQLITE_OK ? 0 : sqlite_error(st->db, rc);
}

static int sqlite_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
    int i = param_index(st, idx);
    return i ? bind_result(st, sqlite3_bind_int64(sst(st)->h, i, v)) : -ERANGE;
}

static int sqlite_bind_double(struct db_stmt *st, int idx, double v)
{
    int i = param_index(st, idx);
    return i ? bind_result(st, sqlite3_bind_double(sst(st)->h, i, v)) : -ERANGE;
}

static int sqlite_bind_null(struct db_stmt *st, int idx)
{
    int i = param_index(st, idx);
    return i ? bind_result(st, sqlite3_bind_null(sst(st)->h, i)) : -ERANGE;
}

static int copy_param(struct db_stmt *st, int idx, const void *p, size_t len, int *index_out)
{
    int i = param_index(st, idx);
    if (!i) return -ERANGE;
    if (len > INT_MAX) {
        db_seterr(st->db, "parameter $%d too large", idx);
        return -E2BIG;
    }
    if (db_buf_set(&sst(st)->bufs[idx], p, len) < 0) {
        db_seterr(st->db, "out of memory");
        return -ENOMEM;
    }
    *index_out = i;
    return 0;
}

static int sqlite_bind_text(struct db_stmt *st, int idx, const char *s, size_t len)
{
    int i, rc = copy_param(st, idx, s, len, &i);
    if (rc < 0) return rc;
    return bind_result(
        st, sqlite3_bind_text(sst(st)->h, i, sst(st)->bufs[idx].p, (int)len, SQLITE_STATIC));
}

static int sqlite_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
    int i, rc = copy_param(st, idx, p, len, &i);
    if (rc < 0) return rc;
    return bind_result(
        st, sqlite3_bind_blob(sst(st)->h, i, sst(st)->bufs[idx].p, (int)len, SQLITE_STATIC));
}

static int sqlite_step(struct db_stmt *st)
{
    struct sqlite_stmt *s = sst(st);
    int rc = sqlite3_step(s->h);
    if (rc == SQLITE_ROW) return DB_ROW;
    if (rc == SQLITE_DONE) {
        s->changes = sqlite3_changes64(handle(st->db));
        return DB_DONE;
    }
    rc = sqlite_error(st->db, rc);
    sqlite3_reset(s->h);
    return rc;
}

static bool sqlite_col_is_null(struct db_stmt *st, int col)
{
    return sqlite3_column_type(sst(st)->h, col) == SQLITE_NULL;
}

static int64_t sqlite_col_int64(struct db_stmt *st, int col)
{
    return sqlite3_column_int64(sst(st)->h, col);
}

static double sqlite_col_double(struct db_stmt *st, int col)
{
    return sqlite3_column_double(sst(st)->h, col);
}

static const char *sqlite_col_text(struct db_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(sst(st)->h, col);
}

static const void *sqlite_col_blob(struct db_stmt *st, int col, size_t *len)
{
    sqlite3_stmt *h = sst(st)->h;
    if (sqlite3_column_type(h, col) == SQLITE_NULL) {
        *len = 0;
        return NULL;
    }
    const void *p = sqlite3_column_blob(h, col);
    *len = (size_t)sqlite3_column_bytes(h, col);
    return p ? p : ""; /* an empty blob is not NULL */
}

static int sqlite_col_count(struct db_stmt *st)
{
    return sqlite3_column_count(sst(st)->h);
}

static const char *sqlite_col_name(struct db_stmt *st, int col)
{
    return sqlite3_column_name(sst(st)->h, col);
}

static int64_t sqlite_changes(struct db_stmt *st)
{
    return sst(st)->changes;
}

static void sqlite_set_timeout(struct db *db, int ms)
{
    sqlite3_busy_timeout(handle(db), ms > 0 ? ms : SQLITE_BUSY_TIMEOUT_MS);
}

static const struct db_ops sqlite_ops = {
    .set_timeout = sqlite_set_timeout,
    .close = sqlite_close,
    .exec = sqlite_exec,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .stmt_new = sqlite_stmt_new,
    .stmt_free = sqlite_stmt_free,
    .stmt_reset = sqlite_stmt_reset,
    .stmt_finish = sqlite_stmt_finish,
    .bind_int64 = sqlite_bind_int64,
    .bind_double = sqlite_bind_double,
    .bind_text = sqlite_bind_text,
    .bind_blob = sqlite_bind_blob,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .col_is_null = sqlite_col_is_null,
    .col_int64 = sqlite_col_int64,
    .col_double = sqlite_col_double,
    .col_text = sqlite_col_text,
    .col_blob = sqlite_col_blob,
    .col_count = sqlite_col_count,
    .col_name = sqlite_col_name,
    .changes = sqlite_changes,
};
