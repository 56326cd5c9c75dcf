/* topic — a fixed ring buffer of pointers under one mutex.
 *
 * topic_publish never waits (a full ring is -EAGAIN at once); takers wait
 * on one condition variable, topic_publish_wait callers on another. One mutex hold per publish or
 * per batch taken keeps the cost well under a microsecond at the rates the pipeline runs. */
#include "base/topic.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

struct topic {
    pthread_mutex_t mu;
    pthread_cond_t nonempty; /* signalled on publish and on close */
    pthread_cond_t nonfull;  /* signalled on take (when someone waits) and on close */
    int full_waiters;        /* topic_publish_wait callers waiting on nonfull */
    void **ring;
    size_t *sizes; /* with a byte budget: each queued item's bytes, by ring slot */
    topic_size_fn size;
    size_t max_bytes, bytes;
    size_t capacity;
    size_t head; /* next item to take */
    size_t depth;
    size_t high_water;
    uint64_t published, rejected_full, taken;
    bool closed;
    char name[32];
};

struct topic *topic_new(const char *name, size_t capacity)
{
    if (capacity == 0) return NULL;
    struct topic *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->ring = calloc(capacity, sizeof(void *));
    if (!t->ring) goto fail;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&t->nonempty, &ca);
    if (rc == 0 && (rc = pthread_cond_init(&t->nonfull, &ca)) != 0)
        pthread_cond_destroy(&t->nonempty);
    pthread_condattr_destroy(&ca);
    if (rc != 0) goto fail;
    pthread_mutex_init(&t->mu, NULL);
    t->capacity = capacity;
    snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
    return t;
fail:
    free(t->ring);
    free(t);
    return NULL;
}

void topic_free(struct topic *t)
{
    if (!t) return;
    pthread_cond_destroy(&t->nonempty);
    pthread_cond_destroy(&t->nonfull);
    pthread_mutex_destroy(&t->mu);
    free(t->ring);
    free(t->sizes);
    free(t);
}

int topic_limit_bytes(struct topic *t, size_t max_bytes, topic_size_fn size)
{
    size_t *sizes = calloc(t->capacity, sizeof(*sizes));
    if (!sizes) return -ENOMEM;
    pthread_mutex_lock(&t->mu);
    free(t->sizes);
    t->sizes = sizes;
    t->size = size;
    t->max_bytes = max_bytes;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

/* The bytes of items[0..n) (0 without a byte budget). */
static size_t bytes_of(const struct topic *t, void *const *items, size_t n)
{
    size_t sum = 0;
    for (size_t i = 0; t->sizes && i < n; i++)
        sum += t->size(items[i]);
    return sum;
}

/* Caller holds mu: whether n items of these bytes fit now. */
static bool fits_locked(const struct topic *t, size_t n, size_t bytes)
{
    if (t->capacity - t->depth < n) return false;
    return !t->sizes || t->bytes == 0 || t->bytes + bytes <= t->max_bytes;
}

/* Caller holds mu and has checked there is room for n. */
static void push_locked(struct topic *t, void **items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t tail = (t->head + t->depth) % t->capacity;
        t->ring[tail] = items[i];
        if (t->sizes) {
            t->sizes[tail] = t->size(items[i]);
            t->bytes += t->sizes[tail];
        }
        t->depth++;
    }
    t->published += n;
    if (t->depth > t->high_water) t->high_water = t->depth;
}

int topic_publish_many(struct topic *t, void **items, size_t n)
{
    int rc = 0;
    pthread_mutex_lock(&t->mu);
    if (t->closed) {
        rc = -ESHUTDOWN;
    } else if (!fits_locked(t, n, bytes_of(t, items, n))) {
        t->rejected_full += n;
        rc = -EAGAIN;
    } else {
        push_locked(t, items, n);
    }
    pthread_mutex_unlock(&t->mu);
    /* Wake one taker per publish: a taker takes a whole batch, so waking all
     * would only make the others find the ring empty again. */
    if (rc == 0 && n > 0) pthread_cond_signal(&t->nonempty);
    return rc;
}

