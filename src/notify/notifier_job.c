#include "notify/notifier_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/config.h"
#include "base/utf8.h"
#include "lua/script_format.h"
#include "notify/alert_data.h"
#include "notify/route.h"
#include "store/deliveries_suppress.h"
#include "lua/runtime.h"
#include "notify/retry.h"
#include "notify/throttle.h"
#include "store/destinations.h"
#include "store/store.h"

static uint32_t jitter(struct notifier *nf)
{
    nf->rng ^= nf->rng << 13;
    nf->rng ^= nf->rng >> 7;
    nf->rng ^= nf->rng << 17;
    return (uint32_t)(nf->rng >> 32);
}

static const char *OUTCOME_NAMES[] = {"sent", "retry", "failed"};

/* Stores the attempt for each claim and logs it: the delivery log. */
static void record(struct notifier *nf, const struct delivery_claim *claims, int n,
                   const char *type, const struct channel_result *r, enum retry_outcome oc,
                   long long started, long long finished)
{
    struct db *db = store_acquire(nf->deps.store);
    for (int i = 0; i < n; i++) {
        const struct delivery_claim *c = &claims[i];
        int attempt = c->attempts + 1;
        struct delivery_outcome o = {
            .attempted_at = started,
            .status_code = r->status,
            .error = r->error[0] ? r->error : NULL,
            .duration_ms = finished - started,
            .status = "pending",
            .next_attempt_at = finished,
        };
        enum retry_outcome this_oc = oc;
        if (oc == RETRY_AGAIN && attempt >= RETRY_MAX_ATTEMPTS) this_oc = RETRY_PERMANENT;
        if (this_oc == RETRY_SENT)
            o.status = "sent";
        else if (this_oc == RETRY_PERMANENT)
            o.status = "failed";
        else
            o.next_attempt_at = finished + retry_delay_ms(attempt, nf->retry_base_ms, jitter(nf),
                                                          r->retry_after_ms);
        int rc = deliveries_record(db, c, 1, &o);
        if (rc < 0)
            log_error("notifier: cannot record an attempt", "delivery=%lld error=%s",
                      (long long)c->id, strerror(-rc));
        log_write(this_oc == RETRY_SENT ? LOG_INFO : LOG_WARN, "notification attempt",
                  "delivery=%lld alert=%lld destination=%lld type=%s attempt=%d status=%ld "
                  "outcome=%s duration_ms=%lld retry_in_ms=%lld digest=%d error=%s",
                  (long long)c->id, (long long)c->alert_id, (long long)c->destination_id, type,
                  attempt, r->status, OUTCOME_NAMES[this_oc], finished - started,
                  this_oc == RETRY_AGAIN ? o.next_attempt_at - finished : 0LL, n > 1 ? n : 0,
                  r->error[0] ? r->error : "-");
        char labels[96];
        snprintf(labels, sizeof labels, "type=\"%s\",outcome=\"%s\"", type, OUTCOME_NAMES[this_oc]);
        metrics_add("periscope_notification_attempts_total", labels, 1);
    }
    store_release(nf->deps.store, db);
}

static void fail_claims(struct notifier *nf, const struct delivery_claim *claims, int n,
                        const char *type, const char *error)
{
    struct channel_result r = {.retry_after_ms = -1};
    snprintf(r.error, sizeof r.error, "%s", error);
    long long now = clock_wall_ms();
    record(nf, claims, n, type, &r, RETRY_PERMANENT, now, now);
}

static void release_claims(struct db *db, const struct delivery_claim *claims, int n,
                           long long when, bool held)
{
    for (int i = 0; i < n; i++)
        if (deliveries_release(db, &claims[i], when, held || claims[i].held_for_digest) < 0)
            log_error("notifier: cannot give a delivery back", "delivery=%lld",
                      (long long)claims[i].id);
}

/* Why the alert data of a claim could not be had. */
enum alert_data_trouble { ALERT_DATA_OK, ALERT_DATA_UNREADABLE, ALERT_DATA_UNRENDERABLE };

/* The alert of a claim as the formatters take it (model/alert.h), its
 * message id and link base set. 0; -ENOENT when the alert is gone (its
 * delivery went with it); else *trouble says whether the database failed
 * (UNREADABLE: try again) or the data can never make a message
 * (UNRENDERABLE: a PUBLIC_URL that is not UTF-8 cannot become a link). */
