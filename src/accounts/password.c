/* password — Argon2id through libsodium (contract in password.h). */
#include "accounts/password.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_state;

static void sodium_start(void)
{
    sodium_state = sodium_init() < 0 ? -1 : 0;
}

static int ensure_sodium(void)
{
    pthread_once(&sodium_once, sodium_start);
    return sodium_state;
}

/* Code points of valid UTF-8, or -1 when s is not UTF-8. */
static long utf8_chars(const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80             ? 0
                    : (*p & 0xE0) == 0xC0 ? 1
                    : (*p & 0xF0) == 0xE0 ? 2
                    : (*p & 0xF8) == 0xF0 ? 3
                                          : -1;
        if (extra < 0 || (extra == 1 && *p < 0xC2)) return -1;
        p++;
        for (int i = 0; i < extra; i++, p++)
            if ((*p & 0xC0) != 0x80) return -1;
        n++;
    }
    return n;
}

int password_check_policy(const char *pw, char *err, size_t errlen)
{
    if (!pw) {
        snprintf(err, errlen, "password is required");
        return -EINVAL;
    }
    size_t len = strlen(pw);
    long chars = utf8_chars(pw);
    if (chars < 0) {
        snprintf(err, errlen, "password must be UTF-8 text");
        return -EINVAL;
    }
    if (chars < PASSWORD_MIN_CHARS || len > PASSWORD_MAX_BYTES) {
        snprintf(err, errlen, "password must be %d characters to %d bytes long", PASSWORD_MIN_CHARS,
                 PASSWORD_MAX_BYTES);
        return -EINVAL;
    }
    return 0;
}

int password_hash(const struct password_params *p, const char *pw, char out[PASSWORD_HASH_MAX])
{
    char why[96];
    if (password_check_policy(pw, why, sizeof why) != 0) return -EINVAL;
    if (ensure_sodium() != 0) return -EIO;
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), p->opslimit, p->memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -ENOMEM;
    return 0;
}

bool password_verify(const char *hash, const char *pw)
{
    if (!hash || !pw || strlen(pw) > PASSWORD_MAX_BYTES || ensure_sodium() != 0) return false;
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

static pthread_mutex_t dummy_mu = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[PASSWORD_HASH_MAX];
static struct password_params dummy_params;

void password_verify_dummy(const struct password_params *p, const char *pw)
{
    char hash[PASSWORD_HASH_MAX];
    pthread_mutex_lock(&dummy_mu);
    bool have = dummy_hash[0] && dummy_params.opslimit == p->opslimit &&
                dummy_params.memlimit == p->memlimit;
    if (have) memcpy(hash, dummy_hash, sizeof hash);
    pthread_mutex_unlock(&dummy_mu);
    if (!have) {
        if (password_hash(p, "periscope-dummy-password", hash) != 0) return;
        pthread_mutex_lock(&dummy_mu);
        memcpy(dummy_hash, hash, sizeof hash);
        dummy_params = *p;
        pthread_mutex_unlock(&dummy_mu);
    }
    (void)password_verify(hash, pw ? pw : "");
}

bool password_needs_rehash(const struct password_params *p, const char *hash)
{
    if (ensure_sodium() != 0) return false;
    if (strncmp(hash, crypto_pwhash_argon2id_STRPREFIX, strlen(crypto_pwhash_argon2id_STRPREFIX)))
        return true;
    return crypto_pwhash_str_needs_rehash(hash, p->opslimit, p->memlimit) != 0;
}