int topic_publish(struct topic *t, void *item)
{
    return topic_publish_many(t, &item, 1);
}

int topic_publish_wait(struct topic *t, void **items, size_t n, int timeout_ms)
{
    if (n == 0) return 0;
    struct timespec deadline;
    if (timeout_ms > 0) deadline = clock_deadline_mono(timeout_ms);
    pthread_mutex_lock(&t->mu);
    size_t k = 0;
    for (;;) {
        /* As many as fit, in order (each item's bytes counted once). */
        size_t bytes = 0;
        while (k < n) {
            size_t b = bytes_of(t, items + k, 1);
            if (!fits_locked(t, k + 1, bytes + b)) break;
            bytes += b;
            k++;
        }
        if (t->closed || k > 0 || timeout_ms == 0) break;
        t->full_waiters++;
        int w = timeout_ms < 0 ? pthread_cond_wait(&t->nonfull, &t->mu)
                               : pthread_cond_timedwait(&t->nonfull, &t->mu, &deadline);
        t->full_waiters--;
        if (w == ETIMEDOUT) timeout_ms = 0; /* one last look, then give up */
    }
    int rc;
    if (t->closed) {
        rc = -ESHUTDOWN;
    } else {
        if (k > 0) push_locked(t, items, k);
        rc = (int)k;
    }
    pthread_mutex_unlock(&t->mu);
    if (rc > 0) pthread_cond_signal(&t->nonempty);
    return rc;
}

static void deadline_after(struct timespec *ts, int timeout_ms)
{
    *ts = clock_deadline_mono(timeout_ms); /* the condition variables' clock */
}

int topic_take(struct topic *t, void **out, size_t max, int timeout_ms)
{
    if (max == 0) return 0;
    struct timespec deadline;
    if (timeout_ms > 0) deadline_after(&deadline, timeout_ms);

    pthread_mutex_lock(&t->mu);
    while (t->depth == 0 && !t->closed) {
        if (timeout_ms == 0) break;
        if (timeout_ms < 0) {
            pthread_cond_wait(&t->nonempty, &t->mu);
        } else if (pthread_cond_timedwait(&t->nonempty, &t->mu, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    int n;
    if (t->depth == 0) {
        n = t->closed ? -ESHUTDOWN : 0;
    } else {
        size_t k = t->depth < max ? t->depth : max;
        for (size_t i = 0; i < k; i++) {
            out[i] = t->ring[t->head];
            if (t->sizes) t->bytes -= t->sizes[t->head];
            t->head = (t->head + 1) % t->capacity;
        }
        t->depth -= k;
        t->taken += k;
        n = (int)k;
    }
    bool more = t->depth > 0;
    bool wake_publisher = n > 0 && t->full_waiters > 0;
    pthread_mutex_unlock(&t->mu);
    if (wake_publisher) pthread_cond_broadcast(&t->nonfull);
    /* Items left behind (max was smaller than depth): pass the wake-up on so
     * another idle taker picks them up. */
    if (n > 0 && more) pthread_cond_signal(&t->nonempty);
    return n;
}

void topic_close(struct topic *t)
{
    pthread_mutex_lock(&t->mu);
    t->closed = true;
    pthread_mutex_unlock(&t->mu);
    pthread_cond_broadcast(&t->nonempty);
    pthread_cond_broadcast(&t->nonfull);
}

void topic_stats(struct topic *t, struct topic_stats *out)
{
    pthread_mutex_lock(&t->mu);
    out->depth = t->depth;
    out->capacity = t->capacity;
    out->high_water = t->high_water;
    out->bytes = t->bytes;
    out->published = t->published;
    out->rejected_full = t->rejected_full;
    out->taken = t->taken;
    pthread_mutex_unlock(&t->mu);
}