static int alert_of(struct notifier *nf, struct db *db, const struct delivery_claim *c,
                    const char *message_id, struct alert_data *out,
                    enum alert_data_trouble *trouble)
{
    const char *url = nf->deps.cfg->public_url ? nf->deps.cfg->public_url : "";
    int rc = deliveries_alert_data(db, c->alert_id, out);
    if (rc == -ENOENT) return rc;
    if (rc == 0 && !utf8_valid(url, strlen(url))) {
        alert_data_clear(out);
        rc = -EINVAL;
    }
    if (rc < 0) {
        *trouble = rc == -ENOMEM || rc == -EINVAL ? ALERT_DATA_UNRENDERABLE : ALERT_DATA_UNREADABLE;
        return rc;
    }
    out->message_id = message_id;
    out->public_url = url;
    return 0;
}

/* The alerts of the claims (at most n into out, *got of them); claims
 * whose alert is gone are left out, and so are those whose data cannot be
 * read or built (*trouble). Clear each with alert_data_clear. */
static void alerts_of(struct notifier *nf, struct db *db, const struct delivery_claim *claims,
                      int n, const char *message_id, struct alert_data *out, size_t *got,
                      enum alert_data_trouble *trouble)
{
    *trouble = ALERT_DATA_OK;
    *got = 0;
    for (int i = 0; i < n; i++)
        if (alert_of(nf, db, &claims[i], message_id, &out[*got], trouble) == 0) (*got)++;
}

/* Marks a claim suppressed (not sent, no attempt) and logs why. */
static void suppress(struct notifier *nf, struct db *db, const struct delivery_claim *c,
                     const char *reason)
{
    if (deliveries_suppress(db, c, reason, clock_wall_ms()) < 0)
        log_error("notifier: cannot mark a delivery suppressed", "delivery=%lld", (long long)c->id);
    else
        log_info("notification suppressed", "delivery=%lld alert=%lld destination=%lld reason=%s",
                 (long long)c->id, (long long)c->alert_id, (long long)c->destination_id, reason);
    metrics_add("periscope_notifications_suppressed_total", NULL, 1);
    (void)nf;
}

/* Whether a single claim goes out (notify/route.h): the project's alert()
 * hook, else the alert rules' choice. 1 send; 0 suppressed or given back. */
static int route_claim(struct notifier *nf, struct db *db, const struct delivery_claim *c,
                       int64_t project_id)
{
    struct script *s = nf->lua ? runtime_format_script(nf->lua, project_id) : NULL;
    if (c->rule_match && !script_has_hook(s, SCRIPT_HOOK_ALERT)) return 1;
    char message_id[64];
    snprintf(message_id, sizeof message_id, "dlv_%lld", (long long)c->id);
    struct alert_data alert;
    enum alert_data_trouble trouble;
    int rc = alert_of(nf, db, c, message_id, &alert, &trouble);
    if (rc == -ENOENT) return 0; /* the alert is gone, and its delivery with it */
    if (rc < 0) {
        release_claims(db, c, 1, clock_wall_ms() + nf->poll_ms, false);
        return 0;
    }
    const char *reason = NULL;
    struct vm_error hook_err;
    liveness_busy(&nf->beat);
    int send = notify_route(s, &alert, c->destination_id, c->rule_match, &reason, &hook_err);
    alert_data_clear(&alert);
    if (hook_err.kind != VM_ERROR_NONE)
        runtime_hook_failed(nf->lua, project_id, "alert", &hook_err);
    if (!send) suppress(nf, db, c, reason);
    return send;
}

/* One alert: the project's format() hook, falling back to the default
 * (the failure counted in the script status). A digest: the default. Both
 * in the vm of the project's script (or the runtime's default script). */
static int render(struct notifier *nf, int64_t project_id, const struct alert_data *alerts,
                  size_t n, const struct alert_destination *dest, struct script_message *msg,
                  char *err, size_t errlen)
{
    liveness_busy(&nf->beat); /* a message is progress: each format() has its own deadline */
    struct script *s = runtime_format_script(nf->lua, project_id);
    if (n != 1) return script_format_digest(s, alerts, n, dest, msg, err, errlen);
    struct vm_error hook_err;
    int rc = script_format_alert(s, &alerts[0], dest, msg, &hook_err, err, errlen);
    if (hook_err.kind != VM_ERROR_NONE)
        runtime_hook_failed(nf->lua, project_id, "format", &hook_err);
    return rc;
}

