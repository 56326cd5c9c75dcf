/* writer_triage_flush — the phases after a batch's issue counts (see
 * writer_triage.h): releases, users affected, windows, snoozes, frequency
 * rules, and now and then the pruning of old windows. */
#include "pipeline/writer_triage_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/hll.h"
#include "model/event.h"
#include "model/alert_rules.h"
#include "store/triage_write.h"

enum { PRUNE_EVERY_MS = 10 * 60 * 1000 };
/* Windows are kept a day past the longest one a rule may ask for. */
#define WINDOWS_KEEP_MS ((int64_t)(ALERT_RULE_WINDOW_MAX + 24 * 60) * 60000)
/* Window sizes one issue may need: each rule's two and a rate snooze's. */
#define WINDOWS_MAX (2 * ALERT_RULES_MAX + 1)

static int releases_flush(struct writer_triage *t, struct db *db)
{
    int rc = 0;
    for (size_t i = 0; i < t->nreleases && rc == 0; i++) {
        const struct triage_release *r = &t->releases[i];
        rc = triage_write_release(db, r->project_id, r->version, r->first_ms, r->events,
                                  r->new_issues);
        if (rc == 0 && r->last_ms != r->first_ms)
            rc = triage_write_release(db, r->project_id, r->version, r->last_ms, 0, 0);
    }
    for (size_t i = 0; i < t->nissues && rc == 0; i++) {
        const struct triage_issue *it = &t->issues[i];
        if (it->events > 0 && it->last_release)
            rc = triage_write_issue_releases(db, it->issue_id, it->first_release, it->last_release);
    }
    return rc;
}

static int cmp_user(const void *a, const void *b)
{
    const struct triage_user *x = a, *y = b;
    if (x->issue != y->issue) return x->issue < y->issue ? -1 : 1;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* The issue's sketch grown by hashes (seeded from the exact set when it
 * has none yet); user_count becomes the estimate if larger. */
static int users_estimate(struct db *db, int64_t issue_id, const struct triage_user *u, size_t n,
                          int64_t count)
{
    uint8_t *regs = malloc(HLL_REGISTERS);
    if (!regs) return -ENOMEM;
    int rc = triage_write_sketch_load(db, issue_id, regs);
    if (rc == 0)
        rc = triage_write_sketch_seed(db, issue_id, regs);
    else if (rc == 1)
        rc = 0;
    int grew = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        grew |= hll_add(regs, u[i].hash);
    if (rc == 0 && grew) rc = triage_write_sketch_store(db, issue_id, regs);
    int64_t estimate = (int64_t)(hll_estimate(regs) + 0.5);
    free(regs);
    if (rc == 0 && estimate > count) rc = triage_write_user_count_set(db, issue_id, estimate);
    return rc;
}

/* One issue's distinct users of the batch (u[0..n), sorted, unique). */
static int users_issue(struct db *db, int64_t issue_id, const struct triage_user *u, size_t n)
{
    int64_t count;
    int rc = triage_write_user_count(db, issue_id, &count);
    if (rc != 0) return rc;
    size_t i = 0;
    int64_t added = 0;
    for (; i < n && count + added < TRIAGE_USERS_EXACT_MAX; i++) {
        rc = triage_write_user_insert(db, issue_id, (int64_t)u[i].hash);
        if (rc < 0) return rc;
        added += rc;
    }
    if (added) rc = triage_write_user_count_set(db, issue_id, count += added);
    if (rc < 0) return rc;
    /* Past the exact limit: the sketch (seeded with the exact set once). */
    if (count >= TRIAGE_USERS_EXACT_MAX) rc = users_estimate(db, issue_id, u + i, n - i, count);
    return rc;
}

static int users_flush(struct writer_triage *t, struct db *db)
{
    qsort(t->users, t->nusers, sizeof(*t->users), cmp_user);
    size_t n = 0; /* unique in place */
    for (size_t i = 0; i < t->nusers; i++)
        if (n == 0 || cmp_user(&t->users[n - 1], &t->users[i]) != 0) t->users[n++] = t->users[i];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i;
        while (j < n && t->users[j].issue == t->users[i].issue)
            j++;
        rc = users_issue(db, t->issues[t->users[i].issue].issue_id, t->users + i, j - i);
        i = j;
    }
    t->nusers = n;
    return rc;
}

/* One window size of one issue: its counts after this batch. */
struct window {
    int minutes;
    int64_t start, events, users, users_wanted;
};

static struct window *window_for(struct window *w, size_t *n, int minutes)
{
    for (size_t i = 0; i < *n; i++)
        if (w[i].minutes == minutes) return &w[i];
    if (*n == WINDOWS_MAX) return NULL;
    memset(&w[*n], 0, sizeof(w[*n]));
    w[*n].minutes = minutes;
    return &w[(*n)++];
}

/* The distinct users of issue index idx in t->users (sorted, unique). */
static const struct triage_user *issue_users(const struct writer_triage *t, uint32_t idx, size_t *n)
{
    size_t i = 0;
    while (i < t->nusers && t->users[i].issue < idx)
        i++;
    size_t j = i;
    while (j < t->nusers && t->users[j].issue == idx)
        j++;
    *n = j - i;
    return t->users + i;
}

