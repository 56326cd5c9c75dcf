/* writer_support — shared set-up for the writer and pipeline tests: a real
 * store (SQLite in a temp dir, or a fresh database on the throwaway Postgres
 * of tests/pg_cluster.sh), real topics, events built from JSON, acks that
 * record their status, and counting queries. Header-only: each test
 * executable is a single file. */
#ifndef PERISCOPE_TESTS_WRITER_SUPPORT_H
#define PERISCOPE_TESTS_WRITER_SUPPORT_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "config.h"
#include "event.h"
#include "server.h"
#include "store/db.h"
#include "store/projects.h"
#include "store/store.h"
#include "topic.h"
#include "worker.h"

struct wfix {
    struct config cfg;
    struct server srv;
    char dir[256];
    char dbname[64];
    char pg_host[128], pg_user[64], pg_password[128];
    int64_t project_id;
    struct worker_ctx *worker;
};

struct acks {
    atomic_int done, ok, failed;
    atomic_int last_status;
};

static inline void wfix_on_ack(void *ctx, int status)
{
    struct acks *a = ctx;
    if (status == 0)
        a->ok++;
    else
        a->failed++;
    a->last_status = status;
    a->done++;
}

/* Reads KEY=VALUE lines of the pg_cluster env file; false when absent. */
static inline bool wfix_pg_env(struct wfix *f)
{
    const char *path = getenv("PERISCOPE_TEST_PG_ENV");
    FILE *fp = path ? fopen(path, "r") : NULL;
    if (!fp)
        return false;
    char line[512];
    while (fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(line, "POSTGRES_HOST") == 0)
            snprintf(f->pg_host, sizeof(f->pg_host), "%s", v);
        else if (strcmp(line, "POSTGRES_PORT") == 0)
            f->cfg.pg_port = atoi(v);
        else if (strcmp(line, "POSTGRES_USER") == 0)
            snprintf(f->pg_user, sizeof(f->pg_user), "%s", v);
        else if (strcmp(line, "POSTGRES_PASSWORD") == 0)
            snprintf(f->pg_password, sizeof(f->pg_password), "%s", v);
    }
    fclose(fp);
    f->cfg.pg_host = f->pg_host;
    f->cfg.pg_user = f->pg_user;
    f->cfg.pg_password = f->pg_password;
    return f->cfg.pg_port > 0;
}

/* A fresh database of its own on the test cluster (tests run in parallel). */
static inline int wfix_pg_create_db(struct wfix *f)
{
    static atomic_int seq;
    snprintf(f->dbname, sizeof(f->dbname), "pipeline_%d_%d", (int)getpid(), ++seq);
    f->cfg.pg_database = "periscope";
    struct db *admin;
    char err[256], sql[160];
    if (db_open(&f->cfg, &admin, err, sizeof(err)) != 0) {
        fprintf(stderr, "pg: %s\n", err);
        return -EIO;
    }
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->dbname);
    int rc = db_exec(admin, sql);
    db_close(admin);
    f->cfg.pg_database = f->dbname;
    return rc;
}

static inline void wfix_pg_drop_db(struct wfix *f)
{
    f->cfg.pg_database = "periscope";
    struct db *admin;
    char err[256], sql[160];
    if (db_open(&f->cfg, &admin, err, sizeof(err)) != 0)
        return;
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", f->dbname);
    db_exec(admin, sql);
    db_close(admin);
}

/* 0, 1 to skip (no Postgres configured), negative on failure. */
static inline int wfix_open(struct wfix **out, bool postgres, int batch_max, int queue_capacity)
{
    struct wfix *f = calloc(1, sizeof(*f));
    f->cfg.batch_max = batch_max;
    f->cfg.queue_capacity = queue_capacity;
    f->cfg.workers = 2;
    f->cfg.ack_mode = ACK_MODE_COMMIT;
    f->srv.cfg = &f->cfg;
    if (postgres) {
        f->cfg.postgres_enabled = true;
        if (!wfix_pg_env(f)) {
            free(f);
            return 1;
        }
        if (wfix_pg_create_db(f) != 0)
            goto fail;
    } else {
        snprintf(f->dir, sizeof(f->dir), "/tmp/periscope-writer-XXXXXX");
        if (!mkdtemp(f->dir))
            goto fail;
        char path[300];
        snprintf(path, sizeof(path), "%s/test.db", f->dir);
        f->cfg.data_dir = f->dir;
        f->cfg.sqlite_path = strdup(path);
    }
    char err[256];
    if (store_open(&f->cfg, &f->srv.store, err, sizeof(err)) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        goto fail;
    }
    f->srv.events = topic_new("events", (size_t)queue_capacity);
    f->srv.alerts = topic_new("alerts", 1024);
    char key[PUBLIC_KEY_HEX + 1];
    if (projects_create(store_writer(f->srv.store), "writer-test", &f->project_id, key) != 0)
        goto fail;
    if (worker_ctx_new(NULL, &f->worker) != 0)
        goto fail;
    *out = f;
    return 0;
fail:
    free(f);
    return -EIO;
}

static inline void wfix_close(struct wfix *f)
{
    void *m;
    while (topic_take(f->srv.alerts, &m, 1, 0) == 1)
        free(m);
    worker_ctx_free(f->worker);
    topic_free(f->srv.events);
    topic_free(f->srv.alerts);
    store_close(f->srv.store);
    if (f->cfg.postgres_enabled) {
        wfix_pg_drop_db(f);
    } else {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", f->dir);
        free((char *)f->cfg.sqlite_path);
    }
    free(f);
}

/* An event as ingest hands it over: id from n, body from json, an ack of
 * one event reporting into acks (NULL: queue mode). */
static inline struct ingest_event *wfix_event(struct wfix *f, unsigned n, const char *json,
                                       struct acks *acks)
{
    struct ingest_event *ev = event_new();
    ev->project_id = f->project_id;
    memset(ev->event_id, 0, sizeof(ev->event_id));
    ev->event_id[0] = 0x5e;
    for (int i = 0; i < 4; i++)
        ev->event_id[15 - i] = (uint8_t)(n >> (8 * i));
    ev->received_at_ms = store_now_ms();
    ev->json = cJSON_Parse(json);
    ev->ack = acks ? ack_new(1, wfix_on_ack, acks) : NULL;
    return ev;
}

/* The first column of the first row of sql with up to one int64 parameter. */
static inline int64_t wfix_query_int(struct wfix *f, const char *sql, int64_t param)
{
    struct db *db = store_acquire(f->srv.store);
    struct db_stmt *st = db_prepare(db, sql);
    int64_t v = -1;
    if (st) {
        if (strstr(sql, "$1"))
            db_bind_int64(st, 1, param);
        if (db_step(st) == DB_ROW)
            v = db_col_int64(st, 0);
        db_finish(st);
    }
    store_release(f->srv.store, db);
    return v;
}

static inline int wfix_exec(struct wfix *f, const char *sql, int64_t p1, const char *p2)
{
    struct db *db = store_acquire(f->srv.store);
    struct db_stmt *st = db_prepare(db, sql);
    int rc = -EIO;
    if (st) {
        db_bind_int64(st, 1, p1);
        if (p2)
            db_bind_text(st, 2, p2, (size_t)-1);
        rc = db_step(st);
        db_finish(st);
    }
    store_release(f->srv.store, db);
    return rc < 0 ? rc : 0;
}

#endif
