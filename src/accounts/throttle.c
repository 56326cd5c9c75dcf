/* throttle — login slow-down (contract in throttle.h). */
#include "accounts/throttle.h"

#include <stdio.h>
#include <string.h>

#include "accounts/secret.h"

void throttle_init(struct throttle *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
}

/* A tag and the key's digest: fixed size, whatever the key's length. */
static void make_key(char out[THROTTLE_KEY_MAX], enum throttle_kind kind, const char *key)
{
    char d[SECRET_DIGEST_HEX + 1];
    secret_digest_hex(key, strlen(key), d);
    snprintf(out, THROTTLE_KEY_MAX, "%c:%s", kind == THROTTLE_ACCOUNT ? 'a' : 'i', d);
}

/* The key's slot, or NULL (find_or_take: a free or the stalest slot). Under mu. */
static struct throttle_slot *find(struct throttle *t, const char *k, int64_t now_ms, bool take)
{
    struct throttle_slot *victim = NULL;
    for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
        struct throttle_slot *s = &t->slots[i];
        if (s->key[0] && now_ms - s->last_failure_ms > THROTTLE_FORGET_MS)
            s->key[0] = '\0'; /* forgotten */
        if (s->key[0] && strcmp(s->key, k) == 0) return s;
        if (!s->key[0]) {
            if (!victim || victim->key[0]) victim = s;
        } else if (!victim || (victim->key[0] && s->last_failure_ms < victim->last_failure_ms)) {
            victim = s;
        }
    }
    if (!take) return NULL;
    memset(victim, 0, sizeof *victim);
    snprintf(victim->key, sizeof victim->key, "%s", k);
    return victim;
}

static int64_t delay_ms(enum throttle_kind kind, uint32_t failures)
{
    if (failures < THROTTLE_FREE_FAILURES) return 0;
    int64_t cap = kind == THROTTLE_ACCOUNT ? THROTTLE_ACCOUNT_MAX_MS : THROTTLE_ADDRESS_MAX_MS;
    uint32_t doublings = failures - THROTTLE_FREE_FAILURES;
    if (doublings > 30) return cap;
    int64_t d = (int64_t)THROTTLE_BASE_MS << doublings;
    return d > cap ? cap : d;
}

int64_t throttle_wait_ms(struct throttle *t, enum throttle_kind kind, const char *key,
                         int64_t now_ms)
{
    char k[THROTTLE_KEY_MAX];
    make_key(k, kind, key);
    pthread_mutex_lock(&t->mu);
    struct throttle_slot *s = find(t, k, now_ms, false);
    int64_t wait = 0;
    if (s) {
        int64_t until = s->last_failure_ms + delay_ms(kind, s->failures);
        wait = until > now_ms ? until - now_ms : 0;
    }
    pthread_mutex_unlock(&t->mu);
    return wait;
}

uint32_t throttle_fail(struct throttle *t, enum throttle_kind kind, const char *key, int64_t now_ms)
{
    char k[THROTTLE_KEY_MAX];
    make_key(k, kind, key);
    pthread_mutex_lock(&t->mu);
    struct throttle_slot *s = find(t, k, now_ms, true);
    if (s->failures < UINT32_MAX) s->failures++;
    s->last_failure_ms = now_ms;
    uint32_t n = s->failures;
    pthread_mutex_unlock(&t->mu);
    return n;
}

void throttle_clear(struct throttle *t, enum throttle_kind kind, const char *key)
{
    char k[THROTTLE_KEY_MAX];
    make_key(k, kind, key);
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < THROTTLE_SLOTS; i++)
        if (strcmp(t->slots[i].key, k) == 0) memset(&t->slots[i], 0, sizeof t->slots[i]);
    pthread_mutex_unlock(&t->mu);
}
