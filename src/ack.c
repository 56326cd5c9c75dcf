/* ack — see ack.h. A counter and the worst status, both atomic, so the
 * writer thread and ingest never share a lock. */
#include "ack.h"

#include <stdatomic.h>
#include <stdlib.h>

struct ack {
    atomic_int remaining;
    atomic_int worst; /* the lowest (most negative) status seen */
    ack_resume_fn fn;
    void *ctx;
};

struct ack *ack_new(int expected, ack_resume_fn fn, void *ctx)
{
    if (expected < 1 || !fn) return NULL;
    struct ack *a = malloc(sizeof *a);
    if (!a) return NULL;
    atomic_init(&a->remaining, expected);
    atomic_init(&a->worst, 0);
    a->fn = fn;
    a->ctx = ctx;
    return a;
}

void ack_event_done(struct ack *a, int status)
{
    if (!a) return;
    if (status < 0) {
        int cur = atomic_load(&a->worst);
        while (status < cur && !atomic_compare_exchange_weak(&a->worst, &cur, status)) {
        }
    }
    /* The thread that takes the count to zero owns the ack from then on. */
    if (atomic_fetch_sub(&a->remaining, 1) == 1) {
        a->fn(a->ctx, atomic_load(&a->worst));
        free(a);
    }
}
