/* seed_db — fills a Periscope database with many events fast, for the
 * "database already holds a million events" case of `make bench`.
 *
 * Usage: bench_seed_db PROJECT_ID COUNT ISSUES EVENT.json [distinct]
 * Database: from the environment, as `periscope serve` reads it (DATA_DIR,
 * SQLITE_PATH, POSTGRES_*); the project must exist. The event JSON goes
 * once through the real worker (normalize, Lua grouping, zstd level 1); every
 * seeded event is a copy of it with a fresh random event_id, spread over
 * ISSUES issues, written through the writer's own batch code
 * (writer_batch_write) in transactions of SEED_BATCH events — the same
 * rows, indexes and payload sizes the server writes, without HTTP and
 * grouping in the way. The counts go through the writer's counter buffer
 * and flush (store/counters.h), so the flush mark ends past every seeded
 * event.
 *
 * With "distinct" (the 1,000,000-issue case) event k is the template with
 * its issue number (bench/gen_events.py's hole, "000042" in EVENT.json)
 * set to k, each through the worker's grouping: the issues are the very
 * ones bench/load.lua's requests for issue numbers 0..COUNT-1 group into.
 * Prints "seeded N events in S s". */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "app/app.h"
#include "base/config.h"
#include "model/event.h"
#include "store/counters.h"
#include "store/events_write.h"
#include "store/store.h"
#include "pipeline/pipeline.h"
#include "pipeline/worker.h"
#include "pipeline/writer_batch.h"

enum { SEED_BATCH = 1000, FLUSH_EVERY_BATCHES = 20 };

/* The template's issue number (gen_events.py fills the hole with it). */
static const char ISSUE_HOLE[] = "000042";

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A copy of tpl (owned fields duplicated) with a new id under issue i. */
static struct ingest_event *clone_event(const struct ingest_event *tpl, long issue)
{
    struct ingest_event *ev = event_new();
    if (ev == NULL) return NULL;
    ev->project_id = tpl->project_id;
    event_id_generate(ev->event_id);
    ev->received_at_ms = tpl->received_at_ms;
    memcpy(ev->hash, tpl->hash, sizeof ev->hash);
    snprintf(ev->hash + 24, 9, "%08lx", issue); /* ISSUES distinct hashes */
    ev->title = dup_or_null(tpl->title);
    ev->culprit = dup_or_null(tpl->culprit);
    ev->level = tpl->level;
    ev->environment = dup_or_null(tpl->environment);
    ev->release = dup_or_null(tpl->release);
    ev->timestamp_ms = tpl->timestamp_ms;
    ev->payload = malloc(tpl->payload_len);
    ev->payload_len = tpl->payload_len;
    if (ev->title == NULL || ev->culprit == NULL || ev->payload == NULL) {
        event_free(ev);
        return NULL;
    }
    memcpy(ev->payload, tpl->payload, tpl->payload_len);
    return ev;
}

static int write_batch(struct db *db, struct writer_batch *b, struct ingest_event **evs, size_t n,
                       struct counter_buffer *counts)
{
    struct writer_batch_result res = {0};
    int rc = events_write_begin(db);
    if (rc == 0) rc = writer_batch_write(b, db, evs, n, clock_wall_ms(), &res);
    if (rc == 0) rc = events_write_commit(db);
    if (rc != 0) {
        fprintf(stderr, "bench_seed_db: batch failed: %s\n", events_write_errmsg(db));
        events_write_rollback(db);
        writer_batch_discard(b);
        return rc;
    }
    for (size_t i = 0; i < res.nalerts; i++)
        free(res.alerts[i]);
    writer_batch_take_alerts(b);
    return writer_batch_count(b, evs, n, counts);
}

/* The event of text (len bytes) through the real worker, or NULL. */
static struct ingest_event *worker_event(struct worker_ctx *w, const char *text, size_t len,
                                         long long project_id)
{
    struct ingest_event *ev = event_new();
    if (ev == NULL || (ev->json = cJSON_ParseWithLength(text, len)) == NULL ||
        worker_process(w, ev) != 0) {
        event_free(ev);
        return NULL;
    }
    ev->project_id = project_id;
    ev->received_at_ms = clock_wall_ms();
    return ev;
}