static void start_transfer(struct notifier *nf, const cJSON *dest, const char *type,
                           const struct delivery_claim *claims, int n, const char *message_id,
                           struct script_message *msg)
{
    char err[320];
    struct notifier_job *job = calloc(1, sizeof *job);
    struct delivery_claim *owned = calloc((size_t)n, sizeof *owned);
    if (!job || !owned) {
        free(job);
        free(owned);
        fail_claims(nf, claims, n, type, "out of memory");
        return;
    }
    memcpy(owned, claims, (size_t)n * sizeof *owned);
    job->claims = owned;
    job->nclaims = n;
    job->destination_id = claims[0].destination_id;
    snprintf(job->type, sizeof job->type, "%s", type);
    job->started_ms = clock_wall_ms();
    if (channel_xfer_prepare(&job->xfer, &nf->opts, dest, message_id, job->started_ms, msg, err,
                             sizeof err) < 0 ||
        curl_multi_add_handle(nf->multi, job->xfer.easy) != CURLM_OK) {
        fail_claims(nf, claims, n, type, err[0] ? err : "libcurl refused the transfer");
        channel_xfer_cleanup(&job->xfer);
        free(owned);
        free(job);
        return;
    }
    job->next = nf->jobs;
    nf->jobs = job;
    nf->in_flight++;
}

/* Sends the claims (all to one destination; several only for a digest). */
static void start_group(struct notifier *nf, struct db *db, const struct delivery_claim *claims,
                        int n)
{
    cJSON *dest = NULL;
    struct alert_data alerts[NOTIFY_MAX_IN_FLIGHT];
    size_t nalerts = 0;
    struct script_message msg = {0};
    char err[320] = "", message_id[64];
    int rc = destinations_get(db, 0, claims[0].destination_id, &dest);
    if (rc == -ENOENT) return; /* deleted: its deliveries went with it */
    if (rc < 0) {
        release_claims(db, claims, n, clock_wall_ms() + nf->poll_ms, false);
        return;
    }
    const char *type = json_str(json_get(dest, "type"));
    if (!cJSON_IsTrue(json_get(dest, "enabled"))) {
        fail_claims(nf, claims, n, type, "destination disabled");
        goto done;
    }
    const char *sealed = json_str(json_get(dest, "config_error"));
    if (sealed) {
        fail_claims(nf, claims, n, type, sealed);
        goto done;
    }
    int64_t project_id = (int64_t)json_i64(json_get(dest, "project_id"));
    if (n == 1 && !claims[0].held_for_digest && route_claim(nf, db, &claims[0], project_id) == 0)
        goto done;
    long long until = throttle_take(nf->throttle, claims[0].destination_id, clock_wall_ms());
    if (until > 0) {
        release_claims(db, claims, n, until, true);
        log_info("notification held for a digest", "destination=%lld deliveries=%d until_ms=%lld",
                 (long long)claims[0].destination_id, n, until);
        goto done;
    }
    if (n == 1)
        snprintf(message_id, sizeof message_id, "dlv_%lld", (long long)claims[0].id);
    else
        snprintf(message_id, sizeof message_id, "dlv_%lld_digest_%d", (long long)claims[0].id, n);
    enum alert_data_trouble trouble;
    alerts_of(nf, db, claims, n, message_id, alerts, &nalerts, &trouble);
    struct alert_destination dest_public = {
        .id = json_i64(json_get(dest, "id")),
        .type = type,
        .name = json_str(json_get(dest, "name")),
    };
    if (nalerts == 0 && trouble == ALERT_DATA_UNREADABLE) {
        /* Given back, not left "sending" until its lease ends. */
        release_claims(db, claims, n, clock_wall_ms() + nf->poll_ms, false);
        goto done;
    }
    if (nalerts == 0) {
        if (trouble == ALERT_DATA_UNRENDERABLE)
            fail_claims(nf, claims, n, type, "the alert's data cannot be rendered");
        goto done;
    }
    int rendered = render(nf, project_id, alerts, nalerts, &dest_public, &msg, err, sizeof err);
    if (rendered < 0) {
        fail_claims(nf, claims, n, type, err);
        goto done;
    }
    if (rendered > 0) { /* format() returned false (single alerts only) */
        suppress(nf, db, &claims[0], "format() returned false");
        goto done;
    }
    if (channel_type_parse(type) == CHANNEL_INTERNAL_LOGGER) {
        log_info("alert notification", "destination=%lld name=%s message=%s",
                 (long long)claims[0].destination_id, json_str(json_get(dest, "name")), msg.body);
        struct channel_result ok = {.transport_ok = true, .retry_after_ms = -1};
        long long now = clock_wall_ms();
        record(nf, claims, n, type, &ok, RETRY_SENT, now, now);
        goto done;
    }
    start_transfer(nf, dest, type, claims, n, message_id, &msg);
done:
    script_message_clear(&msg);
    for (size_t i = 0; i < nalerts; i++)
        alert_data_clear(&alerts[i]);
    cJSON_Delete(dest);
}

