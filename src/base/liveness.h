/* liveness — whether the pipeline workers, the writer and the notifier are
 * making progress.
 *
 * Each such thread owns a struct liveness_beat: it says "busy" whenever it
 * takes up a unit of work (an event, a batch, a notifier round) and "idle"
 * when it waits for more. A watchdog thread (liveness_start) looks every
 * LIVENESS_CHECK_MS: a thread busy for longer than STALL_TIMEOUT seconds
 * since its last beat is stalled — logged once ("stage stalled",
 * stage=worker|writer|notifier), counted in
 * periscope_stage_stalls_total{stage}, shown in periscope_stage_stalled
 * {stage} (1 while stalled) and named by /readyz (503) until it beats
 * again. Waiting for work is never a stall.
 *
 * Beats are two relaxed atomic stores (any hot path may call them); the
 * registry and the watchdog take one mutex. Thread-safe. */
#ifndef PERISCOPE_LIVENESS_H
#define PERISCOPE_LIVENESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define LIVENESS_CHECK_MS 250

struct liveness;

struct liveness_beat {
    const char *stage;          /* static: "worker", "writer", "notifier" */
    _Atomic int64_t last_ms;    /* monotonic ms of the last beat */
    atomic_bool busy;           /* false while waiting for work */
    atomic_bool stalled;        /* the watchdog's verdict */
    struct liveness_beat *next; /* the registry's list */
};

/* Starts the watchdog thread; stall_s is STALL_TIMEOUT. Returns 0 or a
 * negative errno. liveness_stop joins it and frees (beats must be
 * unregistered by then). */
int liveness_start(int stall_s, struct liveness **out);
void liveness_stop(struct liveness *lv);

/* Links a beat (idle) of stage; lv may be NULL (nothing watched). */
void liveness_register(struct liveness *lv, struct liveness_beat *b, const char *stage);
void liveness_unregister(struct liveness *lv, struct liveness_beat *b);

/* The thread has made progress and is busy with the next unit. */
void liveness_busy(struct liveness_beat *b);
/* The thread waits for work. */
void liveness_idle(struct liveness_beat *b);

/* The stage of a stalled thread, or NULL when every one progresses (lv
 * may be NULL). The string is static. */
const char *liveness_stalled_stage(struct liveness *lv);

#endif
