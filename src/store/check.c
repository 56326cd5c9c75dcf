/* check — see check.h. */
#include "store/check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"

/* Read through by the Postgres check; the tables of docs/architecture.md §5. */
static const char *const PG_READ_ALL[] = {
    "SELECT count(*) FROM schema_migrations",
    "SELECT count(*) FROM projects",
    "SELECT count(*) FROM project_keys",
    "SELECT count(*) FROM issues",
    "SELECT count(*) FROM events",
    "SELECT count(*) FROM issue_tags",
    "SELECT count(*) FROM alerts",
    "SELECT count(*) FROM destinations",
    "SELECT count(*) FROM deliveries",
    "SELECT count(*) FROM delivery_attempts",
    "SELECT count(*) FROM scripts",
};

/* Runs a pragma whose rows are "ok" when all is well; the first other row
 * (or the error) goes to msg. */
static int pragma_all_ok(struct db *db, const char *sql, const char *what, char *msg, size_t msglen)
{
    struct db_stmt *st = db_prepare(db, sql);
    if (!st) {
        snprintf(msg, msglen, "%s: %s", what, db_errmsg(db));
        return -EIO;
    }
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *row = db_col_text(st, 0);
        if (db_col_count(st) == 1 && row && strcmp(row, "ok") == 0) continue;
        /* foreign_key_check: table, rowid, parent, fkid */
        snprintf(msg, msglen, "%s: %s%s%s", what, row ? row : "?",
                 db_col_count(st) > 2 ? " references missing " : "",
                 db_col_count(st) > 2 && db_col_text(st, 2) ? db_col_text(st, 2) : "");
        db_finish(st);
        return -EIO;
    }
    if (rc < 0) {
        snprintf(msg, msglen, "%s: %s", what, db_errmsg(db));
        return rc;
    }
    return 0;
}

static int pg_read_all(struct db *db, char *msg, size_t msglen)
{
    for (size_t i = 0; i < sizeof PG_READ_ALL / sizeof PG_READ_ALL[0]; i++) {
        struct db_stmt *st = db_prepare(db, PG_READ_ALL[i]);
        int rc = st ? db_step(st) : -EIO;
        if (rc != DB_ROW) {
            snprintf(msg, msglen, "%s: %s", PG_READ_ALL[i], db_errmsg(db));
            return rc < 0 ? rc : -EIO;
        }
        db_finish(st);
    }
    return 0;
}

int store_check(struct db *db, bool full, char *msg, size_t msglen)
{
    if (msglen) msg[0] = '\0';
    if (db_kind(db) == DB_POSTGRES) return full ? pg_read_all(db, msg, msglen) : 0;
    if (!full) return pragma_all_ok(db, "PRAGMA quick_check", "quick_check", msg, msglen);
    int rc = pragma_all_ok(db, "PRAGMA integrity_check", "integrity_check", msg, msglen);
    if (rc == 0)
        rc = pragma_all_ok(db, "PRAGMA foreign_key_check", "foreign_key_check", msg, msglen);
    return rc;
}
