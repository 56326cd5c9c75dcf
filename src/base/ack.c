/* ack — see ack.h. A counter and the worst status, both atomic, so the
 * writer thread and ingest never share a lock; the registry of live acks
 * (for ack_abandon_all) is touched once at creation and once at the end. */
#include "base/ack.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* remaining once abandoned: later ack_event_done calls see it negative */
#define ABANDONED (INT_MIN / 2)

struct ack {
    atomic_int remaining;
    atomic_int worst; /* the lowest (most negative) status seen */
    ack_resume_fn fn;
    void *ctx;
    struct ack *prev, *next; /* the registry; under registry_lock */
    struct ack *abandoned;   /* ack_abandon_all's list */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ack *registry;

struct ack *ack_new(int expected, ack_resume_fn fn, void *ctx)
{
    if (expected < 1 || !fn) return NULL;
    struct ack *a = malloc(sizeof *a);
    if (!a) return NULL;
    atomic_init(&a->remaining, expected);
    atomic_init(&a->worst, 0);
    a->fn = fn;
    a->ctx = ctx;
    pthread_mutex_lock(&registry_lock);
    a->prev = NULL;
    a->next = registry;
    if (registry) registry->prev = a;
    registry = a;
    pthread_mutex_unlock(&registry_lock);
    return a;
}

static void unlink_and_free(struct ack *a)
{
    pthread_mutex_lock(&registry_lock);
    if (a->prev)
        a->prev->next = a->next;
    else
        registry = a->next;
    if (a->next) a->next->prev = a->prev;
    pthread_mutex_unlock(&registry_lock);
    free(a);
}

void ack_event_done(struct ack *a, int status)
{
    if (!a) return;
    if (status < 0) {
        int cur = atomic_load(&a->worst);
        while (status < cur && !atomic_compare_exchange_weak(&a->worst, &cur, status)) {
        }
    }
    /* The thread that takes the count to zero owns the ack from then on;
     * an abandoned ack is never touched again (ack_abandon_all). */
    if (atomic_fetch_sub(&a->remaining, 1) == 1) {
        a->fn(a->ctx, atomic_load(&a->worst));
        unlink_and_free(a);
    }
}

int ack_abandon_all(int status)
{
    struct ack *taken = NULL;
    pthread_mutex_lock(&registry_lock);
    for (struct ack *a = registry; a; a = a->next) {
        /* Only while events are still out: the count then stays negative
         * for good, so nobody else calls fn or frees the ack. */
        int left = atomic_load(&a->remaining);
        while (left > 0 && !atomic_compare_exchange_weak(&a->remaining, &left, ABANDONED)) {
        }
        if (left > 0) {
            a->abandoned = taken;
            taken = a;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    int n = 0;
    for (struct ack *a = taken; a; a = a->abandoned, n++) /* outside the lock: fn resumes HTTP */
        a->fn(a->ctx, status);
    return n;
}
