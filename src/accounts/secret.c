/* secret — random secrets and their digests (contract in secret.h). */
#include "accounts/secret.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

static const char HEX[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[in[i] >> 4];
        out[2 * i + 1] = HEX[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int secret_random_hex(char out[SECRET_HEX_CHARS + 1])
{
    unsigned char raw[SECRET_HEX_CHARS / 2];
    if (sodium_init() < 0) return -EIO;
    randombytes_buf(raw, sizeof raw);
    to_hex(raw, sizeof raw, out);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

int secret_api_token(char out[API_TOKEN_CHARS + 1])
{
    memcpy(out, API_TOKEN_PREFIX, 4);
    return secret_random_hex(out + 4);
}

bool secret_is_hex64(const char *s)
{
    return s && strlen(s) == SECRET_HEX_CHARS && strspn(s, HEX) == SECRET_HEX_CHARS;
}

bool secret_is_api_token(const char *s)
{
    return s && strncmp(s, API_TOKEN_PREFIX, 4) == 0 && secret_is_hex64(s + 4);
}

void secret_digest_hex(const char *s, size_t n, char out[SECRET_DIGEST_HEX + 1])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, (const unsigned char *)s, n);
    to_hex(d, sizeof d, out);
}

bool secret_equal(const char *a, const char *b)
{
    unsigned char da[crypto_hash_sha256_BYTES], db[crypto_hash_sha256_BYTES];
    if (!a || !b) return false;
    crypto_hash_sha256(da, (const unsigned char *)a, strlen(a));
    crypto_hash_sha256(db, (const unsigned char *)b, strlen(b));
    return sodium_memcmp(da, db, sizeof da) == 0;
}
