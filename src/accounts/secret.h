/* secret — the random secrets accounts hand out and how they are kept:
 * session ids and CSRF tokens (256 random bits as 64 hex digits), API
 * tokens ("psc_" + 64 hex digits, a prefix secret scanners can match), and
 * the SHA-256 hex digest under which the server stores each of them.
 *
 * Pure apart from the system's random source (libsodium's randombytes);
 * any thread. */
#ifndef PERISCOPE_ACCOUNTS_SECRET_H
#define PERISCOPE_ACCOUNTS_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_HEX_CHARS 64 /* 32 random bytes */
#define SECRET_DIGEST_HEX 64
#define API_TOKEN_PREFIX "psc_"
#define API_TOKEN_CHARS (4 + SECRET_HEX_CHARS)

/* 64 hex digits of fresh randomness into out (NUL-terminated). 0 or -EIO. */
int secret_random_hex(char out[SECRET_HEX_CHARS + 1]);

/* A new API token into out: "psc_" then 64 hex digits. 0 or -EIO. */
int secret_api_token(char out[API_TOKEN_CHARS + 1]);

/* True when s has the shape of an API token (prefix, 64 lower-case hex). */
bool secret_is_api_token(const char *s);

/* True when s is exactly 64 lower-case hex digits (a session id). */
bool secret_is_hex64(const char *s);

/* Lower-case hex SHA-256 of the n bytes at s into out (NUL-terminated). */
void secret_digest_hex(const char *s, size_t n, char out[SECRET_DIGEST_HEX + 1]);

/* Compares two NUL-terminated strings in time independent of where they
 * differ (their digests are compared, so the length does not show). */
bool secret_equal(const char *a, const char *b);

#endif
