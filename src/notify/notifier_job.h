/* notify/notifier_job — the inside of the notifier (notifier.h): its state
 * and the jobs it runs. Only notifier.c and notifier_job.c include this;
 * every function here runs on the notifier thread. */
#ifndef PERISCOPE_NOTIFY_NOTIFIER_JOB_H
#define PERISCOPE_NOTIFY_NOTIFIER_JOB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>

#include "base/liveness.h"
#include "notify/channel.h"
#include "notify/notifier.h"
#include "store/deliveries.h"

#define NOTIFY_MAX_IN_FLIGHT 64
/* In flight to one destination at most: a receiver that hangs holds this
 * many slots for the request timeout, never all of them. */
#define NOTIFY_MAX_IN_FLIGHT_PER_DESTINATION 4

/* One outbound message: a single alert, or a digest of several held-back
 * deliveries to the same destination. */
struct notifier_job {
    struct channel_xfer xfer; /* first: CURLINFO_PRIVATE points here */
    struct notifier_job *next;
    struct delivery_claim *claims; /* owned */
    int nclaims;
    int64_t destination_id;
    char type[24];
    long long started_ms;
};

struct notifier {
    struct notifier_deps deps;
    pthread_t thread;
    atomic_bool stop;
    _Atomic long long stop_by_ms; /* clock_wall_ms the drain must end by; 0: none */
    bool curl_inited, alerts_closed;
    CURLM *multi;
    /* This thread's own Lua states (lua/runtime.h): one vm per project with
     * a script, where its alert() and format() hooks and the default
     * formatters run, and one default vm for the projects without. */
    struct runtime *lua;
    struct throttle *throttle;
    struct channel_opts opts;
    struct notifier_job *jobs;
    int in_flight;
    long poll_ms, retry_base_ms;
    long long lease_ms;        /* a claim's lease: NOTIFY_TIMEOUT_MS + 2 × Lua limit + 3 s */
    long long start_by_ms;     /* a claim not started this long after claiming goes back */
    uint64_t rng;              /* jitter only */
    struct liveness_beat beat; /* stage "notifier": busy always, beats per round and message */
};

/* Claims due deliveries (up to the free in-flight slots) and starts them. */
void notifier_job_claim_and_start(struct notifier *nf);

/* Runs transfers for up to wait_ms and records the finished ones. */
void notifier_job_pump(struct notifier *nf, int wait_ms);

/* Gives every unfinished job's deliveries back (due now) and frees them. */
void notifier_job_abort_all(struct notifier *nf);

#endif
