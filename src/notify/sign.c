#include "notify/sign.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#define WHSEC_PREFIX "whsec_"
#define SIGN_KEY_MAX 256

/* Decodes standard base64 into key; returns the key length or -EINVAL. */
static int decode_key(const char *b64, unsigned char *key, size_t cap)
{
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap) return -EINVAL;
    int len = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)n);
    if (len < 0) return -EINVAL;
    /* EVP_DecodeBlock counts the bytes that padding stands for. */
    if (b64[n - 1] == '=') len--;
    if (b64[n - 2] == '=') len--;
    return len > 0 ? len : -EINVAL;
}

/* HMAC-SHA256 over a then b, streamed (the body is never copied). */
static int hmac_sha256(const unsigned char *key, size_t keylen, const char *a, size_t alen,
                       const char *b, size_t blen, unsigned char *mac, size_t *maclen)
{
    int rc = -EINVAL;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx) goto fail;
    if (!EVP_MAC_init(ctx, key, keylen, params) ||
        !EVP_MAC_update(ctx, (const unsigned char *)a, alen) ||
        (blen && !EVP_MAC_update(ctx, (const unsigned char *)b, blen)) ||
        !EVP_MAC_final(ctx, mac, maclen, EVP_MAX_MD_SIZE))
        goto fail;
    rc = 0;
fail:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    return rc;
}

int sign_webhook(const char *secret, const char *msg_id, long long timestamp_s, const char *body,
                 size_t body_len, char out[SIGN_HEADER_MAX])
{
    unsigned char keybuf[SIGN_KEY_MAX];
    const unsigned char *key = (const unsigned char *)secret;
    int keylen;

    if (!secret || !*secret) return -EINVAL;
    if (strncmp(secret, WHSEC_PREFIX, strlen(WHSEC_PREFIX)) == 0) {
        keylen = decode_key(secret + strlen(WHSEC_PREFIX), keybuf, sizeof keybuf);
        if (keylen < 0) return keylen;
        key = keybuf;
    } else {
        keylen = (int)strlen(secret);
    }

    char prefix[160];
    int plen = snprintf(prefix, sizeof prefix, "%s.%lld.", msg_id, timestamp_s);
    if (plen < 0 || (size_t)plen >= sizeof prefix) return -EINVAL;

    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    int rc = hmac_sha256(key, (size_t)keylen, prefix, (size_t)plen, body, body_len, mac, &maclen);
    OPENSSL_cleanse(keybuf, sizeof keybuf);
    if (rc < 0) return rc;

    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen);
    return 0;
}
