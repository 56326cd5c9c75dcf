/* topic — a fixed ring buffer of pointers under one mutex.
 *
 * Publish never waits (a full ring is -EAGAIN at once); takers wait on one
 * condition variable. One mutex hold per publish or per batch taken keeps
 * the cost well under a microsecond at the rates the pipeline runs. */
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
    void **ring;
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
    pthread_mutex_destroy(&t->mu);
    free(t->ring);
    free(t);
}

/* Caller holds mu and has checked there is room for n. */
static void push_locked(struct topic *t, void **items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t tail = (t->head + t->depth) % t->capacity;
        t->ring[tail] = items[i];
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
    } else if (t->capacity - t->depth < n) {
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
            t->head = (t->head + 1) % t->capacity;
        }
        t->depth -= k;
        t->taken += k;
        n = (int)k;
    }
    bool more = t->depth > 0;
    pthread_mutex_unlock(&t->mu);
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
}

void topic_stats(struct topic *t, struct topic_stats *out)
{
    pthread_mutex_lock(&t->mu);
    out->depth = t->depth;
    out->capacity = t->capacity;
    out->high_water = t->high_water;
    out->published = t->published;
    out->rejected_full = t->rejected_full;
    out->taken = t->taken;
    pthread_mutex_unlock(&t->mu);
}
