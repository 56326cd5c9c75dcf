/* password — people's passwords: the policy (length), Argon2id hashing
 * through libsodium's crypto_pwhash_str, constant-time verification, and
 * whether a stored hash was made with other parameters (upgraded on the
 * next login).
 *
 * Pure apart from libsodium's allocations (memlimit bytes per hash); any
 * thread. Hashing takes on the order of 100 ms at the default parameters:
 * callers keep it off the HTTP threads (admin_router.h, the runners). */
#ifndef PERISCOPE_ACCOUNTS_PASSWORD_H
#define PERISCOPE_ACCOUNTS_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN_CHARS 12   /* Unicode code points */
#define PASSWORD_MAX_BYTES 1024 /* hashing cost and memory stay bounded */
#define PASSWORD_HASH_MAX 128   /* crypto_pwhash_STRBYTES, NUL included */

struct password_params {
    unsigned long long opslimit;
    size_t memlimit; /* bytes */
};

/* 0 when pw may be a password; else -EINVAL with the reason in err
 * ("at least 12 characters"). Never prints pw. */
int password_check_policy(const char *pw, char *err, size_t errlen);

/* Argon2id string of pw into out. 0, -EINVAL (policy: see above), or
 * -ENOMEM (libsodium could not allocate memlimit). */
int password_hash(const struct password_params *p, const char *pw, char out[PASSWORD_HASH_MAX]);

/* Constant time in pw for a given hash. False for a malformed hash. */
bool password_verify(const char *hash, const char *pw);

/* Spends the time a verification would (against a hash of p's cost made
 * once), so that an unknown account answers as slowly as a known one. */
void password_verify_dummy(const struct password_params *p, const char *pw);

/* True when hash was made with parameters other than p's (or is not an
 * Argon2id string): hash again after a successful verification. */
bool password_needs_rehash(const struct password_params *p, const char *hash);

#endif
