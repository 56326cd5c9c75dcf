/* migrate — db_migrate: applies migrations/<kind>/NNNN_name.sql in order.
 *
 * Each file runs in its own transaction together with its row in
 * schema_migrations (version = the NNNN prefix). Several nodes may start at
 * once on one Postgres: every transaction first takes one advisory lock, and
 * checks again under it whether the version is already there. On SQLite,
 * BEGIN IMMEDIATE is the lock. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "base/clock.h"
#include "store/store.h"

#define MIGRATIONS_MAX 1000
#define MIGRATION_VERSION_MAX 16
/* Any constant; "periscop" in ASCII. */
#define MIGRATION_LOCK_SQL "SELECT pg_advisory_xact_lock(8098991049315168112)"

static const char SQL_CREATE_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       " version TEXT PRIMARY KEY,"
                                       " applied_at BIGINT NOT NULL)";
static const char SQL_IS_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE version = $1";
static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)";

/* "0012_add_index.sql" → length of "0012", or 0 when the name does not fit. */
static size_t version_len(const char *name)
{
    size_t n = strspn(name, "0123456789");
    size_t len = strlen(name);
    if (n == 0 || n >= MIGRATION_VERSION_MAX || name[n] != '_' || len < n + 5 ||
        strcmp(name + len - 4, ".sql") != 0)
        return 0;
    return n;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The migration file names in dir, sorted; caller frees with free_names. */
static int list_migrations(const char *dir, char ***out, size_t *count, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        snprintf(err, errlen, "migrations dir %s: %s", dir, strerror(e));
        return -e;
    }
    char **names = calloc(MIGRATIONS_MAX, sizeof *names);
    size_t n = 0;
    int rc = 0;
    struct dirent *de;
    while (names && (de = readdir(d))) {
        if (!version_len(de->d_name)) continue;
        if (n == MIGRATIONS_MAX || !(names[n] = strdup(de->d_name))) {
            rc = n == MIGRATIONS_MAX ? -E2BIG : -ENOMEM;
            snprintf(err, errlen, "migrations dir %s: too many files or out of memory", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (!names) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (rc < 0) {
        free_names(names, n);
        return rc;
    }
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 1; i < n; i++) {
        size_t a = version_len(names[i - 1]), b = version_len(names[i]);
        if (a == b && !memcmp(names[i - 1], names[i], a)) {
            snprintf(err, errlen, "migrations %s and %s share a version", names[i - 1], names[i]);
            free_names(names, n);
            return -EINVAL;
        }
    }
    *out = names;
    *count = n;
    return 0;
}

/* Reads a whole file as a NUL-terminated string; caller frees. */
static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f) goto fail;
    if (fseek(f, 0, SEEK_END) < 0) goto fail;
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) < 0) goto fail;
    buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) goto fail;
    buf[size] = '\0';
    fclose(f);
    return buf;
fail:
    snprintf(err, errlen, "read %s: %s", path, strerror(errno ? errno : EIO));
    free(buf);
    if (f) fclose(f);
    return NULL;
}

/* BEGIN, and on Postgres the advisory lock every migrating node takes. */
static int begin_locked(struct db *db)
{
    int rc = db_begin(db);
    if (rc == 0 && db_kind(db) == DB_POSTGRES) rc = db_exec(db, MIGRATION_LOCK_SQL);
    return rc;
}

static int is_applied(struct db *db, const char *version)
{
    struct db_stmt *st = db_prepare(db, SQL_IS_APPLIED);
    if (!st) return -EIO;
    int rc = db_bind_text(st, 1, version, (size_t)-1);
    if (rc == 0) rc = db_step(st);
    db_finish(st);
    return rc < 0 ? rc : rc == DB_ROW;
}

static int record(struct db *db, const char *version)
{
    struct db_stmt *st = db_prepare(db, SQL_RECORD);
    if (!st) return -EIO;
    int rc = db_bind_text(st, 1, version, (size_t)-1);
    if (rc == 0) rc = db_bind_int64(st, 2, clock_wall_ms());
    if (rc == 0) rc = db_step(st);
    return rc < 0 ? rc : 0;
}

/* Applies one file unless it is recorded already: 1 applied, 0 skipped. */
static int apply_one(struct db *db, const char *dir, const char *name, char *err, size_t errlen)
{
    char version[MIGRATION_VERSION_MAX];
    char path[4096];
    char *sql = NULL;
    snprintf(version, sizeof version, "%.*s", (int)version_len(name), name);
    snprintf(path, sizeof path, "%s/%s", dir, name);

    int rc = begin_locked(db);
    if (rc < 0) goto fail;
    rc = is_applied(db, version);
    if (rc < 0) goto fail;
    if (rc == 1) {
        db_rollback(db);
        return 0;
    }
    if (!(sql = read_file(path, err, errlen))) {
        db_rollback(db);
        return -EIO;
    }
    if ((rc = db_exec(db, sql)) < 0 || (rc = record(db, version)) < 0 || (rc = db_commit(db)) < 0)
        goto fail;
    free(sql);
    return 1;
fail:
    snprintf(err, errlen, "migration %s: %s", name, db_errmsg(db));
    db_rollback(db);
    free(sql);
    return rc;
}

/* A migration may rewrite a large table: no statement timeout while they
 * run (the server's is lifted too), the connection's own afterwards. */
static int migrate_all(struct db *db, const char *migrations_dir, char *err, size_t errlen);

int db_migrate(struct db *db, const char *migrations_dir, char *err, size_t errlen)
{
    int timeout = db_timeout_ms(db);
    bool pg = db_kind(db) == DB_POSTGRES;
    db_set_timeout_ms(db, 0);
    int rc = pg ? db_exec(db, "SET statement_timeout = 0") : 0;
    if (rc < 0) snprintf(err, errlen, "statement_timeout: %s", db_errmsg(db));
    if (rc == 0) rc = migrate_all(db, migrations_dir, err, errlen);
    if (pg && rc >= 0 && db_exec(db, "RESET statement_timeout") < 0) {
        snprintf(err, errlen, "statement_timeout: %s", db_errmsg(db));
        rc = -EIO;
    }
    db_set_timeout_ms(db, timeout);
    return rc;
}

static int migrate_all(struct db *db, const char *migrations_dir, char *err, size_t errlen)
{
    char **names = NULL;
    size_t n = 0;
    int rc = list_migrations(migrations_dir, &names, &n, err, errlen);
    if (rc < 0) return rc;
    if ((rc = begin_locked(db)) < 0 || (rc = db_exec(db, SQL_CREATE_TABLE)) < 0 ||
        (rc = db_commit(db)) < 0) {
        snprintf(err, errlen, "schema_migrations: %s", db_errmsg(db));
        db_rollback(db);
        goto out;
    }
    int applied = 0;
    for (size_t i = 0; i < n; i++) {
        rc = apply_one(db, migrations_dir, names[i], err, errlen);
        if (rc < 0) goto out;
        applied += rc;
    }
    rc = applied;
out:
    free_names(names, n);
    return rc;
}
