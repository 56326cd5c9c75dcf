/* throttle — slows password guessing, per account and per client address,
 * without a lock-out an attacker could cause.
 *
 * Each key (an account's email, a client address) counts its recent
 * failures. After THROTTLE_FREE_FAILURES, each attempt must wait
 * THROTTLE_BASE_MS · 2^(failures − FREE) since the last failure, capped:
 * an account's wait never exceeds THROTTLE_ACCOUNT_MAX_MS (whoever fails
 * against it, its owner gets a turn that often), an address's grows to
 * THROTTLE_ADDRESS_MAX_MS. Failures are forgotten THROTTLE_FORGET_MS after
 * the last one; a success clears the account and the address.
 *
 * Memory is bounded (THROTTLE_SLOTS keys; the stalest is reused).
 * Thread-safe; times are passed in (ms, any monotonic clock) so tests
 * drive it. */
#ifndef PERISCOPE_ACCOUNTS_THROTTLE_H
#define PERISCOPE_ACCOUNTS_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#define THROTTLE_FREE_FAILURES 5
#define THROTTLE_BASE_MS 1000
#define THROTTLE_ACCOUNT_MAX_MS 30000
#define THROTTLE_ADDRESS_MAX_MS (15 * 60 * 1000)
#define THROTTLE_FORGET_MS (60 * 60 * 1000)
#define THROTTLE_SLOTS 4096
#define THROTTLE_KEY_MAX 80

enum throttle_kind { THROTTLE_ACCOUNT, THROTTLE_ADDRESS };

struct throttle_slot {
    char key[THROTTLE_KEY_MAX]; /* kind tag + key; "" when free */
    uint32_t failures;
    int64_t last_failure_ms;
};

struct throttle {
    pthread_mutex_t mu;
    struct throttle_slot slots[THROTTLE_SLOTS];
};

void throttle_init(struct throttle *t);

/* Milliseconds the caller must still wait before an attempt for this key
 * may be checked (0: now). */
int64_t throttle_wait_ms(struct throttle *t, enum throttle_kind kind, const char *key,
                         int64_t now_ms);

/* Counts a failure; returns the key's failures so far. */
uint32_t throttle_fail(struct throttle *t, enum throttle_kind kind, const char *key,
                       int64_t now_ms);

/* A success: the key's failures are forgotten. */
void throttle_clear(struct throttle *t, enum throttle_kind kind, const char *key);

#endif
