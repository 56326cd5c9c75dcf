/* clock — the process's two clocks, in one place.
 *
 * Wall time (CLOCK_REALTIME) is what is stored and shown: received_at,
 * created_at, expiry times, every `_ms` column. Monotonic time
 * (CLOCK_MONOTONIC) measures durations and paces waits: timeouts, rate
 * windows, caches' ages, metrics' seconds; it never jumps when the system
 * clock is set. Deadlines for pthread waits are absolute timespecs on the
 * clock the wait uses (clock_deadline_*). Thread-safe, no state. */
#ifndef PERISCOPE_CLOCK_H
#define PERISCOPE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since the epoch. */
int64_t clock_wall_ms(void);

/* Monotonic milliseconds and nanoseconds (an arbitrary origin: only
 * differences mean anything). */
int64_t clock_mono_ms(void);
int64_t clock_mono_ns(void);

/* Seconds elapsed since `since_ns` (a clock_mono_ns reading). */
double clock_seconds_since(int64_t since_ns);

/* The absolute time ms milliseconds from now on CLOCK_REALTIME (what
 * pthread_cond_timedwait uses by default, and pthread_timedjoin_np) or on
 * CLOCK_MONOTONIC (a condition variable set to it with
 * pthread_condattr_setclock). */
struct timespec clock_deadline_wall(int64_t ms);
struct timespec clock_deadline_mono(int64_t ms);

/* A wall-clock ms value (clock_wall_ms's scale) as a timespec. */
struct timespec clock_timespec_of_ms(int64_t wall_ms);

#endif
