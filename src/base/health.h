/* health — what /readyz answers from, without touching the database: the
 * writer's last successful commit, whether writes are failing now and why,
 * and the on-disk spool's size. The writer thread sets it; any thread reads
 * it (atomics and one short mutex for the reason text). Never blocks on I/O. */
#ifndef PERISCOPE_HEALTH_H
#define PERISCOPE_HEALTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HEALTH_REASON_MAX 256

struct health {
    _Atomic int64_t last_write_ok_ms; /* wall clock ms of the last commit, 0: none yet */
    _Atomic int64_t failing_since_ms; /* 0 while writes succeed */
    _Atomic uint64_t spool_bytes;     /* bytes waiting in the spool */
    _Atomic uint64_t spool_events;    /* events waiting in the spool */
    pthread_mutex_t lock;             /* guards reason */
    char reason[HEALTH_REASON_MAX];   /* the last write error, "" while writes succeed */
};

struct health_view {
    int64_t last_write_ok_ms, failing_since_ms;
    uint64_t spool_bytes, spool_events;
    char reason[HEALTH_REASON_MAX];
};

void health_init(struct health *h);
void health_destroy(struct health *h);
/* A commit succeeded at now_ms: writes are not failing any more. */
void health_write_ok(struct health *h, int64_t now_ms);
/* A write failed at now_ms with reason (copied, cut to fit). */
void health_write_failed(struct health *h, int64_t now_ms, const char *reason);
void health_spool(struct health *h, uint64_t bytes, uint64_t events);
void health_read(struct health *h, struct health_view *out);

#endif
