/* seed — the loop the bench seeders share (bench_seed_db, bench_search_seed):
 * events made by a callback, written through the writer's own batch code
 * (writer_batch_write) in transactions of SEED_BATCH events, their counts
 * through the writer's counter buffer and flush (store/counters.h), on a
 * database opened from the environment as `periscope serve` opens it and
 * put in bulk-load mode (store_bulk_load: the database is a throwaway one,
 * durability is not wanted while it fills). */
#ifndef PERISCOPE_BENCH_SEED_H
#define PERISCOPE_BENCH_SEED_H

#include <stdint.h>

#include "base/config.h"

struct grouped_event;
struct store;
struct writer_batch;
struct counter_buffer;

enum { SEED_BATCH = 4000 };

struct seeder {
    const char *prog; /* for messages */
    struct config cfg;
    struct store *st;
    struct writer_batch *b;
    struct counter_buffer *counts;
    struct grouped_event *evs[SEED_BATCH];
    double make_s, write_s; /* seconds making events, in the database */
};

/* Loads the configuration, opens the store (migrating it) in bulk-load
 * mode. 0 or negative (a message on stderr); seeder_close either way. */
int seeder_open(struct seeder *s, const char *prog);

/* Event k (0 <= k < count) of the seed, or NULL (out of memory). */
typedef struct grouped_event *(*seed_event_fn)(void *ctx, long k);

/* Writes events 0..count-1 and flushes their counts; *first_id (may be
 * NULL) gets the issue id of event 0. 0 or negative (a message on
 * stderr); *written tells how many were committed. */
int seeder_run(struct seeder *s, long count, seed_event_fn fn, void *ctx, int64_t *first_id,
               long *written);

/* "seeded N WHAT in S s (making events M s, database D s)" on stdout. */
void seeder_report(const struct seeder *s, long n, const char *what, double seconds);

void seeder_close(struct seeder *s);

/* Seconds on the monotonic clock. */
double seed_clock(void);

#endif
