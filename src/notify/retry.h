/* retry — when a failed delivery is tried again, and whether it is.
 *
 * Exponential backoff with "equal jitter": attempt n waits between half and
 * all of base·2^(n-1), capped at RETRY_MAX_DELAY_MS; a Retry-After from the
 * receiver is honoured when it asks for longer (also capped). After
 * RETRY_MAX_ATTEMPTS attempts, or on an answer that retrying cannot fix
 * (a 4xx other than 408/425/429, a refused address, a bad URL), the
 * delivery is failed. Pure functions; thread-safe. */
#ifndef PERISCOPE_NOTIFY_RETRY_H
#define PERISCOPE_NOTIFY_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define RETRY_MAX_ATTEMPTS 10
#define RETRY_MAX_DELAY_MS (60LL * 60 * 1000)

enum retry_outcome {
    RETRY_SENT,      /* delivered */
    RETRY_AGAIN,     /* transient failure: try again later */
    RETRY_PERMANENT, /* retrying cannot help */
};

/* Classifies one attempt: transport_ok is false for a connection error or a
 * timeout (always transient unless permanent_error), status is the HTTP
 * status (0 when none). For SMTP pass status 0 and transport_ok. */
enum retry_outcome retry_classify(bool transport_ok, bool permanent_error, long status);

/* Delay before the next attempt after `attempts` attempts (>= 1) have
 * failed. jitter is a uniform random 32-bit value (the caller draws it, so
 * tests can fix it); retry_after_ms < 0 when the receiver sent none. */
long long retry_delay_ms(int attempts, long long base_ms, uint32_t jitter,
                         long long retry_after_ms);

/* Parses a Retry-After value: delta seconds, or an HTTP date (relative to
 * now_s). Returns milliseconds (>= 0), or -1 when absent or unparseable. */
long long retry_after_parse_ms(const char *value, long long now_s);

#endif