static int in_flight_to(const struct notifier *nf, int64_t destination_id)
{
    int n = 0;
    for (const struct notifier_job *j = nf->jobs; j; j = j->next)
        n += j->destination_id == destination_id;
    return n;
}

void notifier_job_claim_and_start(struct notifier *nf)
{
    struct delivery_claim claims[NOTIFY_MAX_IN_FLIGHT], group[NOTIFY_MAX_IN_FLIGHT];
    bool used[NOTIFY_MAX_IN_FLIGHT] = {false};
    int n = 0, cap = NOTIFY_MAX_IN_FLIGHT - nf->in_flight;
    if (cap <= 0) return;
    struct db *db = store_acquire(nf->deps.store);
    long long claimed_at = clock_wall_ms();
    int rc = deliveries_claim(db, claimed_at, nf->lease_ms, cap, claims, &n);
    if (rc < 0) log_error("notifier: cannot claim deliveries", "error=%s", strerror(-rc));
    for (int i = 0; i < n; i++) {
        if (used[i]) continue;
        if (clock_wall_ms() > claimed_at + nf->start_by_ms) {
            /* Too late to finish within the lease: given back for the next
             * poll rather than risk a second sender after it ends. */
            used[i] = true;
            release_claims(db, &claims[i], 1, clock_wall_ms(), false);
            continue;
        }
        if (in_flight_to(nf, claims[i].destination_id) >= NOTIFY_MAX_IN_FLIGHT_PER_DESTINATION) {
            /* Given back for the next poll: the others go out now. */
            used[i] = true;
            release_claims(db, &claims[i], 1, clock_wall_ms() + nf->poll_ms, false);
            continue;
        }
        int k = 0;
        group[k++] = claims[i];
        used[i] = true;
        /* Held-back deliveries to one destination go out as one digest. */
        for (int j = i + 1; claims[i].held_for_digest && j < n; j++) {
            if (!used[j] && claims[j].held_for_digest &&
                claims[j].destination_id == claims[i].destination_id) {
                group[k++] = claims[j];
                used[j] = true;
            }
        }
        start_group(nf, db, group, k);
    }
    store_release(nf->deps.store, db);
}

static void unlink_job(struct notifier *nf, struct notifier_job *job)
{
    for (struct notifier_job **p = &nf->jobs; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            break;
        }
    }
    nf->in_flight--;
    curl_multi_remove_handle(nf->multi, job->xfer.easy);
    channel_xfer_cleanup(&job->xfer);
    free(job->claims);
    free(job);
}

static void finish_job(struct notifier *nf, struct notifier_job *job, CURLcode rc)
{
    struct channel_result r;
    long long finished = clock_wall_ms();
    channel_xfer_result(&job->xfer, rc, finished / 1000, &r);
    enum retry_outcome oc =
        retry_classify(r.transport_ok, r.permanent, job->xfer.smtp ? 0 : r.status);
    record(nf, job->claims, job->nclaims, job->type, &r, oc, job->started_ms, finished);
    double seconds = (double)(finished - job->started_ms) / 1000.0;
    static const double bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15};
    metrics_observe("periscope_notification_duration_seconds", NULL, seconds, bounds,
                    sizeof bounds / sizeof bounds[0]);
    unlink_job(nf, job);
}

static void reap(struct notifier *nf)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(nf->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        struct channel_xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        if (x) finish_job(nf, (struct notifier_job *)x, rc);
    }
}

void notifier_job_pump(struct notifier *nf, int wait_ms)
{
    int running;
    curl_multi_perform(nf->multi, &running);
    reap(nf);
    if (nf->in_flight == 0) return;
    curl_multi_poll(nf->multi, NULL, 0, wait_ms, NULL);
    curl_multi_perform(nf->multi, &running);
    reap(nf);
}

void notifier_job_abort_all(struct notifier *nf)
{
    if (!nf->jobs) return;
    struct db *db = store_acquire(nf->deps.store);
    long long now = clock_wall_ms();
    while (nf->jobs) {
        struct notifier_job *job = nf->jobs;
        log_warn("notification given back at shutdown", "deliveries=%d destination=%lld",
                 job->nclaims, (long long)job->destination_id);
        release_claims(db, job->claims, job->nclaims, now, false);
        unlink_job(nf, job);
    }
    store_release(nf->deps.store, db);
}