static char template_text[1 << 20];
static size_t template_len;

static int read_template(const char *path)
{
    FILE *f = fopen(path, "rb");
    template_len = f ? fread(template_text, 1, sizeof template_text - 1, f) : 0;
    if (f) fclose(f);
    return template_len > 0 ? 0 : -EIO;
}

/* The template with every issue hole set to issue k, through the worker. */
static struct ingest_event *distinct_event(struct worker_ctx *w, long k, long long project_id)
{
    static char text[sizeof template_text];
    memcpy(text, template_text, template_len + 1);
    char num[8];
    snprintf(num, sizeof num, "%06ld", k % 1000000);
    for (char *p = strstr(text, ISSUE_HOLE); p; p = strstr(p + 6, ISSUE_HOLE))
        memcpy(p, num, 6);
    struct ingest_event *ev = worker_event(w, text, template_len, project_id);
    if (ev) event_id_generate(ev->event_id); /* the template's own id is one */
    return ev;
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && strcmp(argv[5], "distinct") == 0)) {
        fprintf(stderr, "usage: bench_seed_db PROJECT_ID COUNT ISSUES EVENT.json [distinct]\n");
        return 2;
    }
    long long project = atoll(argv[1]);
    long count = atol(argv[2]), issues = atol(argv[3]);
    bool distinct = argc == 6;
    if (project < 1 || count < 1 || issues < 1) {
        fprintf(stderr, "bench_seed_db: PROJECT_ID, COUNT and ISSUES must be positive\n");
        return 2;
    }
    static struct config cfg;
    static struct ingest_event *evs[SEED_BATCH];
    char err[256] = "";
    struct store *st = NULL;
    struct worker_ctx *w = NULL;
    struct ingest_event *tpl = NULL;
    struct writer_batch *b = writer_batch_new(SEED_BATCH);
    struct counter_buffer *counts = counter_buffer_new();
    /* No script registry: the default rules, in Lua as the server runs
     * them, so that "distinct" events group as the server's do. */
    struct pipeline_deps deps = {.cfg = &cfg};
    int rc =
        b && counts && read_template(argv[4]) == 0 ? config_load(&cfg, err, sizeof err) : -ENOMEM;
    if (rc == 0) rc = worker_ctx_new(&deps, &w);
    if (rc == 0 && (tpl = worker_event(w, template_text, template_len, project)) == NULL)
        rc = -EINVAL;
    if (rc == 0) rc = store_open(&cfg, &st, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "bench_seed_db: setup failed (%d) %s\n", rc, err);
        goto done;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long done_n = 0, batches = 0;
    while (rc == 0 && done_n < count) {
        size_t n = 0;
        while (n < SEED_BATCH && done_n + (long)n < count) {
            long k = done_n + (long)n;
            evs[n] = distinct ? distinct_event(w, k % issues, project)
                              : clone_event(tpl, random() % issues);
            if (evs[n] == NULL) {
                rc = -ENOMEM;
                break;
            }
            n++;
        }
        if (rc == 0) rc = write_batch(store_writer(st), b, evs, n, counts);
        if (rc == 0 && ++batches % FLUSH_EVERY_BATCHES == 0)
            rc = counters_flush(store_writer(st), counts, cfg.node_id);
        for (size_t i = 0; i < n; i++)
            event_free(evs[i]);
        done_n += rc == 0 ? (long)n : 0;
    }
    if (rc == 0) rc = counters_flush(store_writer(st), counts, cfg.node_id);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("seeded %ld events in %.1f s\n", done_n,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
done:
    store_close(st);
    writer_batch_free(b);
    counter_buffer_free(counts);
    worker_ctx_free(w);
    event_free(tpl);
    return rc == 0 ? 0 : 1;
}
