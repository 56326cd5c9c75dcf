/* secretbox — AES-256-GCM seal and open (secretbox.h). */
#include "base/secretbox.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define NONCE_BYTES 12
#define TAG_BYTES 16
#define PREFIX_LEN (sizeof SECRETBOX_PREFIX - 1)

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int secretbox_key_parse(const char *hex, unsigned char key[SECRETBOX_KEY_BYTES])
{
    while (isspace((unsigned char)*hex))
        hex++;
    for (int i = 0; i < SECRETBOX_KEY_BYTES; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hi < 0 ? -1 : hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -EINVAL;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    for (const char *p = hex + 2 * SECRETBOX_KEY_BYTES; *p; p++)
        if (!isspace((unsigned char)*p)) return -EINVAL;
    return 0;
}

bool secretbox_is_sealed(const char *text)
{
    return text && strncmp(text, SECRETBOX_PREFIX, PREFIX_LEN) == 0;
}

/* One AES-256-GCM pass: encrypt (tag written) or decrypt (tag checked).
 * 0, -EBADMSG (the tag does not match), -EIO. */
static int gcm(bool encrypt, const unsigned char *key, const unsigned char *nonce,
               const unsigned char *in, int len, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, rc = -EIO;
    if (!c) return -EIO;
    if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, nonce, encrypt) != 1 ||
        (len > 0 && EVP_CipherUpdate(c, out, &n, in, len) != 1))
        goto done;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) != 1) goto done;
    if (EVP_CipherFinal_ex(c, out + n, &n) != 1) {
        rc = encrypt ? -EIO : -EBADMSG;
        goto done;
    }
    if (encrypt && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) != 1) goto done;
    rc = 0;
done:
    EVP_CIPHER_CTX_free(c);
    return rc;
}

int secretbox_seal(const unsigned char key[SECRETBOX_KEY_BYTES], const char *plain, size_t len,
                   char **out)
{
    if (len > (size_t)(1 << 30)) return -E2BIG;
    size_t raw_len = NONCE_BYTES + len + TAG_BYTES;
    unsigned char *raw = malloc(raw_len);
    char *text = malloc(PREFIX_LEN + 4 * ((raw_len + 2) / 3) + 1);
    int rc = raw && text ? 0 : -ENOMEM;
    if (rc == 0 && RAND_bytes(raw, NONCE_BYTES) != 1) rc = -EIO;
    if (rc == 0)
        rc = gcm(true, key, raw, (const unsigned char *)plain, (int)len, raw + NONCE_BYTES,
                 raw + NONCE_BYTES + len);
    if (rc == 0) {
        memcpy(text, SECRETBOX_PREFIX, PREFIX_LEN);
        EVP_EncodeBlock((unsigned char *)text + PREFIX_LEN, raw, (int)raw_len);
        *out = text;
        text = NULL;
    }
    if (raw) OPENSSL_cleanse(raw, raw_len);
    free(raw);
    free(text);
    return rc;
}

int secretbox_open(const unsigned char *key, const char *text, char **out, size_t *out_len)
{
    if (!secretbox_is_sealed(text)) return -EBADMSG;
    if (!key) return -ENOKEY;
    const char *b64 = text + PREFIX_LEN;
    size_t b64_len = strlen(b64);
    if (b64_len % 4 != 0 || b64_len > (size_t)(1 << 30)) return -EBADMSG;
    unsigned char *raw = malloc(b64_len / 4 * 3 + 1);
    if (!raw) return -ENOMEM;
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64_len);
    /* EVP_DecodeBlock counts the padding's zero bytes in. */
    for (size_t i = b64_len; n > 0 && i > 0 && b64[i - 1] == '='; i--)
        n--;
    int rc = n >= NONCE_BYTES + TAG_BYTES ? 0 : -EBADMSG;
    size_t len = rc == 0 ? (size_t)n - NONCE_BYTES - TAG_BYTES : 0;
    char *plain = rc == 0 ? malloc(len + 1) : NULL;
    if (rc == 0 && !plain) rc = -ENOMEM;
    if (rc == 0)
        rc = gcm(false, key, raw, raw + NONCE_BYTES, (int)len, (unsigned char *)plain,
                 raw + NONCE_BYTES + len);
    free(raw);
    if (rc != 0) {
        if (plain) OPENSSL_cleanse(plain, len);
        free(plain);
        return rc;
    }
    plain[len] = '\0';
    *out = plain;
    *out_len = len;
    return 0;
}
