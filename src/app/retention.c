/* retention — see retention.h. */
#include "app/retention.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "base/metrics.h"
#include "store/events_retention.h"
#include "store/sessions.h"
#include "store/store.h"

#define CAPPED_ISSUES_PAGE 100

struct retention {
    struct store *store;
    struct retention_options opt;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stop;
};

void retention_options_load(const struct config *cfg, struct retention_options *o)
{
    o->retention_days = cfg->retention_days;
    o->max_events_per_issue = cfg->max_events_per_issue;
    o->interval_ms = cfg->retention_interval_ms;
    o->batch = RETENTION_BATCH;
    o->pause_ms = RETENTION_PAUSE_MS;
    o->session_idle_ms = cfg->session_idle_s * 1000;
    o->session_max_ms = cfg->session_max_age_s * 1000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static bool stopped(const atomic_int *stop)
{
    return stop && atomic_load(stop);
}

/* Each store call borrows a pooled connection for one short transaction
 * and gives it back before any pause. */
static int old_batch(struct store *st, int64_t cutoff, int batch)
{
    struct db *db = store_acquire(st);
    int n = events_retention_delete_old(db, cutoff, batch);
    store_release(st, db);
    return n;
}

static int trim_batch(struct store *st, int64_t issue_id, int64_t max, int batch)
{
    struct db *db = store_acquire(st);
    int n = events_retention_trim_issue(db, issue_id, max, batch);
    store_release(st, db);
    return n;
}

static int capped_page(struct store *st, int64_t max, int64_t after, int64_t *ids, int n)
{
    struct db *db = store_acquire(st);
    int rc = events_retention_capped_issues(db, max, after, ids, n);
    store_release(st, db);
    return rc;
}

static int compact(struct store *st)
{
    struct db *db = store_acquire(st);
    int rc = events_retention_compact(db);
    store_release(st, db);
    return rc;
}

static void count_error(struct retention_stats *s, const char *what, int rc)
{
    s->errors++;
    metrics_add("periscope_retention_errors_total", NULL, 1);
    metrics_add("periscope_db_errors_total", "component=\"retention\"", 1);
    log_warn("retention step failed", "step=%s rc=%d", what, rc);
}

/* Sessions nobody presents again would stay forever: deleted here. */
static void purge_sessions(struct store *st, const struct retention_options *o, int64_t now_ms,
                           struct retention_stats *s)
{
    if (o->session_idle_ms <= 0 || o->session_max_ms <= 0) return;
    struct db *db = store_acquire(st);
    int64_t n = sessions_purge(db, now_ms, o->session_idle_ms, o->session_max_ms);
    store_release(st, db);
    if (n < 0)
        count_error(s, "sessions", (int)n);
    else
        s->deleted_sessions += n;
}

/* Deletes old events batch by batch until fewer than a batch remain. */
static int delete_old(struct store *st, const struct retention_options *o, int64_t now_ms,
                      const atomic_int *stop, struct retention_stats *s)
{
    int64_t cutoff = now_ms - (int64_t)o->retention_days * 86400000LL;
    for (int i = 0; i < RETENTION_BATCHES_PER_PASS && !stopped(stop); i++) {
        int n = old_batch(st, cutoff, o->batch);
        if (n < 0) {
            count_error(s, "age", n);
            return n;
        }
        s->deleted_old += n;
        metrics_add("periscope_retention_deleted_total", "reason=\"age\"", n);
        if (n < o->batch) return 0;
        sleep_ms(o->pause_ms);
    }
    return 0;
}

/* Trims one issue to the cap, batch by batch. */
static int trim_issue(struct store *st, const struct retention_options *o, int64_t issue_id,
                      const atomic_int *stop, struct retention_stats *s, int *budget)
{
    while (*budget > 0 && !stopped(stop)) {
        (*budget)--;
        int n = trim_batch(st, issue_id, o->max_events_per_issue, o->batch);
        if (n < 0) return n;
        s->deleted_over_cap += n;
        metrics_add("periscope_retention_deleted_total", "reason=\"cap\"", n);
        if (n < o->batch) return 0;
        sleep_ms(o->pause_ms);
    }
    return 0;
}

static int trim_capped(struct store *st, const struct retention_options *o, const atomic_int *stop,
                       struct retention_stats *s)
{
    int64_t ids[CAPPED_ISSUES_PAGE], after = 0;
    int budget = RETENTION_BATCHES_PER_PASS, rc = 0;
    while (budget > 0 && !stopped(stop)) {
        int n = capped_page(st, o->max_events_per_issue, after, ids, CAPPED_ISSUES_PAGE);
        if (n < 0) {
            count_error(s, "cap_scan", n);
            return n;
        }
        for (int i = 0; i < n && !stopped(stop); i++) {
            int r = trim_issue(st, o, ids[i], stop, s, &budget);
            if (r < 0) {
                count_error(s, "cap", r);
                rc = r;
            }
        }
        if (n < CAPPED_ISSUES_PAGE) break;
        after = ids[n - 1];
    }
    return rc;
}

int retention_run_once(struct store *st, const struct retention_options *o, int64_t now_ms,
                       const atomic_int *stop, struct retention_stats *out)
{
    struct retention_stats s = {0};
    int rc = 0, r;
    if (o->retention_days > 0 && (r = delete_old(st, o, now_ms, stop, &s)) < 0) rc = r;
    if (o->max_events_per_issue > 0 && (r = trim_capped(st, o, stop, &s)) < 0) rc = r;
    if (s.deleted_old + s.deleted_over_cap > 0 && !stopped(stop)) {
        r = compact(st);
        if (r < 0) /* busy readers: the next pass tries again */
            log_debug("retention compact skipped", "rc=%d", r);
    }
    purge_sessions(st, o, now_ms, &s);
    metrics_add("periscope_retention_runs_total", NULL, 1);
    if (s.deleted_old + s.deleted_over_cap > 0)
        log_info("retention pass", "deleted_old=%lld deleted_over_cap=%lld errors=%d",
                 (long long)s.deleted_old, (long long)s.deleted_over_cap, s.errors);
    if (out) *out = s;
    return rc;
}

static void *retention_main(void *arg)
{
    struct retention *r = arg;
    while (!atomic_load(&r->stop)) {
        retention_run_once(r->store, &r->opt, clock_wall_ms(), &r->stop, NULL);
        struct timespec until = clock_deadline_wall(r->opt.interval_ms);
        pthread_mutex_lock(&r->lock);
        while (!atomic_load(&r->stop) &&
               pthread_cond_timedwait(&r->wake, &r->lock, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

int retention_start(struct store *st, const struct retention_options *o, struct retention **out)
{
    struct retention *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->store = st;
    r->opt = *o;
    atomic_init(&r->stop, 0);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    int rc = pthread_create(&r->thread, NULL, retention_main, r);
    if (rc != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return -rc;
    }
    pthread_setname_np(r->thread, "retention");
    *out = r;
    return 0;
}

void retention_stop(struct retention *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->stop, 1);
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
