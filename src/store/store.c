/* store — the writer connection, a small pool of connections lent to other
 * threads, and migrations at open. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/config.h"
#include "base/clock.h"
#include "base/log.h"
#include "store/check.h"
#include "store/store.h"

struct store {
    struct db *writer;
    struct db *pool[STORE_POOL_SIZE];
    bool lent[STORE_POOL_SIZE];
    pthread_mutex_t lock;
    pthread_cond_t returned;
};

const char *store_migrations_dir(const struct config *cfg)
{
    static _Thread_local char buf[4096];
    const char *kind = cfg->postgres_enabled ? "postgres" : "sqlite";
    snprintf(buf, sizeof buf, "%s/%s", cfg->migrations_dir ? cfg->migrations_dir : ".", kind);
    return buf;
}

void store_row_skipped(const char *what, long long id)
{
    log_warn("row left out of a list: it cannot be rendered", "table=%s id=%lld", what, id);
}

int store_open(const struct config *cfg, struct store **out, char *err, size_t errlen)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->returned, NULL);
    int rc = db_open(cfg, &st->writer, err, errlen);
    if (rc < 0) goto fail;
    /* A damaged file is refused before anything writes to it. */
    if (db_kind(st->writer) == DB_SQLITE && (rc = store_check(st->writer, false, err, errlen)) < 0)
        goto fail;
    /* Migrate before the pool opens: every pooled connection then sees the
     * final schema. */
    rc = db_migrate(st->writer, store_migrations_dir(cfg), err, errlen);
    if (rc < 0) goto fail;
    for (int i = 0; i < STORE_POOL_SIZE; i++)
        if ((rc = db_open(cfg, &st->pool[i], err, errlen)) < 0) goto fail;
    *out = st;
    return 0;
fail:
    store_close(st);
    return rc;
}

int store_bulk_load(struct store *st)
{
    if (db_kind(st->writer) == DB_POSTGRES)
        return db_exec(st->writer, "SET synchronous_commit = off");
    /* The journal stays WAL (the pool's open connections keep it so). */
    return db_exec(st->writer,
                   "PRAGMA foreign_keys=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-196608;");
}

int store_check_database(const struct config *cfg, char *msg, size_t msglen)
{
    struct db *db;
    int rc = db_open(cfg, &db, msg, msglen);
    if (rc < 0) return rc;
    db_set_timeout_ms(db, 0); /* a full read of a large database takes its time */
    rc = store_check(db, true, msg, msglen);
    db_close(db);
    return rc;
}

void store_close(struct store *st)
{
    if (!st) return;
    for (int i = 0; i < STORE_POOL_SIZE; i++) {
        assert(!st->lent[i]);
        db_close(st->pool[i]);
    }
    db_close(st->writer);
    pthread_cond_destroy(&st->returned);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

struct db *store_writer(struct store *st)
{
    return st->writer;
}

struct db *store_acquire(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    for (;;) {
        for (int i = 0; i < STORE_POOL_SIZE; i++) {
            if (!st->lent[i]) {
                st->lent[i] = true;
                pthread_mutex_unlock(&st->lock);
                return st->pool[i];
            }
        }
        pthread_cond_wait(&st->returned, &st->lock);
    }
}

struct db *store_acquire_timed(struct store *st, int wait_ms)
{
    struct timespec until = clock_deadline_wall(wait_ms);
    pthread_mutex_lock(&st->lock);
    for (;;) {
        for (int i = 0; i < STORE_POOL_SIZE; i++) {
            if (!st->lent[i]) {
                st->lent[i] = true;
                pthread_mutex_unlock(&st->lock);
                return st->pool[i];
            }
        }
        if (pthread_cond_timedwait(&st->returned, &st->lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&st->lock);
            return NULL;
        }
    }
}

void store_release(struct store *st, struct db *db)
{
    /* Outside the lock: ends a transaction the borrower left open and resets
     * its statements, so no lock or read snapshot outlives its task. */
    db_rollback(db);
    pthread_mutex_lock(&st->lock);
    for (int i = 0; i < STORE_POOL_SIZE; i++) {
        if (st->pool[i] == db) {
            assert(st->lent[i]);
            st->lent[i] = false;
            break;
        }
    }
    pthread_cond_signal(&st->returned);
    pthread_mutex_unlock(&st->lock);
}

int store_ping(struct store *st)
{
    struct db *db = store_acquire(st);
    struct db_stmt *q = db_prepare(db, "SELECT 1");
    int rc = q ? db_step(q) : -EIO;
    store_release(st, db);
    return rc == DB_ROW ? 0 : rc < 0 ? rc : -EIO;
}
