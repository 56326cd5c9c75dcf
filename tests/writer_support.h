/* writer_support — shared set-up for the writer and pipeline tests: a real
 * store on a fresh backend of its own (tests/support.h), real topics, events built from JSON, acks
 * that record their status, and counting queries. Header-only: each test executable is a single
 * file. */
#ifndef PERISCOPE_TESTS_WRITER_SUPPORT_H
#define PERISCOPE_TESTS_WRITER_SUPPORT_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "support.h"

#include "base/ack.h"
#include "base/config.h"
#include "model/event.h"
#include "pipeline/pipeline.h"
#include "store/db.h"
#include "store/projects.h"
#include "store/store.h"
#include "base/topic.h"
#include "pipeline/worker.h"

struct wfix {
    struct test_backend tb;
    struct pipeline_deps srv;
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

/* A migrated store on a fresh backend, real topics, one project. 0 or
 * negative. */
static inline int wfix_open(struct wfix **out, bool postgres, int batch_max, int queue_capacity)
{
    struct wfix *f = calloc(1, sizeof(*f));
    if (!f) return -ENOMEM;
    int rc = postgres ? test_backend_postgres(&f->tb) : test_backend_sqlite(&f->tb);
    if (rc != 0) goto fail;
    f->tb.cfg.batch_max = batch_max;
    f->tb.cfg.queue_capacity = queue_capacity;
    f->tb.cfg.workers = 2;
    f->tb.cfg.ack_mode = ACK_MODE_COMMIT;
    f->srv.cfg = &f->tb.cfg;
    char err[256];
    if ((rc = store_open(&f->tb.cfg, &f->srv.store, err, sizeof(err))) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        goto fail;
    }
    f->srv.events = topic_new("events", (size_t)queue_capacity);
    f->srv.alerts = topic_new("alerts", 1024);
    char key[PUBLIC_KEY_HEX + 1];
    if ((rc = projects_create(store_writer(f->srv.store), "writer-test", &f->project_id, key)) != 0)
        goto fail;
    if ((rc = worker_ctx_new(&f->srv, &f->worker)) != 0) goto fail;
    *out = f;
    return 0;
fail:
    store_close(f->srv.store);
    topic_free(f->srv.events);
    topic_free(f->srv.alerts);
    test_backend_cleanup(&f->tb);
    free(f);
    return rc < 0 ? rc : -EIO;
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
    test_backend_cleanup(&f->tb);
    free(f);
}

/* An event as ingest hands it over: id from n, body from json, an ack of
 * one event reporting into acks (NULL: queue mode). */
static inline struct raw_event *wfix_event(struct wfix *f, unsigned n, const char *json,
                                           struct acks *acks)
{
    struct raw_event *ev = raw_event_new();
    ev->project_id = f->project_id;
    memset(ev->event_id, 0, sizeof(ev->event_id));
    ev->event_id[0] = 0x5e;
    for (int i = 0; i < 4; i++)
        ev->event_id[15 - i] = (uint8_t)(n >> (8 * i));
    ev->received_at_ms = clock_wall_ms();
    ev->json = cJSON_Parse(json);
    ev->ack = acks ? ack_new(1, wfix_on_ack, acks) : NULL;
    return ev;
}

/* The worker stage with w: raw (freed) → its grouped event, NULL when the
 * worker refused it (raw's ack is then not answered). */
static inline struct grouped_event *wfix_group(struct worker_ctx *w, struct raw_event *raw)
{
    struct grouped_event *ev = NULL;
    if (worker_process(w, raw, &ev) != 0) ev = NULL;
    raw_event_free(raw);
    return ev;
}

/* The first column of the first row of sql with up to one int64 parameter. */
static inline int64_t wfix_query_int(struct wfix *f, const char *sql, int64_t param)
{
    struct db *db = store_acquire(f->srv.store);
    struct db_stmt *st = db_prepare(db, sql);
    int64_t v = -1;
    if (st) {
        if (strstr(sql, "$1")) db_bind_int64(st, 1, param);
        if (db_step(st) == DB_ROW) v = db_col_int64(st, 0);
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
        if (p2) db_bind_text(st, 2, p2, (size_t)-1);
        rc = db_step(st);
        db_finish(st);
    }
    store_release(f->srv.store, db);
    return rc < 0 ? rc : 0;
}

#endif
