/* auth — the public key → project cache (auth.h). */
#include "ingest/auth.h"
#include "base/clock.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

/* Direct-mapped: a colliding key replaces the slot, costing one more
 * lookup later. Bounded whatever keys arrive. */
#define AUTH_CACHE_SLOTS 4096

struct auth_slot {
    char key[33]; /* "" when empty */
    bool found;
    int64_t project_id;
    int rate_limit;
    int64_t expires_ms;
    bool refreshing; /* a thread is looking this key up again */
};

struct auth_cache {
    pthread_mutex_t mu;
    auth_lookup_fn lookup;
    void *ctx;
    int ttl_ms;
    uint64_t generation; /* bumped by auth_cache_clear; a lookup that began before does
                          * not store its (maybe stale) answer */
    struct auth_slot slots[AUTH_CACHE_SLOTS];
};

struct auth_cache *auth_cache_new(auth_lookup_fn lookup, void *ctx, int ttl_ms)
{
    struct auth_cache *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->lookup = lookup;
    c->ctx = ctx;
    c->ttl_ms = ttl_ms;
    return c;
}

void auth_cache_free(struct auth_cache *c)
{
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static size_t slot_of(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % AUTH_CACHE_SLOTS;
}

int auth_cache_resolve(struct auth_cache *c, const char *key, int64_t *project_id, int *rate_limit)
{
    char k[33];
    if (!auth_key_well_formed(key))
        return -ENOENT; /* not a key this server issues: never reaches the DB */
    for (int i = 0; i < 32; i++)
        k[i] = (char)tolower((unsigned char)key[i]);
    k[32] = '\0';

    size_t i = slot_of(k);
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&c->mu);
    struct auth_slot *s = &c->slots[i];
    bool same = s->key[0] && CRYPTO_memcmp(s->key, k, 32) == 0;
    /* Expired, and another thread is asking the database already: the last
     * answer meanwhile, so a slow database holds one HTTP thread, not all. */
    if (same && (s->expires_ms > now || (s->refreshing && s->found))) {
        bool found = s->found;
        *project_id = s->project_id;
        *rate_limit = s->rate_limit;
        pthread_mutex_unlock(&c->mu);
        return found ? 0 : -ENOENT;
    }
    uint64_t generation = c->generation;
    if (same) s->refreshing = true;
    pthread_mutex_unlock(&c->mu);

    int64_t pid = 0;
    int rl = 0;
    int rc = c->lookup(c->ctx, k, &pid, &rl);
    if (same) {
        pthread_mutex_lock(&c->mu);
        if (CRYPTO_memcmp(s->key, k, 32) == 0) s->refreshing = false;
        pthread_mutex_unlock(&c->mu);
    }
    if (rc != 0 && rc != -ENOENT) {
        /* Database trouble: a key that was valid at its last check stays
         * valid for another TTL (events keep coming in through the spool; a
         * revocation takes effect once the database answers again); an
         * unknown one is not remembered. */
        pthread_mutex_lock(&c->mu);
        bool stale = c->generation == generation && s->key[0] && s->found &&
                     CRYPTO_memcmp(s->key, k, 32) == 0;
        if (stale) {
            s->expires_ms = clock_mono_ms() + c->ttl_ms;
            *project_id = s->project_id;
            *rate_limit = s->rate_limit;
        }
        pthread_mutex_unlock(&c->mu);
        return stale ? 0 : rc;
    }

    pthread_mutex_lock(&c->mu);
    if (c->generation == generation) {
        memcpy(s->key, k, sizeof(k));
        s->found = rc == 0;
        s->project_id = pid;
        s->rate_limit = rl;
        s->expires_ms = clock_mono_ms() + c->ttl_ms;
    }
    pthread_mutex_unlock(&c->mu);
    *project_id = pid;
    *rate_limit = rl;
    return rc;
}

void auth_cache_clear(struct auth_cache *c)
{
    pthread_mutex_lock(&c->mu);
    c->generation++;
    for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
        c->slots[i].key[0] = '\0';
    pthread_mutex_unlock(&c->mu);
}
