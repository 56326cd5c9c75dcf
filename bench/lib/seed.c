/* seed — see seed.h. */
#include "seed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "model/event.h"
#include "pipeline/writer_batch.h"
#include "store/counters.h"
#include "store/events_write.h"
#include "store/store.h"

/* Counts are flushed every this many events (one batch): the buffer stays
 * small, and a flush of 20,000 rows outlasted DB_TIMEOUT_MS on a loaded
 * Postgres (each updated issue row is a new version in every index). */
enum { SEED_FLUSH_EVENTS = 4000 };

double seed_clock(void)
{
    return (double)clock_mono_ns() / 1e9;
}

int seeder_open(struct seeder *s, const char *prog)
{
    char err[256] = "";
    s->prog = prog;
    s->b = writer_batch_new(SEED_BATCH);
    s->counts = counter_buffer_new();
    int rc = s->b && s->counts ? config_load(&s->cfg, err, sizeof err) : -ENOMEM;
    if (rc == 0) rc = store_open(&s->cfg, &s->st, err, sizeof err);
    if (rc == 0 && (rc = store_bulk_load(s->st)) != 0)
        snprintf(err, sizeof err, "bulk-load mode: %s", events_write_errmsg(store_writer(s->st)));
    if (rc != 0) fprintf(stderr, "%s: setup failed (%d) %s\n", prog, rc, err);
    return rc;
}

static int write_batch(struct seeder *s, size_t n)
{
    struct db *db = store_writer(s->st);
    struct writer_batch_result res = {0};
    int rc = events_write_begin(db);
    if (rc == 0) rc = writer_batch_write(s->b, db, s->evs, n, clock_wall_ms(), &res);
    if (rc == 0) rc = events_write_commit(db);
    if (rc != 0) {
        fprintf(stderr, "%s: batch failed: %s\n", s->prog, events_write_errmsg(db));
        events_write_rollback(db);
        writer_batch_discard(s->b);
        return rc;
    }
    for (size_t i = 0; i < res.nalerts; i++)
        free(res.alerts[i]);
    writer_batch_take_alerts(s->b);
    return writer_batch_count(s->b, s->evs, n, s->counts);
}

static int flush_counts(struct seeder *s)
{
    int rc = counters_flush(store_writer(s->st), s->counts, s->cfg.node_id);
    if (rc != 0)
        fprintf(stderr, "%s: counter flush failed: %s\n", s->prog,
                events_write_errmsg(store_writer(s->st)));
    return rc;
}

int seeder_run(struct seeder *s, long count, seed_event_fn fn, void *ctx, int64_t *first_id,
               long *written)
{
    long done = 0, since_flush = 0;
    int rc = 0;
    while (rc == 0 && done < count) {
        size_t n = 0;
        double t0 = seed_clock();
        for (; n < SEED_BATCH && done + (long)n < count; n++)
            if ((s->evs[n] = fn(ctx, done + (long)n)) == NULL) {
                rc = -ENOMEM;
                break;
            }
        double t1 = seed_clock();
        if (rc == 0) rc = write_batch(s, n);
        if (rc == 0 && done == 0 && first_id) writer_batch_event_outcome(s->b, 0, first_id);
        since_flush += (long)n;
        if (rc == 0 && since_flush >= SEED_FLUSH_EVENTS) {
            rc = flush_counts(s);
            since_flush = 0;
        }
        s->make_s += t1 - t0;
        s->write_s += seed_clock() - t1;
        for (size_t i = 0; i < n; i++)
            grouped_event_free(s->evs[i]);
        done += rc == 0 ? (long)n : 0;
    }
    if (rc == 0 && since_flush > 0) rc = flush_counts(s);
    *written = done;
    return rc;
}

void seeder_report(const struct seeder *s, long n, const char *what, double seconds)
{
    printf("seeded %ld %s in %.1f s (making events %.1f s, database %.1f s)\n", n, what, seconds,
           s->make_s, s->write_s);
    fflush(stdout);
}

void seeder_close(struct seeder *s)
{
    store_close(s->st);
    writer_batch_free(s->b);
    counter_buffer_free(s->counts);
    s->st = NULL;
    s->b = NULL;
    s->counts = NULL;
}
