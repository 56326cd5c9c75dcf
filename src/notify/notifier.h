/* notifier — delivers alerts: one thread that drains the outbox
 * (deliveries table) and sends each due delivery with libcurl's multi
 * interface, many in flight.
 *
 * Wakes when the writer publishes an alert_msg on deps->alerts (it frees the
 * message; the table is the source of truth), at start-up, and every
 * NOTIFY_POLL_MS (default 2000) for retries and for deliveries another
 * node wrote. Each claim is a lease; every attempt is recorded; failures
 * are retried with backoff (retry.h) up to 10 attempts; destinations over
 * their rate (throttle.h) get one digest when the window ends. Each message
 * is the project's format(alert, destination) hook's body, or the default
 * formatter's when there is none or it fails (lua/script_format.h; the
 * failure is counted in the script status). The thread owns its Lua states
 * (a struct runtime, lua/runtime.h: one vm per project with a script, rebuilt when the
 * registry publishes, and one default vm; the formatters run in them,
 * lua/script_format.h), curl handles and throttle; it uses pooled store
 * connections for short tasks only.
 *
 * Its timings come from the configuration (config.h: NOTIFY_POLL_MS,
 * NOTIFY_RETRY_BASE_MS, NOTIFY_THROTTLE_WINDOW_MS, NOTIFY_TIMEOUT_MS,
 * NOTIFY_CONNECT_TIMEOUT_MS).
 *
 * Started after the store and the pipeline; notifier_stop (main thread)
 * stops claiming, lets in-flight requests finish (up to the request
 * timeout), gives back what is left unsent, and joins. */
#ifndef PERISCOPE_NOTIFY_NOTIFIER_H
#define PERISCOPE_NOTIFY_NOTIFIER_H

#include <stdint.h>

struct config;
struct liveness;
struct notifier;
struct script_registry;
struct store;
struct topic;

/* What the notifier uses, all borrowed (they outlive it); copied. */
struct notifier_deps {
    const struct config *cfg;        /* timings, limits, lua_dir, public_url */
    struct store *store;             /* pooled connections, short tasks only */
    struct script_registry *scripts; /* the projects' format() hooks (may be NULL) */
    struct topic *alerts;            /* wake-ups from the writer (may be NULL: polling only) */
    struct liveness *liveness;       /* beaten as stage "notifier" (may be NULL) */
};

/* Returns 0 or a negative errno (logged). *out is freed by notifier_stop. */
int notifier_start(const struct notifier_deps *deps, struct notifier **out);
void notifier_stop(struct notifier *nf);
/* The same by deadline_ms (CLOCK_REALTIME ms; 0: no limit): -ETIMEDOUT,
 * nothing freed, when the thread has not stopped by then. */
int notifier_stop_by(struct notifier *nf, int64_t deadline_ms);

#endif