static int windows_count(struct writer_triage *t, struct db *db, uint32_t idx, struct window *w,
                         size_t nw, int64_t now_ms)
{
    const struct triage_issue *it = &t->issues[idx];
    size_t nu;
    const struct triage_user *u = issue_users(t, idx, &nu);
    for (size_t i = 0; i < nw; i++) {
        int64_t len = (int64_t)w[i].minutes * 60000;
        w[i].start = now_ms - now_ms % len;
        int rc = triage_write_window_add(db, it->issue_id, w[i].minutes, w[i].start, it->events,
                                         &w[i].events, &w[i].users);
        for (size_t k = 0; k < nu && rc == 0 && w[i].users < w[i].users_wanted; k++) {
            rc = triage_write_window_user(db, it->issue_id, w[i].minutes, w[i].start,
                                          (int64_t)u[k].hash);
            if (rc > 0) w[i].users++, rc = 0;
        }
        if (rc < 0) return rc;
    }
    return 0;
}

/* issues.times_seen holds the flushed counts (store/counters.h): this
 * batch's events are added here; with COUNTER_FLUSH_MS > 0 counts still in
 * the writer's buffer are not, so a count snooze passes up to one flush
 * interval late. */
static bool snooze_passed(const struct triage_snooze *s, const struct window *rate,
                          int64_t batch_events, int64_t now_ms)
{
    if (strcmp(s->kind, "count") == 0)
        return s->times_seen + batch_events - s->base_times_seen >= s->threshold;
    if (strcmp(s->kind, "until") == 0) return now_ms >= s->until_ms;
    if (strcmp(s->kind, "users") == 0) return s->user_count - s->base_users >= s->threshold;
    if (strcmp(s->kind, "rate") == 0) return rate && rate->events >= s->threshold;
    return false;
}

/* Frequency rules matching the issue's last event whose thresholds its
 * windows reached fire (once per window: the store decides). */
static int frequency_rules(struct writer_triage *t, struct db *db, const struct triage_issue *it,
                           const struct alert_rules *rules, struct window *w, size_t *nw,
                           int64_t now_ms)
{
    const struct grouped_event *ev = it->last_ev;
    for (size_t i = 0; i < rules->n; i++) {
        const struct alert_rule *r = &rules->rule[i];
        if (!alert_rule_matches(r, ALERT_KIND_FREQUENCY, ev->level, ev->environment, ev->tags))
            continue;
        struct window *fw = r->frequency_count ? window_for(w, nw, r->frequency_window) : NULL;
        struct window *uw = r->users_count ? window_for(w, nw, r->users_window) : NULL;
        if ((fw && fw->events < r->frequency_count) || (uw && uw->users < r->users_count)) continue;
        int64_t start = fw ? fw->start : uw->start;
        int fired = triage_write_rule_fire(db, it->project_id, r->name, it->issue_id, now_ms, start,
                                           (int64_t)r->throttle_minutes * 60000);
        if (fired < 0) return fired;
        if (fired) {
            int rc = triage_raise(t, db, it->issue_id, "frequency", ev, r, now_ms);
            if (rc != 0) return rc;
        }
    }
    return 0;
}

/* Windows, snooze and frequency rules of issue index idx. */
static int issue_flush(struct writer_triage *t, struct db *db, uint32_t idx, int64_t now_ms)
{
    const struct triage_issue *it = &t->issues[idx];
    const struct alert_rules *rules = triage_rules_for(t, db, it->project_id);
    if (!rules) return -ENOMEM;
    struct window w[WINDOWS_MAX];
    size_t nw = 0;
    for (size_t i = 0; i < rules->n; i++) {
        const struct alert_rule *r = &rules->rule[i];
        if (r->frequency_count) window_for(w, &nw, r->frequency_window);
        struct window *uw = r->users_count ? window_for(w, &nw, r->users_window) : NULL;
        if (uw && uw->users_wanted < r->users_count) uw->users_wanted = r->users_count;
    }
    struct triage_snooze snooze;
    bool snoozed = false;
    if (it->ignored) {
        int rc = triage_write_snooze_get(db, it->issue_id, &snooze);
        if (rc != 0 && rc != -ENOENT) return rc;
        snoozed = rc == 0;
        if (snoozed && strcmp(snooze.kind, "rate") == 0) window_for(w, &nw, snooze.window_minutes);
    }
    int rc = windows_count(t, db, idx, w, nw, now_ms);
    if (rc != 0) return rc;
    if (snoozed) {
        struct window *rate =
            strcmp(snooze.kind, "rate") == 0 ? window_for(w, &nw, snooze.window_minutes) : NULL;
        if (snooze_passed(&snooze, rate, it->events, now_ms)) {
            rc = triage_write_unsnooze(db, it->issue_id);
            if (rc > 0)
                rc = triage_raise(t, db, it->issue_id, "escalating", it->last_ev, NULL, now_ms);
            if (rc < 0) return rc;
        }
    }
    return frequency_rules(t, db, it, rules, w, &nw, now_ms);
}

int writer_triage_flush(struct writer_triage *t, struct db *db, int64_t now_ms)
{
    int rc = releases_flush(t, db);
    if (rc == 0) rc = users_flush(t, db);
    for (uint32_t i = 0; i < t->nissues && rc == 0; i++)
        if (t->issues[i].events > 0) rc = issue_flush(t, db, i, now_ms);
    if (rc == 0 && now_ms - t->last_prune_ms >= PRUNE_EVERY_MS) {
        rc = triage_write_windows_prune(db, now_ms - WINDOWS_KEEP_MS);
        if (rc == 0) t->last_prune_ms = now_ms;
    }
    return rc;
}
