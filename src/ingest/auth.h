/* auth — who is sending: the DSN public key of an ingest request, and the
 * project it belongs to.
 *
 * Key sources, first found wins: X-Sentry-Auth, Authorization: Sentry …,
 * the query's sentry_key, the envelope header's dsn. The parsers are pure
 * and take untrusted text (fuzzed). The key cache maps public key → project
 * and its quota for a few seconds and falls back to the store on a miss;
 * a revocation clears it (auth_cache_clear: at once on the node that
 * revoked, through LISTEN/NOTIFY on the others). It is thread-safe (one
 * mutex held only around the table, never across the database lookup).
 * Keys are compared in constant time. */
#ifndef PERISCOPE_AUTH_H
#define PERISCOPE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key the parsers return; real keys are 32 hex digits. */
#define AUTH_KEY_MAX 64
#define AUTH_CACHE_TTL_MS 3000

/* "Sentry sentry_key=…, sentry_version=7, …" (the "Sentry " prefix is
 * optional, case-insensitive; values may be quoted). 0 with key filled
 * (NUL-terminated), or -ENOENT when there is no non-empty sentry_key. */
int auth_key_from_header(const char *value, char key[AUTH_KEY_MAX + 1]);
/* Authorization header: only the "Sentry …" scheme carries a key. */
int auth_key_from_authorization(const char *value, char key[AUTH_KEY_MAX + 1]);
/* The user part of a DSN URL (https://KEY@host/42, or KEY:secret@…). */
int auth_key_from_dsn(const char *dsn, char key[AUTH_KEY_MAX + 1]);
/* A query string's sentry_key value as MHD decoded it (copied, length
 * checked). */
int auth_key_copy(const char *value, char key[AUTH_KEY_MAX + 1]);

/* True when key has the form of a public key (32 hex digits). */
bool auth_key_well_formed(const char *key);

/* The project of an active key: 0, -ENOENT unknown/revoked, other negative
 * on a database failure. */
typedef int (*auth_lookup_fn)(void *ctx, const char *key, int64_t *project_id, int *rate_limit);

struct auth_cache;
struct store;

/* A cache over lookup (entries live ttl_ms). NULL on allocation failure. */
struct auth_cache *auth_cache_new(auth_lookup_fn lookup, void *ctx, int ttl_ms);
void auth_cache_free(struct auth_cache *c);

/* Resolves key (unknown and revoked keys are cached as misses too, so a
 * flood of bad keys does not reach the database). 0, -ENOENT, or the
 * lookup's error (not cached). */
int auth_cache_resolve(struct auth_cache *c, const char *key, int64_t *project_id, int *rate_limit);

/* Forgets every entry, and any answer of a lookup still under way (so a
 * key revoked just now is never cached as active). */
void auth_cache_clear(struct auth_cache *c);

/* The lookup over the store: store_acquire, keys_lookup, store_release.
 * ctx is the struct store *. */
int auth_store_lookup(void *ctx, const char *key, int64_t *project_id, int *rate_limit);

#endif
