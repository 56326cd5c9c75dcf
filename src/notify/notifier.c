#include "notify/notifier.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "base/clock.h"
#include "model/alert.h"
#include "base/log.h"
#include "base/config.h"
#include "base/topic.h"
#include "notify/channel.h"
#include "notify/alert_data.h"
#include "lua/runtime.h"
#include "notify/notifier_job.h"
#include "notify/retry.h"
#include "notify/throttle.h"
#include "store/store.h"

#define IDLE_WAIT_MAX_MS 250 /* stop is noticed within this */
#define BUSY_WAIT_MAX_MS 100 /* alerts are noticed within this while sending */
#define ALERTS_PER_TAKE 64

static void take_alerts(struct notifier *nf, int wait_ms, bool *wake)
{
    void *items[ALERTS_PER_TAKE];
    int n = nf->deps.alerts && !nf->alerts_closed
                ? topic_take(nf->deps.alerts, items, ALERTS_PER_TAKE, wait_ms)
                : -ESHUTDOWN;
    if (n == -ESHUTDOWN) {
        nf->alerts_closed = true;
        if (wait_ms > 0) curl_multi_poll(nf->multi, NULL, 0, wait_ms, NULL);
        return;
    }
    for (int i = 0; i < n; i++)
        free(items[i]); /* struct alert_msg: only a wake-up, the outbox has the rest */
    if (n > 0) *wake = true;
}

static void *notifier_main(void *arg)
{
    struct notifier *nf = arg;
    long long next_claim = 0;
    bool wake = true;
    while (!atomic_load(&nf->stop)) {
        liveness_busy(&nf->beat); /* a round takes at most ~250 ms plus its format() calls */
        long long now = clock_wall_ms();
        int wait = nf->in_flight ? 0 : (int)(next_claim - now);
        wait = wait < 0 ? 0 : wait > IDLE_WAIT_MAX_MS ? IDLE_WAIT_MAX_MS : wait;
        take_alerts(nf, wake ? 0 : wait, &wake);
        if (wake || clock_wall_ms() >= next_claim) {
            notifier_job_claim_and_start(nf);
            next_claim = clock_wall_ms() + nf->poll_ms;
            wake = false;
        }
        if (nf->in_flight) notifier_job_pump(nf, BUSY_WAIT_MAX_MS);
    }
    /* Drain: let what is on the wire finish, give back the rest. */
    long long deadline = clock_wall_ms() + nf->opts.timeout_ms + 1000;
    long long stop_by = atomic_load(&nf->stop_by_ms);
    if (stop_by && stop_by < deadline) deadline = stop_by;
    while (nf->in_flight && clock_wall_ms() < deadline)
        notifier_job_pump(nf, BUSY_WAIT_MAX_MS);
    notifier_job_abort_all(nf);
    return NULL;
}

int notifier_start(const struct notifier_deps *deps, struct notifier **out)
{
    const struct config *cfg = deps->cfg;
    struct notifier *nf = calloc(1, sizeof *nf);
    if (!nf) return -ENOMEM;
    nf->deps = *deps;
    channel_opts_init(&nf->opts, cfg);
    nf->poll_ms = cfg->notify_poll_ms;
    nf->retry_base_ms = cfg->notify_retry_base_ms;
    /* The lease is the duplicate window after a crash (README,
     * "Notifications"): a transfer starts within start_by_ms of its claim
     * (the alert() and format() hooks run first, each within the Lua
     * limit), ends within NOTIFY_TIMEOUT_MS (curl's whole-request
     * timeout, connect included), and is recorded in the 2 s left. */
    nf->start_by_ms = cfg->lua_time_limit_ms + 1000;
    nf->lease_ms = nf->opts.timeout_ms + nf->start_by_ms + cfg->lua_time_limit_ms + 2000;
    nf->rng = (uint64_t)clock_wall_ms() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)nf;
    atomic_init(&nf->stop, false);
    int rc = -ENOMEM;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) goto fail;
    nf->curl_inited = true;
    nf->multi = curl_multi_init();
    nf->throttle = throttle_new(cfg->destination_rate_per_minute, cfg->notify_throttle_window_ms);
    if (!nf->multi || !nf->throttle) goto fail;
    rc = runtime_new(deps->scripts, cfg, &nf->lua);
    if (rc < 0) goto fail;
    liveness_register(deps->liveness, &nf->beat, "notifier");
    rc = -pthread_create(&nf->thread, NULL, notifier_main, nf);
    if (rc < 0) {
        liveness_unregister(deps->liveness, &nf->beat);
        goto fail;
    }
    log_info("notifier started", "poll_ms=%ld timeout_ms=%ld rate_per_minute=%d allow_private=%s",
             nf->poll_ms, nf->opts.timeout_ms, cfg->destination_rate_per_minute,
             nf->opts.allow_private ? "true" : "false");
    *out = nf;
    return 0;
fail:
    runtime_free(nf->lua);
    throttle_free(nf->throttle);
    if (nf->multi) curl_multi_cleanup(nf->multi);
    if (nf->curl_inited) curl_global_cleanup();
    free(nf);
    return rc;
}

int notifier_stop_by(struct notifier *nf, int64_t deadline_ms)
{
    if (!nf) return 0;
    /* Leave the drain a moment to give unsent deliveries back. */
    atomic_store(&nf->stop_by_ms, deadline_ms ? (long long)deadline_ms - 500 : 0);
    atomic_store(&nf->stop, true);
    curl_multi_wakeup(nf->multi);
    struct timespec until = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L};
    if (deadline_ms ? pthread_timedjoin_np(nf->thread, NULL, &until) != 0
                    : pthread_join(nf->thread, NULL) != 0) {
        log_error("notifier: did not stop in time; left behind", NULL);
        return -ETIMEDOUT;
    }
    liveness_unregister(nf->deps.liveness, &nf->beat);
    runtime_free(nf->lua);
    throttle_free(nf->throttle);
    curl_multi_cleanup(nf->multi);
    curl_global_cleanup();
    free(nf);
    return 0;
}

void notifier_stop(struct notifier *nf)
{
    notifier_stop_by(nf, 0);
}
