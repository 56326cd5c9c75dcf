/* grouping/hash — see hash.h. */
#include "grouping/hash.h"

#include <errno.h>
#include <openssl/evp.h>

int grouping_hash(const char *const *values, const size_t *lens, size_t n, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int rc = -EIO;

    out[0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return -ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) goto fail;
    for (size_t i = 0; i < n; i++)
        if (lens[i] && EVP_DigestUpdate(ctx, values[i], lens[i]) != 1) goto fail;
    if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 16) goto fail;
    for (unsigned int i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[32] = '\0';
    rc = 0;
fail:
    EVP_MD_CTX_free(ctx);
    return rc;
}
