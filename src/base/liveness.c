/* liveness — stage heartbeats and the stall watchdog (liveness.h). */
#include "base/liveness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"

static const char *const STAGES[] = {"worker", "writer", "notifier"};
#define NSTAGES (sizeof STAGES / sizeof STAGES[0])

struct liveness {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    bool stop; /* under mu */
    int64_t stall_ms;
    struct liveness_beat *beats; /* under mu */
};

void liveness_busy(struct liveness_beat *b)
{
    atomic_store_explicit(&b->last_ms, clock_mono_ms(), memory_order_relaxed);
    atomic_store_explicit(&b->busy, true, memory_order_relaxed);
}

void liveness_idle(struct liveness_beat *b)
{
    atomic_store_explicit(&b->busy, false, memory_order_relaxed);
    atomic_store_explicit(&b->last_ms, clock_mono_ms(), memory_order_relaxed);
}

static void set_gauge(const char *stage, bool stalled)
{
    char labels[48];
    snprintf(labels, sizeof labels, "stage=\"%s\"", stage);
    metrics_set("periscope_stage_stalled", labels, stalled ? 1 : 0);
}

/* Under mu: the verdict for every beat; logs and counts new stalls. */
static void check(struct liveness *lv)
{
    int64_t now = clock_mono_ms();
    bool stage_stalled[NSTAGES] = {false};
    for (struct liveness_beat *b = lv->beats; b; b = b->next) {
        int64_t quiet = now - atomic_load_explicit(&b->last_ms, memory_order_relaxed);
        bool stalled = atomic_load_explicit(&b->busy, memory_order_relaxed) && quiet > lv->stall_ms;
        bool was = atomic_exchange(&b->stalled, stalled);
        if (stalled && !was) {
            char labels[48];
            snprintf(labels, sizeof labels, "stage=\"%s\"", b->stage);
            metrics_add("periscope_stage_stalls_total", labels, 1);
            log_error("stage stalled", "stage=%s busy_ms=%lld stall_timeout_s=%lld", b->stage,
                      (long long)quiet, (long long)(lv->stall_ms / 1000));
        } else if (!stalled && was) {
            log_info("stage progressing again", "stage=%s", b->stage);
        }
        for (size_t i = 0; i < NSTAGES; i++)
            if (stalled && b->stage == STAGES[i]) stage_stalled[i] = true;
    }
    for (size_t i = 0; i < NSTAGES; i++)
        set_gauge(STAGES[i], stage_stalled[i]);
}

static void *watchdog_main(void *arg)
{
    struct liveness *lv = arg;
    pthread_setname_np(pthread_self(), "liveness");
    pthread_mutex_lock(&lv->mu);
    while (!lv->stop) {
        check(lv);
        struct timespec until = clock_deadline_wall(LIVENESS_CHECK_MS);
        pthread_cond_timedwait(&lv->wake, &lv->mu, &until);
    }
    pthread_mutex_unlock(&lv->mu);
    return NULL;
}

int liveness_start(int stall_s, struct liveness **out)
{
    struct liveness *lv = calloc(1, sizeof *lv);
    if (!lv) return -ENOMEM;
    lv->stall_ms = (int64_t)(stall_s > 0 ? stall_s : 1) * 1000;
    pthread_mutex_init(&lv->mu, NULL);
    pthread_cond_init(&lv->wake, NULL);
    for (size_t i = 0; i < NSTAGES; i++)
        set_gauge(STAGES[i], false);
    if (pthread_create(&lv->thread, NULL, watchdog_main, lv) != 0) {
        pthread_cond_destroy(&lv->wake);
        pthread_mutex_destroy(&lv->mu);
        free(lv);
        return -EAGAIN;
    }
    *out = lv;
    return 0;
}

void liveness_stop(struct liveness *lv)
{
    if (!lv) return;
    pthread_mutex_lock(&lv->mu);
    lv->stop = true;
    pthread_cond_signal(&lv->wake);
    pthread_mutex_unlock(&lv->mu);
    pthread_join(lv->thread, NULL);
    pthread_cond_destroy(&lv->wake);
    pthread_mutex_destroy(&lv->mu);
    free(lv);
}

void liveness_register(struct liveness *lv, struct liveness_beat *b, const char *stage)
{
    for (size_t i = 0; i < NSTAGES; i++)
        if (strcmp(stage, STAGES[i]) == 0) stage = STAGES[i]; /* compared by pointer */
    b->stage = stage;
    atomic_init(&b->last_ms, clock_mono_ms());
    atomic_init(&b->busy, false);
    atomic_init(&b->stalled, false);
    b->next = NULL;
    if (!lv) return;
    pthread_mutex_lock(&lv->mu);
    b->next = lv->beats;
    lv->beats = b;
    pthread_mutex_unlock(&lv->mu);
}

void liveness_unregister(struct liveness *lv, struct liveness_beat *b)
{
    if (!lv) return;
    pthread_mutex_lock(&lv->mu);
    for (struct liveness_beat **p = &lv->beats; *p; p = &(*p)->next)
        if (*p == b) {
            *p = b->next;
            break;
        }
    pthread_mutex_unlock(&lv->mu);
}

const char *liveness_stalled_stage(struct liveness *lv)
{
    if (!lv) return NULL;
    const char *stage = NULL;
    pthread_mutex_lock(&lv->mu);
    for (struct liveness_beat *b = lv->beats; b && !stage; b = b->next)
        if (atomic_load(&b->stalled)) stage = b->stage;
    pthread_mutex_unlock(&lv->mu);
    return stage;
}
