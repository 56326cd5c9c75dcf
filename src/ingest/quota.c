/* quota — fixed-window per-project event counter (quota.h). */
#include "ingest/quota.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define QUOTA_BUCKETS 1024

struct quota_entry {
    int64_t project_id;
    int64_t window_start_ms;
    int64_t count;
    struct quota_entry *next;
};

struct quota {
    pthread_mutex_t mu;
    struct quota_entry *buckets[QUOTA_BUCKETS];
};

struct quota *quota_new(void)
{
    struct quota *q = calloc(1, sizeof(*q));
    if (q && pthread_mutex_init(&q->mu, NULL) != 0) {
        free(q);
        return NULL;
    }
    return q;
}

void quota_free(struct quota *q)
{
    if (!q) return;
    for (int i = 0; i < QUOTA_BUCKETS; i++) {
        for (struct quota_entry *e = q->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* The project's entry, created on first use. Called with mu held. */
static struct quota_entry *entry_of(struct quota *q, int64_t project_id)
{
    size_t b = (size_t)((uint64_t)project_id % QUOTA_BUCKETS);
    for (struct quota_entry *e = q->buckets[b]; e; e = e->next)
        if (e->project_id == project_id) return e;
    struct quota_entry *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->project_id = project_id;
    e->next = q->buckets[b];
    q->buckets[b] = e;
    return e;
}

/* The seconds until the window that holds now_ms ends, at least 1. */
static int seconds_left(int64_t window, int64_t now_ms)
{
    int64_t left_ms = window + QUOTA_WINDOW_MS - now_ms;
    int s = (int)((left_ms + 999) / 1000);
    return s < 1 ? 1 : s;
}

int quota_check(struct quota *q, int64_t project_id, int limit_per_minute, int64_t now_ms,
                int *retry_after_s)
{
    if (limit_per_minute <= 0) return 0;
    int64_t window = now_ms - now_ms % QUOTA_WINDOW_MS;
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    size_t b = (size_t)((uint64_t)project_id % QUOTA_BUCKETS);
    for (struct quota_entry *e = q->buckets[b]; e; e = e->next) {
        if (e->project_id == project_id && e->window_start_ms == window &&
            e->count >= limit_per_minute) {
            *retry_after_s = seconds_left(window, now_ms);
            rc = -EDQUOT;
        }
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int quota_charge(struct quota *q, int64_t project_id, int limit_per_minute, int n, int64_t now_ms,
                 int *retry_after_s)
{
    if (limit_per_minute <= 0 || n <= 0) return 0;
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    struct quota_entry *e = entry_of(q, project_id);
    if (!e) {
        rc = -ENOMEM;
        goto out;
    }
    int64_t window = now_ms - now_ms % QUOTA_WINDOW_MS;
    if (e->window_start_ms != window) {
        e->window_start_ms = window;
        e->count = 0;
    }
    if (e->count + n > limit_per_minute) {
        *retry_after_s = seconds_left(window, now_ms);
        rc = -EDQUOT;
        goto out;
    }
    e->count += n;
out:
    pthread_mutex_unlock(&q->mu);
    return rc;
}
