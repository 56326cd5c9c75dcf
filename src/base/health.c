/* health — see health.h. */
#include "base/health.h"

#include <stdio.h>
#include <string.h>

void health_init(struct health *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
}

void health_destroy(struct health *h)
{
    pthread_mutex_destroy(&h->lock);
}

void health_write_ok(struct health *h, int64_t now_ms)
{
    atomic_store(&h->last_write_ok_ms, now_ms);
    if (atomic_load(&h->failing_since_ms) == 0) return;
    pthread_mutex_lock(&h->lock);
    h->reason[0] = '\0';
    atomic_store(&h->failing_since_ms, 0);
    pthread_mutex_unlock(&h->lock);
}

void health_write_failed(struct health *h, int64_t now_ms, const char *reason)
{
    pthread_mutex_lock(&h->lock);
    snprintf(h->reason, sizeof h->reason, "%s", reason && *reason ? reason : "write failed");
    int64_t zero = 0;
    atomic_compare_exchange_strong(&h->failing_since_ms, &zero, now_ms);
    pthread_mutex_unlock(&h->lock);
}

void health_spool(struct health *h, uint64_t bytes, uint64_t events)
{
    atomic_store(&h->spool_bytes, bytes);
    atomic_store(&h->spool_events, events);
}

void health_read(struct health *h, struct health_view *out)
{
    pthread_mutex_lock(&h->lock);
    out->failing_since_ms = atomic_load(&h->failing_since_ms);
    snprintf(out->reason, sizeof out->reason, "%s", h->reason);
    pthread_mutex_unlock(&h->lock);
    out->last_write_ok_ms = atomic_load(&h->last_write_ok_ms);
    out->spool_bytes = atomic_load(&h->spool_bytes);
    out->spool_events = atomic_load(&h->spool_events);
}
