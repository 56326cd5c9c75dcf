/* throttle — per-destination rate limit for notifications: at most `rate`
 * messages in each fixed window of THROTTLE_WINDOW_MS that starts with the
 * first message. Beyond it the caller folds the alerts into one digest sent
 * when the window ends; that digest opens (and counts in) the next window.
 *
 * State is in memory and per node (several nodes each allow `rate`).
 * Bounded: windows that ended are reused, and at most THROTTLE_MAX_TRACKED
 * destinations are tracked (beyond that the oldest window is forgotten,
 * which can only let a message through early). Not thread-safe: one
 * notifier thread owns a struct throttle. */
#ifndef PERISCOPE_NOTIFY_THROTTLE_H
#define PERISCOPE_NOTIFY_THROTTLE_H

#include <stdint.h>

#define THROTTLE_WINDOW_MS 60000LL
#define THROTTLE_MAX_TRACKED 4096

struct throttle;

/* rate_per_window <= 0 disables throttling. NULL on OOM. Caller frees. */
struct throttle *throttle_new(int rate_per_window, long long window_ms);
void throttle_free(struct throttle *t);

/* Takes one message slot for the destination at now_ms. Returns 0 when the
 * message may go now, else the time (ms) the current window ends, when the
 * held-back alerts may go as a digest. */
long long throttle_take(struct throttle *t, int64_t destination_id, long long now_ms);

#endif
